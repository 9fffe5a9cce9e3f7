"""The pseudo-locale test: the features' scenarios played for members, campaigns and a bot that
all read the pseudo-locale, whose catalog wraps every message in ``⟦…⟧``. Every text, button
and form the bot sends must then be wrapped, but for member text and the community's own files
(see :mod:`tests.pseudo_locale`): a string that bypasses the catalogs fails the build.

To cover another feature, write ``async def its_name(db, tmp_path) -> Played`` that plays it on
the memory adapter with everyone in :data:`PSEUDO` (see :func:`_bot`), and add it to
:data:`SCENARIOS`; pass the folders of the files it loads to ``Played`` so that their texts
are known as the community's.
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    FormSubmitted,
    MemberJoined,
    MessagePosted,
    ReactionAdded,
    UserRef,
)
from rallybot.campaigns.journey import ACCEPT_ACTION, DONE_ACTION
from rallybot.handlers.helpdesk.feature import ACTION_FAQ, ACTION_SOLVED
from rallybot.storage.database import Database
from rallybot.storage.repositories import upsert_member
from tests.pseudo_locale import (
    CLOSE,
    OPEN,
    PSEUDO,
    bare_words,
    file_texts,
    pseudo_locale,
    unwrapped,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "campaigns" / "examples"
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Paris
_ids = itertools.count(1)


@dataclass
class Played:
    """What a scenario leaves: the platform it played on and the folders of the files it
    loaded (their texts are the community's words, not the bot's)."""

    adapter: MemoryAdapter
    folders: list[Path] = field(default_factory=list)
    syntax: set[str] = field(default_factory=set)
    """Texts that are not words to translate: commands' synopses, the calendar's names."""


def _bot(db: Database, folder: Path, clock: SimulatedClock, **settings: object) -> Rallybot:
    """A bot whose default language is the pseudo-locale, on the memory platform."""
    options: dict[str, object] = {
        "database_url": "sqlite://",
        "admins": ["memory:cm"],
        "quiet_hours": "off",
        "timezone": "Europe/Paris",
        "locale": PSEUDO,
        **settings,
    }
    return Rallybot(Settings(**options), db, MemoryAdapter(), clock, campaign_paths=[folder])


def _adapter(bot: Rallybot) -> MemoryAdapter:
    adapter = bot.adapter
    assert isinstance(adapter, MemoryAdapter)
    return adapter


async def _member(db: Database, name: str, **fields: object) -> None:
    await upsert_member(
        db,
        "memory",
        name,
        T0 - timedelta(days=30),
        display_name=name.title(),
        first_name=name.title(),
        locale=PSEUDO,
        **fields,  # type: ignore[arg-type]
    )


def _user(name: str) -> UserRef:
    return UserRef("memory", name, name.title())


def _base(name: str, at: datetime) -> dict[str, object]:
    return {
        "event_id": f"ev-{next(_ids)}",
        "platform": "memory",
        "user": _user(name),
        "occurred_at": at,
    }


def _command(
    name: str, command: str, *args: str, at: datetime, channel: str = "general"
) -> CommandInvoked:
    return CommandInvoked(
        **_base(name, at),
        name=command,
        args=args,
        channel=ChannelRef("memory", channel),  # type: ignore[arg-type]
    )


def _click(
    name: str, action: str, value: str, at: datetime, channel: str = "general"
) -> ButtonClicked:
    return ButtonClicked(
        **_base(name, at),  # type: ignore[arg-type]
        channel=ChannelRef("memory", channel, is_direct=channel.startswith("dm-")),
        message_id="m0",
        action_id=action,
        value=value,
    )


def _say(
    name: str, text: str, at: datetime, channel: str | None = None, thread: str | None = None
) -> MessagePosted:
    return MessagePosted(
        **_base(name, at),  # type: ignore[arg-type]
        channel=ChannelRef("memory", channel or f"dm-{name}", is_direct=channel is None),
        message_id=f"u{next(_ids)}",
        text=text,
        thread_id=thread,
    )


# ---------------------------------------------------------------------------- quiz

QUIZ_CAMPAIGN = f"""\
id: quiz
title: Quiz
timezone: Europe/Paris
locale: {PSEUDO}
channels:
  annonces: general
steps:
  - id: live
    at: 2026-11-03 10:00
    quiz: connect-quiz
    post: annonces
    questions: 2
    window: 30s
  - id: invitation
    at: 2026-11-03 10:00
    quiz: connect-quiz
"""


async def quiz(db: Database, tmp_path: Path) -> Played:
    """A live quiz in a channel and a self-paced one in direct messages, with every note a
    member can get, the leaderboard and the command's answers."""
    folder = tmp_path / "quiz"
    folder.mkdir()
    (folder / "campaign.yaml").write_text(QUIZ_CAMPAIGN)
    shutil.copyfile(EXAMPLES / "en" / "quiz-connect.yaml", folder / "bank.yaml")
    clock = SimulatedClock(T0 - timedelta(hours=1))
    bot = _bot(db, folder, clock)
    assert not (await bot.reload()).errors
    await bot.start_adapter()
    adapter = _adapter(bot)
    for name in ("ana", "ben"):
        await _member(db, name)
    await bot.advance_to(T0 + timedelta(seconds=1))
    live = next(d.message for d in adapter.posts if "question" in d.message.metadata)
    run = live.metadata["quiz_run"]
    at = T0 + timedelta(seconds=2)
    await adapter.push(_click("ana", "quiz", f"{run}:0:0", at))
    await adapter.push(_click("ana", "quiz", f"{run}:0:1", at))  # already answered
    await bot.advance_to(T0 + timedelta(seconds=31))
    await adapter.push(_click("ben", "quiz", f"{run}:0:0", clock.now()))  # too late
    await adapter.push(_click("ben", "quiz", f"{run}:1:ok", clock.now()))  # nothing picked
    await adapter.push(_click("ben", "quiz", f"{run}:1:0", clock.now()))  # a selection
    await bot.advance_to(T0 + timedelta(seconds=62))  # results and leaderboard
    # Self-paced, from the invitation's button: each kind of question, then the summary.
    await adapter.push(_click("ana", "quiz-start", "connect-quiz", clock.now(), "dm-ana"))
    own = [
        d.message for d in adapter.directs if d.target == "ana" and "question" in d.message.metadata
    ]
    mine = own[-1].metadata["quiz_run"]
    for answer in ("0:1", "1:0", "1:ok"):
        await adapter.push(_click("ana", "quiz", f"{mine}:{answer}", clock.now(), "dm-ana"))
    await adapter.push(_say("ana", "my profile", clock.now()))
    await adapter.push(_say("ana", "again", clock.now()))
    await adapter.push(_click("ana", "quiz", f"{mine}:3:0", clock.now(), "dm-ana"))
    await adapter.push(_click("ben", "quiz", f"{mine}:3:0", clock.now(), "dm-ben"))  # not his
    await adapter.push(_click("ana", "quiz", f"{mine}:3:0", clock.now(), "dm-ana"))  # over
    for args in (("top",), ("nope",), ("live", "connect-quiz"), ()):
        await adapter.push(_command("ben", "quiz", *args, at=clock.now()))
    await adapter.push(_command("cm", "quiz", "live", at=clock.now()))  # usage
    return Played(adapter, [folder])


# ---------------------------------------------------------------------------- onboarding

ONBOARDING = f"""\
id: onb
title: Onboarding
timezone: Europe/Paris
locale: {PSEUDO}
audiences:
  newcomers: {{cohort: new}}
steps:
  - id: hello
    at: 2026-11-03 10:00
    dm: "Hello {{first_name}}"
journey:
  for: newcomers
  tasks:
    - id: charter
      done_when: charter_accepted
      label: Accept the charter
      nudges:
        - {{at: join + 1d at 11:00, dm: "charter 1"}}
    - id: app
      done_when: self_declared
      label: Install the app
      nudges:
        - {{at: join + 1d at 12:00, dm: "app 1"}}
"""


async def onboarding(db: Database, tmp_path: Path) -> Played:
    """A newcomer with a buddy: the checklist, both kinds of button, stop and start, the
    celebration, and a stuck newcomer escalated to the managers."""
    folder = tmp_path / "onboarding"
    folder.mkdir()
    (folder / "onb.yaml").write_text(ONBOARDING)
    clock = SimulatedClock(T0)
    bot = _bot(db, folder, clock, onboarding_buddies=["buddy"], onboarding_escalate_after_days=1)
    assert not (await bot.reload()).errors
    adapter = _adapter(bot)
    for name in ("nina", "stuck"):
        await _member(db, name, cohort="new", joined_at=T0)
    await bot.handle(MemberJoined(**_base("nina", T0), channel=None))  # type: ignore[arg-type]
    await bot.advance_to(T0 + timedelta(hours=1))
    for name, command in (("nina", "onboarding"), ("nina", "stop"), ("nina", "onboarding")):
        await bot.handle(_command(name, command, at=clock.now()))
    await bot.handle(_command("nina", "start", at=clock.now()))
    await bot.handle(_command("visitor", "onboarding", at=clock.now()))
    await bot.advance_to(T0 + timedelta(days=1, hours=4))
    await bot.handle(_click("nina", DONE_ACTION, "onb/journey-app-1", clock.now(), "dm-nina"))
    await bot.handle(_click("nina", ACCEPT_ACTION, "onb/journey-charter-1", clock.now(), "dm-nina"))
    await bot.handle(_command("nina", "onboarding", at=clock.now()))
    await bot.advance_to(T0 + timedelta(days=2))
    return Played(adapter, [folder])


# ---------------------------------------------------------------------------- help channel


async def help_channel(db: Database, tmp_path: Path) -> Played:
    """Questions with and without FAQ answers and helpers, the buttons, a solved ticket with
    thanks, reminders and an escalation, a click on a closed ticket."""
    folder = tmp_path / "faq"
    folder.mkdir()
    shutil.copyfile(EXAMPLES / "en" / "faq.yaml", folder / "faq.yaml")
    clock = SimulatedClock(T0)
    bot = _bot(
        db,
        folder,
        clock,
        help_channel="help",
        helpers="mon-fri 09:00-18:00 helper1",
        helpers_timezone="Europe/Paris",
        help_remind_minutes=30,
        help_escalate_minutes=120,
    )
    assert not (await bot.reload()).errors
    await bot.start_adapter()
    adapter = _adapter(bot)
    for name in ("ana", "ben"):
        await _member(db, name)
    first = _say("ana", "How do I reset my password?", T0, channel="help")
    await bot.handle(first)
    await bot.dispatch_tick(drain=True)
    await bot.handle(_say("ben", "On the IT portal", T0, channel="help", thread=first.message_id))
    await bot.handle(
        ReactionAdded(
            **_base("ana", T0),  # type: ignore[arg-type]
            channel=ChannelRef("memory", "help"),
            message_id=first.message_id,
            emoji="white_check_mark",
        )
    )
    await bot.handle(_click("ben", ACTION_SOLVED, "1", T0, "help"))  # closed already
    second = _say("ben", "Zzzq wwxy", T0, channel="help")  # no FAQ answer for it
    await bot.handle(second)
    await bot.handle(_click("ana", ACTION_FAQ, "2", T0, "help"))  # not hers
    for name, *args in (
        ("ana", "help", "--private"),  # no question: the usage
        ("ana", "help", "How", "do", "I", "log", "in?"),
        ("ana", "help", "--private", "My", "badge"),
        ("ana", "helpdesk"),
        ("helper1", "helpdesk"),
    ):
        await bot.handle(_command(name, args[0], *args[1:], at=T0))
    await bot.advance_to(T0 + timedelta(minutes=125))  # reminded, then escalated
    await bot.handle(_click("ben", ACTION_SOLVED, "2", clock.now(), "help"))
    await bot.dispatch_tick(drain=True)
    return Played(adapter, [folder])


# ---------------------------------------------------------------------------- surveys

SURVEY = f"""\
id: pulse
title: Pulse
timezone: Europe/Paris
locale: {PSEUDO}
steps:
  - id: week1
    at: 2026-11-03 10:00
    dm: "Two minutes?"
    survey:
      anonymous: true
      questions:
        - {{id: overall, kind: rating, text: "Do you like it?"}}
        - {{id: nps, kind: nps, text: "Would you recommend it?"}}
        - {{id: best, kind: single, text: "Best part?", choices: [News, Groups]}}
        - {{id: uses, kind: multiple, text: "What do you use?", choices: [News, Docs]}}
        - {{id: comment, kind: text, text: "Anything else?", optional: true}}
"""


async def survey(db: Database, tmp_path: Path) -> Played:
    """An anonymous survey answered from its invitation to its form, with the notes."""
    folder = tmp_path / "survey"
    folder.mkdir()
    (folder / "pulse.yaml").write_text(SURVEY)
    clock = SimulatedClock(T0 - timedelta(hours=1))
    bot = _bot(db, folder, clock)
    assert not (await bot.reload()).errors
    adapter = _adapter(bot)
    await _member(db, "ana")
    await bot.advance_to(T0 + timedelta(minutes=1))

    async def press(suffix: str) -> None:
        last = [d for d in adapter.directs if d.target == "ana" and d.message.buttons][-1]
        button = next(b for b in last.message.buttons if b.value.endswith(suffix))
        assert button.action_id is not None
        await bot.handle(_click("ana", button.action_id, button.value, clock.now(), "dm-ana"))

    await press("")  # the invitation's button
    for suffix in (":1", ":0", ":1", ":done", ":0", ":done", ":write"):
        await press(suffix)
    await bot.handle(
        FormSubmitted(
            **_base("ana", clock.now()),
            form_id=adapter.forms[-1].form.id,
            values={"answer": "Nice"},
        )  # type: ignore[arg-type]
    )
    invitation = next(d for d in adapter.directs if d.target == "ana")
    start = invitation.message.buttons[0]
    assert start.action_id is not None
    await bot.handle(_click("ana", start.action_id, start.value, clock.now(), "dm-ana"))
    return Played(adapter, [folder])


# ---------------------------------------------------------------------------- points, privacy

RULES = """\
points: {first_post: 5, kudos_received: 5}
kudos: {emoji: [clap], daily_allowance: 3, per_pair_daily: 1}
announce: dm
badges:
  - {id: first-step, name: First step, when: {first_post: true}}
levels:
  - {points: 0, name: Newcomer}
  - {points: 10, name: Curious}
"""


async def points_and_privacy(db: Database, tmp_path: Path) -> Played:
    """Kudos, a badge, the points commands of members and managers, seasons; my data and
    forget me."""
    folder, rules = tmp_path / "campaigns", tmp_path / "rules"
    folder.mkdir()
    rules.mkdir()
    (rules / "rules.yaml").write_text(RULES)
    clock = SimulatedClock(T0)
    bot = _bot(db, folder, clock, rules_file=rules / "rules.yaml")
    assert not (await bot.reload()).errors
    await bot.start_adapter()
    adapter = _adapter(bot)
    for name in ("ana", "ben", "cm"):
        await _member(db, name)
    await bot.handle(_say("ben", "Hello all", clock.now(), channel="general"))
    commands = [
        ("ana", "kudos", "@ben", "great", "demo"),
        ("ana", "kudos", "@ben", "again"),
        ("ana", "kudos", "@ana"),
        ("ana", "kudos", "@nobody"),
        ("ana", "kudos"),
        ("ben", "points"),
        ("ben", "top"),
        ("ben", "top", "7d", "blue"),
        ("ben", "points", "add", "@ben", "5", "x"),
        ("cm", "points", "add", "@ben", "5", "help", "at", "the", "fair"),
        ("cm", "points", "remove", "@ben", "x"),
        ("cm", "points", "revert", "999"),
        ("cm", "points", "revert", "1"),
        ("cm", "points", "revert"),
        ("cm", "points", "what"),
        ("cm", "season", "start", "S1"),
        ("cm", "season", "start", "S1"),
        ("cm", "season"),
        ("cm", "top", "season"),
        ("ana", "mydata"),
        ("ana", "forget"),
        ("ben", "forget", "@ana"),
        ("cm", "forget", "@nobody"),
        ("cm", "forget", "@ben"),
    ]
    for name, command, *args in commands:
        await bot.handle(_command(name, command, *args, at=clock.now()))
    await bot.handle(_click("ana", "forget-cancel", "0", clock.now(), "dm-ana"))
    await bot.handle(_click("ana", "forget-confirm", "0", clock.now(), "dm-ana"))  # expired
    await bot.dispatch_tick(drain=True)  # the kudos notice and the badge, from the outbox
    return Played(adapter, [folder, rules])


# ---------------------------------------------------------------------------- steering, admin


def _write_campaign(folder: Path, campaign: str) -> None:
    folder.mkdir()
    (folder / "campaign.yaml").write_text(campaign)


async def _started(
    db: Database, folder: Path, campaign: str, at: datetime
) -> tuple[Rallybot, SimulatedClock, Path]:
    """A started bot whose only campaign file is ``campaign``, in ``folder``, at ``at``."""
    _write_campaign(folder, campaign)
    clock = SimulatedClock(at)
    bot = _bot(db, folder, clock)
    assert not (await bot.reload()).errors
    await bot.start_adapter()
    return bot, clock, folder


def _head(campaign_id: str, launch: str) -> str:
    """A campaign file's first lines, in the pseudo-locale, a launch milestone and one
    channel."""
    return (
        f"id: {campaign_id}\ntitle: {campaign_id.title()}\ntimezone: Europe/Paris\n"
        f"locale: {PSEUDO}\nmilestones: {{launch: {launch}}}\nchannels: {{annonces: general}}\n"
    )


STEERED = (
    _head("launch", "2026-11-05 09:30")
    + """\
audiences: {pilote: {cohort: pilote}}
steps:
  - {id: teaser, at: launch - 1d at 09:00, post: annonces, text: Tomorrow!}
  - {id: ceo, at: launch, post: annonces, text: Connect is open., must_send: true}
  - id: invite
    at: launch + 1d at 10:00
    for: pilote
    dm: "Hello {first_name}, welcome to the pilot"
    buttons:
      - {label: Open Connect, url: "https://connect.example.com"}
"""
)


async def steering_and_admin(db: Database, tmp_path: Path) -> Played:
    """The managers' controls (preview, send, skip, pending, timeline) and commands
    (campaigns, pause, resume, reload, stats, wave, help), their usages and refusals, and a
    member who tries them."""
    bot, clock, folder = await _started(db, tmp_path / "steered", STEERED, T0)
    adapter = _adapter(bot)
    for name in ("m1", "m2"):
        await _member(db, name, cohort="pilote")
    await _member(db, "cm")
    commands = [
        ("m1", "pending"),
        ("m1", "skip", "teaser"),
        ("m1", "campaigns"),
        ("m1", "nonsense"),
        ("cm", "help"),
        ("cm", "preview", "invite"),
        ("cm", "preview", "nope"),
        ("cm", "preview"),
        ("cm", "send", "invite", "to", "@m2"),
        ("cm", "send", "invite", "to", "@ghost"),
        ("cm", "send", "invite"),
        ("cm", "skip", "teaser"),
        ("cm", "skip"),
        ("cm", "send", "teaser"),
        ("cm", "pending"),
        ("cm", "timeline", "4"),
        ("cm", "timeline", "1"),
        ("cm", "timeline", "soon"),
        ("cm", "campaigns"),
        ("cm", "pause", "launch"),
        ("cm", "pause", "nope"),
        ("cm", "resume", "launch"),
        ("cm", "pause"),
        ("cm", "reload"),
        ("cm", "stats"),
        ("cm", "wave"),
    ]
    for name, command, *args in commands:
        await bot.handle(_command(name, command, *args, at=clock.now()))
    await bot.advance_to(T0 + timedelta(days=3))
    await bot.dispatch_tick(drain=True)
    return Played(adapter, [folder], _syntax())


def _syntax() -> set[str]:
    """The commands as typed (``/rallybot points [add|remove]...``: names, not words; their
    placeholders are the catalogs') and the weekday and month names of the pseudo-locale's
    calendar (Babel's, not ours)."""
    from babel.dates import get_day_names, get_month_names

    from rallybot.bot.assembly import commands
    from rallybot.handlers.admin.feature import synopsis

    calendar = {
        *get_day_names("abbreviated", locale=PSEUDO).values(),
        *get_month_names("abbreviated", locale=PSEUDO).values(),
    }
    # What is typed as it is: the usages' pieces outside their wrapped placeholders.
    typed = {
        piece
        for spec in commands()
        for piece in re.split(f"{OPEN}[^{CLOSE}]*{CLOSE}", synopsis(spec, PSEUDO))
        if piece.strip()
    }
    return typed | calendar


# ---------------------------------------------------------------------------- challenges

CHALLENGES = (
    _head("challenges", "2026-11-03 10:00")
    + """\
steps:
  - {id: hello, at: launch, post: annonces, text: Hello}
  - {id: top, at: launch + 1d at 12:00, post: annonces, leaderboard: {period: 7d, top: 3}}
challenges:
  - {id: posts, title: Two posts, goal: {kind: post_in_channel, count: 2, channel: annonces},
     start: launch, end: launch + 2d, points: 20, announce: annonces}
  - {id: reacts, title: Two reactions, goal: {kind: react, count: 2}, start: launch,
     end: launch + 2d, points: 10}
  - {id: proof, title: Show us, goal: {kind: submit_evidence, count: 1}, start: launch,
     end: launch + 2d, points: 30, announce: annonces}
"""
)


async def challenges_and_leaderboard(db: Database, tmp_path: Path) -> Played:
    """Challenges met by posts, reactions and evidence (approved and rejected by a manager),
    the members' and managers' commands, the leaderboards posted by a step and asked for."""
    bot, clock, folder = await _started(
        db, tmp_path / "challenges", CHALLENGES, T0 - timedelta(hours=1)
    )
    adapter = _adapter(bot)
    for name in ("ana", "ben", "cm"):
        await _member(db, name)
    await bot.advance_to(T0 + timedelta(minutes=1))
    for text in ("First", "Second"):
        await bot.handle(_say("ana", text, clock.now(), channel="general"))
    for message in ("p1", "p2"):
        await bot.handle(
            ReactionAdded(
                **_base("ben", clock.now()),  # type: ignore[arg-type]
                channel=ChannelRef("memory", "general"),
                message_id=message,
                emoji="tada",
            )
        )
    for name, command, *args in (
        ("ana", "challenges"),
        ("ana", "challenge", "submit", "proof", "https://x.test/proof"),
        ("ben", "challenge", "submit", "proof", "my proof"),
        ("ben", "challenge", "submit", "nope", "x"),
        ("ben", "challenge", "submit"),
        ("ben", "challenge", "what"),
    ):
        await bot.handle(_command(name, command, *args, at=clock.now()))
    reviews = [d.message for d in adapter.directs if d.target == "cm" and d.message.buttons]
    for review, index in zip(reviews, (0, 1), strict=False):  # approve ana's, reject ben's
        button = review.buttons[index]
        assert button.action_id is not None
        await bot.handle(_click("cm", button.action_id, button.value, clock.now(), "dm-cm"))
        await bot.handle(_click("ana", button.action_id, button.value, clock.now(), "dm-ana"))
    for name, command, *args in (
        ("ben", "challenges"),
        ("ana", "top"),
        ("ana", "top", "all"),
        ("ana", "top", "7d", "nobody"),
    ):
        await bot.handle(_command(name, command, *args, at=clock.now()))
    await bot.advance_to(T0 + timedelta(days=3))
    await bot.dispatch_tick(drain=True)
    return Played(adapter, [folder], _syntax())


Scenario = Callable[[Database, Path], Awaitable[Played]]
SCENARIOS: list[Scenario] = [
    quiz,
    onboarding,
    help_channel,
    survey,
    points_and_privacy,
    steering_and_admin,
    challenges_and_leaderboard,
]
"""The scenarios played in the pseudo-locale; add a feature's here."""


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_every_word_the_bot_sends_comes_from_the_catalogs(
    scenario: Scenario, db: Database, tmp_path: Path
) -> None:
    with pseudo_locale():
        played = await scenario(db, tmp_path)
    assert len(played.adapter.delivered) > 5  # the scenario did play
    bare = unwrapped(played.adapter, file_texts(*played.folders) | played.syntax)
    assert not bare, "words that bypass the catalogs:\n" + "\n".join(bare)


def test_the_check_sees_bare_words_and_nothing_else() -> None:
    foreign = {"Connect: the {what}", "Paris"}
    assert bare_words("⟦Question 1/2⟧", foreign) == []
    assert bare_words("⟦Votes: ⟦Yes⟧ · ⟦No⟧⟧ 3", foreign) == []
    assert bare_words("Connect: the four questions — ⟦Question {n}⟧", foreign) == []
    assert bare_words("⟦Hi⟧ \ue010Any Name\ue011 <@U1> <#C2> ✅ 12.", foreign) == []
    assert bare_words("⟦Hi⟧ there", foreign) == ["there"]
    assert bare_words("Answer within 30 s", foreign) == ["Answer", "within", "s"]
    assert bare_words("Paris: ⟦Right⟧, Lyon", foreign) == ["Lyon"]
    assert bare_words("⟦cut sho", foreign) == [f"unbalanced ⟦⟧ in {'⟦cut sho'!r}"]


# ---------------------------------------------------------------------------- the CLI

BROKEN = f"""\
id: broken
title: Broken
timezone: Europe/Paris
locale: {PSEUDO}
stepz: []
steps:
  - id: Bad Id
    at: 2026-11-03 10:00
    post: general
    text: Hello
    pin: maybe
"""

# A campaign that loads, with warnings (a milestone without a time, a post on a Sunday, a text
# cut by an unquoted #), and one whose time expressions and types are wrong.
WARNED = f"""\
id: warned
title: Warned
timezone: Europe/Paris
locale: {PSEUDO}
milestones:
  launch: 2026-11-08
channels:
  annonces: general
steps:
  - id: sunday
    at: launch at 10:00
    post: annonces
    text: Rendez-vous #ici
"""

MISTIMED = f"""\
id: mistimed
title: Mistimed
timezone: Europe/Paris
locale: {PSEUDO}
channels:
  annonces: general
steps:
  - id: when
    at: launch + someday
    post: annonces
    text: Hello
  - id: weekly
    every: moonday at 09:00
    post: annonces
    text: Hello
  - id: shown
    at: 2026-11-03 10:00
    post: annonces
    buttons: hello
"""

PLANNED = f"""\
id: planned
title: Planned
timezone: Europe/Paris
locale: {PSEUDO}
channels:
  annonces: general
steps:
  - {{id: hello, at: 2026-11-03 10:00, post: annonces, text: Hello}}
  - {{id: later, at: 2026-11-04 10:00, post: annonces, text: Later}}
"""

BAD_ROSTER = """\
id,email,start_date,languge
U1,ana@example.com,31/02/2027,fr
U1,not-an-email,,fr
,,,
U3,,2027-03-02,
"""

# file:line:column: (warning:) field:
_POSITION = re.compile(rf"^\S*:\d+:\d+: (?:{OPEN}[^{CLOSE}]*{CLOSE}: )?(?:[\w\[\].-]+: )?")
_URL = re.compile(r"\S+://\S+")


def _cli_bare_words(output: str, tmp_path: Path, foreign: set[str]) -> list[str]:
    """The words of a command's output the catalogs did not give, line by line: file paths,
    positions and field names, URLs and the files' own texts are not words to translate."""
    found: list[str] = []
    for line in output.replace(str(tmp_path), "").splitlines():
        text = _URL.sub("", _POSITION.sub("", line))
        if words := bare_words(text, foreign):
            found.append(f"{words} in {line!r}")
    return found


def test_the_cli_speaks_through_the_catalogs(tmp_path: Path) -> None:
    """``validate`` with errors and warnings, ``plan``, ``health``, ``roster import`` (with
    errors and without), ``config check``, ``try`` and the platforms' set-up commands under the
    pseudo-locale: every word they print is wrapped, but for the files' own texts, file and
    encoding names, and the day and month names of the locale's calendar (Babel's, not ours)."""
    from babel.dates import get_day_names, get_month_names
    from typer.testing import CliRunner

    from rallybot.bot.cli import app

    broken, planned = tmp_path / "broken.yaml", tmp_path / "planned.yaml"
    broken.write_text(BROKEN)
    planned.write_text(PLANNED)
    (tmp_path / "bad.csv").write_text(BAD_ROSTER)
    (tmp_path / "good.csv").write_text("id;start_date\nU1;15/03/2027\n")
    warned, mistimed = tmp_path / "warned.yaml", tmp_path / "mistimed.yaml"
    warned.write_text(WARNED)
    mistimed.write_text(MISTIMED)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"COLUMNS": "300", "RALLYBOT_DATABASE_URL": url, "RALLYBOT_ADMINS": "memory:cm"}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    foreign = file_texts(tmp_path) | {
        name
        for width in ("abbreviated", "wide")
        for names in (get_day_names(width, locale=PSEUDO), get_month_names(width, locale=PSEUDO))
        for name in names.values()
    }
    foreign |= {"bad.csv", "good.csv", "Windows-1252", "UTF-8", "day-first"}  # names, not words
    commands = {
        "validate": ["validate", str(broken), str(warned), str(mistimed)],
        "plan": ["plan", str(planned)],
        "health": ["health"],
        "roster import": ["roster", "import", str(tmp_path / "bad.csv")],
        "roster import --dry-run": ["roster", "import", str(tmp_path / "good.csv"), "--dry-run"],
        "config check": ["config", "check"],
        "slack manifest": ["slack", "manifest", "--mode", "http"],
        "discord invite-url": ["discord", "invite-url"],
        "try": ["try", str(broken)],
    }
    # config check with broken settings: their problems are one line each, in the language
    # of --locale although the settings (RALLYBOT_LOCALE among them) cannot be read
    broken_settings = {
        "config check (bad values)": {
            "RALLYBOT_LOCALE": "klingon",
            "RALLYBOT_LOG_LEVEL": "verbose",
            "RALLYBOT_HTTP_PORT": "80800",
            "RALLYBOT_GRACE_MINUTES": "-5",
            "RALLYBOT_HELPERS": "someday 09:00-18:00 U1",
            "RALLYBOT_TIMEZON": "UTC",
        },
        "config check (missing files)": {
            "RALLYBOT_CAMPAIGNS_DIR": str(tmp_path / "nowhere"),
            "RALLYBOT_ROSTER": str(tmp_path / "none.csv"),
            "SLACK_BOT_TOKN": "x",
        },
    }
    foreign |= {"klingon", "verbose", "80800", "-5", "someday", "UTC", "none.csv", "nowhere"}
    with pseudo_locale():
        runs = {
            name: runner.invoke(app, ["--locale", PSEUDO, *args], env=env)
            for name, args in commands.items()
        }
        runs |= {
            name: runner.invoke(app, ["--locale", PSEUDO, "config", "check"], env=env | broken)
            for name, broken in broken_settings.items()
        }
    codes = {name: result.exit_code for name, result in runs.items()}
    assert codes == {
        "validate": 1,
        "plan": 0,
        "health": 0,
        "roster import": 1,
        "roster import --dry-run": 0,
        "config check": 0,
        "slack manifest": 2,
        "discord invite-url": 2,
        "try": 1,
        "config check (bad values)": 2,
        "config check (missing files)": 2,
    }, runs["validate"].output
    assert runs["validate"].output.count(":") > 6  # the errors were printed
    assert runs["roster import"].output.count(":") > 6
    assert runs["validate"].output.count(f"{warned}:") == 3  # and the warnings
    assert runs["validate"].output.count(f"{mistimed}:") == 3
    # one line per problem: five values and the unknown variable; two files and a warning
    assert len(runs["config check (bad values)"].stderr.splitlines()) == 6
    assert len(runs["config check (missing files)"].stderr.splitlines()) == 3
    bare = [
        f"{name}: {found}"
        for name, result in runs.items()
        for found in _cli_bare_words(result.output, tmp_path, foreign)
    ]
    assert not bare, "words that bypass the catalogs:\n" + "\n".join(bare)


def test_the_help_usages_speak_through_the_catalogs() -> None:
    """``/rallybot help``'s usages in the pseudo-locale: the words standing for a value come
    from the catalogs; only what is typed as it is (names, flags, choices, prefixes) is not."""
    from rallybot.bot.assembly import commands
    from rallybot.handlers.admin.feature import synopsis

    bare: list[str] = []
    with pseudo_locale():
        for spec in commands():  # every feature's
            typed = {"rallybot", spec.name}
            for param in spec.params:
                typed |= {param.prefix, *param.choices} - {""}
                if param.kind == "flag":
                    typed.add(f"--{param.name}")
            usage = synopsis(spec, PSEUDO)
            bare += [f"{words} in {usage!r}" for words in [bare_words(usage, typed)] if words]
    assert len(commands()) > 20
    assert not bare, "words that bypass the catalogs:\n" + "\n".join(bare)
