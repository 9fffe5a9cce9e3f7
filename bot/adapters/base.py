"""The adapter contract, and a registry from platform name to implementation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, cast, runtime_checkable

from rallybot.bot.events import Event, MemberProfile  # MemberProfile: defined with the events
from rallybot.bot.extras import missing_extra
from rallybot.bot.messages import Message

__all__ = [
    "ADAPTERS",
    "Adapter",
    "AdapterError",
    "Capabilities",
    "EventSink",
    "FileSender",
    "MemberProfile",
    "PlatformStartError",
    "SentMessage",
    "TransientSendError",
    "create_adapter",
    "event_recorded",
    "file_sender",
    "register_adapter",
    "when_recorded",
]

EventSink = Callable[[Event], Awaitable[None]]

_ON_RECORDED: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar(
    "rallybot_on_recorded", default=None
)


@contextmanager
def when_recorded(callback: Callable[[], Awaitable[None]]) -> Iterator[None]:
    """Within the block, the sink awaits ``callback()`` as soon as the event it was given is
    durably recorded (or recognised as a retry), before handling it: an adapter acknowledges
    an interaction there, while its handlers may still answer it afterwards."""
    token = _ON_RECORDED.set(callback)
    try:
        yield
    finally:
        _ON_RECORDED.reset(token)


async def event_recorded() -> None:
    """Called by the sink once the event is recorded: runs the adapter's
    :func:`when_recorded` callback, if any, once."""
    callback = _ON_RECORDED.get()
    if callback is not None:
        _ON_RECORDED.set(None)  # once, even if the sink says so twice
        await callback()


class PlatformStartError(Exception):
    """The platform cannot start (a missing token, a refused login, a bad setting); the
    message says what to fix. ``rallybot run`` prints it without a traceback."""


class AdapterError(Exception):
    """A send that failed for good (unknown channel, blocked user...): not retried."""


class TransientSendError(AdapterError):
    """A send that may succeed later (timeout, 5xx, rate limit): retried by the outbox.

    ``retry_after`` is the platform's hint in seconds, when it gave one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What a platform returned for a message it accepted."""

    channel_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can do; features degrade gracefully where it cannot."""

    buttons: bool = True
    images: bool = True
    named_sender: bool = True
    pins: bool = True
    threads: bool = True
    ephemeral: bool = False
    files: bool = True  # send_file: a file (a chart, an export) in a channel or a DM
    idempotent_send: bool = False  # the platform itself drops a repeated send (Discord nonce)
    confirms_sends: bool = False  # find_sent can tell whether a keyed message already went out
    max_sends_per_second: float | None = None


@runtime_checkable
class Adapter(Protocol):
    """A chat platform, seen from the core.

    Sends take a neutral :class:`~bot.messages.Message`; ``idempotency_key`` is the outbox
    key, which platforms that can use it (a Discord nonce, Slack message metadata) attach so
    a retried send is recognised.

    Optional methods, found with ``getattr`` (features degrade where a platform lacks them):
    ``async def respond(self, event: CommandInvoked, message: Message) -> None`` answers a
    command privately; ``async def lookup_by_email(self, email: str) -> str | None`` gives
    the platform user id of the account with that email, or None (``rallybot roster import
    --match``; it is called without :meth:`start`, and should pace itself);
    ``async def lookup_member(self, text: str) -> str | None`` gives the user id of the member
    a roster's ``discord`` cell names (an id, a mention, a username), or None (``rallybot
    roster import``, after :meth:`start`: names are read from the member list);
    ``send_file`` (see :class:`FileSender`, found with :func:`file_sender`) uploads a file;
    ``async def member_groups(self) -> dict[str, list[str]]`` gives the platform groups of
    each member (Slack user group handles, Discord role names) by platform user id, for teams
    from platform groups (``RALLYBOT_TEAM_GROUPS``, see :mod:`bot.teams`).

    An optional attribute ``inline_events = True`` (the in-process memory and console
    adapters) makes the bot handle each event before the sink returns; platform adapters get
    a sink that records the event and returns, the handling following in the member's order.
    """

    platform: str
    capabilities: Capabilities

    async def start(self, sink: EventSink) -> None:
        """Connect and start handing inbound events to ``sink``; returns once connected."""
        ...

    async def stop(self) -> None:
        """Disconnect; in-flight sends are finished first."""
        ...

    async def post(
        self, channel_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """Post ``message`` in a channel."""
        ...

    async def send_direct(
        self, user_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """Send ``message`` to a member privately."""
        ...

    async def reply(
        self,
        channel_id: str,
        thread_id: str,
        message: Message,
        *,
        idempotency_key: str | None = None,
    ) -> SentMessage:
        """Answer in the thread of ``thread_id`` (with the outbox key, like :meth:`post`)."""
        ...

    async def update(self, sent: SentMessage, message: Message) -> None:
        """Replace the content of a message the bot sent."""
        ...

    async def pin(self, sent: SentMessage) -> None:
        """Pin a message the bot sent."""
        ...

    async def add_reaction(self, channel_id: str, message_id: str, emoji: str) -> None:
        """Put a reaction on a message."""
        ...

    async def fetch_profile(self, user_id: str) -> MemberProfile | None:
        """Read a member's profile, or None if the platform does not know them."""
        ...

    async def channel_members(self, channel_id: str) -> list[str]:
        """The user ids of a channel's members."""
        ...

    async def find_sent(
        self, channel_or_user_id: str, idempotency_key: str, *, thread_id: str | None = None
    ) -> SentMessage | None:
        """Look for a message already sent with ``idempotency_key`` (after an interrupted
        send), among the replies of ``thread_id`` when given; None when not found or when the
        platform cannot tell."""
        ...


class FileSender(Protocol):
    """An adapter's optional ``send_file``: upload ``content`` as ``filename``.

    ``target`` is a user id (the file goes to that member's direct messages) or, with
    ``in_channel=True``, a channel id. ``message`` is the comment shown with the file (its
    text; None for none); ``title`` names the file (the file name when None) and
    ``alt_text`` describes an image for screen readers. Returns where the file went (the
    message id is the platform's file or message id). Raises :class:`AdapterError` (or
    :class:`TransientSendError`) like the other sends.
    """

    def __call__(
        self,
        target: str,
        filename: str,
        content: bytes,
        message: Message | None = None,
        *,
        title: str | None = None,
        alt_text: str | None = None,
        in_channel: bool = False,
    ) -> Awaitable[SentMessage]: ...


def file_sender(adapter: object) -> FileSender | None:
    """The adapter's ``send_file`` when it has one and its capabilities allow files, else
    None (the caller then says where to get the file)."""
    capabilities = getattr(adapter, "capabilities", None)
    if capabilities is not None and not getattr(capabilities, "files", True):
        return None
    sender = getattr(adapter, "send_file", None)
    return cast(FileSender, sender) if callable(sender) else None


AdapterFactory = Callable[..., Adapter]
ADAPTERS: dict[str, str] = {
    "console": "rallybot.bot.adapters.console:ConsoleAdapter",
    "discord": "rallybot.bot.adapters.discord.adapter:DiscordAdapter",
    "memory": "rallybot.bot.adapters.memory:MemoryAdapter",
    "slack": "rallybot.bot.adapters.slack.adapter:SlackAdapter",
}


def register_adapter(name: str, reference: str) -> None:
    """Register an adapter class by ``module:attribute`` reference under ``name``."""
    ADAPTERS[name] = reference


def create_adapter(name: str, **kwargs: Any) -> Adapter:
    """Instantiate the adapter registered as ``name``."""
    import importlib  # noqa: PLC0415

    try:
        reference = ADAPTERS[name]
    except KeyError:
        known = ", ".join(sorted(ADAPTERS))
        raise ValueError(f'unknown platform "{name}" (known: {known})') from None
    module_name, _, attr = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:  # slack or discord extra not installed: say which
        missing = missing_extra(exc, platform=name)
        if missing is None:
            raise
        raise missing from None
    factory: AdapterFactory = getattr(module, attr)
    return factory(**kwargs)
