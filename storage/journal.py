"""The inbound journal and the replica registry, in the database.

:func:`record` writes a burst of inbound events in one transaction: the deduplication row
(``inbound_event``, a platform retry is dropped there) and, for each new event, the event itself
(``inbound_journal``). The platform is told "received" only after that commit, and the commit is
a durable one (no ``synchronous_commit = off`` here: an acknowledged event must survive a crash).
:func:`close_in` closes journal rows in the transaction of their events' effects
(:func:`mark_handled` in one of its own); :func:`adopt` hands the unhandled rows of a dead process
to a live one; :func:`purge` forgets handled rows after a while, and :func:`purge_dedup` the
deduplication rows of handled events after a while longer.

The replica registry (:func:`register`, :func:`beat`, :func:`deregister`) is a row per running
process with a heartbeat: replicas share the platform's send budget by it (:mod:`bot.budget`)
and know whose journal rows are orphans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from rallybot.storage.database import Database
from rallybot.storage.inserts import insert_for
from rallybot.storage.journal_models import InboundJournal, Replica
from rallybot.storage.models import InboundEvent, table_of
from rallybot.storage.outbox import affected
from rallybot.storage.repositories import _claim_on_sqlite

__all__ = [
    "Adopted",
    "LiveReplica",
    "Recorded",
    "adopt",
    "beat",
    "close_in",
    "deregister",
    "hour_of",
    "mark_handled",
    "purge",
    "purge_dedup",
    "record",
    "register",
    "unhandled_count",
]

J = table_of(InboundJournal).c
_IE = table_of(InboundEvent)
R = table_of(Replica).c
_SQLITE = sqlite_dialect()
_STAMP: Callable[[object], object] = J.received_at.type.dialect_impl(_SQLITE).bind_processor(
    _SQLITE
) or (lambda value: value)
"""How SQLAlchemy stores a journal time on SQLite (the same text, so comparisons hold)."""
_PAGE = 200  # journal rows per INSERT: 7 parameters each, well under SQLite's 32,766


def hour_of(moment: datetime) -> datetime:
    """``moment`` truncated to the hour: the only time the journal and the deduplication rows
    keep. To the second, the time from a member's click ("Write my answer") to the next form
    would tell how long their anonymous answer is, and so whose it is (issue 14)."""
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One inbound event to record: its deduplication key and its JSON payload."""

    platform: str
    event_id: str  # opaque: the platform's id or a keyed hash of it
    kind: str
    member_key: str
    payload: str


@dataclass(frozen=True, slots=True)
class Adopted:
    """A journal row taken over for handling."""

    id: int
    payload: str
    attempts: int


@dataclass(frozen=True, slots=True)
class LiveReplica:
    """A replica whose heartbeat is fresh."""

    worker_id: str
    started_at: float
    heartbeat_at: float


def _first_of_each(items: Sequence[Recorded]) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """The deduplication rows (one per key), and each item's index -> its key's first index."""
    first: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    owner: dict[int, int] = {}
    for index, item in enumerate(items):
        key = (item.platform, item.event_id)
        if key not in first:
            first[key] = index
            rows.append({"platform": item.platform, "event_id": item.event_id, "kind": item.kind})
        owner[index] = first[key]
    return rows, owner


async def record(
    db: Database, items: Sequence[Recorded], worker_id: str, now: datetime
) -> list[int | None]:
    """Record ``items`` in one durable transaction; for each, its journal id, or None when it
    is a retry or a duplicate (seen before, or earlier in ``items``)."""
    if not items:
        return []
    dedup, owner = _first_of_each(items)
    now = hour_of(now)
    for row in dedup:
        row["received_at"] = now
    if db.dialect == "sqlite":
        _, ids = await db.write_sqlite(
            partial(_record_on_sqlite, dedup, items, owner, worker_id, now), urgent=True
        )
    else:
        _, ids = await _record_on_postgresql(db, dedup, items, owner, worker_id, now)
    return [ids.get(index) for index in range(len(items))]


def _new_indexes(
    items: Sequence[Recorded], owner: dict[int, int], fresh: set[tuple[str, str]]
) -> list[int]:
    return [
        index
        for index, item in enumerate(items)
        if owner[index] == index and (item.platform, item.event_id) in fresh
    ]


def _record_on_sqlite(
    dedup: list[dict[str, Any]],
    items: Sequence[Recorded],
    owner: dict[int, int],
    worker_id: str,
    now: datetime,
    connection: Any,
) -> tuple[set[tuple[str, str]], dict[int, int]]:
    fresh = _claim_on_sqlite(dedup, connection)
    new = _new_indexes(items, owner, fresh)
    stamp = _STAMP(now)
    ids: dict[int, int] = {}
    for offset in range(0, len(new), _PAGE):
        page = new[offset : offset + _PAGE]
        values = ", ".join(["(?, ?, ?, ?, ?, ?, 0)"] * len(page))
        params: list[object] = []
        for index in page:
            item = items[index]
            params += [item.platform, item.kind, item.member_key, worker_id, item.payload, stamp]
        cursor = connection.execute(
            "INSERT INTO inbound_journal "
            "(platform, kind, member_key, worker_id, payload, received_at, attempts) "
            f"VALUES {values} RETURNING id",
            params,
        )
        # One INSERT in a write transaction gives its rows consecutive rowids in VALUES order
        # (max(rowid) + 1 each), whatever order RETURNING lists them in.
        returned = sorted(int(row[0]) for row in cursor)
        ids.update(zip(page, returned, strict=True))
    return fresh, ids


_PG_RECORD = """
WITH batch AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])
        AS b(platform, event_id, kind, member_key, payload, ord)
), fresh AS (
    INSERT INTO inbound_event (platform, event_id, kind, received_at)
    SELECT platform, event_id, kind, $7::timestamp FROM batch
    ON CONFLICT (platform, event_id) DO NOTHING
    RETURNING platform, event_id
), journal AS (
    INSERT INTO inbound_journal
        (platform, kind, member_key, worker_id, payload, received_at, attempts)
    SELECT b.platform, b.kind, b.member_key, $8::text, b.payload, $7::timestamp, 0
    FROM batch b JOIN fresh f ON f.platform = b.platform AND f.event_id = b.event_id
    ORDER BY b.ord
    RETURNING id
)
SELECT
    (SELECT array_agg(b.ord ORDER BY b.ord)
     FROM batch b JOIN fresh f ON f.platform = b.platform AND f.event_id = b.event_id),
    (SELECT array_agg(id ORDER BY id) FROM journal)
"""
"""The deduplication rows and the new events' journal rows in one statement (one round trip,
its own durable transaction). Rows inserted by ``INSERT ... SELECT ... ORDER BY`` take their
serial ids in that order (SQLAlchemy's sorted ``RETURNING`` relies on it too), so the sorted
ids follow the sorted positions of the new events."""


async def _record_on_postgresql(
    db: Database,
    dedup: list[dict[str, Any]],
    items: Sequence[Recorded],
    owner: dict[int, int],
    worker_id: str,
    now: datetime,
) -> tuple[set[tuple[str, str]], dict[int, int]]:
    firsts = [index for index in range(len(items)) if owner[index] == index]
    (row,) = await db.fetch_postgresql(
        _PG_RECORD,
        [items[index].platform for index in firsts],
        [items[index].event_id for index in firsts],
        [items[index].kind for index in firsts],
        [items[index].member_key for index in firsts],
        [items[index].payload for index in firsts],
        firsts,
        _naive_utc(now),
        worker_id,
    )
    new, ids = list(row[0] or ()), list(row[1] or ())
    if len(new) != len(ids):
        raise RuntimeError(f"{len(ids)} journal rows for {len(new)} new events")
    fresh = {(items[index].platform, items[index].event_id) for index in new}
    return fresh, dict(zip(new, ids, strict=True))


def _naive_utc(moment: datetime) -> datetime:
    """How a journal time is stored on PostgreSQL (UTC, without a zone: see UTCDateTime)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


_EMPTIED: dict[str, str] = {"payload": "", "member_key": "", "kind": ""}
"""What a closed journal row keeps of its event: nothing. Only its hour of arrival and of
handling stay until it is purged: a handled click's payload would tie a member to an anonymous
answer (a survey's rating, a poll's choice, a form's text) for as long as the row lives, and
its kind with precise times would date each click and form (see :func:`hour_of`).

Closed rows are kept, not deleted at once: on SQLite a new row takes the highest id + 1, so a
deleted row's id could come back to a newer event, and a late second closing (a process wrongly
taken for dead, whose rows another replica adopted and closed) would close that newer event
before it was handled. Kept until the purge, the emptied rows hold the ids back."""


async def close_in(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    """Close the journal rows ``ids`` in ``session``'s transaction: the one that wrote their
    events' effects (see :meth:`~storage.database.Database.shared`), so that a crash leaves
    both or neither. A closed row keeps neither its event nor its member."""
    for offset in range(0, len(ids), 500):
        page = list(ids[offset : offset + 500])
        await session.execute(
            sa.update(table_of(InboundJournal))
            .where(J.id.in_(page))
            .values(handled_at=hour_of(now), **_EMPTIED)
        )


async def mark_handled(db: Database, ids: Sequence[int], now: datetime) -> None:
    """Close the journal rows ``ids``: their events have been handled (in a transaction of its
    own: for the events whose effects were committed by their features). A closed row keeps
    neither its event nor its member."""
    if not ids:
        return
    if db.dialect == "sqlite":
        await db.write_sqlite(partial(_mark_on_sqlite, list(ids), _STAMP(hour_of(now))))
        return
    await db.fetch_postgresql(
        "UPDATE inbound_journal SET handled_at = $1::timestamp, payload = '', member_key = '',"
        " kind = '' WHERE id = ANY($2::int[])",
        _naive_utc(hour_of(now)),
        list(ids),
    )


def _mark_on_sqlite(ids: list[int], stamp: object, connection: Any) -> None:
    for offset in range(0, len(ids), 500):
        page = ids[offset : offset + 500]
        marks = ", ".join("?" * len(page))
        connection.execute(
            "UPDATE inbound_journal SET handled_at = ?, payload = '', member_key = '', kind = ''"
            f" WHERE id IN ({marks})",
            [stamp, *page],
        )


async def adopt(db: Database, worker_id: str, *, live_since: float, own: bool) -> list[Adopted]:
    """Take the unhandled journal rows of replicas whose heartbeat is older than
    ``live_since`` (Unix seconds) or that deregistered, and with ``own`` those left by an
    earlier life of ``worker_id`` too; in recording order. A row is adopted by one replica
    only (one UPDATE decides)."""
    live = sa.select(R.worker_id).where(R.heartbeat_at >= live_since, R.worker_id != worker_id)
    orphan = sa.and_(J.worker_id != worker_id, J.worker_id.not_in(live))
    condition = sa.or_(J.worker_id == worker_id, orphan) if own else orphan
    async with db.session() as session:
        result = await session.execute(
            sa.update(table_of(InboundJournal))
            .where(J.handled_at.is_(None), condition)
            .values(worker_id=worker_id, attempts=J.attempts + 1)
            .returning(J.id, J.payload, J.attempts)
        )
        rows = [Adopted(int(r[0]), str(r[1]), int(r[2])) for r in result]
    rows.sort(key=lambda row: row.id)
    return rows


async def unhandled_count(db: Database) -> int:
    """How many recorded events wait to be handled (all replicas)."""
    async with db.read() as session:
        result = await session.execute(
            sa.select(sa.func.count())
            .select_from(table_of(InboundJournal))
            .where(J.handled_at.is_(None))
        )
        return int(result.scalar_one())


async def purge(db: Database, handled_before: datetime) -> int:
    """Delete the journal rows handled before ``handled_before``; how many. Handling times are
    kept to the hour: a row goes up to an hour sooner than ``handled_before`` says."""
    async with db.session() as session:
        result = await session.execute(
            sa.delete(table_of(InboundJournal)).where(J.handled_at < handled_before)
        )
        return affected(result)


async def purge_dedup(db: Database, received_before: datetime) -> int:
    """Delete the deduplication rows (``inbound_event``) received before ``received_before``
    whose events have been handled; how many.

    A row goes only when no event of its platform received at its hour or earlier waits in
    the journal: an event recorded and not handled yet keeps its own row (a retry of it must
    still be dropped while it waits), and the rows after it (the two tables share the hour of
    recording, and nothing else ties a row to its event)."""
    events = _IE.c
    waiting = (
        sa.select(J.id)
        .where(
            J.handled_at.is_(None),
            J.platform == events.platform,
            J.received_at <= events.received_at,
        )
        .exists()
    )
    async with db.session() as session:
        result = await session.execute(
            sa.delete(_IE).where(events.received_at < received_before, ~waiting)
        )
        return affected(result)


async def register(db: Database, worker_id: str, platform: str, now: float) -> None:
    """Add (or restart) this process in the replica registry."""
    stmt = insert_for(db, Replica).values(
        worker_id=worker_id, platform=platform, started_at=now, heartbeat_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["worker_id"],
        set_={"platform": platform, "started_at": now, "heartbeat_at": now},
    )
    async with db.session() as session:
        await session.execute(stmt)


async def beat(
    db: Database, worker_id: str, platform: str, now: float, *, live_since: float
) -> list[LiveReplica]:
    """Renew this process's heartbeat; the replicas of ``platform`` alive since
    ``live_since`` (this one included), oldest first."""
    stmt = insert_for(db, Replica).values(
        worker_id=worker_id, platform=platform, started_at=now, heartbeat_at=now
    )
    stmt = stmt.on_conflict_do_update(index_elements=["worker_id"], set_={"heartbeat_at": now})
    async with db.session(urgent=True) as session:  # late, it would cost this replica its share
        await session.execute(stmt)
        result = await session.execute(
            sa.select(R.worker_id, R.started_at, R.heartbeat_at)
            .where(R.platform == platform, R.heartbeat_at >= live_since)
            .order_by(R.started_at, R.worker_id)
        )
        return [LiveReplica(str(r[0]), float(r[1]), float(r[2])) for r in result]


async def deregister(db: Database, worker_id: str) -> None:
    """Remove this process from the registry (a clean stop): the others take its share at
    their next heartbeat, and its unhandled journal rows at once."""
    async with db.session() as session:
        await session.execute(sa.delete(table_of(Replica)).where(R.worker_id == worker_id))
