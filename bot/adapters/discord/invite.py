"""What Rallybot asks of a Discord server: permissions, OAuth2 scopes and gateway intents."""

from __future__ import annotations

import discord

from rallybot.bot.i18n import N_

__all__ = ["INTENTS_HELP", "PERMISSIONS", "SCOPES", "invite_url", "required_intents"]

PERMISSIONS = discord.Permissions(
    # See the channels the campaign posts to and receive their messages and reactions.
    view_channel=True,
    # Post teasers, announcements, quiz questions and replies.
    send_messages=True,
    # Answer help-channel questions in their thread.
    send_messages_in_threads=True,
    # Titled announcements, images and footers are embeds; without it Discord hides them.
    embed_links=True,
    # Fetch a message the bot did not cache (a reaction on an old post, a pinned message).
    read_message_history=True,
    # Seed reactions under teasers so that members can vote with one click.
    add_reactions=True,
    # Pin announcements. Discord split pinning out of Manage Messages into its own
    # Pin Messages permission (1 << 51), so Manage Messages (delete anyone's messages) is
    # not requested.
    pin_messages=True,
    # Post as a named sender (the CEO's name and picture) through a channel webhook the bot
    # creates once per channel.
    manage_webhooks=True,
    # The /rallybot command.
    use_application_commands=True,
)
"""Exactly the permissions Rallybot needs. Not requested: Attach Files (images in messages
are links in embeds; the files the bot uploads, such as the /rallybot stats charts, go to
direct messages, which need no server permission), Manage Messages (pinning has its own
permission, the bot deletes nothing), Mention Everyone, Administrator."""

SCOPES = ("bot", "applications.commands")
"""``bot`` adds the bot user; ``applications.commands`` lets it register /rallybot."""

# Shown by ``rallybot discord invite-url`` in the CLI's language (i18n.gettext at display).
INTENTS_HELP = N_("""\
Switch these on in the Discord developer portal (your application → Bot → Privileged
Gateway Intents):

  • Server Members Intent — required. Rallybot greets and onboards each new member
    (member joins) and reads the member list to plan direct messages.
  • Message Content Intent — required by the help channel and typed quiz answers:
    Rallybot reads the text of help-channel questions to match the FAQ and of answers
    typed in a channel. Without it Discord sends empty text for server messages that do
    not mention the bot (direct messages and mentions still arrive in full).
  • Presence Intent — not needed; leave it off.

The other intents Rallybot uses (servers, server messages, direct messages, reactions)
are not privileged and need no switch.
""")


def required_intents(*, message_content: bool = True) -> discord.Intents:
    """The gateway intents Rallybot subscribes to (``members`` is privileged, see above)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.guild_reactions = True
    intents.dm_reactions = True
    intents.message_content = message_content
    return intents


def invite_url(application_id: str, guild_id: int | None = None) -> str:
    """The OAuth2 link that adds the bot with :data:`PERMISSIONS` and :data:`SCOPES`.

    With ``guild_id`` the server is pre-selected and cannot be changed.
    """
    if not application_id.strip().isdigit():
        raise ValueError(
            "a Discord application id is a number (developer portal → General Information), "
            f'not "{application_id}"'
        )
    if guild_id is None:
        return discord.utils.oauth_url(
            application_id.strip(), permissions=PERMISSIONS, scopes=SCOPES
        )
    return discord.utils.oauth_url(
        application_id.strip(),
        permissions=PERMISSIONS,
        scopes=SCOPES,
        guild=discord.Object(id=guild_id),
        disable_guild_select=True,
    )
