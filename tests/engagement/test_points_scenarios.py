"""Points, kudos, badges and leaderboards end to end: a real bot on the memory adapter and a
simulated clock, on SQLite and PostgreSQL (the router's deduplication applies)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.adapters.slack.render import render_message as render_slack
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ChannelRef,
    CommandInvoked,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from rallybot.bot.messages import Message
from rallybot.campaigns.rules import load_rules_text
from rallybot.handlers.points.feature import PointsFeature, grant
from rallybot.storage import ledger
from rallybot.storage.database import Database
from rallybot.storage.models import ALL_TIME, PointEntry, table_of
from rallybot.storage.repositories import get_member_by_platform_id, upsert_member

LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # 09:30 in Paris
GENERAL = ChannelRef("memory", "general")
E = table_of(PointEntry).c
_ids = itertools.count()

CAMPAIGN = """\
id: launch
title: Launch
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
steps:
  - id: a1
    at: launch
    post: annonces
    text: "One"
  - id: a2
    at: launch
    post: annonces
    text: "Two"
  - id: a3
    at: launch
    post: annonces
    text: "Three"
  - id: tips
    at: launch
    dm: "A private tip"
"""

RULES = """\
points: {reaction_on_announcement: 1, first_post: 5, kudos_received: 5, quiz_correct: 10}
daily_caps: {reaction: 2}
cooldowns: {reaction_on_announcement: 1m}
kudos: {emoji: [clap], daily_allowance: 3, per_pair_daily: 1}
exclude: {members: [ghost]}
badges:
  - id: first-step
    name: {en: First step, fr: Premier pas}
    when: {first_post: true}
  - id: first-quiz
    name: First quiz
    when: {quizzes: 1}
  - id: generous
    name: Generous
    when: {kudos_given: 2}
  - id: rich
    name: Rich
    when: {points: 100}
levels:
  - {points: 0, name: Newcomer}
  - {points: 10, name: Curious}
"""


def user(name: str, *, bot: bool = False) -> UserRef:
    return UserRef("memory", name, name=name.upper(), is_bot=bot)


def eid() -> str:
    return f"e{next(_ids)}"


class World:
    """A bot with three announcements sent, and helpers to push events at it."""

    def __init__(self, bot: Rallybot, adapter: MemoryAdapter, clock: SimulatedClock) -> None:
        self.bot, self.adapter, self.clock = bot, adapter, clock
        self.db = bot.db
        self.posts = {d.message.text: d.sent.message_id for d in adapter.posts}

    async def react(
        self,
        who: UserRef,
        message: str,
        emoji: str = "tada",
        *,
        author: UserRef | None = None,
        event_id: str | None = None,
        removed: bool = False,
    ) -> str:
        event_id = event_id or eid()
        kind = ReactionRemoved if removed else ReactionAdded
        await self.bot.handle(
            kind(
                event_id=event_id,
                platform="memory",
                user=who,
                occurred_at=self.clock.now(),
                channel=GENERAL,
                message_id=self.posts.get(message, message),
                emoji=emoji,
                author=author,
            )
        )
        return event_id

    async def post(self, who: UserRef, channel: ChannelRef = GENERAL) -> None:
        await self.bot.handle(
            MessagePosted(
                event_id=eid(),
                platform="memory",
                user=who,
                occurred_at=self.clock.now(),
                channel=channel,
                message_id=eid(),
                text="hello",
            )
        )

    async def command(self, who: UserRef, name: str, *args: str) -> str:
        before = len(self.adapter.directs)
        await self.bot.handle(
            CommandInvoked(
                event_id=eid(),
                platform="memory",
                user=who,
                occurred_at=self.clock.now(),
                name=name,
                args=args,
            )
        )
        answers = [d for d in self.adapter.directs[before:] if d.target == who.id]
        assert answers, f"no answer to /rallybot {name} {' '.join(args)}"
        return answers[-1].message.text

    async def total(self, who: str, season: str = ALL_TIME) -> int:
        member = await get_member_by_platform_id(self.db, "memory", who)
        if member is None or member.id is None:
            return 0
        return (await ledger.totals_of(self.db, member.id)).get(season, 0)

    async def member_id(self, who: str) -> int:
        member = await get_member_by_platform_id(self.db, "memory", who)
        assert member is not None and member.id is not None
        return member.id

    async def badge_dms(self, who: str) -> list[str]:
        """The badge announcements sent to ``who`` (the outbox is sent first)."""
        await self.bot.dispatch_tick(drain=True)
        return [
            d.message.text
            for d in self.adapter.directs
            if d.target == who and "🏅" in d.message.text
        ]


async def make_world(
    db: Database, tmp_path: Path, rules: str | None = RULES, **settings: object
) -> World:
    clock = SimulatedClock(LAUNCH - timedelta(hours=1))
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "launch.yaml").write_text(CAMPAIGN)
    options: dict[str, object] = {
        "database_url": "sqlite://",
        "admins": ["memory:cm"],
        "quiet_hours": "off",
        "locale": "en",
        **settings,
    }
    if rules is not None:
        (tmp_path / "rules.yaml").write_text(rules)
        options["rules_file"] = tmp_path / "rules.yaml"
    adapter = MemoryAdapter()
    bot = Rallybot(Settings(**options), db, adapter, clock, campaign_paths=[tmp_path / "campaigns"])
    report = await bot.reload()
    assert not report.errors
    await upsert_member(db, "memory", "reader", clock.now(), display_name="Reader")
    await bot.advance_to(LAUNCH + timedelta(minutes=1))
    assert {d.message.text for d in adapter.posts} == {"One", "Two", "Three"}
    return World(bot, adapter, clock)


async def test_a_reaction_on_an_announcement_counts_once_and_its_removal_once(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    alice = user("alice")
    first = await w.react(alice, "One")
    assert await w.total("alice") == 1
    await w.react(alice, "One", event_id=first)  # the platform retried the same event
    await w.react(alice, "One", "heart")  # another emoji on the same message
    assert await w.total("alice") == 1
    removal = await w.react(alice, "One", "heart", removed=True)  # not the emoji that counted
    assert await w.total("alice") == 1
    removal = await w.react(alice, "One", removed=True)
    await w.react(alice, "One", removed=True, event_id=removal)  # retried removal
    await w.react(alice, "One", removed=True)  # a second removal event, new id
    assert await w.total("alice") == 0
    await w.react(alice, "One")  # re-adding does not earn again
    assert await w.total("alice") == 0
    async with db.session() as s:
        amounts = (await s.execute(sa.select(E.amount).order_by(E.id))).scalars().all()
    assert list(amounts) == [1, -1]
    # a DM the bot sent is not an announcement; neither is a member's message
    dm = next(d for d in w.adapter.directs if d.message.text == "A private tip")
    await w.react(alice, dm.sent.message_id)
    await w.react(alice, "some-member-message", author=user("bob"))
    assert await w.total("alice") == 0


async def test_bots_excluded_members_and_managers_earn_nothing(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    await w.react(user("robot", bot=True), "One")
    await w.react(user("ghost"), "One")  # excluded by the rules file
    await w.post(user("robot", bot=True))
    assert await w.total("robot") == 0
    assert await w.total("ghost") == 0
    await w.react(user("cm"), "One")
    assert await w.total("cm") == 1  # managers count unless the rules exclude them
    w.bot.feature(PointsFeature).rules = load_rules_text(RULES + "\n", "r.yaml").model_copy(
        update={"exclude": load_rules_text("exclude: {community_managers: true}", "x").exclude}
    )
    await w.react(user("cm"), "Two")
    assert await w.total("cm") == 1


async def test_daily_cap_and_cooldown(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    alice = user("alice")
    await w.react(alice, "One")
    w.clock.advance(timedelta(seconds=30))
    await w.react(alice, "Two")  # inside the 1-minute cooldown
    assert await w.total("alice") == 1
    w.clock.advance(timedelta(seconds=31))
    await w.react(alice, "Two")
    assert await w.total("alice") == 2
    w.clock.advance(timedelta(minutes=5))
    await w.react(alice, "Three")  # the daily cap (2) is reached
    assert await w.total("alice") == 2
    w.clock.set(datetime(2026, 11, 3, 23, 30, tzinfo=UTC))  # 00:30 in Paris: a new day
    await w.react(alice, "Three", "thumbsup")
    assert await w.total("alice") == 3


async def test_kudos_by_emoji_and_command_with_allowance_and_pair_limit(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    await w.react(alice, "bob-msg-1", "clap", author=bob)
    assert await w.total("bob") == 5
    await w.react(alice, "bob-msg-2", ":clap:", author=bob)  # one kudos a day to the same person
    assert await w.total("bob") == 5
    await w.react(alice, "alice-msg", "clap", author=alice)  # never to oneself
    assert await w.total("alice") == 0
    await w.react(alice, "bot-msg", "clap", author=user("robot", bot=True))
    assert await w.total("robot") == 0
    await w.react(alice, "carol-msg", "clap", author=carol)
    assert await w.total("carol") == 5
    # alice's kudos_given reached 2: the "generous" badge is hers
    assert await w.badge_dms("alice") == ["🏅 New badge: Generous! Well done ALICE."]

    assert "yourself" in await w.command(alice, "kudos", "@alice", "me")
    for name in ("dave", "erin"):
        await upsert_member(db, "memory", name, w.clock.now(), display_name=name.title())
    answer = await w.command(alice, "kudos", "<@dave>", "for", "the", "demo")
    assert answer == "Kudos sent to Dave (+5)."
    answer = await w.command(alice, "kudos", "Erin", "thanks")  # a 4th kudos today
    assert answer.startswith("No kudos sent: you may give 3 a day")
    assert await w.total("erin") == 0
    assert await w.command(alice, "kudos", "@nobody", "x") == "I don't know @nobody."
    dave = await w.member_id("dave")
    (entry,) = await ledger.recent_entries(db, dave, 5)
    assert (entry.reason, entry.actor_id, entry.source) == (
        "kudos: for the demo",
        await w.member_id("alice"),
        "kudos",
    )
    # taking the emoji back revokes the kudos, once
    await w.react(alice, "carol-msg", "clap", author=carol, removed=True)
    await w.react(alice, "carol-msg", "clap", author=carol, removed=True)
    assert await w.total("carol") == 0
    assert await w.badge_dms("alice") == ["🏅 New badge: Generous! Well done ALICE."]  # once


async def test_first_post_once_and_badge_announced_once(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    alice = user("alice")
    await w.post(alice, ChannelRef("memory", "dm-alice", is_direct=True))  # a DM does not count
    assert await w.total("alice") == 0
    await w.post(alice)
    await w.post(alice)
    assert await w.total("alice") == 5
    assert await w.badge_dms("alice") == ["🏅 New badge: First step! Well done ALICE."]
    # grant() is what quizzes and challenges call
    alice_id = await w.member_id("alice")
    assert await grant(w.bot, member_id=alice_id, action="quiz_correct", key="quiz:q1:a") == 10
    assert await grant(w.bot, member_id=alice_id, action="quiz_correct", key="quiz:q1:a") == 0
    assert await grant(w.bot, member_id=alice_id, action="quiz_correct", key="q2", amount=0) == 0
    assert await grant(w.bot, member_id=alice_id, action="quiz_correct", key="q3", amount=3) == 3
    assert await grant(w.bot, member_id=alice_id, action="help_answer_accepted", key="h") == 10
    assert (
        await grant(w.bot, member_id=alice_id, action="kudos_received", key="k", actor_id=alice_id)
        == 0
    )
    assert await w.badge_dms("alice") == [
        "🏅 New badge: First step! Well done ALICE.",
        "🏅 New badge: First quiz! Well done ALICE.",
    ]
    text = await w.command(alice, "points")
    assert text.splitlines()[:5] == [
        "You have 28 points.",
        "Your rank: #1 of all time.",
        "Level: Curious.",
        "Badges: First step, First quiz.",
        "Next badge: Rich (72 points to go).",
    ]
    assert "Last entries:" in text
    assert "+10 correct quiz answer" in text


async def test_badges_announced_in_a_channel(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path, RULES + "announce: annonces\n", channels="annonces=general")
    await w.post(user("alice"))
    assert not [d for d in w.adapter.posts if "🏅" in d.message.text]  # in the outbox first
    await w.bot.dispatch_tick(drain=True)
    (post,) = [d for d in w.adapter.posts if "🏅" in d.message.text]
    assert (post.target, post.message.text) == ("general", "🏅 ALICE earned the First step badge!")


async def test_admin_adjust_needs_a_reason_and_can_be_reverted(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    cm, alice = user("cm"), user("alice")
    await w.post(alice)
    answer = await w.command(alice, "points", "add", "@alice", "100", "me")
    assert answer == '"/rallybot points add" is for community managers only.'
    assert (await w.command(cm, "points", "add", "@alice", "10")).startswith("Usage:")
    answer = await w.command(cm, "points", "add", "@alice", "100", "great", "help")
    assert answer.startswith("Entry #")
    entry_id = int(answer.split("#")[1].split(":")[0])
    assert await w.total("alice") == 105
    assert "🏅 New badge: Rich! Well done ALICE." in await w.badge_dms("alice")
    await w.command(cm, "points", "remove", "@alice", "3", "spam")
    assert await w.total("alice") == 102
    answer = await w.command(cm, "points", "revert", str(entry_id))
    assert answer.startswith(f"Entry #{entry_id} reverted")
    assert (await w.command(cm, "points", "revert", str(entry_id))).endswith("or is a reversal.")
    assert await w.total("alice") == 2
    entries = await ledger.recent_entries(db, await w.member_id("alice"), 10)
    cm_id = await w.member_id("cm")
    assert [(e.amount, e.source, e.actor_id, e.reason) for e in entries[:3]] == [
        (-100, "admin", cm_id, f"reverted entry #{entry_id} by CM"),
        (-3, "admin", cm_id, "spam"),
        (100, "admin", cm_id, "great help"),
    ]


async def test_seasons_top_periods_teams_and_private_mode(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    cm, alice, bob, carol = user("cm"), user("alice"), user("bob"), user("carol")
    for who, team in (("alice", "sales"), ("bob", "sales"), ("carol", "tech")):
        await upsert_member(db, "memory", who, w.clock.now(), display_name=who.title(), team=team)
    await w.post(bob)  # 5, first
    w.clock.advance(timedelta(seconds=1))
    await w.post(alice)  # 5, second: the tie goes to bob, who got there first
    await w.react(carol, "One")  # 1
    top = await w.command(alice, "top")
    assert top.splitlines() == [
        "Leaderboard, all time:",
        "1. Bob — 5",
        "2. Alice — 5",
        "3. Carol — 1",
        "You: #2 with 5 points.",
    ]
    assert (await w.command(carol, "top", "7d", "tech")).splitlines()[1:] == [
        "1. Carol — 1",
        "You: #1 with 1 point.",
    ]
    assert "(no season started)" in await w.command(alice, "top", "season")
    assert (await w.command(alice, "season", "start", "s2")).endswith("managers only.")
    assert (await w.command(cm, "season", "start", "s2")).startswith('Season "s2" started')
    w.clock.advance(timedelta(days=8))
    await w.react(carol, "Two")
    assert (await w.command(alice, "top", "season")).splitlines() == [
        "Leaderboard, this season:",
        "1. Carol — 1",
    ]
    assert (await w.command(alice, "top", "7d")).splitlines()[1:] == ["1. Carol — 1"]
    assert (await w.command(alice, "top", "30d")).splitlines()[1:4] == [
        "1. Bob — 5",
        "2. Alice — 5",
        "3. Carol — 2",
    ]
    assert (await w.command(alice, "points")).startswith("You have 5 points (0 this season).")
    # private mode: members see the top N and their own rank; managers see the full board
    w.bot.feature(PointsFeature).rules = load_rules_text(
        RULES + "leaderboard: {private: true, top: 1}\n", "r.yaml"
    )
    assert (await w.command(carol, "top")).splitlines() == [
        "Leaderboard, all time:",
        "1. Bob — 5",
        "You: #3 with 2 points.",
    ]
    assert len((await w.command(cm, "top")).splitlines()) == 4


async def test_rules_file_is_loaded_on_reload_and_a_broken_one_keeps_the_last(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    assert w.bot.feature(PointsFeature).rules.points.first_post == 5
    (tmp_path / "rules.yaml").write_text(RULES.replace("first_post: 5", "first_post: 7"))
    assert not (await w.bot.reload()).errors
    assert w.bot.feature(PointsFeature).rules.points.first_post == 7
    (tmp_path / "rules.yaml").write_text("points: {first_post: lots}\n")
    report = await w.bot.reload()
    assert [str(e) for e in report.errors] == [
        f'{tmp_path / "rules.yaml"}:1:22: points.first_post: expected a whole number, got "lots"'
    ]
    assert w.bot.feature(PointsFeature).rules.points.first_post == 7
    await w.post(user("alice"))
    assert await w.total("alice") == 7


async def test_help_lists_the_points_commands(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path, rules=None)
    text = await w.command(user("alice"), "help")
    assert "/rallybot top [all|season|7d|30d] [TEAM]" in text
    assert "/rallybot points [add|remove|revert] [@member] [AMOUNT] [REASON]" in text
    assert (await w.command(user("alice"), "top")).splitlines() == [
        "Leaderboard, all time:",
        "No points yet.",
    ]


async def test_hostile_kudos_reasons_and_names_are_shown_safely(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    alice = user("alice")
    await upsert_member(db, "memory", "mallory", w.clock.now(), display_name="<!channel> *boss*")
    hostile = ("<!everyone>", "@here", "`code`", "line\nbreak\x00\x1b[31m", "x" * 5000)
    answer = await w.command(alice, "kudos", "@mallory", *hostile)
    # Names and reasons are member text: shown as typed, escaped by each renderer.
    assert answer == "Kudos sent to <!channel> *boss* (+5)."
    raw = w.adapter.directs[-1].raw
    assert raw is not None
    shown = render_slack(raw)["blocks"][0]["text"]["text"]
    assert "<!channel>" not in shown and "&lt;!channel&gt; ∗boss∗" in shown
    mallory = await w.member_id("mallory")
    (entry,) = await ledger.recent_entries(db, mallory, 1)
    assert len(entry.reason) <= 310 and "\n" not in entry.reason and "\x00" not in entry.reason
    text = await w.command(user("mallory"), "points")
    line = next(x for x in text.splitlines() if x.startswith("  #"))
    assert "<!everyone> @here `code` line break[31m" in line
    shown = render_slack(w.adapter.directs[-1].raw or Message(""))["blocks"][0]["text"]["text"]
    assert "<!everyone>" not in shown and "`" not in shown
    top = await w.command(alice, "top")
    assert "1. <!channel> *boss* — 5" in top.splitlines()


async def test_the_receiver_of_kudos_is_told_once_in_their_language(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    alice, bob = user("alice"), user("bob")
    await upsert_member(db, "memory", "bob", w.clock.now(), display_name="BOB", locale="fr")
    await upsert_member(db, "memory", "dave", w.clock.now(), display_name="Dave", locale="es")
    event_id = await w.react(alice, "bob-msg-1", "clap", author=bob)
    await w.react(alice, "bob-msg-1", "clap", author=bob, event_id=event_id)  # a platform retry
    await w.command(alice, "kudos", "<@dave>", "for", "the", "demo")
    await w.bot.dispatch_tick(drain=True)

    def told(who: str) -> list[str]:
        return [
            d.message.text for d in w.adapter.directs if d.target == who and "🙌" in d.message.text
        ]

    assert told("bob") == ["🙌 ALICE vous adresse des bravos : :clap: (+5 points)."]
    assert told("dave") == ["🙌 ALICE te ha dado un reconocimiento: for the demo (+5 puntos)."]
    # A refused kudos (the same pair twice a day) tells nobody anything.
    await w.react(alice, "bob-msg-2", "clap", author=bob)
    await w.bot.dispatch_tick(drain=True)
    assert len(told("bob")) == 1


async def test_kudos_are_celebrated_in_the_recognition_channel(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path, recognition_channel="annonces")
    alice, bob = user("alice"), user("bob")
    await w.react(alice, "bob-msg-1", "clap", author=bob)
    await w.bot.dispatch_tick(drain=True)
    posts = [d for d in w.adapter.posts if d.message.text.startswith("🙌")]
    assert [(d.target, d.message.text) for d in posts] == [("general", "🙌 ALICE → BOB: :clap:")]


async def test_a_daily_recognition_post_gathers_the_days_kudos_once(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(
        db,
        tmp_path,
        recognition_channel="annonces",
        recognition_feed="daily",
        recognition_at="17:00",
        timezone="Europe/Paris",
    )
    alice, bob, carol = user("alice"), user("bob"), user("carol")
    await w.react(alice, "bob-msg-1", "clap", author=bob)
    await w.command(carol, "kudos", "<@alice>", "great", "demo")
    await w.bot.dispatch_tick(drain=True)
    assert not [d for d in w.adapter.posts if "Kudos of the day" in d.message.text]  # not yet
    w.clock.set(datetime(2026, 11, 3, 16, 5, tzinfo=UTC))  # 17:05 in Paris
    await w.bot.dispatch_tick(drain=True)
    await w.bot.dispatch_tick(drain=True)  # a second pass posts nothing more
    daily = [d for d in w.adapter.posts if "Kudos of the day" in d.message.text]
    assert [(d.target, d.message.text) for d in daily] == [
        ("general", "🙌 Kudos of the day\n• ALICE → BOB\n• CAROL → ALICE: great demo")
    ]
    assert not [d for d in w.adapter.posts if d.message.text.startswith("🙌 ALICE →")]  # not live


async def test_a_spanish_member_reads_their_points_in_spanish(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    dave = user("dave")
    await upsert_member(db, "memory", "dave", w.clock.now(), display_name="Dave", locale="es_MX")
    await w.react(dave, "One")
    assert (await w.command(dave, "points")).splitlines()[:4] == [
        "Tienes 1 punto.",
        "Tu posición: n.º 1 en la clasificación general.",
        "Nivel: Newcomer (9 puntos para Curious).",
        "Próxima insignia: Rich (faltan 99 puntos).",
    ]
    await w.post(dave)
    text = await w.command(dave, "points")
    assert text.splitlines()[:3] == [
        "Tienes 6 puntos.",
        "Tu posición: n.º 1 en la clasificación general.",
        "Nivel: Newcomer (4 puntos para Curious).",
    ]
    assert "Insignias: First step." in text
    assert "Últimos movimientos:" in text


async def test_a_german_member_reads_their_points_in_german(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    erika = user("erika")
    await upsert_member(db, "memory", "erika", w.clock.now(), display_name="Erika", locale="de")
    await w.react(erika, "One")
    assert (await w.command(erika, "points")).splitlines()[:3] == [
        "Du hast 1 Punkt.",
        "Dein Rang: Platz 1 in der Gesamtwertung.",
        "Stufe: Newcomer (noch 9 Punkte bis Curious).",
    ]
    await w.post(erika)
    w.clock.advance(timedelta(minutes=2))
    await w.react(erika, "Two")
    w.clock.advance(timedelta(minutes=2))
    await w.react(erika, "Three")  # over the daily cap of 2 reactions: no point
    text = await w.command(erika, "points")
    assert text.splitlines()[:3] == [
        "Du hast 7 Punkte.",
        "Dein Rang: Platz 1 in der Gesamtwertung.",
        "Stufe: Newcomer (noch 3 Punkte bis Curious).",
    ]
    assert "Abzeichen: First step." in text
    assert "Letzte Einträge:" in text
