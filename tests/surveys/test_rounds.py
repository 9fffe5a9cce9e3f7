"""Recurring surveys (one round per occurrence) and the refusals: a closed round, an answer
to a closed round, a replayed button, a forged key, a member outside the audience. Each
refusal tells the member and stores nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import CommandInvoked, UserRef
from rallybot.bot.messages import Button
from rallybot.campaigns.planner import ONCE as PLANNER_ONCE
from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.report import compute, summary_text
from rallybot.handlers.survey.feature import survey_results, survey_trend
from rallybot.storage.database import Database
from rallybot.storage.models import table_of
from rallybot.storage.repositories import upsert_member
from rallybot.storage.survey_models import (
    ONCE,
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyResponder,
)
from tests.surveys.test_surveys import click, last_dm

LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # a Tuesday

PULSE = """\
id: pulse
title: Pulse
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
audiences:
  pilote: { cohort: pilote }
steps:
  - id: weekly
    for: pilote
    every: tuesday at 10:00
    from: launch
    dm: "How was your week?"
    survey:
      anonymous: true
      questions:
        - {id: mood, kind: rating, text: "Your week, from 1 to 5?"}
  - id: once
    for: pilote
    at: launch + 1d at 10:00
    dm: "One question?"
    survey:
      closes_after: 2d
      questions:
        - {id: ok, kind: rating, text: "All right?"}
"""


def make_bot(db: Database, tmp_path: Path) -> tuple[Rallybot, MemoryAdapter]:
    (tmp_path / "pulse.yaml").write_text(PULSE)
    adapter = MemoryAdapter()
    clock = SimulatedClock(LAUNCH - timedelta(days=1))
    settings = Settings(
        database_url=db.url, quiet_hours="21:00-08:00", admins=["memory:cm"], locale="en"
    )
    return Rallybot(settings, db, adapter, clock, campaign_paths=[tmp_path / "pulse.yaml"]), adapter


async def add_members(db: Database, count: int, cohort: str = "pilote", prefix: str = "u") -> None:
    for i in range(count):
        await upsert_member(
            db,
            "memory",
            f"{prefix}{i}",
            LAUNCH - timedelta(days=2),
            display_name=f"Member {prefix}{i}",
            cohort=cohort,
            team="ops",
            joined_at=LAUNCH - timedelta(days=2),
            timezone="Europe/Paris",
            locale="en",
        )


def invitation(adapter: MemoryAdapter, uid: str, step: str, nth: int = -1) -> Button:
    sent = [
        d for d in adapter.directs if d.target == uid and d.message.metadata.get("step") == step
    ]
    return next(b for b in sent[nth].message.buttons if b.action_id == "survey-start")


async def rate(bot: Rallybot, adapter: MemoryAdapter, uid: str, start: Button, score: int) -> str:
    """Press the invitation, then the score; the bot's last words to the member."""
    await click(bot, uid, start)
    question = last_dm(adapter, uid)
    if not question.message.buttons:
        return question.message.text
    await click(bot, uid, next(b for b in question.message.buttons if b.label == str(score)))
    return last_dm(adapter, uid).message.text


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(
            await session.scalar(sa.select(sa.func.count()).select_from(table_of(model))) or 0
        )


def test_the_one_off_round_is_the_planners_occurrence() -> None:
    assert ONCE == PLANNER_ONCE


async def test_a_pulse_over_three_rounds(db: Database, tmp_path: Path) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    await add_members(db, 6)
    await bot.advance_to(LAUNCH + timedelta(hours=2))  # round 1: Tuesday 3 November
    # Round 1: five answer (a batch: written at once), u5 does not.
    for i in range(5):
        assert "Thank you" in await rate(
            bot, adapter, f"u{i}", invitation(adapter, f"u{i}", "weekly"), 1 + i % 5
        )
    assert await count(db, SurveyAnswer) == 5

    await bot.advance_to(LAUNCH + timedelta(days=7, hours=2))  # round 2; round 1 closed
    first_round = invitation(adapter, "u5", "weekly", 0)
    assert "closed" in await rate(bot, adapter, "u5", first_round, 4)
    # Week 2 is a new round: those who answered week 1 answer again.
    assert "Thank you" in await rate(bot, adapter, "u0", invitation(adapter, "u0", "weekly"), 5)
    assert "Thank you" in await rate(bot, adapter, "u5", invitation(adapter, "u5", "weekly"), 2)
    assert "already" in await rate(bot, adapter, "u0", invitation(adapter, "u0", "weekly"), 1)
    await bot.advance_to(LAUNCH + timedelta(days=8))
    # u1 answers round 2 late, from its invitation, before the round closes.
    assert "Thank you" in await rate(bot, adapter, "u1", invitation(adapter, "u1", "weekly", 1), 3)

    await bot.advance_to(LAUNCH + timedelta(days=14, hours=2))  # round 3; round 2 closed
    for i in range(6):
        assert "Thank you" in await rate(
            bot, adapter, f"u{i}", invitation(adapter, f"u{i}", "weekly"), 4
        )
    await bot.advance_to(LAUNCH + timedelta(days=21, hours=2))  # round 3 closed

    trend = await survey_trend(db, "pulse/weekly")
    assert [r for r, _ in trend] == ["2026-11-03", "2026-11-10", "2026-11-17", "2026-11-24"][
        : len(trend)
    ]
    by_round = {r: results for r, results in trend}
    assert by_round["2026-11-03"].responses == 5 and by_round["2026-11-03"].audience == 6
    assert by_round["2026-11-03"].questions[0].counts == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    assert by_round["2026-11-10"].responses == 3
    # Three anonymous responses waiting at the close: fewer than 5, so they were deleted
    # without being counted (written, they would be each one's answer), and the results say so.
    assert by_round["2026-11-10"].not_counted == 3
    assert by_round["2026-11-10"].questions[0].counts == {}
    assert by_round["2026-11-10"].mean_rating is None
    assert by_round["2026-11-17"].responses == 6
    # Six answered round 3: a batch of five, and one left waiting at the close, not counted.
    assert by_round["2026-11-17"].questions[0].counts == {4: 5}
    assert by_round["2026-11-17"].not_counted == 1
    assert await count(db, SurveyDraft) == 0  # every round closed: nothing waits
    assert await count(db, SurveyAnswer) == 10
    # The one-off survey of the same file is one round of its own.
    assert (await survey_results(db, "pulse/once")).responses == 0
    # The manager's view: a line per round, then the last round.
    await bot.handle(
        CommandInvoked(
            event_id="cmd-trend",
            platform="memory",
            user=UserRef("memory", "cm"),
            occurred_at=bot.clock.now(),
            name="survey",
            args=("results", "pulse/weekly"),
        )
    )
    text = last_dm(adapter, "cm").message.text
    assert "2026-11-03: 5 of 6" in text and "2026-11-10: 3 of 6" in text
    assert "mean rating 3.33" not in text
    assert "1 response could not be counted" in text  # the last round, shown in full
    # The report (rallybot report, /rallybot stats, the HTML report): the trend over rounds.
    # Round 2 closed with 3 anonymous responses waiting: fewer than 5, so none was counted.
    data = await compute(db, Scope(), bot.clock.now())
    assert [(r.round, r.responses, r.mean_rating) for r in data.survey_rounds] == [
        ("2026-11-03", 5, 3.0),
        ("2026-11-10", 3, None),
        ("2026-11-17", 6, 4.0),
    ]
    assert "Pulse pulse/weekly: 2026-11-03 5 resp. 3/5 → 2026-11-10 3 resp. —/5" in (
        summary_text(data)
    )
    assert data.satisfaction.ratings == 10  # rounds 1 and 3


async def test_refusals_store_nothing(db: Database, tmp_path: Path) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    await add_members(db, 2)
    await add_members(db, 1, cohort="elsewhere", prefix="x")
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))  # the one-off survey is sent
    start = invitation(adapter, "u0", "once")

    async def stored() -> tuple[int, int, int]:
        return (
            await count(db, SurveyAnswer),
            await count(db, SurveyResponder),
            await count(db, SurveyDraft),
        )

    # A forged key: the old public hash of the survey id, or any hex string.
    public = hashlib.sha256(b"pulse/once").hexdigest()[:10]
    for forged in (public, "0123456789abcdef", f"{start.value}x"):
        await click(bot, "u1", Button(label="x", action_id="survey-start", value=forged))
        assert "no longer open" in last_dm(adapter, "u1").message.text
        await click(bot, "u1", Button(label="5", action_id="survey", value=f"{forged}:0:5"))
        assert "no longer open" in last_dm(adapter, "u1").message.text
    assert await stored() == (0, 0, 0)

    # A member outside the audience, with a real button copied from a colleague.
    await click(bot, "x0", start)
    assert "not addressed to you" in last_dm(adapter, "x0").message.text
    await click(bot, "x0", Button(label="5", action_id="survey", value=f"{start.value}:0:5"))
    assert "Press" in last_dm(adapter, "x0").message.text  # no draft: nothing to answer
    assert await stored() == (0, 0, 0)

    # An answer replayed from an old button after the member finished.
    await click(bot, "u0", start)
    question = last_dm(adapter, "u0")
    await click(bot, "u0", next(b for b in question.message.buttons if b.label == "4"))
    assert "Thank you" in last_dm(adapter, "u0").message.text
    await click(bot, "u0", next(b for b in question.message.buttons if b.label == "1"))
    assert "already answered" in last_dm(adapter, "u0").message.text
    assert await stored() == (1, 1, 0)

    # u1 starts, the round closes (2 days after it opened), u1 answers: refused.
    await click(bot, "u1", start)
    question = last_dm(adapter, "u1")
    bot.clock.advance(timedelta(days=2))
    await click(bot, "u1", next(b for b in question.message.buttons if b.label == "2"))
    assert "closed" in last_dm(adapter, "u1").message.text
    await click(bot, "u1", start)
    assert "closed" in last_dm(adapter, "u1").message.text
    await bot.advance_to(bot.clock.now() + timedelta(minutes=5))  # the tick closes the round
    assert await stored() == (1, 1, 0)
    async with db.session() as session:
        closed = await session.scalar(
            sa.select(table_of(Survey).c.closed_at).where(table_of(Survey).c.id == "pulse/once")
        )
    assert closed is not None


async def test_the_invitation_carries_a_key_made_with_the_secret(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    await add_members(db, 1)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    once = invitation(adapter, "u0", "once")
    weekly = invitation(adapter, "u0", "weekly")
    assert len(once.value) == 16 and once.value != hashlib.sha256(b"pulse/once").hexdigest()[:16]
    assert weekly.value.endswith(".2026-11-03")
    # No RALLYBOT_SECRET_KEY: one was generated and kept in the database.
    (kept,) = await _rows(db, "bot_secret")
    assert len(str(kept["value"])) == 64


async def _rows(db: Database, table: str) -> list[dict[str, object]]:
    async with db.session() as session:
        return [
            dict(r) for r in (await session.execute(sa.text(f"SELECT * FROM {table}"))).mappings()
        ]


async def test_a_renamed_survey_step_keeps_its_answers_and_buttons(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    await add_members(db, 3)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))  # the one-off survey went out
    buttons = {f"u{i}": invitation(adapter, f"u{i}", "once") for i in range(3)}
    assert "Thank you" in await rate(bot, adapter, "u0", buttons["u0"], 4)

    renamed = PULSE.replace("  - id: once\n", "  - id: check\n    renamed_from: once\n")
    (tmp_path / "pulse.yaml").write_text(renamed)
    report = await bot.reload()
    assert not report.errors and report.cancelled == 0
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=3))
    # Nobody is invited again, the invitations already sent still work, answers stay together.
    invitations = [
        d for d in adapter.directs if d.message.metadata.get("step") in ("once", "check")
    ]
    assert len(invitations) == 3
    assert "Thank you" in await rate(bot, adapter, "u1", buttons["u1"], 5)
    assert "already" in await rate(bot, adapter, "u0", buttons["u0"], 1)
    results = await survey_results(db, "pulse/once")
    assert results.responses == 2 and results.audience == 3
    async with db.session() as session:
        surveys = (await session.execute(sa.select(Survey.id, Survey.step_id))).all()
    assert ("pulse/once", "check") in surveys and all(sid != "pulse/check" for sid, _ in surveys)


async def test_a_renamed_recurring_survey_keeps_its_rounds_and_responders(
    db: Database, tmp_path: Path
) -> None:
    """A weekly survey renamed in the middle of a round (``renamed_from``): nobody is invited
    again to the open round, its invitations still work, who answered stays answered, and the
    next rounds join the same survey and trend."""
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    await add_members(db, 4)
    await bot.advance_to(LAUNCH + timedelta(hours=2))  # round 1
    for i in range(3):
        assert "Thank you" in await rate(
            bot, adapter, f"u{i}", invitation(adapter, f"u{i}", "weekly"), 4
        )
    await bot.advance_to(LAUNCH + timedelta(days=7, hours=2))  # round 2 is open
    assert "Thank you" in await rate(bot, adapter, "u0", invitation(adapter, "u0", "weekly"), 5)
    round_two = {f"u{i}": invitation(adapter, f"u{i}", "weekly") for i in range(4)}

    renamed = PULSE.replace("  - id: weekly\n", "  - id: week\n    renamed_from: weekly\n")
    (tmp_path / "pulse.yaml").write_text(renamed)
    report = await bot.reload()
    assert not report.errors and report.cancelled == 0, report.summary()
    await bot.advance_to(LAUNCH + timedelta(days=7, hours=5))

    def invited(uid: str) -> int:
        return sum(
            1
            for d in adapter.directs
            if d.target == uid and d.message.metadata.get("step") in ("weekly", "week")
        )

    assert [invited(f"u{i}") for i in range(4)] == [2, 2, 2, 2]  # nobody invited again
    assert "already" in await rate(bot, adapter, "u0", round_two["u0"], 1)
    assert "Thank you" in await rate(bot, adapter, "u1", round_two["u1"], 3)

    await bot.advance_to(LAUNCH + timedelta(days=14, hours=2))  # round 3, under the new id
    assert [invited(f"u{i}") for i in range(4)] == [3, 3, 3, 3]
    assert "Thank you" in await rate(bot, adapter, "u2", invitation(adapter, "u2", "week"), 2)
    await bot.advance_to(LAUNCH + timedelta(days=21, hours=2))

    trend = await survey_trend(db, "pulse/weekly")
    assert [(r, results.responses) for r, results in trend][:3] == [
        ("2026-11-03", 3),
        ("2026-11-10", 2),
        ("2026-11-17", 1),
    ]
    async with db.session() as session:
        ids = [sid for (sid,) in await session.execute(sa.select(Survey.id))]
    assert not any(sid.startswith("pulse/week@") or sid == "pulse/week" for sid in ids), ids
