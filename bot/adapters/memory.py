"""An in-memory platform for tests: push events in, read what the bot sent.

Every send is recorded as a :class:`Delivered` (a file as a :class:`SentFile`); failures can
be injected (:meth:`MemoryAdapter.fail_next`, :meth:`MemoryAdapter.fail_next_files`) and hooks
run around each send so tests can simulate a crash between the outbox claiming a row, the
platform accepting it and the outbox recording it.

Its rendering is plain text: a recorded message shows member text as it is, without the marks
of :func:`~bot.messages.member` (``raw`` keeps the message as the bot built it).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from rallybot.bot.adapters.base import (
    AdapterError,
    Capabilities,
    EventSink,
    MemberProfile,
    SentMessage,
    TransientSendError,
)
from rallybot.bot.events import ButtonClicked, Event
from rallybot.bot.messages import Form, Message, plain

__all__ = [
    "Delivered",
    "MemoryAdapter",
    "OpenedForm",
    "Reaction",
    "SendHook",
    "SentFile",
    "Updated",
    "find_delivered",
    "shown",
]

SendHook = Callable[[str | None], Awaitable[None]]
"""Called with the idempotency key of a send (None for replies and unkeyed sends)."""

DeliveryKind = Literal["post", "dm", "reply"]


@dataclass(frozen=True, slots=True)
class Delivered:
    """One message the platform accepted.

    ``target`` is the channel id for posts and replies, the user id for direct messages.
    """

    kind: DeliveryKind
    target: str
    message: Message
    idempotency_key: str | None
    sent: SentMessage
    thread_id: str | None = None
    raw: Message | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Updated:
    """A message the bot edited, with its new content."""

    sent: SentMessage
    message: Message
    raw: Message | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Reaction:
    """A reaction the bot put on a message."""

    channel_id: str
    message_id: str
    emoji: str


@dataclass(frozen=True, slots=True)
class OpenedForm:
    """A form the bot showed in answer to a click (a modal on Slack and Discord)."""

    event: ButtonClicked
    form: Form


@dataclass(frozen=True, slots=True)
class SentFile:
    """A file the bot uploaded (:meth:`MemoryAdapter.send_file`).

    ``target`` is the user id for a direct message, the channel id otherwise.
    """

    target: str
    direct: bool
    filename: str
    content: bytes
    message: Message | None
    title: str | None
    alt_text: str | None
    sent: SentMessage


def shown(message: Message) -> Message:
    """``message`` as the memory platform shows it: member text without its marks."""
    buttons = tuple(replace(b, label=plain(b.label)) for b in message.buttons)
    images = tuple(replace(i, alt=plain(i.alt)) for i in message.images)
    return replace(
        message,
        text=plain(message.text),
        title=plain(message.title) if message.title is not None else None,
        context=plain(message.context) if message.context is not None else None,
        buttons=buttons,
        images=images,
    )


def find_delivered(delivered: Iterable[Delivered], target: str, key: str) -> SentMessage | None:
    """The message sent with ``key`` to ``target`` (a user or channel id), if any."""
    for item in delivered:
        if item.idempotency_key == key and target in (item.target, item.sent.channel_id):
            return item.sent
    return None


class MemoryAdapter:
    """The ``memory`` platform: an :class:`~bot.adapters.base.Adapter` that lives in a list.

    Args:
        capabilities: what the fake platform claims to support (by default all features,
            no platform-side idempotency, ``confirms_sends`` False so the outbox sends one
            at a time; pass ``Capabilities(confirms_sends=True)`` to test parallel sends).
        remembers_keys: when False, :meth:`find_sent` always answers None, as a platform
            that cannot look messages up by idempotency key would.
        before_send: awaited with the idempotency key before a send reaches the platform;
            raising from it simulates a crash before the send.
        after_send: awaited with the key once the platform has accepted the message;
            raising from it simulates a crash after the send, before the outbox records it.
        shows_forms: whether :meth:`open_form` shows forms (modals); False acts as a platform
            without them.
    """

    platform = "memory"
    inline_events = True  # push() returns once the bot has handled the event

    def __init__(
        self,
        *,
        capabilities: Capabilities | None = None,
        remembers_keys: bool = True,
        before_send: SendHook | None = None,
        after_send: SendHook | None = None,
        shows_forms: bool = True,
    ) -> None:
        self.capabilities = capabilities or Capabilities()
        self.remembers_keys = remembers_keys
        self.before_send = before_send
        self.after_send = after_send
        self.shows_forms = shows_forms
        self.forms: list[OpenedForm] = []
        self.delivered: list[Delivered] = []
        self.updates: list[Updated] = []
        self.pins: list[SentMessage] = []
        self.files: list[SentFile] = []
        self.reactions: list[Reaction] = []
        self.profiles: dict[str, MemberProfile] = {}
        self.members: dict[str, list[str]] = {}
        self.emails: dict[str, str] = {}  # lower-cased email -> user id, for lookup_by_email
        self.groups: dict[str, list[str]] = {}  # user id -> group names, for member_groups
        self.started = False
        self._sink: EventSink | None = None
        self._ids = itertools.count(1)
        self._failures: list[BaseException] = []
        self._file_failures: list[BaseException] = []
        self._contents: dict[tuple[str, str], Message] = {}

    # -- what tests read ----------------------------------------------------------------

    @property
    def posts(self) -> list[Delivered]:
        """Channel posts, in order."""
        return [d for d in self.delivered if d.kind == "post"]

    @property
    def directs(self) -> list[Delivered]:
        """Direct messages, in order."""
        return [d for d in self.delivered if d.kind == "dm"]

    @property
    def replies(self) -> list[Delivered]:
        """Thread replies, in order."""
        return [d for d in self.delivered if d.kind == "reply"]

    def sent_to(self, target: str) -> list[Delivered]:
        """Everything delivered to a channel id or a user id, in order."""
        return [d for d in self.delivered if target in (d.target, d.sent.channel_id)]

    def content_of(self, sent: SentMessage) -> Message:
        """The current content of a message the bot sent (after any update)."""
        try:
            return self._contents[(sent.channel_id, sent.message_id)]
        except KeyError:
            raise KeyError(f"no message {sent.message_id} in {sent.channel_id}") from None

    def is_pinned(self, sent: SentMessage) -> bool:
        """Whether :meth:`pin` was called for that message."""
        return sent in self.pins

    def clear(self) -> None:
        """Forget everything sent so far (profiles, members and hooks are kept)."""
        self.delivered.clear()
        self.updates.clear()
        self.pins.clear()
        self.reactions.clear()
        self.forms.clear()
        self.files.clear()
        self._contents.clear()

    # -- what tests set -----------------------------------------------------------------

    def fail_next(self, n: int = 1, exc: BaseException | None = None) -> None:
        """Make the next ``n`` sends (post, direct message, reply, edit) raise ``exc``.

        ``exc`` defaults to a :class:`~bot.adapters.base.TransientSendError`. The same
        exception object is raised each time.
        """
        error = exc if exc is not None else TransientSendError("injected failure")
        self._failures.extend([error] * n)

    def fail_next_files(self, n: int = 1, exc: BaseException | None = None) -> None:
        """Make the next ``n`` calls of :meth:`send_file` raise ``exc`` (by default an
        :class:`~bot.adapters.base.AdapterError`, as a refused upload)."""
        error = exc if exc is not None else AdapterError("injected upload failure")
        self._file_failures.extend([error] * n)

    @property
    def pending_failures(self) -> int:
        """How many injected failures are still to be raised."""
        return len(self._failures)

    def set_profile(self, profile: MemberProfile | str, /, **fields: Any) -> MemberProfile:
        """Set what :meth:`fetch_profile` returns for a member.

        Either a :class:`~bot.adapters.base.MemberProfile`, or a user id and its fields:
        ``set_profile("U1", display_name="Alice", timezone="Europe/Paris")``.
        """
        if isinstance(profile, str):
            profile = MemberProfile(user_id=profile, **fields)
        elif fields:
            profile = replace(profile, **fields)
        self.profiles[profile.user_id] = profile
        return profile

    def set_channel_members(self, channel_id: str, members: Iterable[str]) -> None:
        """Set what :meth:`channel_members` returns for a channel."""
        self.members[channel_id] = list(members)

    async def push(self, event: Event) -> None:
        """Hand ``event`` to the sink given to :meth:`start`, as the platform would."""
        if self._sink is None:
            raise RuntimeError("the memory adapter is not started: call start(sink) first")
        await self._sink(event)

    # -- the Adapter protocol -----------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        """Remember ``sink`` for :meth:`push`."""
        self._sink = sink
        self.started = True

    async def stop(self) -> None:
        """Stop accepting pushed events."""
        self._sink = None
        self.started = False

    async def post(
        self, channel_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """Record a channel post."""
        return await self._send("post", channel_id, channel_id, message, key=idempotency_key)

    async def send_direct(
        self, user_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """Record a direct message; its channel id is ``dm-<user_id>``."""
        return await self._send("dm", user_id, f"dm-{user_id}", message, key=idempotency_key)

    async def reply(
        self,
        channel_id: str,
        thread_id: str,
        message: Message,
        *,
        idempotency_key: str | None = None,
    ) -> SentMessage:
        """Record a reply in the thread of ``thread_id``."""
        return await self._send(
            "reply", channel_id, channel_id, message, key=idempotency_key, thread_id=thread_id
        )

    async def update(self, sent: SentMessage, message: Message) -> None:
        """Replace a sent message's content; AdapterError if the bot never sent it."""
        if self._failures:
            raise self._failures.pop(0)
        self._known(sent)
        self._contents[(sent.channel_id, sent.message_id)] = shown(message)
        self.updates.append(Updated(sent, shown(message), message))

    async def pin(self, sent: SentMessage) -> None:
        """Pin a sent message (pinning twice keeps one pin)."""
        self._known(sent)
        if sent not in self.pins:
            self.pins.append(sent)

    async def add_reaction(self, channel_id: str, message_id: str, emoji: str) -> None:
        """Record a reaction by the bot (on any message, the bot's or a member's)."""
        self.reactions.append(Reaction(channel_id, message_id, emoji))

    async def fetch_profile(self, user_id: str) -> MemberProfile | None:
        """The profile set with :meth:`set_profile`, or None."""
        return self.profiles.get(user_id)

    async def channel_members(self, channel_id: str) -> list[str]:
        """The members set with :meth:`set_channel_members` (none by default)."""
        return list(self.members.get(channel_id, ()))

    async def lookup_by_email(self, email: str) -> str | None:
        """The user id registered for ``email`` in :attr:`emails` (any case), or None."""
        return self.emails.get(email.strip().lower())

    async def member_groups(self) -> dict[str, list[str]]:
        """The platform groups of each member, as set in :attr:`groups`."""
        return {user_id: list(names) for user_id, names in self.groups.items()}

    async def find_sent(
        self, channel_or_user_id: str, idempotency_key: str, *, thread_id: str | None = None
    ) -> SentMessage | None:
        """The message sent with that key to that channel or user; None if there is none
        or if the adapter was built with ``remembers_keys=False``."""
        if not self.remembers_keys:
            return None
        return self._lookup(channel_or_user_id, idempotency_key)

    async def send_file(
        self,
        target: str,
        filename: str,
        content: bytes,
        message: Message | None = None,
        *,
        title: str | None = None,
        alt_text: str | None = None,
        in_channel: bool = False,
    ) -> SentMessage:
        """Record a file sent to a member's direct messages (``target`` is a user id), or to
        a channel with ``in_channel=True``; see :class:`~bot.adapters.base.FileSender`."""
        if self._file_failures:
            raise self._file_failures.pop(0)
        channel_id = target if in_channel else f"dm-{target}"
        sent = SentMessage(channel_id=channel_id, message_id=f"f{next(self._ids)}")
        self.files.append(
            SentFile(
                target,
                not in_channel,
                filename,
                bytes(content),
                shown(message) if message is not None else None,
                plain(title) if title is not None else None,
                alt_text,
                sent,
            )
        )
        return sent

    async def open_form(self, event: ButtonClicked, form: Form) -> bool:
        """Record a form shown in answer to ``event``; False (not shown) when the adapter was
        built with ``shows_forms=False``, as on a platform without modals."""
        if not self.shows_forms:
            return False
        self.forms.append(OpenedForm(event, form))
        return True

    # -- internals ----------------------------------------------------------------------

    def _lookup(self, target: str, key: str) -> SentMessage | None:
        return find_delivered(self.delivered, target, key)

    def _known(self, sent: SentMessage) -> None:
        if (sent.channel_id, sent.message_id) not in self._contents:
            raise AdapterError(f"unknown message {sent.message_id} in {sent.channel_id}")

    async def _send(
        self,
        kind: DeliveryKind,
        target: str,
        channel_id: str,
        message: Message,
        *,
        key: str | None,
        thread_id: str | None = None,
    ) -> SentMessage:
        if self.before_send is not None:
            await self.before_send(key)
        if self._failures:
            raise self._failures.pop(0)
        if key is not None and self.capabilities.idempotent_send:
            existing = self._lookup(target, key)
            if existing is not None:  # the platform drops the repeat, like a Discord nonce
                return existing
        sent = SentMessage(channel_id=channel_id, message_id=f"m{next(self._ids)}")
        self.delivered.append(
            Delivered(kind, target, shown(message), key, sent, thread_id, raw=message)
        )
        self._contents[(sent.channel_id, sent.message_id)] = shown(message)
        if self.after_send is not None:
            await self.after_send(key)
        return sent

    def __repr__(self) -> str:
        return f"<MemoryAdapter delivered={len(self.delivered)} started={self.started}>"
