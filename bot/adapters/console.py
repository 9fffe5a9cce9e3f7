"""The ``console`` platform: try a campaign in a terminal, without any chat account.

Outbound messages are printed with Rich (see :func:`render_message`, a pure renderer);
inbound, each line typed (or read from a script) becomes a neutral event. Members are
referred to by name, and a member's console user id is that name (``alice``).

Console commands (``/help`` prints them)::

    /as alice               act as alice from now on
    /join bob [#channel]    bob joins the workspace, or a channel
    /react N :emoji:        react to message N        /unreact N :emoji:  take it back
    /click N                press action button N
    /advance 2d             move the clock (w, d, h, m, s; combine: 1d 2h)
    /rallybot <sub> [args]  a bot command, as the slash command would send it
    /dm text                a direct message to the bot
    #channel text           post in a channel         text   post in the last channel
    /help, /quit
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import secrets
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO, TypedDict

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from rallybot.bot import formats, i18n
from rallybot.bot.adapters.base import (
    AdapterError,
    Capabilities,
    EventSink,
    MemberProfile,
    SentMessage,
)
from rallybot.bot.adapters.memory import Delivered, DeliveryKind, find_delivered, shown
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    Event,
    MemberJoined,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from rallybot.bot.i18n import N_
from rallybot.bot.messages import Button, Message

__all__ = ["COMMANDS", "ConsoleAdapter", "parse_duration", "render_message"]

PLATFORM = "console"
BOT_USER = UserRef(PLATFORM, "rallybot", name="Rallybot", is_bot=True)
DEFAULT_CHANNEL = "general"

# Translators: the console platform's commands, as /help lists them. The command names
# (/as, /join...) are typed as they are: translate only the words in capitals (NAME, TEXT...)
# and the explanations.
COMMANDS: tuple[tuple[str, str], ...] = (
    (N_("/as NAME"), N_("act as NAME from now on")),
    (N_("/join NAME [#channel]"), N_("NAME joins the workspace, or a channel")),
    ("/react N :emoji:", N_("react to message N")),
    ("/unreact N :emoji:", N_("take a reaction back")),
    ("/click N", N_("press action button N")),
    ("/advance 2d", N_("move the clock forward (w, d, h, m, s; e.g. 1d 2h)")),
    (N_("/rallybot SUB [ARGS]"), N_("run a bot command")),
    (N_("/dm TEXT"), N_("send a direct message to the bot")),
    (N_("#channel TEXT"), N_("post in a channel")),
    (N_("TEXT"), N_("post in the last channel used")),
    ("/help", N_("show this list")),
    ("/quit", N_("leave")),
)
"""The console commands and what they do, as ``/help`` prints them (in English here: the
catalogs give them in the console's language)."""

_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "min": 60, "s": 1}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(min|[wdhms])")
_DURATION_FULL = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*(?:min|[wdhms])\s*)+")


def parse_duration(text: str, locale: str | None = None) -> timedelta:
    """Parse ``2d``, ``3h``, ``30m``, ``1w``, ``45s`` or combinations such as ``1d 2h``.

    Raises:
        ValueError: when ``text`` is not such a duration (said in ``locale``'s language).
    """
    cleaned = text.strip().lower()
    if not cleaned or not _DURATION_FULL.fullmatch(cleaned):
        # Translators: the units stay as typed (d: days, h: hours, m: minutes, w: weeks).
        problem = i18n.gettext(
            locale, '"{text}" is not a duration (examples: 2d, 3h, 30m, 1w, 1d 2h)'
        )
        raise ValueError(problem.format(text=text))
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(cleaned))
    return timedelta(seconds=seconds)


def _format_when(when: datetime, locale: str | None = None) -> str:
    """The weekday, day, month and time in ``locale``'s way ("Mon, Sep 14, 09:00", "lun. 14
    sept., 09:00"), in the zone ``when`` carries (the bot's zone, not the machine's)."""
    return formats.moment(locale, when, "MMMEd")


def render_message(
    message: Message,
    *,
    where: str,
    when: datetime | None = None,
    number_from: int = 1,
    msg_number: int | None = None,
    note: str | None = None,
    locale: str | None = None,
) -> tuple[RenderableType, list[Button]]:
    """Render ``message`` for the terminal; pure (no I/O).

    Args:
        message: the neutral message.
        where: the place shown in the header, such as ``#general`` or ``✉ to alice``.
        when: shown in local time in the header when given.
        number_from: the number of the first action button; the others follow.
        msg_number: the message's number, shown as ``(msg N)`` for ``/react``.
        note: an extra word for the header, such as ``edited`` (in ``locale``'s language).
        locale: the language of the header's words and of ``when`` (English when None).

    Returns:
        The renderable, and the action buttons in the order they were numbered.
    """
    # Rich's Text is literal (no markup is read from it); member text loses only its marks.
    message = shown(message)
    sender = message.sender.name if message.sender else "Rallybot"
    header = Text.assemble((where, "bold cyan"), " · ", (sender, "bold"))
    if when is not None:
        header.append(f" · {_format_when(when, locale)}", style="dim")
    if note:
        header.append(f" · {note}", style="italic")
    if msg_number is not None:
        header.append(f"  {_msg(locale, msg_number)}", style="dim")
    lines: list[RenderableType] = [header]
    if message.title:
        lines.append(Text("  " + message.title, style="bold"))
    lines.extend(Text("  " + line) for line in message.text.splitlines() or [""])
    for image in message.images:
        if image.alt:
            # Translators: an image of a message on the console platform; {alt}: its
            # description.
            label = i18n.gettext(locale, "[image: {alt}]").format(alt=image.alt)
        else:
            # Translators: an image without a description, on the console platform.
            label = i18n.gettext(locale, "[image]")
        lines.append(Text.assemble("  ", (label, "magenta"), " ", (image.url, "underline")))
    for button in message.buttons:
        if button.url is not None:
            lines.append(
                Text.assemble("  ", (f"[{button.label}]", "bold"), " → ", (button.url, "underline"))
            )
    actions = [b for b in message.buttons if b.url is None]
    if actions:
        row = Text("  ")
        for number, button in enumerate(actions, start=number_from):
            if number > number_from:
                row.append("  ")
            style = {"primary": "bold green", "danger": "bold red"}.get(button.style or "", "bold")
            row.append(f"[{number}] {button.label}", style=style)
        lines.append(row)
    if message.context:
        lines.append(Text("  " + message.context, style="dim italic"))
    return Group(*lines), actions


class _EventBase(TypedDict):
    event_id: str
    platform: str
    user: UserRef
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class _Shown:
    """A numbered message on screen: what ``/react N`` and ``/click N`` point at."""

    channel: ChannelRef
    message_id: str
    author: UserRef


class ConsoleAdapter:
    """The ``console`` platform: prints what the bot sends, turns typed lines into events.

    Args:
        console: where to print (standard output by default).
        input_stream: where to read commands from when interactive (standard input).
        interactive: read commands after :meth:`start`; otherwise output only.
        current_user: the member typing, until ``/as``.
        on_advance: called by ``/advance`` with the duration (moves a simulated clock).
        on_quit: called by ``/quit``.
        show_time: the current time (a simulated clock's ``now``); the system clock if None.
        files_dir: where files the bot sends (charts) are saved; a new temporary folder,
            made on the first file, if None.
        locale: the language of the dates printed (or a function that says it, read at each
            message: the community's, which a reload may change); English if None.
        clock_speed: the speed of the simulated clock ``show_time`` reads (0: it moves only
            with ``/advance``); None on the real clock. At start, a line says which times
            are the simulated clock's (the messages') and which are real (the log lines').
    """

    platform = PLATFORM
    inline_events = True  # push() returns once the bot has handled the event

    def __init__(
        self,
        *,
        console: Console | None = None,
        input_stream: TextIO | None = None,
        interactive: bool = False,
        current_user: str = "you",
        on_advance: Callable[[timedelta], Awaitable[None]] | None = None,
        on_quit: Callable[[], Awaitable[None]] | None = None,
        show_time: Callable[[], datetime] | None = None,
        files_dir: Path | None = None,
        run_id: str | None = None,
        locale: str | Callable[[], str | None] | None = None,
        clock_speed: float | None = None,
    ) -> None:
        self.files_dir = files_dir
        self._clock_speed = clock_speed
        self._locale = locale
        # Event ids must differ from one run to the next: the bot records every event id it
        # handled, and on a database kept from an earlier run "console-1" would be dropped as
        # a duplicate. ``run_id=""`` keeps the short ids (tests that compare them).
        run = secrets.token_hex(4) if run_id is None else run_id
        self._event_prefix = f"console-{run}-" if run else "console-"
        self.capabilities = Capabilities(
            buttons=True,
            images=True,
            named_sender=True,
            pins=True,
            threads=True,
            ephemeral=True,
            idempotent_send=True,
            confirms_sends=True,
            max_sends_per_second=None,
        )
        self.console = console if console is not None else Console()
        self.interactive = interactive
        self.current_user = current_user
        self.current_channel = DEFAULT_CHANNEL
        self.delivered: list[Delivered] = []
        self._input = input_stream
        self._on_advance = on_advance
        self._on_quit = on_quit
        self._show_time = show_time
        self._sink: EventSink | None = None
        self._reader: asyncio.Task[None] | None = None
        self._input_closed = asyncio.Event()
        self._event_numbers = itertools.count(1)
        self._msg_numbers = itertools.count(1)
        self._next_button = 1
        self._shown: dict[int, _Shown] = {}
        self._numbers: dict[str, int] = {}  # message id -> number
        self._contents: dict[str, Message] = {}  # message id -> current content (bot's)
        self._buttons: dict[int, tuple[Button, int]] = {}  # button number -> (button, msg)
        self._channel_members: dict[str, list[str]] = {}

    def locale(self) -> str | None:
        """The language dates are written in: the community's, read at each message (a
        reload of the community file may change it)."""
        return self._locale() if callable(self._locale) else self._locale

    def clock_words(self) -> str:
        """What time it is on the simulated clock, at what speed, and which times printed
        are on it (the messages') and which are real (the log lines')."""
        locale = self.locale()
        when = _format_when(self._now(), locale)
        if self._clock_speed:
            # Translators: printed when a console run starts on a simulated clock; {speed}
            # is how many simulated seconds go by each real second ("x3600").
            line = i18n.gettext(
                locale,
                "Simulated clock: it is {when} (x{speed}). The messages show its time; "
                "the log lines, real time.",
            )
        else:
            line = i18n.gettext(
                locale,
                "Simulated clock: it is {when}, stopped (/advance moves it). The messages "
                "show its time; the log lines, real time.",
            )
        speed = formats.number(locale, self._clock_speed or 0, 2)
        return line.format(when=when, speed=speed)

    # -- the Adapter protocol -----------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        """Keep ``sink``; when interactive, start reading commands in the background."""
        self._sink = sink
        self._input_closed.clear()
        if self._clock_speed is not None:
            self.console.print(Text(self.clock_words(), style="dim"))
        if self.interactive and self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(
                self._read_loop(), name="console-input"
            )
        elif not self.interactive:
            self._input_closed.set()

    async def stop(self) -> None:
        """Stop reading commands (a pending read is abandoned) and drop the sink."""
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            try:
                await reader
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we are being cancelled ourselves, not just the reader
        self._sink = None
        self._input_closed.set()

    async def post(
        self, channel_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """Print a channel post."""
        channel = _channel_name(channel_id)
        ref = ChannelRef(PLATFORM, channel, name=channel)
        return self._send("post", channel, ref, message, where=f"#{channel}", key=idempotency_key)

    async def send_direct(
        self, user_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        """Print a direct message to ``user_id`` (a name); its channel id is ``dm-<name>``."""
        ref = _direct_channel(user_id)
        where = self._to(user_id)
        return self._send("dm", user_id, ref, message, where=where, key=idempotency_key)

    async def reply(
        self,
        channel_id: str,
        thread_id: str,
        message: Message,
        *,
        idempotency_key: str | None = None,
    ) -> SentMessage:
        """Print a reply in the thread of message ``thread_id``."""
        if channel_id.startswith("dm-"):
            ref = ChannelRef(PLATFORM, channel_id, is_direct=True)
            where = self._to(channel_id.removeprefix("dm-"))
        else:
            channel = _channel_name(channel_id)
            ref = ChannelRef(PLATFORM, channel, name=channel)
            where = f"#{channel}"
        parent = self._numbers.get(thread_id)
        if parent is not None:
            # Translators: the header of a reply in a thread on the console platform; {number}:
            # the number of the message it answers (as "(msg {number})" shows it).
            where += " " + i18n.gettext(self.locale(), "↳ reply to msg {number}").format(
                number=parent
            )
        else:
            # Translators: the header of a reply in a thread on the console platform.
            where += " " + i18n.gettext(self.locale(), "↳ reply")
        return self._send(
            "reply", ref.id, ref, message, where=where, key=idempotency_key, thread_id=thread_id
        )

    async def update(self, sent: SentMessage, message: Message) -> None:
        """Print the new version of a message the bot sent; its buttons get new numbers."""
        number = self._number_of(sent)
        shown = self._shown[number]
        for button_number in [k for k, (_, msg) in self._buttons.items() if msg == number]:
            del self._buttons[button_number]
        self._contents[sent.message_id] = message
        where = self._where(shown.channel)
        # Translators: the note in the header of a message the bot changed (console platform).
        self._print(message, where=where, number=number, note=i18n.gettext(self.locale(), "edited"))

    async def pin(self, sent: SentMessage) -> None:
        """Show that a message the bot sent is pinned."""
        number = self._number_of(sent)
        # Translators: the console platform's note that a post is pinned; "msg {number}"
        # names it as its header does ("(msg {number})").
        pinned = i18n.gettext(self.locale(), "📌 msg {number} pinned in {channel}")
        self.console.print(
            Text(pinned.format(number=number, channel=self._where(self._shown[number].channel)))
        )

    def _to(self, name: str) -> str:
        """The header of a direct message to ``name``, in the console's language."""
        # Translators: the header of a direct message on the console platform ({name}: the
        # member's console name, "✉ to alice").
        return i18n.gettext(self.locale(), "✉ to {name}").format(name=name)

    def _where(self, channel: ChannelRef, *, inbound: bool = False) -> str:
        """Where a message is, as a header says it: ``#general``, ``✉ to alice``, or (what
        a member typed in a direct message) ``a direct message to Rallybot``."""
        if channel.is_direct:
            if inbound:
                # Translators: where a member typed a line on the console platform ("alice
                # in a direct message to Rallybot").
                return i18n.gettext(self.locale(), "a direct message to Rallybot")
            return self._to(channel.id.removeprefix("dm-"))
        return f"#{channel.name or channel.id}"

    async def add_reaction(self, channel_id: str, message_id: str, emoji: str) -> None:
        """Show the bot's reaction on a message."""
        number = self._numbers.get(message_id)
        # Translators: the bot reacted to a message on the console platform; {emoji}: ":tada:",
        # {number}: the message's number ("(msg {number})").
        reacted = i18n.gettext(self.locale(), "Rallybot reacted {emoji} to msg {number}")
        self.console.print(
            Text(reacted.format(emoji=f":{emoji.strip(':')}:", number=number or message_id))
        )

    async def fetch_profile(self, user_id: str) -> MemberProfile | None:
        """A profile made from the name: ``alice`` is displayed ``alice``, first name Alice."""
        if user_id == BOT_USER.id:
            return MemberProfile(
                user_id, display_name="Rallybot", first_name="Rallybot", is_bot=True
            )
        return MemberProfile(user_id, display_name=user_id, first_name=user_id.capitalize())

    async def channel_members(self, channel_id: str) -> list[str]:
        """The members who joined the channel (``/join NAME #channel``) in this session."""
        return list(self._channel_members.get(_channel_name(channel_id), ()))

    async def find_sent(
        self, channel_or_user_id: str, idempotency_key: str, *, thread_id: str | None = None
    ) -> SentMessage | None:
        """The message printed earlier with that key, if any (the console remembers)."""
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
        """Save the file in :attr:`files_dir` and print where it is, with its comment
        (``[file] funnel.png (12 kB) saved to <folder>/funnel.png``)."""
        if self.files_dir is None:
            self.files_dir = Path(tempfile.mkdtemp(prefix="rallybot-files-"))
        name = Path(filename).name or "file"
        path = self.files_dir / name
        try:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        except OSError as exc:
            raise AdapterError(f"cannot save {name} in {self.files_dir}: {exc}") from exc
        if in_channel:
            channel = _channel_name(target)
            ref, where = ChannelRef(PLATFORM, channel, name=channel), f"#{channel}"
        else:
            ref, where = _direct_channel(target), self._to(target)
        if message is not None:
            self._send(
                "dm" if not in_channel else "post", target, ref, message, where=where, key=None
            )
        size = formats.number(self.locale(), max(1, round(len(content) / 1000)))
        label = f" — {title}" if title and title != name else ""
        # Translators: a file the bot sent, saved on disk by the console platform; {size}: a
        # number of kilobytes, {label}: " — " and its title (or nothing), {path}: where it is,
        # {where}: to whom ("#general", "✉ to alice").
        saved = i18n.gettext(
            self.locale(), "[file] {name} ({size} kB){label} saved to {path} ({where})"
        )
        shown_file = saved.format(name=name, size=size, label=label, path=path, where=where)
        self.console.print(Text(shown_file))
        return SentMessage(ref.id, f"console-file-{name}")

    # -- input --------------------------------------------------------------------------

    async def wait_closed(self) -> None:
        """Wait until reading stops: end of input, ``/quit`` or :meth:`stop`."""
        await self._input_closed.wait()

    async def handle_line(self, line: str) -> bool:
        """Act on one typed line; False when reading should stop (``/quit``)."""
        text = line.strip()
        if not text:
            return True
        if text.startswith("/"):
            return await self._command(text)
        if text.startswith("#"):
            channel, _, rest = text[1:].partition(" ")
            if not channel:
                self._error(
                    i18n.gettext(self.locale(), "write a channel name after #, like #general hello")
                )
                return True
            self.current_channel = _channel_name(channel)
            if rest.strip():
                await self._say(
                    ChannelRef(PLATFORM, self.current_channel, name=self.current_channel),
                    rest.strip(),
                )
            else:
                # Translators: where the lines typed next are posted (console platform).
                posting = i18n.gettext(self.locale(), "now posting in #{channel}")
                self.console.print(Text(posting.format(channel=self.current_channel), style="dim"))
            return True
        ref = ChannelRef(PLATFORM, self.current_channel, name=self.current_channel)
        await self._say(ref, text)
        return True

    def print_help(self) -> None:
        """Print the console commands."""
        # Translators: the title of the list /help prints on the console platform.
        title = i18n.gettext(self.locale(), "Console commands")
        table = Table(title=title, show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        for usage, meaning in COMMANDS:
            # Text: no markup in [#channel]
            table.add_row(
                Text(i18n.gettext(self.locale(), usage)), Text(i18n.gettext(self.locale(), meaning))
            )
        self.console.print(table)

    # -- internals: commands ------------------------------------------------------------

    async def _command(self, text: str) -> bool:
        words = text[1:].split()
        if not words:
            self._error(
                i18n.gettext(self.locale(), "a command name goes after /; type /help for the list")
            )
            return True
        name, args = words[0].lower(), words[1:]
        if name == "help":
            self.print_help()
        elif name in ("quit", "exit"):
            if self._on_quit is not None:
                await self._on_quit()
            return False
        elif name == "as":
            if len(args) != 1:
                self._usage(N_("/as NAME"))
            else:
                self.current_user = args[0].lstrip("@")
                # Translators: who is typing from now on (console platform, /as NAME).
                now = i18n.gettext(self.locale(), "you are now {name}").format(
                    name=self.current_user
                )
                self.console.print(Text(now, style="dim"))
        elif name == "join":
            await self._join(args)
        elif name in ("react", "unreact"):
            await self._react(args, added=name == "react")
        elif name == "click":
            await self._click(args)
        elif name == "advance":
            await self._advance(" ".join(args))
        elif name == "rallybot":
            if not args:
                # Translators: translate the words in capitals only; /rallybot help is typed.
                self._usage(N_("/rallybot SUBCOMMAND [ARGS]  (try /rallybot help)"))
            else:
                channel = ChannelRef(PLATFORM, self.current_channel, name=self.current_channel)
                await self._emit(
                    CommandInvoked(
                        **self._base(), name=args[0], args=tuple(args[1:]), channel=channel
                    )
                )
        elif name == "dm":
            if not args:
                self._usage(N_("/dm TEXT"))
            else:
                await self._say(_direct_channel(self.current_user), " ".join(args))
        else:
            unknown = i18n.gettext(
                self.locale(), "unknown command /{name}; type /help for the list"
            )
            self._error(unknown.format(name=name))
        return True

    async def _join(self, args: list[str]) -> None:
        if not 1 <= len(args) <= 2 or (len(args) == 2 and not args[1].startswith("#")):
            self._usage(N_("/join NAME [#channel]"))
            return
        who = args[0].lstrip("@")
        user = UserRef(PLATFORM, who, name=who)
        channel: ChannelRef | None = None
        if len(args) == 2:
            name = _channel_name(args[1])
            channel = ChannelRef(PLATFORM, name, name=name)
            members = self._channel_members.setdefault(name, [])
            if who not in members:
                members.append(who)
            # Translators: a member joined a channel (console platform, /join NAME #channel).
            joined = i18n.gettext(self.locale(), "{name} joined #{channel}").format(
                name=who, channel=name
            )
            self.console.print(Text(joined, style="dim"))
        else:
            # Translators: a member joined the community (console platform, /join NAME).
            joined = i18n.gettext(self.locale(), "{name} joined the workspace").format(name=who)
            self.console.print(Text(joined, style="dim"))
        await self._emit(MemberJoined(**self._base(user), channel=channel))

    async def _react(self, args: list[str], *, added: bool) -> None:
        verb = "react" if added else "unreact"
        if len(args) != 2:
            self._usage(f"/{verb} N :emoji:")
            return
        shown = self._shown_message(args[0])
        emoji = args[1].strip(":")
        if shown is None or not emoji:
            if shown is not None:
                self._usage(f"/{verb} N :emoji:")
            return
        event_type = ReactionAdded if added else ReactionRemoved
        await self._emit(
            event_type(
                **self._base(),
                channel=shown.channel,
                message_id=shown.message_id,
                emoji=emoji,
                author=shown.author,
            )
        )

    async def _click(self, args: list[str]) -> None:
        if len(args) != 1 or not args[0].isdigit():
            # Translators: translate the explanation; "/click N" is typed as it is.
            self._usage(N_("/click N (N is a button number, like [1])"))
            return
        entry = self._buttons.get(int(args[0]))
        if entry is None:
            self._error(
                i18n.gettext(self.locale(), "there is no button [{number}] on screen").format(
                    number=args[0]
                )
            )
            return
        button, number = entry
        shown = self._shown[number]
        await self._emit(
            ButtonClicked(
                **self._base(),
                channel=shown.channel,
                message_id=shown.message_id,
                action_id=button.action_id or button.label,
                value=button.value,
            )
        )

    async def _advance(self, text: str) -> None:
        try:
            delta = parse_duration(text, self.locale())
        except ValueError as exc:
            # Translators: {problem}: why the duration cannot be read; "/advance 2d" is typed.
            usage = i18n.gettext(self.locale(), "{problem}; usage: /advance 2d")
            self._error(usage.format(problem=exc))
            return
        if self._on_advance is None:
            self._error(i18n.gettext(self.locale(), "the clock cannot be moved in this session"))
            return
        await self._on_advance(delta)
        # Translators: the simulated clock moved on; {duration} as typed (7d, 2h), {when} the
        # new date and time.
        advanced = i18n.gettext(self.locale(), "⏩ advanced {duration} → {when}")
        when = _format_when(self._now(), self.locale())
        self.console.print(Text(advanced.format(duration=text.strip(), when=when), style="dim"))

    async def _say(self, channel: ChannelRef, text: str) -> None:
        number = next(self._msg_numbers)
        message_id = f"console-msg-{number}"
        user = UserRef(PLATFORM, self.current_user, name=self.current_user)
        self._shown[number] = _Shown(channel, message_id, user)
        self._numbers[message_id] = number
        # Translators: a line a member typed on the console platform: {number}: its number
        # ("(msg {number})", what /react takes), {name}: who, {where}: "#general".
        typed = i18n.gettext(self.locale(), "{number} {name} in {where}").format(
            number=_msg(self.locale(), number),
            name=self.current_user,
            where=self._where(channel, inbound=True),
        )
        self.console.print(Text(typed, style="dim"))
        await self._emit(
            MessagePosted(**self._base(), channel=channel, message_id=message_id, text=text)
        )

    # -- internals: output --------------------------------------------------------------

    def _send(
        self,
        kind: DeliveryKind,
        target: str,
        channel: ChannelRef,
        message: Message,
        *,
        where: str,
        key: str | None,
        thread_id: str | None = None,
    ) -> SentMessage:
        if key is not None:
            existing = self._lookup(target, key)
            if existing is not None:  # idempotent: a repeated send shows nothing new
                return existing
        number = next(self._msg_numbers)
        sent = SentMessage(channel.id, f"console-msg-{number}")
        self._shown[number] = _Shown(channel, sent.message_id, BOT_USER)
        self._numbers[sent.message_id] = number
        self._contents[sent.message_id] = message
        self.delivered.append(
            Delivered(kind, target, shown(message), key, sent, thread_id, raw=message)
        )
        self._print(message, where=where, number=number)
        return sent

    def _print(self, message: Message, *, where: str, number: int, note: str | None = None) -> None:
        first = self._next_button
        renderable, actions = render_message(
            message,
            where=where,
            when=self._now(),
            number_from=first,
            msg_number=number,
            note=note,
            locale=self.locale(),
        )
        for offset, button in enumerate(actions):
            self._buttons[first + offset] = (button, number)
        self._next_button = first + len(actions)
        self.console.print()
        self.console.print(renderable)

    def _lookup(self, target: str, key: str) -> SentMessage | None:
        return find_delivered(self.delivered, target, key)

    def _number_of(self, sent: SentMessage) -> int:
        number = self._numbers.get(sent.message_id)
        if number is None or sent.message_id not in self._contents:
            raise AdapterError(f"unknown message {sent.message_id}")
        return number

    def _shown_message(self, text: str) -> _Shown | None:
        number = text.removeprefix("#")
        shown = self._shown.get(int(number)) if number.isdigit() else None
        if shown is None:
            # Translators: /react N with a number no message on screen has; "(msg N)" as the
            # headers write a message's number.
            missing = i18n.gettext(
                self.locale(), "there is no message {number} on screen (messages show (msg N))"
            )
            self._error(missing.format(number=text))
        return shown

    def _error(self, text: str) -> None:
        self.console.print(Text(f"✗ {text}", style="bold red"))

    def _usage(self, usage: str) -> None:
        """Say how a command is typed (``usage`` in English, from the catalogs)."""
        # Translators: how a console command is typed; {usage}: "/as NAME".
        self._error(
            i18n.gettext(self.locale(), "usage: {usage}").format(
                usage=i18n.gettext(self.locale(), usage)
            )
        )

    # -- internals: events --------------------------------------------------------------

    def _now(self) -> datetime:
        return self._show_time() if self._show_time is not None else datetime.now(UTC)

    def _base(self, user: UserRef | None = None) -> _EventBase:
        return {
            "event_id": f"{self._event_prefix}{next(self._event_numbers)}",
            "platform": PLATFORM,
            "user": user or UserRef(PLATFORM, self.current_user, name=self.current_user),
            "occurred_at": self._now(),
        }

    async def _emit(self, event: Event) -> None:
        if self._sink is None:
            self._error(
                i18n.gettext(self.locale(), "the bot is not listening (adapter not started)")
            )
            return
        try:
            await self._sink(event)
        except Exception as exc:  # a failing handler must not end the session
            failed = i18n.gettext(self.locale(), "the bot failed on that: {problem}")
            self._error(failed.format(problem=f"{type(exc).__name__}: {exc}"))

    async def _read_loop(self) -> None:
        stream = self._input if self._input is not None else sys.stdin
        try:
            while True:
                try:
                    line = await _readline(stream)
                except (OSError, ValueError) as exc:  # closed or unreadable input
                    cannot = i18n.gettext(self.locale(), "cannot read input any more: {problem}")
                    self._error(cannot.format(problem=exc))
                    break
                if not line:  # end of input
                    break
                if not await self.handle_line(line):
                    break
        finally:
            self._input_closed.set()

    def __repr__(self) -> str:
        return f"<ConsoleAdapter user={self.current_user!r} interactive={self.interactive}>"


async def _readline(stream: TextIO) -> str:
    """Read a line in a daemon thread, so the loop never blocks on input.

    Not ``asyncio.to_thread``: its executor threads are joined at exit, so a read still
    waiting on the keyboard after :meth:`ConsoleAdapter.stop` would hold the process until
    the user pressed Enter. A daemon thread is simply abandoned.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def deliver(result: str | BaseException) -> None:
        if future.done():  # the reader was cancelled meanwhile
            return
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)

    def work() -> None:
        result: str | BaseException
        try:
            result = stream.readline()
        except BaseException as exc:
            result = exc
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(deliver, result)

    threading.Thread(target=work, name="console-readline", daemon=True).start()
    return await future


def _channel_name(channel_id: str) -> str:
    return channel_id.strip().lstrip("#")


def _direct_channel(user: str) -> ChannelRef:
    return ChannelRef(PLATFORM, f"dm-{user}", is_direct=True)


def _msg(locale: str | None, number: int) -> str:
    """How the console names a message on screen, its number (what ``/react`` takes)."""
    # Translators: the number of a message on the console platform, after its header (and
    # what /react and /click name it by).
    return i18n.gettext(locale, "(msg {number})").format(number=number)
