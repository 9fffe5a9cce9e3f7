"""Alembic migrations, run from code: no ``alembic.ini``, so they work from an installed package.

``upgrade(url)`` brings a database to the newest revision; ``current_revision(url)`` says where
it is. For schema changes during development::

    python -m rallybot.storage.migrate --url sqlite:///dev.db revision -m "add ledger"

autogenerates ``storage/migrations/versions/<n>_add_ledger.py`` from the difference between the
models and that (migrated) database; review it by hand before committing.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
from collections.abc import Coroutine, Sequence
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
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_revision",
    "run_blocking",
    "upgrade",
    "upgrade_async",
]

#: The Alembic script directory, shipped as package data beside this module.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_T = TypeVar("_T")


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


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the newest).

    Synchronous; callable from a running event loop too (it then blocks that loop until done),
    but prefer :func:`upgrade_async` there.
    """
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """:func:`upgrade`, run on a worker thread so that the event loop keeps running."""
    await asyncio.to_thread(upgrade, url, revision)


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
