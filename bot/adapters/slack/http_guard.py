"""The first check of a request to the Slack HTTP endpoint, before slack-bolt sees it.

Framework-agnostic and pure: :func:`check_request` takes the headers and the raw body and
answers with one of

- :class:`Rejected` (a 4xx status and a short reason to log on one line): a body too large,
  a missing or malformed ``X-Slack-Request-Timestamp`` or ``X-Slack-Signature``, a stale
  timestamp or a wrong signature (401, before anything reads the body); a signed body that
  is not what Slack sends (not UTF-8, not JSON, a payload that is an array or ``null``,
  ``actions`` that is not a list of objects, a view without a state, ``event: null``, a
  reaction whose ``item`` is not an object…: 400);
- :class:`Ignored`: a genuine, signed request the bot does not handle (an event type it did
  not subscribe to, an interaction kind it has no listener for); Slack expects a 200, and a
  404 would make it retry and count a failure;
- :class:`Accepted`: the request to hand on, with its decoded body (and, for a JSON body, the
  object already parsed, so that nothing parses it again).

Nothing here logs or raises: the caller logs one line for a rejection and counts ignored
requests in the metrics. The reasons never quote the body (it holds members' words).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "HANDLED_EVENTS",
    "HANDLED_INTERACTIONS",
    "MAX_BODY_BYTES",
    "MAX_CLOCK_SKEW",
    "Accepted",
    "Ignored",
    "Rejected",
    "check_request",
]

MAX_BODY_BYTES = 1 << 20
"""Slack's largest payloads (a modal's submission) are far below 1 MiB."""
MAX_CLOCK_SKEW = 300
"""Seconds between Slack's timestamp and our clock beyond which a request is a replay."""

HANDLED_EVENTS = frozenset(
    {
        "message",
        "app_mention",
        "reaction_added",
        "reaction_removed",
        "member_joined_channel",
        "team_join",
        "user_change",
        "user_profile_changed",
        "app_home_opened",
    }
)
"""Event types the adapter listens to; any other is acknowledged and dropped."""
HANDLED_INTERACTIONS = frozenset({"block_actions", "view_submission"})
"""Interactive payload types the adapter listens to."""

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

# The fields an event of each handled type must carry, with their JSON types; a field that
# may be absent maps to a tuple holding NoneType.
_STR = (str,)
_OPT_STR = (str, type(None))
_OPT_DICT = (dict, type(None))
_OPT_LIST = (list, type(None))
_EVENT_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "message": {
        "channel": _OPT_STR,
        "user": _OPT_STR,
        "text": _OPT_STR,
        "ts": _OPT_STR,
        "thread_ts": _OPT_STR,
        "subtype": _OPT_STR,
        "message": _OPT_DICT,
        "previous_message": _OPT_DICT,
        "files": _OPT_LIST,
    },
    "app_mention": {"channel": _STR, "user": _OPT_STR, "text": _OPT_STR, "ts": _STR},
    "reaction_added": {"user": _STR, "reaction": _STR, "item": (dict,)},
    "reaction_removed": {"user": _STR, "reaction": _STR, "item": (dict,)},
    "member_joined_channel": {"user": _STR, "channel": _STR},
    "team_join": {"user": (dict,)},
    "user_change": {"user": (dict,)},
    "user_profile_changed": {"user": (dict,)},
}
_ITEM_FIELDS: dict[str, tuple[type, ...]] = {
    "type": _OPT_STR,
    "channel": _OPT_STR,
    "ts": _OPT_STR,
    "item_user": _OPT_STR,
}
_NESTED_MESSAGE_FIELDS: dict[str, tuple[type, ...]] = {
    "user": _OPT_STR,
    "text": _OPT_STR,
    "ts": _OPT_STR,
    "thread_ts": _OPT_STR,
    "edited": _OPT_DICT,
}
_COMMAND_FIELDS = ("command", "user_id", "channel_id")


@dataclass(frozen=True, slots=True)
class Rejected:
    """Answer ``status`` (4xx) and log ``reason`` once."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """A genuine request the bot does not handle: answer 200, count ``kind``."""

    kind: str


@dataclass(frozen=True, slots=True)
class Accepted:
    """A well-formed request: hand ``body`` (decoded) on; ``data`` is a JSON body's object
    as parsed here (None for a form body)."""

    body: str
    kind: str
    data: dict[str, Any] | None = None


GuardResult = Accepted | Ignored | Rejected


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def _fields_ok(data: dict[str, Any], fields: Mapping[str, tuple[type, ...]]) -> str | None:
    """The first field of ``data`` missing or of the wrong type, or None."""
    for name, types in fields.items():
        if not isinstance(data.get(name), types):
            return name
    return None


def check_request(
    headers: Mapping[str, str],
    body: bytes,
    *,
    signing_secret: str,
    now: float,
    handled_events: Collection[str] = HANDLED_EVENTS,
    handled_interactions: Collection[str] = HANDLED_INTERACTIONS,
    max_body: int = MAX_BODY_BYTES,
) -> GuardResult:
    """Check one request to the Slack endpoint (see the module docstring).

    Args:
        headers: the request's headers (any case).
        body: the raw body, as received.
        signing_secret: the app's signing secret.
        now: the current Unix time (the real one: Slack signs with its clock).
        handled_events: event types that are handed on; others are :class:`Ignored`.
        handled_interactions: interactive payload types that are handed on.
        max_body: bodies longer than this are refused with 413.
    """
    if len(body) > max_body:
        return Rejected(413, f"body over {max_body} bytes")
    timestamp = _header(headers, "X-Slack-Request-Timestamp")
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp):
        return Rejected(401, "missing or malformed X-Slack-Request-Timestamp")
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return Rejected(401, "stale X-Slack-Request-Timestamp")
    signature = _header(headers, "X-Slack-Signature")
    if signature is None or not _SIGNATURE.fullmatch(signature):
        return Rejected(401, "missing or malformed X-Slack-Signature")
    expected = hmac.new(
        signing_secret.encode("utf-8"), b"v0:" + timestamp.encode("ascii") + b":" + body, "sha256"
    ).hexdigest()
    if not hmac.compare_digest("v0=" + expected, signature):
        return Rejected(401, "invalid signature")
    # Signed by Slack (or by whoever holds the secret) from here on: shape checks only.
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Rejected(400, "signed body is not UTF-8")
    if not text.strip():
        return Rejected(400, "signed body is empty")
    if text.lstrip().startswith("{"):
        return _check_json(text, handled_events)
    return _check_form(text, handled_interactions)


def _parse_object(text: str, what: str) -> dict[str, Any] | Rejected:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return Rejected(400, f"signed {what} is not JSON")
    if not isinstance(data, dict):
        return Rejected(400, f"signed {what} is not a JSON object")
    return data


def _check_json(text: str, handled_events: Collection[str]) -> GuardResult:
    data = _parse_object(text, "body")
    if isinstance(data, Rejected):
        return data
    kind = data.get("type")
    if kind == "url_verification":
        if not isinstance(data.get("challenge"), str):
            return Rejected(400, "url_verification without a challenge")
        return Accepted(text, "url_verification", data)
    if kind != "event_callback":
        return Ignored(f"envelope:{kind if isinstance(kind, str) else '?'}")
    event = data.get("event")
    if not isinstance(event, dict):
        return Rejected(400, "event_callback whose event is not an object")
    event_type = event.get("type")
    if not isinstance(event_type, str):
        return Rejected(400, "event without a type")
    if event_type not in handled_events:
        return Ignored(f"event:{event_type[:40]}")
    for field_name in ("event_id", "team_id"):
        if not isinstance(data.get(field_name), _OPT_STR):
            return Rejected(400, f"event_callback with a malformed {field_name}")
    if not isinstance(data.get("event_time"), (int, float, type(None))):
        return Rejected(400, "event_callback with a malformed event_time")
    wrong = _fields_ok(event, _EVENT_FIELDS.get(event_type, {}))
    if wrong is not None:
        return Rejected(400, f"{event_type} event with a missing or malformed {wrong}")
    if event_type.startswith("reaction_"):
        wrong = _fields_ok(event["item"], _ITEM_FIELDS)
        if wrong is not None:
            return Rejected(400, f"{event_type} item with a malformed {wrong}")
    for nested in ("message", "previous_message"):
        inner = event.get(nested)
        if isinstance(inner, dict) and _fields_ok(inner, _NESTED_MESSAGE_FIELDS) is not None:
            return Rejected(400, f"message event with a malformed {nested}")
    if isinstance(event.get("files"), list) and not all(
        isinstance(f, dict) for f in event["files"]
    ):
        return Rejected(400, "message event with malformed files")
    if event_type in ("team_join", "user_change", "user_profile_changed"):
        user = event["user"]
        if not isinstance(user.get("id"), str) or not isinstance(user.get("profile"), _OPT_DICT):
            return Rejected(400, f"{event_type} event with a malformed user")
    return Accepted(text, f"event:{event_type}", data)


def _check_form(text: str, handled_interactions: Collection[str]) -> GuardResult:
    try:
        form = parse_qs(text, keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except ValueError:
        return Rejected(400, "signed form body is malformed")
    if "ssl_check" in form:
        return Accepted(text, "ssl_check")
    if "payload" in form:
        return _check_interaction(text, form["payload"][0], handled_interactions)
    if "command" in form:
        for name in _COMMAND_FIELDS:
            if not form.get(name, [""])[0]:
                return Rejected(400, f"slash command without {name}")
        return Accepted(text, "command")
    return Rejected(400, "signed form body is neither a payload nor a command")


def _check_interaction(
    text: str, payload_text: str, handled_interactions: Collection[str]
) -> GuardResult:
    payload = _parse_object(payload_text, "payload")
    if isinstance(payload, Rejected):
        return payload
    kind = payload.get("type")
    if not isinstance(kind, str):
        return Rejected(400, "payload without a type")
    if kind not in handled_interactions:
        return Ignored(f"interaction:{kind[:40]}")
    user = payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return Rejected(400, f"{kind} payload without a user id")
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            return Rejected(400, "block_actions whose actions are not a list of objects")
        for action in actions:
            if not isinstance(action.get("action_id"), str):
                return Rejected(400, "block_actions with an action without an action_id")
            for name in ("value", "block_id", "action_ts"):
                if not isinstance(action.get(name), _OPT_STR):
                    return Rejected(400, f"block_actions with a malformed {name}")
        for name in ("channel", "container", "message"):
            if not isinstance(payload.get(name), _OPT_DICT):
                return Rejected(400, f"block_actions with a malformed {name}")
        return Accepted(text, "interaction:block_actions")
    view = payload.get("view")
    if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
        return Rejected(400, "view_submission without a view")
    state = view.get("state")
    if not isinstance(state, dict) or not isinstance(state.get("values"), dict):
        return Rejected(400, "view_submission without a state")
    for block in state["values"].values():
        if not isinstance(block, dict) or not all(isinstance(v, dict) for v in block.values()):
            return Rejected(400, "view_submission with malformed values")
    if not isinstance(view.get("private_metadata"), _OPT_STR):
        return Rejected(400, "view_submission with a malformed private_metadata")
    return Accepted(text, "interaction:view_submission")
