"""The Slack app manifest: exactly the scopes, events, slash command and interactivity the
adapter uses, for Socket Mode or the HTTP Events API (``rallybot slack manifest``).

Paste the YAML into "Create New App → From an app manifest" at api.slack.com/apps.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml

__all__ = [
    "BOT_EVENTS",
    "EVENTS_PATH",
    "SCOPES",
    "build_manifest",
    "events_url",
    "manifest_yaml",
]

EVENTS_PATH = "/slack/events"
"""Where the HTTP mode receives events, interactions and slash commands alike."""

SCOPES: tuple[str, ...] = (
    # chat.postMessage, chat.update and chat.postEphemeral (ephemeral /rallybot answers)
    "chat:write",
    # a named sender: the username and icon_url of an announcement (the CEO's name and photo)
    "chat:write.customize",
    # files.getUploadURLExternal and files.completeUploadExternal: the charts of
    # /rallybot stats and the personal data export, sent to the member's direct messages
    "files:write",
    # pins.add, for steps with pin: true
    "pins:write",
    # reaction_added / reaction_removed events
    "reactions:read",
    # reactions.add (the adapter's add_reaction)
    "reactions:write",
    # message.channels events, and conversations.history (conversations.replies in a
    # thread) to look for a message whose send was interrupted (find_sent) in a public channel
    "channels:history",
    # the same in private channels the bot was invited to
    "groups:history",
    # message.im events (members writing to the bot), and conversations.history of a DM
    # for find_sent
    "im:history",
    # conversations.open, to get the DM channel of a member (cached in the database)
    "im:write",
    # member_joined_channel in public channels, conversations.members and .info
    "channels:read",
    # the same for private channels
    "groups:read",
    # users.info / users.list (names, tz, locale with include_locale), team_join and
    # user_change events
    "users:read",
    # users.lookupByEmail: rallybot roster import --match-emails finds each row's account
    "users:read.email",
    # usergroups.list: teams from user groups (RALLYBOT_TEAM_GROUPS)
    "usergroups:read",
    # the /rallybot slash command
    "commands",
    # app_mention events
    "app_mentions:read",
)
"""The bot token scopes, each for the reason given beside it; nothing else is asked."""

BOT_EVENTS: tuple[str, ...] = (
    "message.channels",  # channels:history
    "message.groups",  # groups:history
    "message.im",  # im:history
    "reaction_added",  # reactions:read
    "reaction_removed",  # reactions:read
    "member_joined_channel",  # channels:read, groups:read
    "team_join",  # users:read
    "user_change",  # users:read: a member filled in their profile (onboarding)
    "app_mention",  # app_mentions:read
    "app_home_opened",  # no scope: a member opened the Home tab (their space)
)
"""The bot events the adapter handles (``message.*`` arrive as ``message`` events)."""

COMMAND_DESCRIPTION = "Rallybot: help, points, kudos, quizzes, campaigns and more"
COMMAND_USAGE_HINT = "help [QUESTION] | points | top | kudos @member reason | quiz | campaigns"
APP_DESCRIPTION = "Runs the launch and daily life of your internal community."
_COMMAND = re.compile(r"^/[a-z0-9_\-]{1,31}$")


def events_url(url: str) -> str:
    """``url`` with the events path: a base URL gets ``/slack/events`` appended.

    Raises:
        ValueError: when ``url`` is not an ``https://`` URL (Slack calls nothing else).
    """
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f'a Slack Request URL must start with https://, not "{url}"')
    path = parts.path.rstrip("/")
    if not path.endswith(EVENTS_PATH):
        path += EVENTS_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def build_manifest(
    *,
    mode: Literal["socket", "http"],
    request_url: str | None = None,
    name: str = "Rallybot",
    command: str = "/rallybot",
) -> dict[str, Any]:
    """The app manifest as a dict.

    Args:
        mode: ``socket`` (Socket Mode: no public URL; needs an app-level token) or ``http``
            (Slack posts to ``request_url``).
        request_url: the public HTTPS address of the bot; required in HTTP mode, where
            ``/slack/events`` is appended when missing. Ignored in Socket Mode.
        name: the app's and bot user's name (35 characters at most).
        command: the slash command.

    Raises:
        ValueError: HTTP mode without a request URL, a bad URL, name or command.
    """
    if mode not in ("socket", "http"):
        raise ValueError(f'mode is "socket" or "http", not "{mode}"')
    name = name.strip()
    if not name or len(name) > 35:
        raise ValueError("the app name must have 1 to 35 characters")
    if not _COMMAND.match(command):
        raise ValueError(
            f'a slash command looks like "/rallybot" (lowercase, 32 characters at most), '
            f'not "{command}"'
        )
    url: str | None = None
    if mode == "http":
        if not request_url:
            raise ValueError(
                "HTTP mode needs the bot's public HTTPS address (--request-url), where Slack "
                "will post events, button clicks and slash commands"
            )
        url = events_url(request_url)

    slash_command: dict[str, Any] = {"command": command}
    if url is not None:
        slash_command["url"] = url
    # should_escape: Slack turns "@ana" into "<@U123|ana>", the member's id, which
    # /rallybot kudos and points add read (a bare name could match two people).
    slash_command.update(
        description=COMMAND_DESCRIPTION, usage_hint=COMMAND_USAGE_HINT, should_escape=True
    )
    event_subscriptions: dict[str, Any] = {}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if url is not None:
        event_subscriptions["request_url"] = url
        interactivity["request_url"] = url
    event_subscriptions["bot_events"] = list(BOT_EVENTS)

    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": APP_DESCRIPTION,
            "background_color": "#1d3557",
        },
        "features": {
            # the Messages tab lets members write to the bot (message.im)
            "app_home": {
                "home_tab_enabled": True,  # /rallybot me, as the App Home tab
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [slash_command],
        },
        "oauth_config": {"scopes": {"bot": list(SCOPES)}},
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": mode == "socket",
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(
    *,
    mode: Literal["socket", "http"],
    request_url: str | None = None,
    name: str = "Rallybot",
    command: str = "/rallybot",
) -> str:
    """:func:`build_manifest` as YAML, keys in Slack's order."""
    manifest = build_manifest(mode=mode, request_url=request_url, name=name, command=command)
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
