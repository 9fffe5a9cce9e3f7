"""Helpers for anonymous data written in batches (survey answers, poll ballots).

Rows that must not be tied to a person are written shuffled, in batches, with random ids;
the rows that said who was waiting are deleted in the same transaction. On SQLite the deleted
rows' earlier versions stay in the write-ahead log until overwritten: :func:`clear_sqlite_log`
truncates it, so a copy of the database files does not keep them.
"""

from __future__ import annotations

import logging
from typing import Any

from rallybot.storage.database import Database

__all__ = ["clear_sqlite_log"]

log = logging.getLogger("rallybot.storage")


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
