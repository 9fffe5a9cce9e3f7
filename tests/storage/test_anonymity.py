"""The minimum group rule that surveys, polls and the indicators share, in Python and in SQL,
and the batch write that refuses a batch another process wrote first, on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rallybot.storage.anonymity import (
    MIN_GROUP,
    Raced,
    batch_ready,
    too_few,
    too_few_sql,
    write_batch,
)
from rallybot.storage.database import Database
from rallybot.storage.models import Member, table_of
from rallybot.storage.poll_models import Poll, PollBallot, PollDraft

BALLOT = table_of(PollBallot)
DRAFT = table_of(PollDraft)


def test_a_group_is_too_few_from_one_to_one_less_than_the_minimum() -> None:
    assert MIN_GROUP == 5
    assert [n for n in range(10) if too_few(n)] == [1, 2, 3, 4]


def test_a_batch_waits_for_the_minimum_even_when_the_round_closes() -> None:
    # A remainder smaller than the minimum is never written, not even at the close.
    assert [n for n in range(8) if batch_ready(n)] == [5, 6, 7]


async def test_the_sql_rule_is_the_python_rule(db: Database) -> None:
    counts = list(range(MIN_GROUP + 3))
    async with db.session() as session:
        found = [
            bool(await session.scalar(sa.select(too_few_sql(sa.literal(n, sa.Integer)))))
            for n in counts
        ]
    assert found == [too_few(n) for n in counts]


async def _poll_with_drafts(db: Database, voters: int) -> list[int]:
    async with db.session() as session:
        session.add(Poll(id="c/p", key="k" * 16, anonymous=True))
        members = [Member(platform="slack", platform_user_id=f"U{i}") for i in range(voters)]
        session.add_all(members)
        await session.flush()
        ids = [int(m.id or 0) for m in members]
        await session.execute(
            sa.insert(DRAFT),
            [{"poll_id": "c/p", "member_id": i, "choices": [0], "cast": True} for i in ids],
        )
    return ids


async def _write(db: Database, ids: list[int]) -> None:
    """One ballot for each of ``ids``, written as a batch that deletes their drafts."""
    ballots = [{"id": f"{i:032x}", "poll_id": "c/p", "choices": [i % 2]} for i in ids]
    async with db.session() as session:
        drafts = sa.delete(DRAFT).where(DRAFT.c.member_id.in_(ids))
        await write_batch(session, BALLOT, ballots, drafts, len(ids))


async def _rows(db: Database) -> tuple[int, int]:
    """(ballots, drafts) stored."""
    async with db.session() as session:
        ballots = await session.scalar(sa.select(sa.func.count()).select_from(BALLOT))
        drafts = await session.scalar(sa.select(sa.func.count()).select_from(DRAFT))
    return int(ballots or 0), int(drafts or 0)


async def test_a_batch_is_written_with_its_drafts_deleted(db: Database) -> None:
    await _write(db, await _poll_with_drafts(db, 3))
    assert await _rows(db) == (3, 0)


async def test_a_batch_whose_drafts_are_gone_is_not_written(db: Database) -> None:
    # Another process wrote two of the three ballots' batch first: its drafts are gone, and
    # this batch must not count them a second time.
    ids = await _poll_with_drafts(db, 3)
    async with db.session() as session:
        await session.execute(sa.delete(DRAFT).where(DRAFT.c.member_id.in_(ids[:2])))
    with pytest.raises(Raced):
        await _write(db, ids)
    assert await _rows(db) == (0, 1)  # rolled back: no ballot, the remaining draft kept
