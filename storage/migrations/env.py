"""Alembic environment for Rallybot, driven by :mod:`storage.migrate` (there is no alembic.ini).

The URL comes from ``config.attributes["url"]`` (or the ``sqlalchemy.url`` option). Migrations run
on the async engine (aiosqlite or asyncpg) through ``connection.run_sync``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from rallybot.storage.database import make_engine, normalize_url
from rallybot.storage.migrate import (
    ADVISORY_LOCK_KEY,
    LOCK_WAIT_SECONDS,
    SchemaError,
    include_object,
    run_blocking,
)
from rallybot.storage.models import UTCDateTime  # importing storage.models registers every table

target_metadata = SQLModel.metadata

log = logging.getLogger("rallybot.migrate")

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database URL: use storage.migrate (it sets config.attributes['url'])"
        )
    return normalize_url(str(url))


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our own column types so that generated revisions import and use them."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import storage.models")
        return "rallybot.storage.models.UTCDateTime()"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_item=render_item,
        include_object=include_object,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit the migration SQL instead of running it (``alembic upgrade --sql``)."""
    url = _url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_sync_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    _configure(
        connection=connection,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=sqlite,
        # storage.database opens every SQLite transaction itself (BEGIN IMMEDIATE, no implicit
        # commit before DDL), so SQLite DDL is transactional too: all revisions or none.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if not sqlite:
            _wait_for_lock(connection)
        current = context.get_context().get_current_revision()
        head = context.get_head_revision()
        if current != head:  # under the lock: only the process that really migrates says so
            log.info("migrating the database schema from %s to %s", current or "empty", head)
        context.run_migrations()
        if sqlite:
            # Foreign keys are off during migrations (batch rebuilds would cascade); check that
            # the result is consistent before committing.
            problems = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
            if problems:
                raise RuntimeError(f"foreign key violations after migrating: {problems[:10]}")


def _wait_for_lock(connection: Connection) -> None:
    """Take the migration advisory lock for this transaction (PostgreSQL), waiting while
    another process holds it. Alembic reads the current revision after this, so a process
    that waited finds the schema already migrated and does nothing. The lock goes with the
    transaction: at commit, rollback, or when a killed process's connection closes."""
    wait = float(config.attributes.get("lock_wait", LOCK_WAIT_SECONDS))
    deadline = time.monotonic() + wait
    told = False
    query = text("SELECT pg_try_advisory_xact_lock(:key)")
    while not connection.execute(query, {"key": ADVISORY_LOCK_KEY}).scalar():
        if not told:
            log.info("another process is migrating the database: waiting for it")
            told = True
        if time.monotonic() >= deadline:
            raise SchemaError(f"another process held the migration lock for more than {wait:.0f} s")
        time.sleep(0.25)


async def _run_async_migrations() -> None:
    engine = make_engine(_url(), sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Run the migrations against the database, on its async driver."""
    run_blocking(_run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
