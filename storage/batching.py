"""Group commit: many coroutines' small writes go to the database together, in one transaction.

A coroutine calls :meth:`GroupCommit.submit` and waits for its own result. While one batch is
being written, the items submitted in the meantime gather; when the write ends they go together
in the next one. Nothing waits for a timer: an item alone is written at once, and under load the
batches grow by themselves. This is how databases commit their own logs (group commit) and how
Rallybot records a burst of inbound events at a transaction per batch instead of per event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

import sqlalchemy as sa

from rallybot.storage.database import Database, relax_commit

__all__ = ["Appender", "GroupCommit", "appender"]

log = logging.getLogger("rallybot.storage")

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Batches the items submitted by concurrent coroutines into calls of ``write``.

    ``write(items)`` must return one result per item, in order, and must be all-or-nothing (one
    transaction). When it raises for a batch, each item is written again on its own, so only
    the faulty ones get the exception.
    """

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, max_batch: int = 500
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._write = write
        self._max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # how many writes so far (for benchmarks and tests)

    async def submit(self, item: T) -> R:
        """Write ``item`` with whatever else is waiting; its result once committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        loop = asyncio.get_running_loop()
        if self._writer is not None and self._writer.get_loop() is not loop:
            self._writer, self._queue = None, []  # left behind by a finished event loop
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: len(batch)]
            try:
                await self._settle(batch)
            finally:
                self.batches += 1

    async def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for a batch of {len(batch)}")
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            # One bad item must not sink the others: each is tried again on its own.
            log.warning(
                "a batch of %d writes failed (%s); writing them one by one", len(batch), exc
            )
            for one in batch:
                await self._settle([one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


class Appender:
    """Inserts rows into an append-only table, a burst at a time (see :func:`appender`)."""

    def __init__(self, db: Database, table: sa.Table) -> None:
        self._db = db
        self._table = table

        async def insert(rows: Sequence[dict[str, Any]]) -> list[None]:
            async with db.session() as session:
                await relax_commit(session)
                await session.execute(sa.insert(table), list(rows))
            return [None] * len(rows)

        self._group: GroupCommit[dict[str, Any], None] = GroupCommit(insert)

    @property
    def batches(self) -> int:
        """How many transactions of its own it wrote so far (for benchmarks and tests)."""
        return self._group.batches

    async def submit(self, row: dict[str, Any]) -> None:
        """Insert ``row``: with the rows submitted meanwhile, in a transaction of their own
        (returns once committed), or, inside a shared transaction
        (:meth:`~storage.database.Database.shared`), with that transaction's work."""
        shared = self._db.shared_transaction()
        if shared is not None:
            shared.defer_insert(self._table, row)
            return
        await self._group.submit(row)


_appenders: WeakKeyDictionary[Database, dict[str, Appender]] = WeakKeyDictionary()


def appender(db: Database, table: sa.Table) -> Appender:
    """The writer of an append-only ``table`` of ``db``: each :meth:`~Appender.submit` returns
    once its row is committed, with the others submitted meanwhile (or it goes with the
    caller's shared transaction)."""
    by_table = _appenders.get(db)
    if by_table is None:
        by_table = _appenders[db] = {}
    writer = by_table.get(table.name)
    if writer is None:
        writer = by_table[table.name] = Appender(db, table)
    return writer
