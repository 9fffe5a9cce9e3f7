"""Neutral inbound events: what adapters hand to the router, free of any platform object."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "ButtonClicked",
    "ChannelRef",
    "CommandInvoked",
    "Event",
    "FileRef",
    "FormSubmitted",
    "HomeOpened",
    "MemberJoined",
    "MemberProfile",
    "MessageDeleted",
    "MessageEdited",
    "MessagePosted",
    "ProfileChanged",
    "ReactionAdded",
    "ReactionRemoved",
    "UserRef",
]


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person on a platform: ``platform`` is ``slack``, ``discord``, ``console`` or ``memory``."""

    platform: str
    id: str
    name: str | None = None
    is_bot: bool = False

    @property
    def key(self) -> str:
        """``platform:id``, unique across platforms."""
        return f"{self.platform}:{self.id}"


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel, a thread parent or a direct-message conversation on a platform."""

    platform: str
    id: str
    name: str | None = None
    is_direct: bool = False


@dataclass(frozen=True, slots=True)
class MemberProfile:
    """What the bot reads of a member's platform profile."""

    user_id: str
    display_name: str | None = None
    first_name: str | None = None
    locale: str | None = None
    timezone: str | None = None
    is_bot: bool = False
    profile_complete: bool = False


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file attached to a message: the platform's link to it, never its content.

    ``url`` is where a person who may see the file opens it (Slack ``permalink``, a Discord
    attachment URL); ``size`` is in bytes when the platform tells.
    """

    name: str
    url: str
    mimetype: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every inbound event.

    ``event_id`` is the platform's own id for the event (Slack ``event_id``, a Discord
    interaction id...): the router drops an event whose id it has already seen.
    """

    event_id: str
    platform: str
    user: UserRef
    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePosted(Event):
    """A message in a channel, a thread or a direct conversation; ``files`` are the files
    attached to it (Slack ``file_share``, Discord attachments), as links."""

    channel: ChannelRef
    message_id: str
    text: str
    thread_id: str | None = None
    files: tuple[FileRef, ...] = ()
    kind: Literal["message"] = "message"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionAdded(Event):
    """A reaction put on a message."""

    channel: ChannelRef
    message_id: str
    emoji: str
    author: UserRef | None = None
    kind: Literal["reaction_added"] = "reaction_added"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionRemoved(Event):
    """A reaction taken back."""

    channel: ChannelRef
    message_id: str
    emoji: str
    author: UserRef | None = None
    kind: Literal["reaction_removed"] = "reaction_removed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonClicked(Event):
    """A button pressed; ``action_id`` and ``value`` are the ones the message carried."""

    channel: ChannelRef
    message_id: str
    action_id: str
    value: str = ""
    kind: Literal["button_clicked"] = "button_clicked"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    """Someone joined the workspace or server (``channel`` is None) or a channel."""

    channel: ChannelRef | None = None
    kind: Literal["member_joined"] = "member_joined"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInvoked(Event):
    """``/rallybot <name> <args...>`` from a slash command or an application command."""

    name: str
    args: tuple[str, ...] = field(default_factory=tuple)
    channel: ChannelRef | None = None
    kind: Literal["command"] = "command"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited(Event):
    """A message changed by its author; ``text`` is the new text.

    ``event_id`` must differ per edit (Slack: the edit's ``event_id``; Discord: the message id
    and its ``edited_timestamp``) so that two edits are two events.
    """

    channel: ChannelRef
    message_id: str
    text: str
    thread_id: str | None = None
    kind: Literal["message_edited"] = "message_edited"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDeleted(Event):
    """A message removed. ``user`` is its author when the platform tells (else an empty id)."""

    channel: ChannelRef
    message_id: str
    thread_id: str | None = None
    kind: Literal["message_deleted"] = "message_deleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class FormSubmitted(Event):
    """A form (a Slack modal, a Discord modal) filled in and submitted.

    ``form_id`` is the :class:`~bot.messages.Form` id the bot asked for; ``values`` maps each
    field id to the text typed. ``event_id``: the Slack view id, the Discord interaction id.
    """

    form_id: str
    values: dict[str, str] = field(default_factory=dict)
    channel: ChannelRef | None = None
    kind: Literal["form_submitted"] = "form_submitted"


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeOpened(Event):
    """A member opened the bot's home (Slack's App Home tab): the bot shows them their space."""

    kind: Literal["home_opened"] = "home_opened"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileChanged(Event):
    """A member changed their platform profile (name, title, photo, nickname, time zone...).

    ``profile`` is the profile as it is now, read from the event itself (Slack
    ``user_change``, Discord member updates): the bot stores it and may see the onboarding
    "profile complete" task done. ``event_id``: Slack's, or derived from the new profile.
    """

    profile: MemberProfile
    kind: Literal["profile_changed"] = "profile_changed"
