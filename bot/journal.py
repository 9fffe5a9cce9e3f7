"""The inbound journal's codec: a neutral event as JSON and back, exactly.

The bot acknowledges an event to the platform only once the event itself is recorded
(:func:`storage.journal.record`), so a process killed after the acknowledgement loses nothing:
the next start, or a live replica, handles what was recorded and not yet handled. This module
turns the frozen dataclasses of :mod:`bot.events` into JSON text and back; only those classes
can come back (a journal row never names an arbitrary class to build).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    Event,
    FileRef,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MemberProfile,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ProfileChanged,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)

__all__ = ["JournalCodecError", "decode_event", "dedup_id", "encode_event"]

_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        ButtonClicked,
        ChannelRef,
        CommandInvoked,
        FileRef,
        FormSubmitted,
        HomeOpened,
        MemberJoined,
        MemberProfile,
        MessageDeleted,
        MessageEdited,
        MessagePosted,
        ProfileChanged,
        ReactionAdded,
        ReactionRemoved,
        UserRef,
    )
}
_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _CLASSES.values()
}
# Tags of the JSON objects that are not plain dicts; a plain dict is tagged too, so a member's
# form answers can never be mistaken for a tag.
_TYPE, _DATETIME, _TUPLE, _DICT = "$t", "$dt", "$tu", "$d"


class JournalCodecError(ValueError):
    """A journal payload that does not describe a known event."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    cls = type(value)
    names = _FIELDS.get(cls)
    if names is not None:
        out: dict[str, Any] = {_TYPE: cls.__name__}
        for name in names:
            out[name] = _encode(getattr(value, name))
        return out
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {_DICT: {str(k): _encode(v) for k, v in value.items()}}
    raise JournalCodecError(f"cannot journal a {cls.__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if _TYPE in value:
        cls = _CLASSES.get(value[_TYPE])
        if cls is None:
            raise JournalCodecError(f"unknown journal type {value[_TYPE]!r}")
        return cls(**{k: _decode(v) for k, v in value.items() if k != _TYPE})
    if _DATETIME in value:
        return datetime.fromisoformat(value[_DATETIME])
    if _TUPLE in value:
        return tuple(_decode(item) for item in value[_TUPLE])
    if _DICT in value:
        return {k: _decode(v) for k, v in value[_DICT].items()}
    raise JournalCodecError("an untagged object in a journal payload")


def encode_event(event: Event) -> str:
    """``event`` as compact JSON text (message texts included: see the retention docs)."""
    if type(event) not in _FIELDS:
        raise JournalCodecError(f"cannot journal a {type(event).__name__}")
    return json.dumps(_encode(event), ensure_ascii=False, separators=(",", ":"))


def decode_event(text: str) -> Event:
    """The event :func:`encode_event` wrote, equal to the original."""
    try:
        event = _decode(json.loads(text))
    except (TypeError, ValueError) as exc:
        raise JournalCodecError(f"unreadable journal payload: {exc}") from exc
    if not isinstance(event, Event):
        raise JournalCodecError("a journal payload that is not an event")
    return event


def dedup_id(secret: bytes, platform: str, event_id: str) -> str:
    """The key that drops a platform's retry of ``event_id``: a keyed hash (HMAC-SHA256 with
    the server secret), because platform ids can name a person (a Slack click id ends with the
    user id, a Discord reaction id holds it) and the deduplication rows outlive the event."""
    digest = hmac.new(secret, f"{platform}:{event_id}".encode(), hashlib.sha256)
    return digest.hexdigest()
