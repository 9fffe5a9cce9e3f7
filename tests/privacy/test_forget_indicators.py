"""After ``forget``, every indicator of the report is what it was (issue 7: "the indicators
before and after match"), over the hand-checked database of tests/report/seed.py."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from rallybot.handlers.privacy.personal_data import forget_member
from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.report import ReportData, compute
from rallybot.storage.database import Database
from rallybot.storage.models import Member, table_of
from tests.report.seed import END, START, seed

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SCOPES = [
    Scope(),
    Scope(start=START, end=END),
    Scope(cohort="pilot"),
    Scope(cohort="wave2", start=START, end=END),
    Scope(team="sales"),
    Scope(team="tech", start=START, end=END),
    Scope(campaign_id="launch", start=START, end=END),
]


async def _indicators(db: Database) -> list[ReportData]:
    return [await compute(db, scope, NOW) for scope in SCOPES]


async def test_every_indicator_is_the_same_after_forget(db: Database) -> None:
    await seed(db)
    before = await _indicators(db)
    # Sanity: the seeded members took part in every indicator, so a wrong forget would show.
    everything = before[0]
    assert everything.weekly_active and everything.active_members > 0
    assert everything.funnel.stages[-1].count > 0
    assert everything.reach and everything.quiz.answers
    assert everything.challenges and everything.help.tickets
    assert everything.points.members and everything.satisfaction.responses

    # alice: posts, reactions, a DM, quiz answers, points, a ticket, a challenge done;
    # eve: a ticket, negative points, a team challenge, a quiz answer still open;
    # bob: opted out, a reply, points, a challenge done after the range.
    for member_id in (1, 5, 2):
        report = await forget_member(db, member_id, NOW)
        assert report is not None
        async with db.read() as session:
            assert await session.get(Member, member_id) is None
            left = await session.execute(
                sa.select(sa.func.count()).where(table_of(Member).c.forgotten)
            )
        assert left.scalar_one() >= 1
        assert await _indicators(db) == before, f"indicators changed after forgetting {member_id}"
