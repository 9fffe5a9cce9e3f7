"""The console adapter: rendering, and typed commands turned into neutral events."""

from __future__ import annotations

import asyncio
import io
import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console

from rallybot.bot.adapters.base import (
    Adapter,
    AdapterError,
    MemberProfile,
    SentMessage,
    create_adapter,
)
from rallybot.bot.adapters.console import ConsoleAdapter, parse_duration, render_message
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
from rallybot.bot.messages import Button, Image, Message, Sender

WHEN = datetime(2026, 9, 15, 7, 30, tzinfo=UTC)
LOCAL = WHEN.astimezone().strftime("%H:%M")

LAUNCH = Message(
    text="We are live!",
    title="Launch day",
    sender=Sender("The CEO", icon_url="https://example.com/ceo.png"),
    buttons=(
        Button("Open the site", url="https://example.com"),
        Button("I'm in", action_id="rsvp", value="yes", style="primary"),
        Button("Not now", action_id="rsvp", value="no"),
    ),
    images=(Image("https://example.com/poster.png", alt="the poster"),),
    context="Posted for the launch team",
)


def new_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=100), out


def show(renderable: Any) -> str:
    console, out = new_console()
    console.print(renderable)
    return out.getvalue()


class Session:
    """A console adapter reading a script, with what it printed and the events it made."""

    def __init__(self, script: str = "", **kwargs: Any) -> None:
        self.console, self.out = new_console()
        self.events: list[Event] = []
        self.advanced: list[timedelta] = []
        self.quits = 0
        kwargs.setdefault("on_advance", self._advance)
        kwargs.setdefault("show_time", lambda: WHEN)
        kwargs.setdefault("run_id", "")  # short event ids, compared below
        self.adapter = ConsoleAdapter(
            console=self.console,
            input_stream=io.StringIO(script),
            interactive=True,
            on_quit=self._quit,
            **kwargs,
        )

    async def _advance(self, delta: timedelta) -> None:
        self.advanced.append(delta)

    async def _quit(self) -> None:
        self.quits += 1

    async def sink(self, event: Event) -> None:
        self.events.append(event)

    async def run(self) -> Session:
        await self.adapter.start(self.sink)
        await asyncio.wait_for(self.adapter.wait_closed(), timeout=10)
        await self.adapter.stop()
        return self

    @property
    def output(self) -> str:
        return self.out.getvalue()


def alice(name: str = "alice") -> UserRef:
    return UserRef("console", name, name=name)


def general(name: str = "general") -> ChannelRef:
    return ChannelRef("console", name, name=name)


# -- rendering ---------------------------------------------------------------------------


def test_render_a_post_with_a_named_sender_buttons_and_an_image() -> None:
    renderable, actions = render_message(
        LAUNCH, where="#general", when=WHEN, number_from=4, msg_number=2
    )
    text = show(renderable)
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == f"#general · The CEO · Tue, Sep 15, {LOCAL}  (msg 2)"
    assert "  Launch day" in lines
    assert "  We are live!" in lines
    assert "  [image: the poster] https://example.com/poster.png" in lines
    assert "  [Open the site] → https://example.com" in lines
    assert "  [4] I'm in  [5] Not now" in lines
    assert "  Posted for the launch team" in lines
    assert actions == [LAUNCH.buttons[1], LAUNCH.buttons[2]]
    assert "\x1b" not in text  # no colour codes without a terminal


def test_render_defaults_to_rallybot_without_time() -> None:
    renderable, actions = render_message(Message("hi alice"), where="✉ to alice")
    text = show(renderable)
    assert text.splitlines() == ["✉ to alice · Rallybot", "  hi alice"]
    assert actions == []


def test_render_does_not_interpret_markup_in_content() -> None:
    message = Message("[bold]not bold[/bold] and [link]", images=(Image("https://x/y.png"),))
    text = show(render_message(message, where="#general")[0])
    assert "[bold]not bold[/bold] and [link]" in text
    assert "[image] https://x/y.png" in text


# -- sending -----------------------------------------------------------------------------


def test_registry_creates_an_adapter() -> None:
    console, _ = new_console()
    adapter = create_adapter("console", console=console)
    assert isinstance(adapter, ConsoleAdapter)
    assert isinstance(adapter, Adapter)
    assert adapter.platform == "console"
    caps = adapter.capabilities
    assert caps.buttons and caps.images and caps.named_sender and caps.pins and caps.threads
    assert caps.ephemeral and caps.idempotent_send and caps.confirms_sends
    assert caps.max_sends_per_second is None


async def test_post_and_direct_message_are_printed_and_numbered() -> None:
    session = Session()
    adapter = session.adapter
    post = await adapter.post("#general", LAUNCH, idempotency_key="launch")
    dm = await adapter.send_direct("alice", Message("Welcome, Alice"), idempotency_key="w-alice")
    assert post == SentMessage("general", "console-msg-1")
    assert dm == SentMessage("dm-alice", "console-msg-2")
    out = session.output
    assert f"#general · The CEO · Tue, Sep 15, {LOCAL}  (msg 1)" in out
    assert "[1] I'm in  [2] Not now" in out
    assert f"✉ to alice · Rallybot · Tue, Sep 15, {LOCAL}  (msg 2)" in out
    assert "Welcome, Alice" in out


async def test_dates_are_written_in_the_communitys_language() -> None:
    # a French community: the terminal says "mar. 15 sept.", not "Tue 15 Sep"
    session = Session(locale="fr")
    await session.adapter.post("#general", LAUNCH, idempotency_key="launch")
    assert f"#general · The CEO · mar. 15 sept., {WHEN:%H:%M}  (message 1)" in session.output
    language = iter(["de", "es"])  # read at each message: a reload may change it
    session = Session(locale=lambda: next(language))
    await session.adapter.post("#general", Message("Hallo"), idempotency_key="a")
    await session.adapter.post("#general", Message("Hola"), idempotency_key="b")
    assert f"Di., 15. Sept., {WHEN:%H:%M}" in session.output
    assert "mar, 15 sept, 7:30" in session.output  # Spanish writes no leading zero


async def test_a_direct_message_and_a_pin_are_headed_in_the_communitys_language() -> None:
    # the French demo said "✉ to amelie" and "pinned in" among French words
    session = Session(locale="fr")
    sent = await session.adapter.post("#general", LAUNCH, idempotency_key="launch")
    await session.adapter.send_direct("amelie", Message("Bonjour"), idempotency_key="b")
    await session.adapter.pin(sent)
    assert f"✉ à amelie · Rallybot · mar. 15 sept., {WHEN:%H:%M}  (message 2)" in session.output
    assert "📌 message 1 épinglé dans #general" in session.output
    assert "[image : the poster]" in session.output
    assert "✉ to" not in session.output and "pinned" not in session.output
    assert "msg" not in session.output


async def test_a_french_session_reads_french_words_only() -> None:
    # What a French community manager typed and read in `make demo`: every word of the console
    # itself in French (the commands and emoji stay as typed).
    script = (
        "bonjour\n/as\n/as alice\n/dm\n/join\n/join bob #news\n/join carla\n/react 1\n"
        "/react 9 :tada:\n/click x\n/click 9\n/rallybot\n/dance\n/\n#\n#random\n"
        "/advance soon\n/help\n"
    )
    session = Session(script, locale="fr")
    await session.run()
    sent = await session.adapter.post("#general", Message("Salut"), idempotency_key="s")
    await session.adapter.reply("general", sent.message_id, Message("Oui"))
    await session.adapter.update(sent, Message("Salut !"))
    await session.adapter.add_reaction("general", sent.message_id, "tada")
    out = session.output
    for french in (
        "(message 1) you dans #general",
        "✗ usage : /as NOM",
        "vous êtes maintenant alice",
        "✗ usage : /dm TEXTE",
        "✗ usage : /join NOM [#canal]",
        "bob a rejoint #news",
        "carla a rejoint l'espace de travail",
        "✗ usage : /react N :emoji:",
        "✗ il n'y a pas de message 9 à l'écran",
        "✗ usage : /click N (N est un numéro de bouton, comme [1])",
        "✗ il n'y a pas de bouton [9] à l'écran",
        "✗ usage : /rallybot SOUS-COMMANDE [ARGS]  (essayez /rallybot help)",
        "✗ commande inconnue /dance ; tapez /help pour la liste",
        "✗ un nom de commande suit le / ; tapez /help pour la liste",
        "✗ écrivez un nom de canal après #",
        "vous publiez désormais dans #random",
        "« soon » n'est pas une durée",
        "Commandes de la console",
        "agir en tant que NOM désormais",
        "#general ↳ réponse au message 2",
        "modifié  (message 2)",
        "Rallybot a réagi :tada: au message 2",
    ):
        assert french in out, (french, out)
    for english in ("msg", "usage:", "you are now", "joined", "unknown command", "edited"):
        assert english not in out, (english, out)


async def test_find_sent_and_idempotent_repeats() -> None:
    session = Session()
    adapter = session.adapter
    dm = await adapter.send_direct("alice", Message("Welcome"), idempotency_key="w-alice")
    printed = session.output
    assert await adapter.send_direct("alice", Message("Welcome"), idempotency_key="w-alice") == dm
    assert session.output == printed  # nothing shown twice
    assert await adapter.find_sent("alice", "w-alice") == dm
    assert await adapter.find_sent("dm-alice", "w-alice") == dm
    assert await adapter.find_sent("bob", "w-alice") is None
    assert await adapter.find_sent("alice", "other") is None
    assert [d.kind for d in adapter.delivered] == ["dm"]


async def test_reply_update_pin_and_reaction_are_shown() -> None:
    session = Session()
    adapter = session.adapter
    sent = await adapter.post("general", LAUNCH)
    answer = await adapter.reply("general", sent.message_id, Message("See you there"))
    assert answer == SentMessage("general", "console-msg-2")
    await adapter.update(sent, Message("Launch postponed", buttons=(Button("OK", action_id="ok"),)))
    await adapter.pin(sent)
    await adapter.add_reaction("general", answer.message_id, "tada")
    out = session.output
    assert "#general ↳ reply to msg 1 · Rallybot" in out
    assert "· edited  (msg 1)" in out
    assert "[3] OK" in out  # new numbers for the new buttons
    assert "📌 msg 1 pinned in #general" in out
    assert "Rallybot reacted :tada: to msg 2" in out
    with pytest.raises(AdapterError):
        await adapter.update(SentMessage("general", "console-msg-99"), Message("x"))
    with pytest.raises(AdapterError):
        await adapter.pin(SentMessage("general", "nope"))


async def test_profiles_are_made_from_the_name() -> None:
    adapter = Session().adapter
    assert await adapter.fetch_profile("alice") == MemberProfile(
        "alice", display_name="alice", first_name="Alice"
    )


# -- typed commands ----------------------------------------------------------------------


async def test_plain_text_and_channel_posts() -> None:
    session = await Session("hello\n#random hi random\nand again\n#general\nback\n").run()
    posted = [e for e in session.events if isinstance(e, MessagePosted)]
    assert [(e.channel, e.text) for e in posted] == [
        (general(), "hello"),
        (general("random"), "hi random"),
        (general("random"), "and again"),
        (general(), "back"),
    ]
    first = posted[0]
    assert first.user == alice("you")
    assert first.platform == "console"
    assert first.occurred_at == WHEN
    assert first.message_id == "console-msg-1"
    assert [e.event_id for e in session.events] == [f"console-{n}" for n in range(1, 5)]
    assert "(msg 1) you in #general" in session.output
    assert "(msg 2) you in #random" in session.output


async def test_as_changes_who_is_typing() -> None:
    session = await Session("/as alice\nhi\n/as @bob\n/dm help me\n").run()
    assert [(e.user, e.text) for e in session.events if isinstance(e, MessagePosted)] == [
        (alice(), "hi"),
        (alice("bob"), "help me"),
    ]
    dm = session.events[-1]
    assert isinstance(dm, MessagePosted)
    assert dm.channel == ChannelRef("console", "dm-bob", is_direct=True)
    assert "you are now alice" in session.output


async def test_join_the_workspace_or_a_channel() -> None:
    session = await Session("/join bob\n/join carol #general\n/join dan #general\n").run()
    assert session.events == [
        MemberJoined(event_id="console-1", platform="console", user=alice("bob"), occurred_at=WHEN),
        MemberJoined(
            event_id="console-2",
            platform="console",
            user=alice("carol"),
            occurred_at=WHEN,
            channel=general(),
        ),
        MemberJoined(
            event_id="console-3",
            platform="console",
            user=alice("dan"),
            occurred_at=WHEN,
            channel=general(),
        ),
    ]
    assert "bob joined the workspace" in session.output
    assert "carol joined #general" in session.output
    assert await session.adapter.channel_members("general") == ["carol", "dan"]
    assert await session.adapter.channel_members("#general") == ["carol", "dan"]
    assert await session.adapter.channel_members("random") == []


async def test_react_and_unreact_on_numbered_messages() -> None:
    session = Session("/as alice\nnice work\n/react 1 :tada:\n/unreact 1 :tada:\n/react 2 +1\n")
    sent = await session.adapter.post("general", Message("first"))  # shown before the script
    assert sent.message_id == "console-msg-1"
    await session.run()
    added, removed, on_own = session.events[1:]
    assert isinstance(added, ReactionAdded)
    assert added.channel == general()
    assert added.message_id == "console-msg-1"
    assert added.emoji == "tada"
    assert added.user == alice()
    assert added.author is not None and added.author.is_bot
    assert isinstance(removed, ReactionRemoved)
    assert (removed.message_id, removed.emoji) == ("console-msg-1", "tada")
    assert isinstance(on_own, ReactionAdded)  # msg 2 is alice's own "nice work"
    assert (on_own.message_id, on_own.emoji, on_own.author) == ("console-msg-2", "+1", alice())


async def test_click_a_numbered_button() -> None:
    session = Session("/click 2\n/click 3\n/click 9\n/click x\n")
    await session.adapter.post("general", LAUNCH)
    dm = await session.adapter.send_direct("you", Message("Ready?", buttons=(Button("Go"),)))
    await session.run()
    not_now, go = session.events
    assert not_now == ButtonClicked(
        event_id="console-1",
        platform="console",
        user=alice("you"),
        occurred_at=WHEN,
        channel=general(),
        message_id="console-msg-1",
        action_id="rsvp",
        value="no",
    )
    assert isinstance(go, ButtonClicked)
    assert go.channel == ChannelRef("console", "dm-you", is_direct=True)
    assert go.message_id == dm.message_id
    assert go.action_id == "Go"  # no action id: the label
    assert "[3] Go" in session.output
    assert "✗ there is no button [9] on screen" in session.output
    assert "✗ usage: /click N" in session.output


async def test_rallybot_commands() -> None:
    session = await Session("#random\n/rallybot points top 5\n/rallybot help\n/rallybot\n").run()
    top, help_ = session.events
    assert isinstance(top, CommandInvoked)
    assert (top.name, top.args, top.channel) == ("points", ("top", "5"), general("random"))
    assert isinstance(help_, CommandInvoked)
    assert (help_.name, help_.args) == ("help", ())
    assert "usage: /rallybot SUBCOMMAND" in session.output


async def test_advance_calls_on_advance() -> None:
    session = await Session("/advance 2d\n/advance 1d 2h\n/advance 30m\n/advance 1w\n").run()
    assert session.advanced == [
        timedelta(days=2),
        timedelta(days=1, hours=2),
        timedelta(minutes=30),
        timedelta(weeks=1),
    ]
    assert session.events == []
    assert "⏩ advanced 1d 2h" in session.output


async def test_advance_errors() -> None:
    session = await Session("/advance soon\n/advance\n").run()
    assert session.advanced == []
    assert '"soon" is not a duration' in session.output
    no_clock = await Session("/advance 1d\n", on_advance=None).run()
    assert "the clock cannot be moved" in no_clock.output


async def test_advance_answers_in_the_communitys_language() -> None:
    session = await Session("/advance 7d\n", locale=lambda: "fr").run()
    assert session.advanced == [timedelta(days=7)]
    assert "⏩ horloge avancée de 7d → mar. 15 sept." in session.output
    assert "advanced" not in session.output
    no_clock = await Session("/advance 1d\n", on_advance=None, locale=lambda: "fr").run()
    assert "l'horloge ne peut pas être avancée dans cette session" in no_clock.output


async def test_unknown_command_is_reported_and_reading_goes_on() -> None:
    session = await Session("/dance now\nstill here\n/react 42 :x:\n/\n# hi\n").run()
    assert "✗ a command name goes after /" in session.output
    assert "✗ write a channel name after #" in session.output
    assert "✗ unknown command /dance; type /help for the list" in session.output
    assert "there is no message 42 on screen" in session.output
    assert [e.text for e in session.events if isinstance(e, MessagePosted)] == ["still here"]


async def test_help_lists_the_commands() -> None:
    session = await Session("/help\n").run()
    for usage in ("/as NAME", "/join NAME [#channel]", "/react N :emoji:", "/click N", "/quit"):
        assert usage in session.output


async def test_quit_calls_on_quit_and_stops_reading() -> None:
    session = await Session("hello\n/quit\nnot read\n").run()
    assert session.quits == 1
    assert [e.text for e in session.events if isinstance(e, MessagePosted)] == ["hello"]


async def test_eof_stops_quietly() -> None:
    session = await Session("hello\n").run()
    assert session.quits == 0
    assert "✗" not in session.output
    assert len(session.events) == 1


async def test_a_failing_bot_does_not_end_the_session() -> None:
    session = Session("boom\nstill here\n")

    async def sink(event: Event) -> None:
        session.events.append(event)
        if isinstance(event, MessagePosted) and event.text == "boom":
            raise RuntimeError("handler bug")

    session.sink = sink  # type: ignore[method-assign]
    await session.run()
    assert len(session.events) == 2
    assert "the bot failed on that: RuntimeError: handler bug" in session.output


async def test_time_comes_from_show_time() -> None:
    now = [WHEN]
    session = Session("one\n/advance 1d\ntwo\n", show_time=lambda: now[0])

    async def advance(delta: timedelta) -> None:
        now[0] += delta

    session.adapter._on_advance = advance
    await session.run()
    assert [e.occurred_at for e in session.events] == [WHEN, WHEN + timedelta(days=1)]


async def test_stop_cancels_a_blocked_read_cleanly() -> None:
    read_fd, write_fd = os.pipe()
    stream = os.fdopen(read_fd, "r")
    try:
        adapter = ConsoleAdapter(console=new_console()[0], input_stream=stream, interactive=True)
        await adapter.start(_ignore)
        await asyncio.sleep(0)
        await adapter.stop()
        await adapter.wait_closed()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert pending == []
    finally:
        os.write(write_fd, b"bye\n")  # let the abandoned reader thread finish
        os.close(write_fd)
        for thread in threading.enumerate():
            if thread.name == "console-readline":
                thread.join(timeout=10)
        stream.close()


async def test_not_interactive_reads_nothing() -> None:
    adapter = ConsoleAdapter(console=new_console()[0], input_stream=io.StringIO("hello\n"))
    events: list[Event] = []

    async def sink(event: Event) -> None:
        events.append(event)

    await adapter.start(sink)
    await adapter.wait_closed()
    await adapter.stop()
    assert events == []


async def test_handle_line_can_be_driven_directly() -> None:
    console, _out = new_console()
    adapter = ConsoleAdapter(console=console, show_time=lambda: WHEN)
    events: list[Event] = []

    async def sink(event: Event) -> None:
        events.append(event)

    await adapter.start(sink)
    assert await adapter.handle_line("  \n") is True
    assert await adapter.handle_line("hello") is True
    assert await adapter.handle_line("/quit") is False
    assert len(events) == 1


async def _ignore(event: Event) -> None:
    return None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2d", timedelta(days=2)),
        ("3h", timedelta(hours=3)),
        ("30m", timedelta(minutes=30)),
        ("90min", timedelta(minutes=90)),
        ("1w", timedelta(weeks=1)),
        ("1d 2h", timedelta(days=1, hours=2)),
        ("1d2h30m", timedelta(days=1, hours=2, minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("1.5h", timedelta(minutes=90)),
        (" 2D ", timedelta(days=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "d", "2 days", "soon", "-1d", "1d x"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


async def test_event_ids_differ_from_one_run_to_the_next() -> None:
    # A database kept from an earlier run knows "console-1": a new run must not reuse it, or
    # everything typed would be dropped as a duplicate.
    first = await Session("/join bob\n", run_id=None).run()
    second = await Session("/join bob\n", run_id=None).run()
    ids = [event.event_id for event in first.events + second.events]
    assert len(ids) == 2
    assert len(set(ids)) == 2
    assert all(i.startswith("console-") for i in ids)


@pytest.mark.parametrize(
    ("speed", "locale", "expected"),
    [
        (3600, None, "Simulated clock: it is Tue, Sep 15, 07:30 (x3,600). The messages show"),
        (0.0, None, "Simulated clock: it is Tue, Sep 15, 07:30, stopped (/advance moves it)"),
        (3600, "fr", "Horloge simulée : il est mar. 15 sept., 07:30 (x3"),
    ],
)
async def test_a_run_on_a_simulated_clock_says_which_times_are_real(
    speed: float, locale: str | None, expected: str
) -> None:
    """The messages show the simulated clock's time, the log lines beside them real time: the
    run says so as it starts, in the community's language."""
    console, out = new_console()
    adapter = ConsoleAdapter(
        console=console, show_time=lambda: WHEN, clock_speed=speed, locale=locale
    )
    await adapter.start(_ignore)
    await adapter.stop()
    assert expected in " ".join(out.getvalue().split())


async def test_a_run_on_the_real_clock_says_nothing_of_clocks() -> None:
    console, out = new_console()
    adapter = ConsoleAdapter(console=console, show_time=lambda: WHEN)
    await adapter.start(_ignore)
    await adapter.stop()
    assert "clock" not in out.getvalue()
