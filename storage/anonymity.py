"""Helpers for anonymous data written in batches (survey answers, poll ballots).

Rows that must not be tied to a person are written shuffled, in batches, with random ids;
the rows that said who was waiting are deleted in the same transaction. On SQLite the deleted
rows' earlier versions stay in the write-ahead log until overwritten: :func:`clear_sqlite_log`
truncates it, so a copy of the database files does not keep them.

The minimum group size (:data:`MIN_GROUP`) is applied through :func:`too_few` (in Python) and
:func:`too_few_sql` (in a query) by the surveys, the polls and the indicators alike, and
:func:`batch_ready` says when a batch may be written: one rule, written once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rallybot.storage.database import Database

__all__ = [
    "MIN_GROUP",
    "Raced",
    "batch_ready",
    "clear_sqlite_log",
    "release_waiting",
    "too_few",
    "too_few_sql",
    "write_batch",
]

log = logging.getLogger("rallybot.storage")

MIN_GROUP = 5
"""k: anonymous answers are written in batches of at least this many responses, a cohort or
team is kept with them only for groups of at least this many, and results broken down by
cohort or team show only groups with at least this many responses."""


def too_few(count: int) -> bool:
    """Whether a group of ``count`` anonymous responses (or ballots, or members of a cohort)
    is too small to show: some, but fewer than :data:`MIN_GROUP` (its figures would be each
    person's answer). An empty group hides nothing."""
    return 0 < count < MIN_GROUP


def too_few_sql(count: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """:func:`too_few` as a SQL condition on ``count`` (for a ``HAVING``)."""
    return count.between(1, MIN_GROUP - 1)


def batch_ready(waiting: int) -> bool:
    """Whether ``waiting`` anonymous responses (or ballots) may be written now: at least
    :data:`MIN_GROUP` of them. Never fewer, not even when the round (or the poll) closes: a
    remainder written alone is told apart by its transaction, and written with the earlier
    rows written again, by a diff of two backups or of the figures before and after the
    close. Such a remainder is deleted, not counted."""
    return waiting > 0 and not too_few(waiting)


class Raced(Exception):
    """Another process released the same drafts first (the batch's transaction rolls back)."""


async def write_batch(
    session: AsyncSession,
    table: sa.Table,
    rows: list[dict[str, Any]],
    drafts: sa.Delete,
    expected: int,
) -> None:
    """Insert ``rows`` (random ids, nothing that names a person) into ``table`` in shuffled
    order, then delete the ``drafts`` they came from, in ``session``'s transaction. Raises
    :class:`Raced` when the delete removed other than ``expected`` drafts: another process
    wrote them first, and this batch must not be written twice."""
    secrets.SystemRandom().shuffle(rows)  # the insertion order must not follow the answering
    await session.execute(sa.insert(table), rows)
    done = await session.execute(drafts)
    if getattr(done, "rowcount", 0) != expected:
        raise Raced


async def release_waiting(
    session: AsyncSession,
    table: sa.Table,
    drafts: sa.Delete,
    waiting: int,
    rows: Callable[[], Awaitable[list[dict[str, Any]]]],
    *,
    closing: bool = False,
) -> int | None:
    """Write the batch of the ``waiting`` drafts that ``drafts`` deletes, its rows built by
    ``rows``, when :func:`batch_ready`; at the close (``closing``), delete fewer drafts
    without writing them (not counted). How many were written (0: deleted uncounted); None
    when they keep waiting. Raises :class:`Raced` as :func:`write_batch` does."""
    if batch_ready(waiting):
        await write_batch(session, table, await rows(), drafts, waiting)
        return waiting
    if closing and waiting:
        await session.execute(drafts)
        return 0
    return None


async def clear_sqlite_log(db: Database) -> None:
    """Checkpoint SQLite's write-ahead log and truncate it to nothing (nothing on PostgreSQL).
    Best effort: a long read elsewhere makes it wait for the next time."""
    if db.engine.dialect.name != "sqlite":
        return
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        try:
            await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:
            log.warning("could not truncate the SQLite write-ahead log", exc_info=True)
