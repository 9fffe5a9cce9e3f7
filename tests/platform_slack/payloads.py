"""Real-format Slack inbound payloads, and a client that signs and posts them.

The builders return the shapes Slack sends (the Events API ``event_callback`` envelope and
its events, the ``block_actions`` interaction payload, slash command form fields,
``url_verification``); ``payloads/*.json`` hold recorded examples, and the tests check that
the builders produce exactly their keys. :class:`SlackEventPoster` posts them to an HTTP
endpoint the way Slack does: JSON for events, a form with one ``payload`` field for
interactions, a plain form for slash commands, all signed with the signing secret.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from tests.platform_slack.signing import sign

__all__ = [
    "API_APP_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "VERIFICATION_TOKEN",
    "SlackEventPoster",
    "app_mention_event",
    "block_actions",
    "event_callback",
    "im_message_event",
    "member_joined_channel_event",
    "message_changed_event",
    "message_deleted_event",
    "message_event",
    "reaction_added_event",
    "reaction_removed_event",
    "slash_command",
    "team_join_event",
    "thread_reply_event",
    "ts_at",
    "url_verification",
    "user_change_event",
    "user_object",
    "view_submission",
]

JSON = dict[str, Any]

TEAM_ID = "T0001"
API_APP_ID = "A0001"
BOT_USER_ID = "UBOT"
VERIFICATION_TOKEN = "Jhj5dZrVaK7ZwHHjRyZWjbDl"  # the legacy token Slack still puts in payloads
_MENTION = re.compile(r"<@([A-Z0-9]+)>")


def ts_at(seconds: float, sequence: int = 0) -> str:
    """A Slack message timestamp (``"1700000000.000100"``) for unix time ``seconds``."""
    return f"{int(seconds)}.{sequence:06d}"


def _rich_text(text: str) -> list[JSON]:
    """The ``blocks`` Slack adds to a message a person typed (one rich-text section)."""
    elements: list[JSON] = []
    for index, part in enumerate(_MENTION.split(text)):
        if index % 2:
            elements.append({"type": "user", "user_id": part})
        elif part:
            elements.append({"type": "text", "text": part})
    block_id = uuid.uuid5(uuid.NAMESPACE_OID, text).hex[:5]
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


# -- the Events API ------------------------------------------------------------------------


def event_callback(
    event: JSON,
    *,
    event_id: str,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    event_time: int,
    bot_user_id: str = BOT_USER_ID,
) -> JSON:
    """The ``event_callback`` envelope Slack posts around ``event``."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid5(uuid.NAMESPACE_OID, event_id).hex}",
    }


def message_event(
    *,
    user: str,
    channel: str,
    text: str,
    ts: str,
    channel_type: Literal["channel", "group", "im", "mpim"] = "channel",
    thread_ts: str | None = None,
    parent_user_id: str | None = None,
    team: str = TEAM_ID,
) -> JSON:
    """A ``message`` event: a person's message in a channel, a thread or a DM."""
    event: JSON = {
        "user": user,
        "type": "message",
        "ts": ts,
        "client_msg_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{channel}/{ts}/{user}")),
        "text": text,
        "team": team,
        "blocks": _rich_text(text),
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = parent_user_id or user
    return event


def thread_reply_event(
    *,
    user: str,
    channel: str,
    text: str,
    ts: str,
    thread_ts: str,
    parent_user_id: str = BOT_USER_ID,
    team: str = TEAM_ID,
) -> JSON:
    """A reply in the thread of ``thread_ts`` (by default a thread the bot started)."""
    return message_event(
        user=user,
        channel=channel,
        text=text,
        ts=ts,
        thread_ts=thread_ts,
        parent_user_id=parent_user_id,
        team=team,
    )


def message_changed_event(
    *,
    user: str,
    channel: str,
    ts: str,
    text: str,
    previous_text: str,
    edited_ts: str | None,
    channel_type: Literal["channel", "group", "im", "mpim"] = "channel",
    thread_ts: str | None = None,
    team: str = TEAM_ID,
) -> JSON:
    """A ``message`` event of subtype ``message_changed``: message ``ts`` now reads ``text``.

    ``edited_ts`` None gives the change Slack sends without an edit (a thread got replies:
    ``reply_count`` and ``latest_reply`` changed)."""
    previous = message_event(
        user=user, channel=channel, text=previous_text, ts=ts, thread_ts=thread_ts, team=team
    )
    previous = {
        k: v for k, v in previous.items() if k not in ("channel", "event_ts", "channel_type")
    }
    message: JSON = {**previous, "text": text, "blocks": _rich_text(text)}
    event_ts = edited_ts or ts_at(float(ts) + 60)
    if edited_ts is not None:
        message["edited"] = {"user": user, "ts": edited_ts}
    else:
        message.update(thread_ts=ts, reply_count=1, reply_users=[user], latest_reply=event_ts)
        previous = dict(message, text=previous_text, reply_count=0, reply_users=[])
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": message,
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel_type,
    }


def message_deleted_event(
    *,
    user: str,
    channel: str,
    deleted_ts: str,
    text: str,
    event_ts: str,
    channel_type: Literal["channel", "group", "im", "mpim"] = "channel",
    thread_ts: str | None = None,
    team: str = TEAM_ID,
) -> JSON:
    """A ``message`` event of subtype ``message_deleted`` for message ``deleted_ts``."""
    previous = message_event(
        user=user, channel=channel, text=text, ts=deleted_ts, thread_ts=thread_ts, team=team
    )
    previous = {
        k: v for k, v in previous.items() if k not in ("channel", "event_ts", "channel_type")
    }
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "deleted_ts": deleted_ts,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": channel_type,
    }


def im_message_event(*, user: str, channel: str, text: str, ts: str, team: str = TEAM_ID) -> JSON:
    """A direct message to the bot (``channel`` is the DM's ``D...`` id)."""
    return message_event(user=user, channel=channel, text=text, ts=ts, channel_type="im", team=team)


def _reaction(
    kind: str, *, user: str, reaction: str, channel: str, ts: str, item_user: str, event_ts: str
) -> JSON:
    return {
        "type": kind,
        "user": user,
        "reaction": reaction,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": event_ts,
    }


def reaction_added_event(
    *,
    user: str,
    reaction: str,
    channel: str,
    ts: str,
    item_user: str = BOT_USER_ID,
    event_ts: str,
) -> JSON:
    """``reaction_added`` on the message ``ts`` of ``channel`` (by default the bot's)."""
    return _reaction(
        "reaction_added",
        user=user,
        reaction=reaction,
        channel=channel,
        ts=ts,
        item_user=item_user,
        event_ts=event_ts,
    )


def reaction_removed_event(
    *,
    user: str,
    reaction: str,
    channel: str,
    ts: str,
    item_user: str = BOT_USER_ID,
    event_ts: str,
) -> JSON:
    """``reaction_removed``: the same shape as ``reaction_added``."""
    return _reaction(
        "reaction_removed",
        user=user,
        reaction=reaction,
        channel=channel,
        ts=ts,
        item_user=item_user,
        event_ts=event_ts,
    )


def member_joined_channel_event(
    *,
    user: str,
    channel: str,
    event_ts: str,
    inviter: str | None = None,
    channel_type: Literal["C", "G"] = "C",
    team: str = TEAM_ID,
) -> JSON:
    """``member_joined_channel`` (``channel_type`` C: public, G: private)."""
    event: JSON = {
        "type": "member_joined_channel",
        "user": user,
        "channel": channel,
        "channel_type": channel_type,
        "team": team,
    }
    if inviter is not None:
        event["inviter"] = inviter
    event["event_ts"] = event_ts
    return event


def user_object(
    user_id: str,
    name: str,
    real_name: str,
    *,
    tz: str = "Europe/Paris",
    title: str = "",
    custom_image: bool = False,
    locale: str | None = None,
    is_bot: bool = False,
    deleted: bool = False,
    team: str = TEAM_ID,
) -> JSON:
    """A Slack user object, as in ``users.info``, ``users.list`` and ``team_join``."""
    first, _, last = real_name.partition(" ")
    avatar = uuid.uuid5(uuid.NAMESPACE_OID, user_id).hex
    if custom_image:
        base = f"https://avatars.slack-edge.com/2025-01-01/{avatar[:10]}_{avatar[:12]}"
        images = {
            f"image_{size}": f"{base}_{size}.jpg" for size in (24, 32, 48, 72, 192, 512, 1024)
        }
        extra: JSON = {"image_original": f"{base}_original.jpg", "is_custom_image": True}
    else:
        default = "https%3A%2F%2Fa.slack-edge.com%2Fdf10d%2Fimg%2Favatars%2Fava_0010"
        images = {
            f"image_{size}": (
                f"https://secure.gravatar.com/avatar/{avatar}.jpg?s={size}&d={default}-{size}.png"
            )
            for size in (24, 32, 48, 72, 192, 512)
        }
        extra = {}
    user: JSON = {
        "id": user_id,
        "team_id": team,
        "name": name,
        "deleted": deleted,
        "color": "9f69e7",
        "real_name": real_name,
        "tz": tz,
        "tz_label": tz,
        "tz_offset": 0,
        "profile": {
            "title": title,
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_emoji_display_info": [],
            "status_expiration": 0,
            "avatar_hash": avatar[:12],
            **extra,
            "first_name": first,
            "last_name": last,
            **images,
            "status_text_canonical": "",
            "team": team,
        },
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": 1735689600,
        "is_email_confirmed": True,
        "who_can_share_contact_card": "EVERYONE",
    }
    if locale is not None:
        user["locale"] = locale
    return user


def team_join_event(user: JSON, *, event_ts: str) -> JSON:
    """``team_join``: a new member of the workspace, with their user object."""
    return {
        "type": "team_join",
        "user": user,
        "cache_ts": int(float(event_ts)),
        "event_ts": event_ts,
    }


def user_change_event(user: JSON, *, event_ts: str) -> JSON:
    """``user_change``: a member's data changed; ``user`` is the whole user object, as now."""
    return {
        "type": "user_change",
        "user": user,
        "cache_ts": int(float(event_ts)),
        "event_ts": event_ts,
    }


def app_mention_event(
    *,
    user: str,
    channel: str,
    text: str,
    ts: str,
    bot_user_id: str = BOT_USER_ID,
    thread_ts: str | None = None,
    team: str = TEAM_ID,
) -> JSON:
    """``app_mention``: ``text`` gets a leading ``<@bot>`` unless it already mentions it."""
    mention = f"<@{bot_user_id}>"
    if mention not in text:
        text = f"{mention} {text}"
    event: JSON = {
        "user": user,
        "type": "app_mention",
        "ts": ts,
        "client_msg_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{channel}/{ts}/{user}")),
        "text": text,
        "team": team,
        "blocks": _rich_text(text),
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def url_verification(challenge: str) -> JSON:
    """The handshake Slack posts when an events Request URL is saved."""
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}


# -- interactivity and slash commands --------------------------------------------------------


def block_actions(
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    action_id: str,
    value: str | None = None,
    label: str = "Button",
    block_id: str = "actions",
    action_ts: str | None = None,
    user_name: str = "member",
    channel_name: str | None = None,
    message: JSON | None = None,
    is_ephemeral: bool = False,
    team_id: str = TEAM_ID,
    team_domain: str = "acme",
    api_app_id: str = API_APP_ID,
    bot_user_id: str = BOT_USER_ID,
) -> JSON:
    """The ``block_actions`` payload of a click on a button of the bot's message.

    Sent form-encoded as ``payload=<json>`` (see :meth:`SlackEventPoster.post_action`).
    ``message`` is the clicked message as Slack shows it (a minimal bot message by default).
    """
    action_ts = action_ts or f"{time.time():.6f}"
    action: JSON = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "type": "button",
        "action_ts": action_ts,
    }
    if value is not None:
        action["value"] = value
    if message is None:
        message = {
            "user": bot_user_id,
            "type": "message",
            "ts": message_ts,
            "bot_id": "B0001",
            "app_id": api_app_id,
            "text": label,
            "team": team_id,
            "blocks": [],
        }
    trigger = uuid.uuid5(uuid.NAMESPACE_OID, f"{user_id}/{action_ts}").hex
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": f"{int(float(action_ts))}.{trigger[:12]}",
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {
            "id": channel_id,
            "name": channel_name or ("directmessage" if channel_id.startswith("D") else "general"),
        },
        "message": message,
        "state": {"values": {}},
        "response_url": f"https://hooks.slack.com/actions/{team_id}/{trigger[:12]}/{trigger[12:]}",
        "actions": [action],
    }


def view_submission(
    view: JSON,
    *,
    user_id: str,
    values: Mapping[str, str | None],
    user_name: str = "member",
    team_id: str = TEAM_ID,
    team_domain: str = "acme",
    api_app_id: str = API_APP_ID,
    bot_id: str = "BBOT",
) -> JSON:
    """The ``view_submission`` Slack posts when ``view`` (as ``views.open`` returned it) is
    submitted: ``state.values[block_id][action_id]`` for each input, None for one left empty."""
    state: dict[str, JSON] = {}
    for block in view.get("blocks") or ():
        element = block.get("element") or {}
        if block.get("type") != "input" or element.get("type") != "plain_text_input":
            continue
        state[block["block_id"]] = {
            element["action_id"]: {
                "type": "plain_text_input",
                "value": values.get(element["action_id"]),
            }
        }
    key = uuid.uuid5(uuid.NAMESPACE_OID, f"{view.get('id')}/{user_id}").hex
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_domain},
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": f"{int(time.time())}.{key[:12]}",
        "view": {
            "app_id": api_app_id,
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
            "team_id": team_id,
            "hash": key[:20],
            "previous_view_id": None,
            "root_view_id": view.get("id"),
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "submit_disabled": False,
            **view,
            "state": {"values": state},
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def slash_command(
    text: str,
    user_id: str,
    channel_id: str,
    *,
    command: str = "/rallybot",
    user_name: str = "member",
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    team_domain: str = "acme",
    api_app_id: str = API_APP_ID,
    response_url: str | None = None,
    trigger_id: str | None = None,
) -> dict[str, str]:
    """The form fields Slack posts for a slash command."""
    key = uuid.uuid5(uuid.NAMESPACE_OID, f"{user_id}/{channel_id}/{text}/{time.time()}").hex
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url
        or f"https://hooks.slack.com/commands/{team_id}/{key[:12]}/{key[12:]}",
        "trigger_id": trigger_id or f"{int(time.time())}.{key[:12]}",
    }


# -- posting ---------------------------------------------------------------------------------


class SlackEventPoster:
    """Posts signed payloads the way Slack does.

    Args:
        secret: the signing secret (each call may override it, to test a bad signature).
        client: an ``httpx.AsyncClient`` to use (one is created and closed otherwise).
        clock: unix time for the signature timestamp; Slack's receivers check it against
            the real time, so keep the default unless a test wants a stale request.
    """

    def __init__(
        self,
        secret: str,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self.secret = secret
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(timeout=timeout)
        self._clock = clock

    async def __aenter__(self) -> SlackEventPoster:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this poster created it."""
        if self._owns_client:
            await self.client.aclose()

    async def post_raw(
        self,
        url: str,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Sign ``body`` and post it."""
        stamp = int(self._clock()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **sign(self.secret if secret is None else secret, body, stamp),
            **(headers or {}),
        }
        return await self.client.post(url, content=body, headers=all_headers)

    async def post_event(
        self,
        url: str,
        payload: JSON,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        """Post an Events API payload as JSON; ``retry_num`` marks a redelivery."""
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(payload, separators=(",", ":")).encode()
        return await self.post_raw(
            url,
            body,
            "application/json",
            timestamp=timestamp,
            secret=secret,
            headers=headers,
        )

    async def post_action(
        self,
        url: str,
        payload: JSON,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        """Post an interaction payload as the form field ``payload=<json>``."""
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        return await self.post_raw(
            url, body, "application/x-www-form-urlencoded", timestamp=timestamp, secret=secret
        )

    async def post_command(
        self,
        url: str,
        fields: Mapping[str, str],
        *,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        """Post slash command fields as a form."""
        body = urlencode(dict(fields)).encode()
        return await self.post_raw(
            url, body, "application/x-www-form-urlencoded", timestamp=timestamp, secret=secret
        )
