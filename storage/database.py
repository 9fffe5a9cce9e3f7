"""The database engine: SQLite (aiosqlite) or PostgreSQL (asyncpg), chosen by ``DATABASE_URL``.

Typical use::

    db = create_database("sqlite:///rallybot.db")
    async with db.session() as session:
        session.add(Member(platform="slack", platform_user_id="U1"))
    await db.dispose()

On SQLite every transaction started by :meth:`Database.session` begins with ``BEGIN IMMEDIATE``:
it takes the write lock at once, so two processes (or two coroutines) can never both read a row
as free and then both claim it; the second one waits (up to the 30-second busy timeout) until the
first commits or rolls back. :meth:`Database.read` is for transactions that only read: a plain
``BEGIN`` that takes no write lock, so readers run side by side with each other and with the one
writer (WAL).

:meth:`Database.shared` opens one transaction that every :meth:`~Database.session` and
:meth:`~Database.read` of the calling task joins until the block ends: the bot handles a burst
of inbound events that way, their effects and the closing of their journal rows committed
together.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Literal, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from rallybot.storage.search import SQLITE_FOLD, fold

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "Database",
    "DatabaseUnreachable",
    "SharedTransaction",
    "SharedTransactionFailed",
    "WriterTurns",
    "create_database",
    "make_engine",
    "normalize_url",
    "relax_commit",
    "wait_for_database",
]

_log = logging.getLogger("rallybot.storage")

Dialect = Literal["sqlite", "postgresql"]

#: How long a SQLite connection waits for another writer before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: The execution option that marks a read-only transaction (see :meth:`Database.read`).
_READ_ONLY = "rallybot_read_only"

_URL_ERROR = "DATABASE_URL must start with sqlite:/// or postgresql://"
_NO_ASYNCPG = "PostgreSQL needs the postgres extra: pip install 'rallybot[postgres]'"


def normalize_url(url: str) -> str:
    """Return ``url`` with the async driver named, for SQLAlchemy's async engine.

    ``sqlite:///x.db`` becomes ``sqlite+aiosqlite:///x.db``; ``postgresql://`` and
    ``postgres://`` become ``postgresql+asyncpg://``; URLs that already name these async
    drivers are returned unchanged.

    Raises:
        ValueError: for any other scheme (``mysql://``, ``sqlite://`` without a path, ...).
    """
    url = url.strip()
    if url.startswith(("sqlite+aiosqlite:///", "postgresql+asyncpg://")):
        return url
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    scheme = url.split("://", 1)[0] if "://" in url else url[:20]
    raise ValueError(f"{_URL_ERROR} (got a URL starting with {scheme!r})")


def _is_memory_sqlite(url: URL) -> bool:
    database = url.database or ""
    return not database or ":memory:" in database or "mode=memory" in str(url)


def make_engine(url: str, *, echo: bool = False, sqlite_foreign_keys: bool = True) -> AsyncEngine:
    """Create the async engine for ``url`` (normalized with :func:`normalize_url`).

    Args:
        url: a ``sqlite:///`` or ``postgresql://`` URL, with or without the async driver.
        echo: log every SQL statement.
        sqlite_foreign_keys: enforce foreign keys on SQLite. Migrations turn it off, because
            SQLite cannot change it inside a transaction and batch table rebuilds would
            otherwise cascade deletes.

    Raises:
        ValueError: for an unsupported URL, or an in-memory SQLite database (every connection
            would see its own empty database, and sharing one connection between sessions
            would let one session's rollback discard another's work).
    """
    sa_url = make_url(normalize_url(url))
    if sa_url.get_backend_name() == "postgresql":
        if importlib.util.find_spec("asyncpg") is None:  # the postgres extra is not installed
            raise ModuleNotFoundError(_NO_ASYNCPG, name="asyncpg")
        return create_async_engine(sa_url, echo=echo, pool_pre_ping=True)

    if _is_memory_sqlite(sa_url):
        raise ValueError("in-memory SQLite is not supported: use a file (in tests, under tmp_path)")
    # A small pool: opening an aiosqlite connection starts a thread and runs the pragmas below,
    # which cost more than most of the bot's transactions; reusing connections made inbound
    # events 2.7x faster. Pooling buys no write concurrency (BEGIN IMMEDIATE lets one writer
    # in at a time) and holds no lock between transactions. WAL is a property of the database
    # file, so readers in other processes keep working while one connection writes. Every
    # Database is disposed when its owner stops (CLI commands, the runner, test fixtures):
    # aiosqlite's worker threads would otherwise keep a finished process waiting.
    engine = create_async_engine(sa_url, echo=echo, pool_size=5, max_overflow=10)
    _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
    return engine


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    """Set per-connection pragmas and make every transaction start with BEGIN IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Stop the driver from emitting its own deferred BEGIN (and from committing before
        # DDL): the "begin" listener below opens every transaction itself.
        cast(Any, dbapi_connection).isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching a new file to WAL needs a lock for a moment.
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; fsync at checkpoints
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
            # Deleted rows (survey drafts, forgotten people) are overwritten, not left in
            # free pages for anyone reading the file.
            cursor.execute("PRAGMA secure_delete = ON")
        finally:
            cursor.close()
        # The accent- and case-blind search (storage.search): SQLite has no translate().
        cast(Any, dbapi_connection).create_function(SQLITE_FOLD, 1, fold, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


async def relax_commit(session: AsyncSession) -> None:
    """Let this transaction's commit return before PostgreSQL has flushed it to disk
    (``synchronous_commit = off``, for this transaction only).

    For high-volume records whose loss in a crash of the database server itself is harmless
    (inbound event ids, activity rows): a server crash can lose the last fraction of a second
    of them, never corrupt anything. Points, deliveries and every other write keep the default.
    A no-op on SQLite (WAL with ``synchronous = NORMAL`` already syncs at checkpoints).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL synchronous_commit TO OFF"))


T = TypeVar("T")


_SQLITE_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_CHECKPOINT_EVERY = 64
"""Commits on the event loop's connection between two checkpoints on the writer's thread."""


class _Busy(Exception):
    """Another connection holds SQLite's write lock: the transaction goes to the thread."""


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY
    return "locked" in str(exc) or "busy" in str(exc)


def _configure_direct(connection: sqlite3.Connection, busy_timeout_ms: int) -> None:
    connection.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA secure_delete = ON")


class _DirectWriter:
    """Plain ``sqlite3`` connections for write transactions made of one call each, for the
    hottest bulk writes only (recording inbound events, closing their journal rows); everything
    else goes through SQLAlchemy.

    A transaction runs on the event loop's own thread when SQLite's write lock is free (this
    process's writers take turns before they get here, so only another process can hold it):
    ``BEGIN IMMEDIATE`` there does not wait (busy timeout 0), and a few rows' INSERT and a
    ``COMMIT`` in WAL mode with ``synchronous = NORMAL`` write to the WAL file without a sync,
    in far less time than handing the transaction to a thread costs (waking it, then passing
    the GIL back and forth at every statement: that hand-over was most of the inbound
    journal's cost). When another process holds the lock, the transaction is rolled back if it
    began and runs on the writer's thread instead, which waits for the lock with the busy
    timeout. The loop's connection never checkpoints (a checkpoint syncs the database file):
    every ``_CHECKPOINT_EVERY`` commits, a passive checkpoint runs on the thread."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rallybot-sqlite")
        self._connection: sqlite3.Connection | None = None  # the thread's
        self._inline: sqlite3.Connection | None = None  # the event loop's
        self._commits = 0
        self._checkpoint: asyncio.Future[None] | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None)
            _configure_direct(connection, SQLITE_BUSY_TIMEOUT_MS)
            self._connection = connection
        return self._connection

    def _connect_inline(self) -> sqlite3.Connection:
        if self._inline is None:
            # Closed by close() on another thread; used by one writer at a time (the turns).
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            _configure_direct(connection, 0)
            connection.execute("PRAGMA wal_autocheckpoint = 0")
            self._inline = connection
        return self._inline

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return result

    def _inline_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connect_inline()
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise _Busy from exc
            raise
        try:
            result = work(connection)
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                raise _Busy from exc  # nothing was committed: the thread does it all again
            raise
        return result

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT``: on the event loop
        when the write lock is free, else on the thread (``work`` may then run twice, the
        first time rolled back)."""
        loop = asyncio.get_running_loop()
        try:
            result = self._inline_transaction(work)
        except _Busy:
            return await loop.run_in_executor(self._executor, self._transaction, work)
        self._commits += 1
        if self._commits % _CHECKPOINT_EVERY == 0 and (
            self._checkpoint is None or self._checkpoint.done()
        ):
            self._checkpoint = loop.run_in_executor(self._executor, self._checkpoint_wal)
        return result

    def _checkpoint_wal(self) -> None:
        try:
            self._connect().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # the next one, or another connection's, catches up
            _log.warning("SQLite checkpoint failed: %s", exc)

    def close(self) -> None:
        """Close the connections (the thread's on its thread) and stop the thread."""

        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        if self._inline is not None:
            self._inline.close()
            self._inline = None
        self._executor.submit(close).result()
        self._executor.shutdown(wait=True)


class WriterTurns:
    """A lock with two queues: urgent waiters get the turn before the others; each queue is
    served in arrival order."""

    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    async def acquire(self, *, urgent: bool = False) -> None:
        """Wait for the turn."""
        if not self._busy and not self._urgent and not self._normal:
            self._busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._normal).append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed the turn while being cancelled
                self.release()
            raise

    def release(self) -> None:
        """Hand the turn to the next waiter (urgent ones first), or free it."""
        for queue in (self._urgent, self._normal):
            while queue:
                turn = queue.popleft()
                if not turn.done():  # a cancelled waiter is skipped
                    turn.set_result(None)
                    return
        self._busy = False


Flush = Callable[[AsyncSession, list[dict[str, Any]]], Awaitable[None]]
"""Writes the rows deferred to it in a shared transaction (see :meth:`SharedTransaction.defer`)."""


class SharedTransaction:
    """The transaction opened by :meth:`Database.shared`: the sessions and reads of the task
    that opened it run in it (see :meth:`Database.session`).

    Rows handed to :meth:`defer_insert` are inserted together just before the commit (the
    append-only tables' group commit, :func:`storage.batching.appender`, lands here instead of
    waiting for a write turn this transaction holds); rows handed to :meth:`defer` go to their
    writer together then too (the ledger's totals: one statement for a group's awards).
    ``memo`` keeps what cannot change while the transaction holds its locks (the current
    season), for the code that joins it.
    """

    def __init__(self, db: Database, session: AsyncSession, owner: asyncio.Task[Any]) -> None:
        self.db = db
        self.session = session
        self.owner = owner
        self.memo: dict[str, Any] = {}
        self.failed: BaseException | None = None
        self.grouped = False
        """Set by whoever opens it for a group of events that can wait for their writes: an
        award without limits is then written at the end with the group's others (see
        :func:`storage.ledger.award`). Left off where a failing block is undone alone."""
        self._deferred: list[tuple[sa.Table, dict[str, Any]]] = []
        self._later: list[tuple[Flush, dict[str, Any]]] = []

    def defer_insert(self, table: sa.Table, row: dict[str, Any]) -> None:
        """Insert ``row`` into ``table`` with this transaction, at its end."""
        self._deferred.append((table, row))

    def defer(self, flush: Flush, row: dict[str, Any]) -> None:
        """Hand ``row`` to ``flush`` at the end of this transaction, with the other rows given
        to the same ``flush``, in the order they came: ``await flush(session, rows)``, once,
        before the commit. Nothing in the transaction sees the rows before then.

        A flush may defer rows in its turn. Flushes run by their ``flush_order`` attribute
        (0 when absent), lowest first, each once with every row it was given until then: the
        ledger's entries (order -1) land before the totals they add to, which are then
        written in one statement, in one lock order, with the other awards' totals."""
        self._later.append((flush, row))

    @asynccontextmanager
    async def joined(self) -> AsyncIterator[AsyncSession]:
        """The session, for one block of work. A block that raises spoils the whole
        transaction (its statements cannot be undone alone without a savepoint per block,
        which would double the round trips): the error goes on to its caller, as a session of
        its own would raise it, and the transaction is rolled back at its end."""
        try:
            yield self.session
            # Objects added to the session are written now, as a session of its own would at
            # its commit: they are let go of below.
            await self.session.flush()
        except BaseException as exc:
            if self.failed is None:
                self.failed = exc
            raise
        finally:
            self.session.expunge_all()  # as after a session of its own: nothing kept loaded

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """A block whose failure spoils the transaction even when it raised outside a session
        block (a feature that wrote, then failed): its caller may go on, the transaction is
        rolled back at its end."""
        try:
            yield
        except BaseException as exc:
            if self.failed is None:
                self.failed = exc
            raise

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A block whose failure undoes only its own work (a SAVEPOINT): the transaction goes
        on and still commits what the other blocks did. It costs two round trips, so the bot
        uses it only when a whole transaction failed once already."""
        failed, deferred, later = self.failed, len(self._deferred), len(self._later)
        nested = await self.session.begin_nested()
        try:
            yield
        except BaseException:
            await nested.rollback()
            del self._deferred[deferred:]
            del self._later[later:]
            self.failed = failed  # the block's error stays with it
            raise
        await nested.commit()

    async def _flush_deferred(self) -> None:
        while self._later:
            first = min(_order(flush) for flush, _ in self._later)
            by_flush: dict[Flush, list[dict[str, Any]]] = {}
            kept: list[tuple[Flush, dict[str, Any]]] = []
            for flush, row in self._later:
                if _order(flush) == first:
                    by_flush.setdefault(flush, []).append(row)
                else:
                    kept.append((flush, row))
            self._later = kept
            for flush, rows in by_flush.items():
                await flush(self.session, rows)
        by_table: dict[str, tuple[sa.Table, list[dict[str, Any]]]] = {}
        for table, row in self._deferred:
            by_table.setdefault(table.name, (table, []))[1].append(row)
        self._deferred.clear()
        for table, rows in by_table.values():
            await self.session.execute(sa.insert(table), rows)


def _order(flush: Flush) -> int:
    order: int = getattr(flush, "flush_order", 0)
    return order


class SharedTransactionFailed(Exception):
    """A block of work inside a shared transaction failed: the transaction was rolled back."""


_SHARED: ContextVar[SharedTransaction | None] = ContextVar("rallybot_shared_tx", default=None)


class Database:
    """An async engine and its session factory.

    Use :func:`create_database` to build one from a URL; ``async with`` disposes of it.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        """Wrap ``engine`` (built by :func:`make_engine`, so SQLite is configured)."""
        name = engine.dialect.name
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database dialect {name!r}")
        self.engine = engine
        self.dialect: Dialect = cast(Dialect, name)
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        self._write_lock: tuple[asyncio.AbstractEventLoop, WriterTurns] | None = None
        self._direct: _DirectWriter | None = None
        # PostgreSQL reads run in autocommit: no BEGIN and ROLLBACK round trips around them.
        read_options: dict[str, Any] = {_READ_ONLY: True}
        if name == "postgresql":
            read_options["isolation_level"] = "AUTOCOMMIT"
        self._readers = async_sessionmaker(
            engine.execution_options(**read_options), expire_on_commit=False
        )

    @property
    def url(self) -> str:
        """The full URL, password included: pass it on (to migrations), never log it."""
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def safe_url(self) -> str:
        """The URL with the password replaced by ``***``, for logs and error messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"

    @asynccontextmanager
    async def session(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block ends, rolled back on error.

        ``session.commit()`` may also be called inside the block (a new transaction then starts
        on the next statement and is committed at the end). On SQLite, where one connection
        writes at a time, an ``urgent`` session (recording inbound events) goes before the
        others waiting for their turn.

        Inside :meth:`shared` (the same task), the session is the shared transaction's: nothing
        is committed at the end of the block, and an error in it rolls the whole shared
        transaction back (see :meth:`SharedTransaction.joined`).
        """
        shared = self.shared_transaction()
        if shared is not None:
            async with shared.joined() as session:
                yield session
            return
        async with self._writing(urgent), self.sessionmaker() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    @asynccontextmanager
    async def _writing(self, urgent: bool) -> AsyncIterator[None]:
        """On SQLite, one writing session at a time in this process: the others wait their turn
        here instead of polling the file lock (SQLite's busy handler sleeps up to 100 ms
        between tries). Other processes still meet the lock and its busy timeout."""
        if self.dialect != "sqlite":
            yield
            return
        loop = asyncio.get_running_loop()
        if self._write_lock is None or self._write_lock[0] is not loop:
            self._write_lock = (loop, WriterTurns())
        turns = self._write_lock[1]
        await turns.acquire(urgent=urgent)
        try:
            yield
        finally:
            turns.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only: on SQLite it takes no write lock, so it neither waits for
        the writer nor holds other writers up; on PostgreSQL each statement runs on its own
        (autocommit), which saves two round trips (use :meth:`session` when several reads must
        see one snapshot). Writing in it is a bug (on SQLite it fails with
        "database is locked" when another connection writes). Nothing is committed: closing
        the session ends the transaction, and the rows read stay loaded.

        Inside :meth:`shared` (the same task), it reads in the shared transaction, so it sees
        what that transaction wrote."""
        shared = self.shared_transaction()
        if shared is not None:
            async with shared.joined() as session:
                yield session
            return
        async with self._readers() as session:
            yield session

    async def write_sqlite(
        self, work: Callable[[sqlite3.Connection], T], *, urgent: bool = False
    ) -> T:
        """SQLite only: ``work(connection)`` in one write transaction on a plain ``sqlite3``
        connection, on the event loop when no other process holds the write lock, else on a
        thread of its own (see :class:`_DirectWriter`: ``work`` may then run twice, the first
        time rolled back); it takes its turn with the process's other writers like
        :meth:`session`."""
        if self.dialect != "sqlite":
            raise RuntimeError("write_sqlite is for SQLite databases")
        if self.shared_transaction() is not None:  # it would wait for the turn the task holds
            raise RuntimeError("write_sqlite cannot run inside a shared transaction")
        if self._direct is None:
            self._direct = _DirectWriter(str(self.engine.url.database))
        async with self._writing(urgent):
            return await self._direct.run(work)

    async def fetch_postgresql(self, statement: str, *args: object) -> list[Any]:
        """PostgreSQL only: the rows of one SQL ``statement`` (asyncpg's ``$1`` parameters),
        sent on a pooled connection outside any transaction, so that it commits on its own
        (durably: ``synchronous_commit`` is left as it is) in one round trip, where a session
        costs three more (``BEGIN``, ``COMMIT``, SQLAlchemy's statements one by one); asyncpg
        prepares it once per connection. For the hottest bulk writes only (recording inbound
        events, closing their journal rows), each a single statement."""
        if self.dialect != "postgresql":
            raise RuntimeError("fetch_postgresql is for PostgreSQL databases")
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            return list(await driver.fetch(statement, *args))

    def shared_transaction(self) -> SharedTransaction | None:
        """The :meth:`shared` transaction the current task is in, on this database."""
        shared = _SHARED.get()
        if shared is None or shared.db is not self:
            return None
        try:
            task = asyncio.current_task()
        except RuntimeError:
            return None
        # Tasks started inside the block inherit the context, not the transaction: a session
        # is used by one task at a time.
        return shared if task is shared.owner else None

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[SharedTransaction]:
        """One write transaction that the current task's sessions and reads join until the
        block ends (see :meth:`session`); committed at the end with the deferred rows, rolled
        back entirely on error, or with :class:`SharedTransactionFailed` when a block of work
        inside failed (even if its caller went on). Nested, it joins the outer one."""
        outer = self.shared_transaction()
        if outer is not None:
            yield outer
            return
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a shared transaction needs a running task")
        async with self.session() as session:
            shared = SharedTransaction(self, session, task)
            token = _SHARED.set(shared)
            try:
                yield shared
                if shared.failed is not None:
                    raise SharedTransactionFailed(type(shared.failed).__name__) from shared.failed
                await shared._flush_deferred()
            finally:
                _SHARED.reset(token)

    async def dispose(self) -> None:
        """Close every pooled connection. The object can still be used afterwards."""
        if self._direct is not None:
            direct, self._direct = self._direct, None
            await asyncio.to_thread(direct.close)
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.dispose()


def create_database(url: str, *, echo: bool = False) -> Database:
    """Create a :class:`Database` for a ``sqlite:///`` or ``postgresql://`` URL.

    No connection is made until the first session.

    Raises:
        ValueError: for an unsupported or in-memory URL (see :func:`make_engine`).
    """
    return Database(make_engine(url, echo=echo))


class DatabaseUnreachable(Exception):
    """The database could not be reached at start; the message is one line, no password.

    Its parts are kept too, for a caller that words it in a reader's language (the CLI):
    :attr:`url` (no password), :attr:`reason`, :attr:`kind` (``"sqlite"``: a local file that
    cannot be used; ``"unusable"``: a failure waiting cannot fix; ``"timeout"``: still
    unreachable after :attr:`waited` seconds and :attr:`attempts` attempts)."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        reason: str = "",
        kind: str = "unusable",
        waited: float = 0.0,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.url, self.reason, self.kind = url, reason, kind
        self.waited, self.attempts = waited, attempts


#: Driver errors that mean "not there yet" (the server starting up, or full): worth a retry.
_TRANSIENT_ERRORS = frozenset(
    {"CannotConnectNowError", "TooManyConnectionsError", "ConnectionFailureError"}
)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _is_transient(exc: BaseException) -> bool:
    """Whether waiting may help: refused or reset connections, unknown host names (a
    container not started yet), timeouts, a server starting up. A wrong password, a missing
    database or an unusable SQLite file will not get better."""
    for cause in _causes(exc):
        if type(cause).__name__ in _TRANSIENT_ERRORS:
            return True
        if isinstance(cause, OSError | TimeoutError) and not isinstance(cause, sqlite3.Error):
            return True
    return False


def _reason(exc: BaseException) -> str:
    """The innermost error's message on one line, e.g. "Connect call failed ('db', 5432)"."""
    cause = _causes(exc)[-1]
    if isinstance(cause, TimeoutError):
        return "timed out"
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


async def _open_sqlite(path: str, safe: str) -> None:
    """Open the SQLite file (created if missing, as the engine would) and run ``SELECT 1``."""

    def probe() -> None:
        connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            connection.execute("SELECT 1")
        finally:
            connection.close()

    try:
        await asyncio.to_thread(probe)
    except sqlite3.Error as exc:
        raise DatabaseUnreachable(
            f"Cannot use the database {safe}: {exc} "
            "(does its folder exist, and may this user write there?)",
            url=safe,
            reason=str(exc),
            kind="sqlite",
        ) from None


async def wait_for_database(
    url: str,
    *,
    within: float,
    first_delay: float = 0.5,
    max_delay: float = 10.0,
    attempt_timeout: float = 10.0,
) -> int:
    """Connect to ``url`` and run ``SELECT 1``, retrying with exponential backoff (``first_delay``
    doubling up to ``max_delay``) while the failure is transient, for up to ``within`` seconds
    in all. Each retry is logged as a warning (the URL without its password).

    Returns:
        The number of attempts made.

    Raises:
        DatabaseUnreachable: after ``within`` seconds, or at once for a failure that waiting
            cannot fix (wrong password, missing database, unusable SQLite file).
        ValueError: for an unsupported URL (see :func:`make_engine`).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    engine = make_engine(url)
    safe = make_url(url.strip()).render_as_string(hide_password=True)
    if engine.dialect.name == "sqlite":
        # a local file: nothing to wait for. Opened with the plain driver, because an aiosqlite
        # connection that fails to open leaves its worker thread to outlive the event loop
        await engine.dispose()
        await _open_sqlite(str(engine.url.database), safe)
        return 1
    delay, attempt = first_delay, 0
    try:
        while True:
            attempt += 1
            try:
                timeout = max(0.1, min(attempt_timeout, deadline - loop.time()))
                async with asyncio.timeout(timeout), engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                return attempt
            except Exception as exc:
                reason = _reason(exc)
                left = deadline - loop.time()
                if not _is_transient(exc):
                    raise DatabaseUnreachable(
                        f"Cannot use the database {safe}: {reason}", url=safe, reason=reason
                    ) from None
                if left <= 0:
                    attempts = "attempt" if attempt == 1 else "attempts"
                    waited = f" after {within:g} s and {attempt} {attempts}" if within else ""
                    raise DatabaseUnreachable(
                        f"Cannot reach the database {safe}{waited}: {reason} "
                        "(RALLYBOT_DB_WAIT_SECONDS sets how long to wait)",
                        url=safe,
                        reason=reason,
                        kind="timeout",
                        waited=within,
                        attempts=attempt,
                    ) from None
                pause = min(delay, left)
                _log.warning(
                    "database %s not reachable yet (%s); retrying in %.1f s", safe, reason, pause
                )
                await asyncio.sleep(pause)
                delay = min(delay * 2, max_delay)
    finally:
        await engine.dispose()
