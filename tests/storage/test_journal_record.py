"""storage.journal.record and Database.write_sqlite: what the inbound journal's fast paths
must keep (each new event gets its own row, retries and duplicates none; SQLite's write on
the event loop never waits there for another process's lock)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from rallybot.storage import journal
from rallybot.storage.database import Database, create_database
from rallybot.storage.journal_models import InboundJournal
from rallybot.storage.models import InboundEvent

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

NOW = datetime(2026, 9, 15, 8, 42, 17, tzinfo=UTC)


def _item(event_id: str, member: str = "slack:U1") -> journal.Recorded:
    return journal.Recorded("slack", event_id, "reaction_added", member, f"payload of {event_id}")


async def _payloads(db: Database) -> dict[int, str]:
    async with db.read() as session:
        rows = await session.execute(select(InboundJournal.id, InboundJournal.payload))
        return {int(row[0]): str(row[1]) for row in rows}


async def test_each_new_event_gets_its_own_row_and_retries_and_duplicates_none(
    db: Database,
) -> None:
    first = await journal.record(db, [_item("E1"), _item("E2")], "w1", NOW)
    assert None not in first and len(set(first)) == 2

    # A retry of E2, a new E3, E3 again in the same burst, a new E4, E1 again.
    batch = [_item("E2"), _item("E3"), _item("E3"), _item("E4", "slack:U2"), _item("E1")]
    ids = await journal.record(db, batch, "w1", NOW)

    assert ids[0] is None and ids[2] is None and ids[4] is None
    assert ids[1] is not None and ids[3] is not None and ids[1] != ids[3]
    payloads = await _payloads(db)
    assert len(payloads) == 4
    # Every id names the row of its own event (not a neighbour's in the burst).
    for event_id, journal_id in [("E1", first[0]), ("E2", first[1]), ("E3", ids[1])]:
        assert journal_id is not None and payloads[journal_id] == f"payload of {event_id}"
    assert ids[3] is not None and payloads[ids[3]] == "payload of E4"
    async with db.read() as session:
        kept = (await session.execute(select(func.count()).select_from(InboundEvent))).scalar()
        hours = (await session.execute(select(InboundJournal.received_at))).scalars().all()
    assert kept == 4
    assert set(hours) == {journal.hour_of(NOW)}


async def test_a_large_burst_keeps_each_event_with_its_id(db: Database) -> None:
    batch = [_item(f"E{i:04d}", f"slack:U{i % 7}") for i in range(700)]
    ids = await journal.record(db, batch, "w1", NOW)
    payloads = await _payloads(db)
    assert [payloads[i] for i in ids if i is not None] == [
        f"payload of E{i:04d}" for i in range(700)
    ]


async def test_closed_rows_keep_nothing_of_their_event(db: Database) -> None:
    ids = [i for i in await journal.record(db, [_item("E1"), _item("E2")], "w1", NOW) if i]
    await journal.mark_handled(db, ids[:1], NOW)
    async with db.read() as session:
        rows = {
            int(r[0]): (r[1], r[2], r[3])
            for r in await session.execute(
                select(
                    InboundJournal.id,
                    InboundJournal.payload,
                    InboundJournal.handled_at,
                    InboundJournal.member_key,
                )
            )
        }
    assert rows[ids[0]] == ("", journal.hour_of(NOW), "")
    assert rows[ids[1]] == ("payload of E2", None, "slack:U1")
    assert await journal.unhandled_count(db) == 1


@sqlite_only
async def test_sqlite_writes_do_not_hold_the_event_loop_while_another_process_writes(
    db_url: str,
) -> None:
    """Another process (here: another connection on a thread) holds the write lock for a
    while: the write waits for it off the event loop, which keeps running, then commits."""
    db = create_database(db_url)
    path = db_url.removeprefix("sqlite:///")
    locked, release = threading.Event(), threading.Event()

    def other_process() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(10)
            connection.execute("COMMIT")
        finally:
            connection.close()

    holder = threading.Thread(target=other_process)
    holder.start()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    try:
        assert await asyncio.to_thread(locked.wait, 10)
        writing = asyncio.create_task(journal.record(db, [_item("E1")], "w1", NOW))
        await asyncio.sleep(0.3)
        assert not writing.done()
        assert ticks >= 10  # the loop ran while the write waited for the lock
        release.set()
        ids = await asyncio.wait_for(writing, timeout=10)
        assert ids[0] is not None
        assert (await _payloads(db)) == {ids[0]: "payload of E1"}
    finally:
        release.set()
        ticking.cancel()
        await asyncio.to_thread(holder.join, 10)
        await db.dispose()


@sqlite_only
async def test_a_sqlite_write_that_fails_leaves_nothing_and_the_next_one_commits(
    db: Database,
) -> None:
    def half_then_fail(connection: sqlite3.Connection) -> None:
        connection.execute(
            "INSERT INTO inbound_event (platform, event_id, kind, received_at)"
            " VALUES ('slack', 'E1', 'x', '2026-09-15 08:00:00.000000')"
        )
        raise ValueError("broken batch")

    with pytest.raises(ValueError, match="broken batch"):
        await db.write_sqlite(half_then_fail, urgent=True)
    assert await journal.record(db, [_item("E1")], "w1", NOW) != [None]
    async with db.read() as session:
        assert (await session.execute(select(func.count()).select_from(InboundEvent))).scalar() == 1
