"""Indicators in chat: activity recording, /rallybot stats, the weekly digest step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    MessagePosted,
    ReactionAdded,
    UserRef,
)
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.handlers.stats import feature as stats
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, Member, table_of
from rallybot.storage.report_models import Activity
from rallybot.storage.repositories import upsert_member
from tests.report.seed import seed

CAMPAIGN = """\
id: ops
title: Community management
timezone: UTC
locale: en
channels:
  managers: CM-CHANNEL
steps:
  - id: weekly-digest
    every: monday at 09:00
    from: 2026-11-01 00:00
    post: managers
    digest: true
    title: Weekly digest
    text: "Here is how the launch went this week."
"""

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_bot(
    db: Database, tmp_path: Path, clock: SimulatedClock, campaign: str = CAMPAIGN
) -> tuple[Rallybot, MemoryAdapter]:
    path = tmp_path / "ops.yaml"
    path.write_text(campaign)
    adapter = MemoryAdapter()
    settings = Settings(database_url="sqlite://", admins=["memory:cm"], timezone="UTC")
    return Rallybot(settings, db, adapter, clock, campaign_paths=[path]), adapter


def user(name: str, *, bot: bool = False) -> UserRef:
    return UserRef("memory", name, name, is_bot=bot)


CHANNEL = ChannelRef("memory", "C1")
AT = datetime(2026, 11, 10, 12, tzinfo=UTC)


async def activity(db: Database) -> list[tuple[str, str, str | None, str | None]]:
    t = table_of(Activity).c
    m = table_of(Member).c
    async with db.session() as session:
        rows = await session.execute(
            sa.select(m.platform_user_id, t.kind, t.channel_id, t.target_message_id)
            .join(table_of(Member), m.id == t.member_id)
            .order_by(t.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_activity_is_recorded(db: Database, tmp_path: Path) -> None:
    bot, _ = make_bot(db, tmp_path, SimulatedClock(AT))
    await upsert_member(db, "memory", "gone", AT, opted_out=True)
    common = {"platform": "memory", "occurred_at": AT}
    events = [
        MessagePosted(
            event_id="e1",
            user=user("ann"),
            channel=CHANNEL,
            message_id="M1",
            text="hello everyone",
            **common,
        ),
        MessagePosted(
            event_id="e2",
            user=user("bo"),
            channel=CHANNEL,
            message_id="M2",
            text="welcome",
            thread_id="M1",
            **common,
        ),
        MessagePosted(
            event_id="e3",
            user=user("ann"),
            channel=ChannelRef("memory", "D", is_direct=True),
            message_id="M3",
            text="hi bot",
            **common,
        ),
        ReactionAdded(
            event_id="e4", user=user("bo"), channel=CHANNEL, message_id="M1", emoji="tada", **common
        ),
        ButtonClicked(
            event_id="e5",
            user=user("ann"),
            channel=CHANNEL,
            message_id="M9",
            action_id="ok",
            **common,
        ),
        ButtonClicked(  # an anonymous answer: no trace of the click
            event_id="e5b",
            user=user("ann"),
            channel=CHANNEL,
            message_id="M9",
            action_id="private-poll",
            value="k:1",
            **common,
        ),
        CommandInvoked(event_id="e6", user=user("bo"), name="points", channel=CHANNEL, **common),
        MessagePosted(
            event_id="e7",
            user=user("robot", bot=True),
            channel=CHANNEL,
            message_id="M4",
            text="beep",
            **common,
        ),
        ReactionAdded(
            event_id="e8",
            user=user("gone"),
            channel=CHANNEL,
            message_id="M1",
            emoji="tada",
            **common,
        ),
        MessagePosted(
            event_id="e1",
            user=user("ann"),
            channel=CHANNEL,
            message_id="M1",
            text="hello everyone",
            **common,
        ),  # a platform retry: dropped
    ]
    for event in events:
        await bot.handle(event)
    assert await activity(db) == [
        ("ann", "message", "C1", None),
        ("bo", "reply", "C1", "M1"),
        ("ann", "direct", None, None),  # no DM channel id: it would name its member
        ("bo", "reaction", "C1", "M1"),
        ("ann", "button", "C1", "M9"),
        ("bo", "command", "C1", None),
    ]


async def test_stats_command(db: Database, tmp_path: Path) -> None:
    await seed(db)
    bot, adapter = make_bot(db, tmp_path, SimulatedClock(datetime(2026, 11, 22, 20, tzinfo=UTC)))
    at = datetime(2026, 11, 22, 20, tzinfo=UTC)
    await upsert_member(db, "memory", "cm", at, locale="en")  # the manager reads English
    await bot.handle(
        CommandInvoked(
            event_id="c1", platform="memory", user=user("cm"), occurred_at=at, name="stats"
        )
    )
    await bot.handle(
        CommandInvoked(
            event_id="c2", platform="memory", user=user("U1"), occurred_at=at, name="stats"
        )
    )
    await bot.handle(
        CommandInvoked(
            event_id="c3",
            platform="memory",
            user=user("cm"),
            occurred_at=at,
            name="stats",
            args=("cohort",),
        )
    )
    await bot.handle(
        CommandInvoked(
            event_id="c4",
            platform="memory",
            user=user("cm"),
            occurred_at=at,
            name="stats",
            args=("3", "cohort=wave2"),
        )
    )
    manager = [d.message.text for d in adapter.sent_to("cm")]
    assert len(manager) == 3
    summary = manager[0]
    # the last 4 weeks: from Monday 2026-10-26 to now (the seed's range, plus a week)
    assert summary.startswith("📊 Indicators — Oct 26, 2026 → Nov 22, 2026\n")
    assert "Funnel: invited 5 → joined 4 (80%) → profile complete 3 (60%)" in summary
    assert "Oct 26 0, Nov 2 2, Nov 9 3, Nov 16 2 (4 over the period)" in summary
    assert "Satisfaction: 3/5 (5 ratings), NPS 0 (5 answers)" in summary
    assert "first response median 1 h, resolution median 13 h 30 min" in summary
    assert (
        "Challenges: launch/post3: 2 participants, 1 completed (50%) · "
        "other/react: 2 participants, 0 completed (0%)" in summary
    )
    assert manager[1].startswith("Usage: /rallybot stats")
    assert "cohort wave2" in manager[2] and "Funnel: invited 2" in manager[2]
    assert [d.message.text for d in adapter.sent_to("U1")] == [
        "« /rallybot stats » est réservé aux community managers."  # the default: French
    ]
    await upsert_member(db, "memory", "cm", at, locale="de")
    await bot.handle(
        CommandInvoked(
            event_id="c5", platform="memory", user=user("cm"), occurred_at=at, name="stats"
        )
    )
    german = adapter.sent_to("cm")[-1].message.text.splitlines()
    assert german[:4] == [
        "📊 Kennzahlen — 26. Okt. 2026 → 22. Nov. 2026",
        "Trichter: eingeladen 5 → beigetreten 4 (80\xa0%) → Profil vollständig 3 (60\xa0%) → "
        "erster Beitrag 2 (40\xa0%) → erste Quizantwort 1 (20\xa0%)",
        "Aktive Mitglieder pro Woche: 26. Okt. 0, 2. Nov. 2, 9. Nov. 3, 16. Nov. 2 (4 im Zeitraum)",
        german[3],
    ]
    assert "Zufriedenheit: 3/5 (5 Bewertungen), NPS 0 (5 Antworten)" in german
    assert "Hilfe: 4 Anfragen, Median erste Antwort 1 Std., Median Lösung 13 Std. 30 Min." in german
    assert "Punkte: 3 von 5 Mitgliedern haben Punkte, Median 15, Max. 100" in german


async def test_digest_step_posts_the_indicators_once(db: Database, tmp_path: Path) -> None:
    await seed(db)
    clock = SimulatedClock(MONDAY - timedelta(minutes=10))
    bot, adapter = make_bot(db, tmp_path, clock)
    report = await bot.reload()
    assert not report.errors
    await bot.plan_tick()
    assert await stats.digest_tick(bot) == 0  # not due yet
    assert await stats.next_digest_time(bot, MONDAY + timedelta(days=30)) == MONDAY
    clock.set(MONDAY + timedelta(minutes=1))
    await bot.plan_tick()  # the planner leaves digest steps to the digest tick
    async with db.session() as session:
        steps = (await session.execute(sa.select(table_of(Delivery).c.step_id))).scalars().all()
    assert "weekly-digest" not in steps
    assert await stats.digest_tick(bot) == 1
    assert await stats.digest_tick(bot) == 0  # written once
    await bot.dispatch_tick(drain=True)
    posts = adapter.sent_to("CM-CHANNEL")
    assert len(posts) == 1
    message = posts[0].message
    assert message.title == "Weekly digest"
    assert message.text.startswith("Here is how the launch went this week.\n\n📊 Indicators")
    assert "Funnel: invited 5 → joined 4 (80%)" in message.text
    assert "Nov 16 2" in message.text
    assert await stats.next_digest_time(bot, MONDAY + timedelta(days=30)) == MONDAY + timedelta(
        days=7
    )


async def test_the_digest_speaks_its_campaigns_language(db: Database, tmp_path: Path) -> None:
    await seed(db)
    clock = SimulatedClock(MONDAY + timedelta(minutes=1))
    spanish = CAMPAIGN.replace("locale: en", "locale: es")
    bot, adapter = make_bot(db, tmp_path, clock, spanish)
    assert not (await bot.reload()).errors
    assert await stats.digest_tick(bot) == 1
    await bot.dispatch_tick(drain=True)
    [post] = adapter.sent_to("CM-CHANNEL")
    lines = post.message.text.splitlines()
    assert lines[2] == "📊 Indicadores — 2 nov 2026 → 23 nov 2026"
    assert lines[3].startswith("Embudo: invitados 5 → incorporados 4 (80\xa0%)")
    assert "Kudos: 0 dados por 0 miembros, 0 recibidos por 0 miembros" in lines


def test_digest_step_shape() -> None:
    good = load_campaign_text(CAMPAIGN, "ops.yaml")
    assert good.steps[0].is_digest
    broken = CAMPAIGN.replace("    post: managers\n", "    dm: hello\n")
    try:
        load_campaign_text(broken, "ops.yaml")
    except CampaignLoadError as exc:
        assert any("a digest is posted in a channel" in e.message for e in exc.errors)
    else:
        raise AssertionError("a digest without post was accepted")


async def test_a_running_bot_posts_the_weekly_digest_on_its_own(
    db: Database, tmp_path: Path
) -> None:
    await seed(db)
    clock = SimulatedClock(MONDAY - timedelta(minutes=10))
    bot, adapter = make_bot(db, tmp_path, clock)
    await bot.reload()
    await bot.advance_to(MONDAY + timedelta(days=7, minutes=5))
    titles = [d.message.title for d in adapter.sent_to("CM-CHANNEL")]
    assert titles == ["Weekly digest", "Weekly digest"]  # this Monday and the next, once each
