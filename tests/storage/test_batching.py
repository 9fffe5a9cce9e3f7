"""Group commit, batched event claims, read-only sessions and SQLite's in-process write queue."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from rallybot.storage.batching import GroupCommit, appender
from rallybot.storage.database import Database
from rallybot.storage.models import ControlFlag, InboundEvent, Member, table_of
from rallybot.storage.repositories import (
    claim_event,
    claim_events,
    get_member_by_platform_id,
    member_memo,
    upsert_member,
)

NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)


async def test_group_commit_batches_concurrent_items_and_keeps_their_results() -> None:
    seen: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        seen.append(list(items))
        await asyncio.sleep(0.01)  # a transaction takes a moment: the others gather meanwhile
        return [i * 10 for i in items]

    commit: GroupCommit[int, int] = GroupCommit(write, max_batch=40)
    results = await asyncio.gather(*(commit.submit(i) for i in range(100)))
    assert results == [i * 10 for i in range(100)]
    assert sorted(i for batch in seen for i in batch) == list(range(100))  # each item once
    assert [len(batch) for batch in seen] == [40, 40, 20]  # gathered, up to max_batch each
    assert commit.batches == 3
    seen.clear()
    assert await asyncio.wait_for(commit.submit(7), timeout=1) == 70  # alone: at once, no timer
    assert seen == [[7]]


async def test_group_commit_failure_reaches_the_faulty_item_only() -> None:
    calls: list[list[str]] = []

    async def write(items: Sequence[str]) -> list[str]:
        calls.append(list(items))
        await asyncio.sleep(0)
        if "bad" in items:
            raise ValueError("constraint failed")
        return [item.upper() for item in items]

    commit: GroupCommit[str, str] = GroupCommit(write)
    results = await asyncio.gather(
        commit.submit("a"), commit.submit("bad"), commit.submit("b"), return_exceptions=True
    )
    assert results[0] == "A" and results[2] == "B"
    assert isinstance(results[1], ValueError)
    assert calls == [["a", "bad", "b"], ["a"], ["bad"], ["b"]]  # the batch, then one by one
    assert await commit.submit("good") == "GOOD"  # the writer goes on


async def test_group_commit_rejects_a_short_result() -> None:
    async def write(items: Sequence[int]) -> list[int]:
        return []

    with pytest.raises(RuntimeError, match="0 results for a batch of 1"):
        await GroupCommit(write).submit(1)


async def test_claim_events_in_one_batch(db: Database) -> None:
    assert await claim_event(db, "slack", "Ev0", "reaction_added", NOW)
    fresh = await claim_events(
        db,
        [
            ("slack", "Ev0", "reaction_added"),  # seen before
            ("slack", "Ev1", "reaction_added"),
            ("slack", "Ev1", "reaction_added"),  # a retry inside the same burst
            ("discord", "Ev1", "reaction_added"),  # same id, other platform
            ("slack", "Ev2", "message"),
        ],
        NOW,
    )
    assert fresh == [False, True, False, True, True]
    assert await claim_events(db, [], NOW) == []
    async with db.session() as session:
        rows = (await session.execute(sa.select(InboundEvent))).scalars().all()
        # Stored as the ORM stores times (on SQLite the batch bypasses it): equal, comparable.
        cutoff = sa.select(sa.func.count()).where(table_of(InboundEvent).c.received_at < NOW)
        older = (await session.execute(cutoff)).scalar_one()
    assert len(rows) == 4 and {row.received_at for row in rows} == {NOW}
    assert {row.kind for row in rows if row.event_id == "Ev2"} == {"message"}
    assert older == 0


async def test_a_large_burst_is_recorded_in_pages(db: Database) -> None:
    events = [("slack", f"Ev{i}", "reaction_added") for i in range(1234)]
    assert await claim_events(db, events, NOW) == [True] * 1234
    assert await claim_events(db, events[::7], NOW) == [False] * len(events[::7])


async def test_concurrent_claims_of_the_same_event_let_one_through(db: Database) -> None:
    async def claim(rows: Sequence[tuple[str, str, str]]) -> list[bool]:
        return await claim_events(db, rows, NOW)

    commit: GroupCommit[tuple[str, str, str], bool] = GroupCommit(claim)
    results = await asyncio.gather(
        *(commit.submit(("slack", f"Ev{i % 50}", "reaction_added")) for i in range(200))
    )
    assert sum(results) == 50


async def test_appender_inserts_rows_together(db: Database) -> None:
    table = table_of(ControlFlag)
    writer = appender(db, table)
    assert appender(db, table) is writer  # one per database and table
    await asyncio.gather(
        *(writer.submit({"name": f"f{i}", "value": "1", "updated_at": NOW}) for i in range(30))
    )
    assert writer.batches < 30
    async with db.read() as session:
        names = (await session.execute(sa.select(table.c.name))).scalars().all()
    assert sorted(names) == sorted(f"f{i}" for i in range(30))


async def test_member_memo_reads_a_member_once_and_follows_upserts(db: Database) -> None:
    await upsert_member(db, "slack", "U1", NOW, display_name="Alice")
    queries: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "member" in statement:
            queries.append(statement)

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        with member_memo():
            first = await get_member_by_platform_id(db, "slack", "U1")
            again = await get_member_by_platform_id(db, "slack", "U1")
            assert first is again and len(queries) == 1
            await upsert_member(db, "slack", "U1", NOW, display_name="Alice B.")
            renamed = await get_member_by_platform_id(db, "slack", "U1")
            assert renamed is not None and renamed.display_name == "Alice B."
            assert await get_member_by_platform_id(db, "slack", "U404") is None
            assert await get_member_by_platform_id(db, "slack", "U404") is None  # not memoized
        queries.clear()
        await get_member_by_platform_id(db, "slack", "U1")  # outside: read again
        assert len(queries) == 1
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", count)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_reader_does_not_wait_for_the_writer_on_sqlite(db: Database) -> None:
    writing = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with db.session() as session:
            session.add(Member(platform="slack", platform_user_id="U9", created_at=NOW))
            await session.flush()
            writing.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await writing.wait()
    async with db.read() as session:  # would wait for the write lock with BEGIN IMMEDIATE
        count = await asyncio.wait_for(
            session.execute(sa.select(sa.func.count()).select_from(Member)), timeout=2
        )
        assert count.scalar_one() == 0  # the uncommitted row is not seen
    release.set()
    await task


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_writers_of_one_process_take_turns_in_order(db: Database) -> None:
    """Writers queue in order in the process instead of polling the file lock (whose busy
    handler sleeps up to 100 ms between tries and lets any waiter in next)."""
    table = table_of(ControlFlag)
    order: list[int] = []

    async def write(i: int) -> None:
        async with db.session() as session:
            await session.execute(
                sa.insert(table).values(name=f"w{i}", value=str(i), updated_at=NOW)
            )
            order.append(i)
            await asyncio.sleep(0.001)  # hold the transaction while the others queue

    await asyncio.wait_for(asyncio.gather(*(write(i) for i in range(40))), timeout=30)
    assert order == list(range(40))
    async with db.read() as session:
        total = (await session.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
    assert total == 40
