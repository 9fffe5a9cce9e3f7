"""One live process per worker id: a lock held for the life of the process.

A restarted process takes back the claims its worker id left at once (instead of waiting for
their lease) only if no other live process uses that id. The lock says so, and dies with its
holder: on PostgreSQL a session advisory lock on a connection kept open (the server drops it
when the connection closes, a ``kill -9`` included); on SQLite an ``flock`` on a file beside the
database (the kernel drops it when the process dies).

Without an explicit id, a process takes the first free slot of its host: ``<host>-1``,
``<host>-2``, ... so that a process restarted on the same host gets its old id back, and
replicas started side by side get distinct ones.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import zlib
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from rallybot.storage.database import Database

__all__ = ["MAX_SLOTS", "WORKER_LOCK_KEY", "WorkerIdInUse", "WorkerLock", "acquire_worker_id"]

log = logging.getLogger("rallybot.storage")

#: The first key of the two-key PostgreSQL advisory lock ("RLBW" in ASCII); the second is a
#: CRC-32 of the worker id.
WORKER_LOCK_KEY = 0x524C4257

#: How many slots ``<host>-N`` a host may use before giving up.
MAX_SLOTS = 64


class WorkerIdInUse(RuntimeError):
    """Another live process runs with this worker id."""


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


class WorkerLock:
    """The held lock of one worker id; :meth:`release` at shutdown (a crash releases it too)."""

    def __init__(
        self, worker_id: str, connection: AsyncConnection | None, handle: IO[str] | None
    ) -> None:
        self.worker_id = worker_id
        self._connection = connection
        self._on_postgres = connection is not None
        self._handle = handle

    async def keep(self, db: Database) -> bool:
        """Check that the lock is still held, and take it again if the database connection that
        held it was lost (PostgreSQL drops a session's locks with it: after a network cut,
        another process could start with this id). False when another process holds it now;
        True when it is held, or when the database cannot be reached to tell (then nobody can
        take it either; the next check tries again)."""
        if not self._on_postgres:
            return True  # an flock cannot be lost while the process lives
        if self._connection is not None:
            try:
                await self._connection.execute(sa.text("SELECT 1"))
                await self._connection.commit()
                return True
            except (sa.exc.DBAPIError, OSError):
                lost, self._connection = self._connection, None
                with contextlib.suppress(Exception):  # it is gone; closing may fail too
                    await lost.close()
                log.warning("lost the database connection holding worker id %s", self.worker_id)
        try:
            again = await _try(db, self.worker_id)
        except (sa.exc.DBAPIError, OSError):
            return True
        if again is None:
            return False
        self._connection = again._connection
        log.warning("holds worker id %s again", self.worker_id)
        return True

    async def release(self) -> None:
        """Let another process use this worker id."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:k1, :k2)"), _keys(self.worker_id)
                )
            except (sa.exc.DBAPIError, OSError):
                pass  # the connection was lost, and the server dropped the lock with it
            finally:
                with contextlib.suppress(Exception):
                    await connection.close()
        if self._handle is not None:
            handle, self._handle = self._handle, None
            handle.close()  # closing the file drops the flock


def _keys(worker_id: str) -> dict[str, Any]:
    return {"k1": WORKER_LOCK_KEY, "k2": _signed32(zlib.crc32(worker_id.encode()))}


def _lock_file(db: Database, worker_id: str) -> Path | None:
    database = make_url(db.url).database
    if not database:
        return None
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", worker_id)
    path = Path(database)
    return path.with_name(f"{path.name}.worker-{safe}.lock")


async def _try(db: Database, worker_id: str) -> WorkerLock | None:
    if db.dialect == "postgresql":
        connection = await db.engine.connect()
        try:
            got = (
                await connection.execute(
                    sa.text("SELECT pg_try_advisory_lock(:k1, :k2)"), _keys(worker_id)
                )
            ).scalar()
            await connection.commit()  # keep no transaction open: the lock is the session's
        except BaseException:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return None
        return WorkerLock(worker_id, connection, None)
    path = _lock_file(db, worker_id)
    try:
        import fcntl  # noqa: PLC0415 (POSIX only)
    except ImportError:  # no flock (Windows): trust the id, as before
        return WorkerLock(worker_id, None, None)
    if path is None:
        return WorkerLock(worker_id, None, None)
    handle = path.open("a")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return WorkerLock(worker_id, None, handle)


async def acquire_worker_id(db: Database, worker_id: str | None = None) -> WorkerLock:
    """Lock ``worker_id`` for this process, or the first free ``<host>-N`` when it is None.

    Raises:
        WorkerIdInUse: the explicit id is used by a live process (or every slot is taken).
    """
    if worker_id is not None:
        lock = await _try(db, worker_id)
        if lock is None:
            raise WorkerIdInUse(
                f'the worker id "{worker_id}" is used by another running process: give each '
                "replica its own (or none, to get one of this host's)"
            )
        return lock
    host = socket.gethostname() or "rallybot"
    for slot in range(1, MAX_SLOTS + 1):
        lock = await _try(db, f"{host}-{slot}")
        if lock is not None:
            return lock
    raise WorkerIdInUse(f"{MAX_SLOTS} processes already run on {host}")
