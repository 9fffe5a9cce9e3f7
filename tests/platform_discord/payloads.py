"""Complete Discord gateway dispatch payloads, and a way to feed them to a discord.py client.

The builders return the ``d`` of a dispatch exactly as Discord sends it (field lists from
Discord's gateway documentation and discord.py's ``types/``), so that discord.py's parsers run
their real code paths: ``dispatch(client, "MESSAGE_REACTION_ADD", reaction_add(...))``
fires ``on_raw_reaction_add`` as the gateway would. dpytest's reaction payload lacks the
``type`` field discord.py 2.6+ reads, and dpytest has no interactions at all: these fill the gap.

Prime a client first so that its state knows the bot, the server, its channels and members::

    client = discord.Client(intents=required_intents())
    async with client:
        await prime(client, guilds=[guild_create(GUILD, "Acme", channels=[...], members=[...])])
        dispatch(client, "INTERACTION_CREATE", component_interaction(...))
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import discord

__all__ = [
    "BOT_ID",
    "attachment",
    "command_interaction",
    "component_interaction",
    "dispatch",
    "dm_channel",
    "guild_create",
    "member",
    "member_add",
    "member_update",
    "message_create",
    "message_delete",
    "message_update",
    "modal_submit_interaction",
    "prime",
    "reaction_add",
    "reaction_remove",
    "snowflake",
    "text_channel",
    "thread_channel",
    "user",
]

DISCORD_EPOCH_MS = 1_420_070_400_000
BOT_ID = 900_000_000_000_000_001
_sequence = itertools.count(1)

Payload = dict[str, Any]
OptionValue = str | int | bool | float


def snowflake(at: datetime | None = None) -> int:
    """A unique Discord id whose embedded time is ``at`` (default: now)."""
    moment = at or datetime.now(UTC)
    ms = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_sequence) & 0x3FFFFF)


def _iso(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).isoformat()


def user(user_id: int, name: str, *, bot: bool = False) -> Payload:
    """A user object."""
    return {
        "id": str(user_id),
        "username": name.lower().replace(" ", "_"),
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "avatar_decoration_data": None,
        "primary_guild": None,
        "collectibles": None,
    }


def member(
    user_id: int,
    name: str,
    *,
    nick: str | None = None,
    roles: Sequence[int] = (),
    joined_at: datetime | None = None,
    bot: bool = False,
    with_user: bool = True,
) -> Payload:
    """A guild member object (with its ``user`` unless ``with_user`` is False, as in messages)."""
    data: Payload = {
        "nick": nick,
        "avatar": None,
        "banner": None,
        "roles": [str(r) for r in roles],
        "joined_at": _iso(joined_at),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user(user_id, name, bot=bot)
    return data


def text_channel(channel_id: int, guild_id: int, name: str, *, position: int = 0) -> Payload:
    """A guild text channel object."""
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "last_pin_timestamp": None,
        "rate_limit_per_user": 0,
        "default_auto_archive_duration": 1440,
        "flags": 0,
    }


def dm_channel(channel_id: int, recipient_id: int, recipient_name: str) -> Payload:
    """A DM channel object (as an interaction's ``channel``)."""
    return {
        "id": str(channel_id),
        "type": 1,
        "last_message_id": None,
        "flags": 0,
        "recipients": [user(recipient_id, recipient_name)],
    }


def _everyone_role(guild_id: int) -> Payload:
    permissions = discord.Permissions.general() | discord.Permissions.text()
    return {
        "id": str(guild_id),
        "name": "@everyone",
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": 0,
        "permissions": str(permissions.value),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild_create(
    guild_id: int,
    name: str,
    *,
    channels: Sequence[Payload] = (),
    members: Sequence[Payload] = (),
    owner_id: int | None = None,
) -> Payload:
    """A GUILD_CREATE for one available server with its channels and members.

    ``member_count`` equals the members given, so discord.py considers the server chunked
    and does not ask the (absent) gateway for more members.
    """
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "icon_hash": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(owner_id or BOT_ID),
        "region": "",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [_everyone_role(guild_id)],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "max_presences": None,
        "max_members": 500000,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "max_video_channel_users": 25,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "safety_alerts_channel_id": None,
        "incidents_data": None,
        "joined_at": _iso(),
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": list(members),
        "channels": list(channels),
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def message_create(
    *,
    message_id: int,
    channel_id: int,
    author_id: int,
    author_name: str,
    content: str,
    guild_id: int | None = None,
    nonce: str | None = None,
    timestamp: datetime | None = None,
    bot: bool = False,
    reply_to: int | None = None,
    attachments: list[Payload] | None = None,
) -> Payload:
    """A MESSAGE_CREATE in a guild channel (``guild_id`` set: with ``member``) or a DM;
    ``reply_to``: a reply (type 19) to that message of the same channel; ``attachments``:
    :func:`attachment` objects."""
    data: Payload = {
        "id": str(message_id),
        "type": 0 if reply_to is None else 19,
        "channel_id": str(channel_id),
        "author": user(author_id, author_name, bot=bot),
        "content": content,
        "timestamp": _iso(timestamp),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": list(attachments or []),
        "embeds": [],
        "components": [],
        "pinned": False,
        "flags": 0,
    }
    if nonce is not None:
        data["nonce"] = nonce
    if reply_to is not None:
        data["message_reference"] = {
            "type": 0,
            "message_id": str(reply_to),
            "channel_id": str(channel_id),
            "fail_if_not_exists": False,
        }
        if guild_id is not None:
            data["message_reference"]["guild_id"] = str(guild_id)
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        data["member"] = member(author_id, author_name, with_user=False, joined_at=timestamp)
    return data


def attachment(
    *, attachment_id: int, channel_id: int, filename: str, size: int, content_type: str | None
) -> Payload:
    """An attachment object of a message, as Discord sends it (signed, expiring CDN URLs)."""
    query = "?ex=6931b2c0&is=69306140&hm=5f2a9c1e7b3d4a6f8e0c2b4d6f8a0c2e4b6d8f0a2c4e6b8d0&"
    url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{filename}{query}"
    data: Payload = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
    }
    if content_type is not None:
        data["content_type"] = content_type
        if content_type.startswith("image/"):
            data.update(width=1200, height=800, placeholder="3PcNBwBTepiHh4d3eHd4eHiHhw==")
    return data


def message_update(
    *,
    message_id: int,
    channel_id: int,
    author_id: int,
    author_name: str,
    content: str,
    edited_at: datetime | None,
    guild_id: int | None = None,
    timestamp: datetime | None = None,
    bot: bool = False,
    reply_to: int | None = None,
) -> Payload:
    """A MESSAGE_UPDATE: since 2024 Discord sends the whole updated message, with
    ``edited_timestamp`` set by an edit (None for an update that is not one, like an embed
    added to a link)."""
    data = message_create(
        message_id=message_id,
        channel_id=channel_id,
        author_id=author_id,
        author_name=author_name,
        content=content,
        guild_id=guild_id,
        timestamp=timestamp,
        bot=bot,
        reply_to=reply_to,
    )
    data["edited_timestamp"] = _iso(edited_at) if edited_at is not None else None
    return data


def message_delete(*, message_id: int, channel_id: int, guild_id: int | None = None) -> Payload:
    """A MESSAGE_DELETE: only ids (Discord does not say whose message it was)."""
    data: Payload = {"id": str(message_id), "channel_id": str(channel_id)}
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    return data


def thread_channel(
    thread_id: int, guild_id: int, parent_id: int, name: str, *, owner_id: int
) -> Payload:
    """A public thread channel object, as THREAD_CREATE sends it."""
    return {
        "id": str(thread_id),
        "type": 11,
        "guild_id": str(guild_id),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": name,
        "last_message_id": None,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "rate_limit_per_user": 0,
        "flags": 0,
        "applied_tags": [],
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": _iso(),
            "locked": False,
            "invitable": True,
            "create_timestamp": _iso(),
        },
        "newly_created": True,
    }


def _emoji(emoji: str, emoji_id: int | None) -> Payload:
    if emoji_id is None:
        return {"id": None, "name": emoji}
    return {"id": str(emoji_id), "name": emoji, "animated": False}


def reaction_add(
    *,
    user_id: int,
    channel_id: int,
    message_id: int,
    emoji: str = "👍",
    emoji_id: int | None = None,
    guild_id: int | None = None,
    user_name: str = "member",
    message_author_id: int | None = None,
    burst: bool = False,
) -> Payload:
    """A MESSAGE_REACTION_ADD (with ``type``, ``burst`` and, in a guild, ``member``)."""
    data: Payload = {
        "user_id": str(user_id),
        "channel_id": str(channel_id),
        "message_id": str(message_id),
        "emoji": _emoji(emoji, emoji_id),
        "burst": burst,
        "burst_colors": ["#ffcc00"] if burst else [],
        "type": 1 if burst else 0,
    }
    if message_author_id is not None:
        data["message_author_id"] = str(message_author_id)
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        data["member"] = member(user_id, user_name)
    return data


def reaction_remove(
    *,
    user_id: int,
    channel_id: int,
    message_id: int,
    emoji: str = "👍",
    emoji_id: int | None = None,
    guild_id: int | None = None,
    burst: bool = False,
) -> Payload:
    """A MESSAGE_REACTION_REMOVE (no ``member`` in this event)."""
    data: Payload = {
        "user_id": str(user_id),
        "channel_id": str(channel_id),
        "message_id": str(message_id),
        "emoji": _emoji(emoji, emoji_id),
        "burst": burst,
        "type": 1 if burst else 0,
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    return data


def member_add(
    guild_id: int, user_id: int, name: str, *, joined_at: datetime | None = None
) -> Payload:
    """A GUILD_MEMBER_ADD: a member object with ``guild_id``."""
    return {**member(user_id, name, joined_at=joined_at), "guild_id": str(guild_id)}


def member_update(
    guild_id: int,
    user_id: int,
    name: str,
    *,
    nick: str | None = None,
    avatar: str | None = None,
    guild_avatar: str | None = None,
    roles: Sequence[int] = (),
    joined_at: datetime | None = None,
) -> Payload:
    """A GUILD_MEMBER_UPDATE: the member as it is now, with ``guild_id``. ``avatar`` is the
    account's avatar hash (in ``user``), ``guild_avatar`` the server-specific one."""
    data = {
        **member(user_id, name, nick=nick, roles=roles, joined_at=joined_at),
        "guild_id": str(guild_id),
    }
    data["avatar"] = guild_avatar
    data["user"] = {**data["user"], "avatar": avatar}
    return data


def _interaction_base(
    *,
    interaction_id: int,
    token: str,
    application_id: int,
    user_id: int,
    user_name: str,
    channel: Payload,
    guild_id: int | None,
    locale: str,
) -> Payload:
    data: Payload = {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "token": token,
        "version": 1,
        "channel_id": channel["id"],
        "channel": channel,
        "app_permissions": str(discord.Permissions.all().value),
        "locale": locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        data["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
        data["guild_locale"] = "en-US"
        data["member"] = {
            **member(user_id, user_name),
            "permissions": str(discord.Permissions.text().value),
        }
        data["authorizing_integration_owners"] = {"0": str(guild_id)}
        data["context"] = 0
    else:
        data["user"] = user(user_id, user_name)
        data["authorizing_integration_owners"] = {"0": "0"}
        data["context"] = 1
    return data


def component_interaction(
    *,
    interaction_id: int,
    token: str,
    custom_id: str,
    user_id: int,
    channel: Payload,
    message: Payload,
    application_id: int = BOT_ID,
    user_name: str = "member",
    guild_id: int | None = None,
    locale: str = "en-US",
) -> Payload:
    """An INTERACTION_CREATE for a button click (type 3, component_type 2).

    ``channel`` is a channel object (:func:`text_channel` or :func:`dm_channel`); ``message``
    the message carrying the button (a :func:`message_create`-style payload).
    """
    data = _interaction_base(
        interaction_id=interaction_id,
        token=token,
        application_id=application_id,
        user_id=user_id,
        user_name=user_name,
        channel=channel,
        guild_id=guild_id,
        locale=locale,
    )
    data["type"] = 3
    data["data"] = {"custom_id": custom_id, "component_type": 2}
    data["message"] = message
    return data


def modal_submit_interaction(
    *,
    interaction_id: int,
    token: str,
    custom_id: str,
    values: Mapping[str, str],
    user_id: int,
    channel: Payload,
    message: Payload | None = None,
    application_id: int = BOT_ID,
    user_name: str = "member",
    guild_id: int | None = None,
    locale: str = "en-US",
    layout: str = "action_row",
) -> Payload:
    """An INTERACTION_CREATE for a submitted modal (type 5): one text input (type 4) per
    value, in action rows (type 1) or, as Discord now sends modals built with labels, in
    label components (type 18). ``message``: the message whose button opened the modal."""
    data = _interaction_base(
        interaction_id=interaction_id,
        token=token,
        application_id=application_id,
        user_id=user_id,
        user_name=user_name,
        channel=channel,
        guild_id=guild_id,
        locale=locale,
    )
    rows: list[Payload] = []
    for n, (input_id, value) in enumerate(values.items(), start=1):
        text_input = {"type": 4, "id": 2 * n, "custom_id": input_id, "value": value}
        if layout == "label":
            rows.append({"type": 18, "id": 2 * n - 1, "component": text_input})
        else:
            rows.append({"type": 1, "id": 2 * n - 1, "components": [text_input]})
    data["type"] = 5
    data["data"] = {"custom_id": custom_id, "components": rows}
    if message is not None:
        data["message"] = message
    return data


def _option_type(value: OptionValue) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def command_interaction(
    *,
    interaction_id: int,
    token: str,
    subcommand: str,
    user_id: int,
    channel: Payload,
    options: Mapping[str, OptionValue] | None = None,
    user_options: Mapping[str, tuple[int, str]] | None = None,
    command_id: int = 1,
    command_name: str = "rallybot",
    application_id: int = BOT_ID,
    user_name: str = "member",
    guild_id: int | None = None,
    locale: str = "en-US",
    group: str | None = None,
) -> Payload:
    """An INTERACTION_CREATE for ``/rallybot [group] <subcommand> [options]`` (type 2, chat
    input; a subcommand in a group is wrapped in a type 2 option, as Discord sends it).

    ``user_options`` maps an option name to the (id, name) of the person picked: a user option
    (type 6) whose value is the id, with the user (and, in a server, the member) in
    ``data.resolved`` as Discord sends them.
    """
    data = _interaction_base(
        interaction_id=interaction_id,
        token=token,
        application_id=application_id,
        user_id=user_id,
        user_name=user_name,
        channel=channel,
        guild_id=guild_id,
        locale=locale,
    )
    inner: list[Payload] = [
        {"name": name, "type": _option_type(value), "value": value}
        for name, value in (options or {}).items()
    ]
    resolved: Payload = {}
    for name, (picked_id, picked_name) in (user_options or {}).items():
        inner.append({"name": name, "type": 6, "value": str(picked_id)})
        resolved.setdefault("users", {})[str(picked_id)] = user(picked_id, picked_name)
        if guild_id is not None:
            resolved.setdefault("members", {})[str(picked_id)] = {
                **member(picked_id, picked_name, with_user=False),
                "permissions": str(discord.Permissions.text().value),
            }
    data["type"] = 2
    data["data"] = {
        "id": str(command_id),
        "name": command_name,
        "type": 1,
        "options": [{"name": subcommand, "type": 1, "options": inner}],
    }
    if group is not None:
        data["data"]["options"] = [{"name": group, "type": 2, "options": data["data"]["options"]}]
    if resolved:
        data["data"]["resolved"] = resolved
    if guild_id is not None:
        data["data"]["guild_id"] = str(guild_id)
    return data


def dispatch(client: discord.Client, event: str, data: dict[str, Any]) -> None:
    """Feed one gateway dispatch (``t`` = ``event``, ``d`` = ``data``) to ``client``'s parsers.

    Listeners run as tasks scheduled on the running loop, as with a real gateway: await the
    effect (an :class:`asyncio.Event` set by the listener, ``client.wait_for``...) afterwards.
    """
    client._connection.parsers[event](data)


async def prime(
    client: discord.Client,
    *,
    guilds: Sequence[Payload] = (),
    bot_id: int = BOT_ID,
    bot_name: str = "Rallybot",
) -> None:
    """Make ``client`` know itself and ``guilds`` as after READY and GUILD_CREATE.

    Sets up the client's loop when ``async with client`` was not used.
    """
    if not isinstance(client.loop, asyncio.AbstractEventLoop):  # not set up yet
        await client._async_setup_hook()
    state = client._connection
    me = discord.ClientUser(state=state, data=cast(Any, user(bot_id, bot_name, bot=True)))
    state.user = me
    state._users[me.id] = me  # type: ignore[assignment]
    if state.application_id is None:
        state.application_id = bot_id
    for guild in guilds:
        dispatch(client, "GUILD_CREATE", guild)
