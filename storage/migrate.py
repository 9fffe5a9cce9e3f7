"""Alembic migrations, run from code: no ``alembic.ini``, so they work from an installed package.

``upgrade(url)`` brings a database to the newest revision; ``current_revision(url)`` says where
it is. For schema changes during development::

    python -m rallybot.storage.migrate --url sqlite:///dev.db revision -m "add ledger"

autogenerates ``storage/migrations/versions/<n>_add_ledger.py`` from the difference between the
models and that (migrated) database; review it by hand before committing.

One process migrates at a time: on PostgreSQL the migration transaction first takes an advisory
lock (:data:`ADVISORY_LOCK_KEY`, see ``migrations/env.py``), on SQLite :func:`upgrade` holds a
lock file beside the database. The others wait, then find the schema at head and do nothing.
Read-only commands never migrate: they call :func:`schema_status` and say when it is behind.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import make_url
from sqlalchemy.engine import Connection

from rallybot.storage.database import make_engine, normalize_url

__all__ = [
    "ADVISORY_LOCK_KEY",
    "LOCK_WAIT_SECONDS",
    "MIGRATIONS_DIR",
    "OPTIONAL_INDEXES",
    "SchemaError",
    "SchemaStatus",
    "alembic_config",
    "current_revision",
    "downgrade",
    "ensure_schema",
    "head_revision",
    "include_object",
    "make_revision",
    "run_blocking",
    "schema_status",
    "sqlite_lock_path",
    "upgrade",
    "upgrade_async",
]

log = logging.getLogger("rallybot.migrate")

#: The PostgreSQL advisory lock taken by the migration transaction ("RLBT" in ASCII): one
#: database-wide number, so that every Rallybot process agrees on it.
ADVISORY_LOCK_KEY = 0x524C4254

#: How long a process waits for another one's migration before giving up with an error.
LOCK_WAIT_SECONDS = 600.0

#: Polling interval while another process holds the migration lock.
_LOCK_POLL_SECONDS = 0.25

#: The Alembic script directory, shipped as package data beside this module.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: Indexes a migration creates only where it can (the trigram indexes of 0024 and 0029 need
#: PostgreSQL's pg_trgm extension): the models do not declare them, and comparing the schema
#: with the models leaves them out, present or not (0029 replaced 0024's index on the names,
#: which the search reads without accents now; going back below 0029 brings it back).
OPTIONAL_INDEXES = frozenset(
    {
        "ix_member_search_name",
        "ix_member_search_folded_name",
        "ix_member_search_email",
        "ix_member_search_user_id",
    }
)

_T = TypeVar("_T")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter when comparing the schema with the models: not the optional
    indexes."""
    return not (type_ == "index" and name in OPTIONAL_INDEXES)


def run_blocking(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion from synchronous code and return its result.

    It runs on a private event loop (the thread's current loop, if any, is left alone). When this
    thread is already running an event loop, the coroutine runs on a worker thread instead, and
    this call blocks until it is done.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            return runner.run(coro)

    def in_worker() -> _T:
        return run_blocking(coro)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(in_worker).result()


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for our script directory, targeting ``url`` when given."""
    config = Config()
    # Config values go through configparser interpolation: a literal "%" must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    # Newly generated revisions ("0002_add_ledger.py") are linted and formatted like the code.
    config.set_section_option("post_write_hooks", "hooks", "ruff_format, ruff_fix")
    for name, options in (
        ("ruff_format", "format REVISION_SCRIPT_FILENAME"),
        ("ruff_fix", "check --fix --quiet REVISION_SCRIPT_FILENAME"),
    ):
        config.set_section_option("post_write_hooks", f"{name}.type", "module")
        config.set_section_option("post_write_hooks", f"{name}.module", "ruff")
        config.set_section_option("post_write_hooks", f"{name}.options", options)
    if url is not None:
        # Passed as an attribute, not an option: passwords may contain "%".
        config.attributes["url"] = normalize_url(url)
    return config


class SchemaError(RuntimeError):
    """The database schema cannot be used by this version of Rallybot (see the message)."""


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands against the code's newest revision."""

    current: str | None
    head: str | None

    @property
    def at_head(self) -> bool:
        """The schema is the one this code expects."""
        return self.current == self.head

    @property
    def empty(self) -> bool:
        """The database was never migrated."""
        return self.current is None

    @property
    def ahead(self) -> bool:
        """The database was migrated by a newer Rallybot (a revision this code does not ship)."""
        if self.current is None:
            return False
        script = ScriptDirectory.from_config(alembic_config())
        try:
            return script.get_revision(self.current) is None
        except Exception:  # alembic raises its own errors for unknown ids
            return True

    def explain(self) -> str:
        """One sentence for a person: where the schema is and what to do."""
        if self.at_head:
            return f"The database schema is up to date (revision {self.current})."
        if self.empty:
            return (
                "The database has no schema yet: run `rallybot db upgrade` "
                "(or start the bot, which migrates it)."
            )
        if self.ahead:
            return (
                f"The database schema is at revision {self.current}, which this version of "
                f"Rallybot does not know (it expects {self.head}): a newer version migrated it."
            )
        return (
            f"The database schema is behind: revision {self.current}, this version of Rallybot "
            f"needs {self.head}. Run `rallybot db upgrade` (or start the bot, which migrates it)."
        )


def sqlite_lock_path(url: str) -> Path | None:
    """The migration lock file of a SQLite database (None for PostgreSQL)."""
    sa_url = make_url(normalize_url(url))
    if sa_url.get_backend_name() != "sqlite" or not sa_url.database:
        return None
    return Path(sa_url.database).with_name(Path(sa_url.database).name + ".migrate-lock")


@contextlib.contextmanager
def _sqlite_lock(url: str, wait: float) -> Iterator[None]:
    """Hold the SQLite database's migration lock file (an ``flock``: the kernel drops it
    when the holder dies, so a killed migration never leaves a stale lock)."""
    path = sqlite_lock_path(url)
    try:
        import fcntl  # noqa: PLC0415 (POSIX only)
    except ImportError:  # no flock (Windows): SQLite's own write lock still serialises
        fcntl = None  # type: ignore[assignment]
    if path is None or fcntl is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    log.info("another process is migrating the database: waiting for it")
                    told = True
                if time.monotonic() >= deadline:
                    raise SchemaError(
                        f"another process held the migration lock for more than {wait:.0f} s"
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def upgrade(url: str, revision: str = "head", *, wait: float = LOCK_WAIT_SECONDS) -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the newest), under the
    migration lock: when several processes call it together, one migrates and the others wait
    (up to ``wait`` seconds), then find nothing left to do.

    Synchronous; callable from a running event loop too (it then blocks that loop until done),
    but prefer :func:`upgrade_async` there.
    """
    config = alembic_config(url)
    config.attributes["lock_wait"] = wait  # read by migrations/env.py (PostgreSQL)
    with _sqlite_lock(url, wait):
        command.upgrade(config, revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """:func:`upgrade`, run on a worker thread so that the event loop keeps running."""
    await asyncio.to_thread(upgrade, url, revision)


async def ensure_schema(url: str) -> SchemaStatus:
    """Migrate to head under the lock (or wait for the process that does), then check that the
    schema is at head; raises :class:`SchemaError` when it is not (a newer version migrated it,
    or a migration failed)."""
    status = await asyncio.to_thread(schema_status, url)
    if status.ahead:
        raise SchemaError(status.explain())
    if not status.at_head:
        await upgrade_async(url)
        status = await asyncio.to_thread(schema_status, url)
    if not status.at_head:
        raise SchemaError(status.explain())
    return status


def schema_status(url: str) -> SchemaStatus:
    """Where the schema of ``url`` stands; reads only (never creates or migrates anything)."""
    return SchemaStatus(current=current_revision(url), head=head_revision())


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"``: drop everything)."""
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    """The newest revision shipped with the code (``None`` if there is none)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at; ``None`` if it was never migrated.

    A SQLite file that does not exist yet is reported as ``None`` and is not created.
    """
    normalized = normalize_url(url)
    sa_url = make_url(normalized)
    if sa_url.get_backend_name() == "sqlite" and not Path(sa_url.database or "").exists():
        return None

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async def fetch() -> str | None:
        engine = make_engine(normalized)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return run_blocking(fetch())


def make_revision(
    url: str, message: str, *, autogenerate: bool = True, rev_id: str | None = None
) -> Path:
    """Write a new revision file and return its path.

    Args:
        url: a database already at head; autogenerate compares the models with it.
        message: a short description, also used in the file name.
        autogenerate: fill the revision from the models (otherwise it is empty).
        rev_id: the revision id; by default the next number after the current head ("0002").
    """
    config = alembic_config(url)
    if rev_id is None:
        head = head_revision()
        rev_id = f"{int(head) + 1:04d}" if head and head.isdigit() else None
    script = command.revision(config, message=message, autogenerate=autogenerate, rev_id=rev_id)
    if script is None or isinstance(script, list):
        raise RuntimeError("alembic did not write exactly one revision")
    return Path(script.path)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m rallybot.storage.migrate --url URL {upgrade,downgrade,current,revision}``."""
    parser = argparse.ArgumentParser(prog="python -m rallybot.storage.migrate", description=__doc__)
    parser.add_argument("--url", required=True, help="sqlite:///file.db or postgresql://...")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("upgrade").add_argument("revision", nargs="?", default="head")
    sub.add_parser("downgrade").add_argument("revision")
    sub.add_parser("current")
    rev = sub.add_parser("revision")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--empty", action="store_true", help="do not autogenerate")
    args = parser.parse_args(argv)

    if args.cmd == "upgrade":
        upgrade(args.url, args.revision)
    elif args.cmd == "downgrade":
        downgrade(args.url, args.revision)
    elif args.cmd == "current":
        print(current_revision(args.url) or "(none)")
    else:
        print(make_revision(args.url, args.message, autogenerate=not args.empty))


if __name__ == "__main__":
    main()
