"""Shared fixtures: a migrated database, on SQLite and on PostgreSQL.

``db_url``
    Parametrised over ``sqlite`` and ``postgresql`` (those are the test ids), so every test that
    uses it runs twice. It is a plain URL (``sqlite:///...`` or ``postgresql://...``) to a
    database migrated to the newest revision, with empty tables:

    - sqlite: a fresh file in the test's ``tmp_path`` (a copy of a file migrated once per session
      with :func:`storage.migrate.upgrade`).
    - postgresql: one database per test session, ``rallybot_test_<8 hex>``, created on the server
      of ``RALLYBOT_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
      migrated once and dropped at the end; every table is truncated (identities restarted)
      before each test.

    If PostgreSQL cannot be reached, the ``postgresql`` variants are skipped with a hint on how
    to start it, except when ``CI=true``: then they fail.

``db``
    A :class:`storage.database.Database` on ``db_url`` (async fixture), disposed after the test.

To run a test on one backend only: ``@pytest.mark.parametrize("db_url", ["sqlite"],
indirect=True)``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url

from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import run_blocking, upgrade

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _asyncpg_dsn(url: str) -> str:
    """The URL in the form asyncpg accepts (no ``+asyncpg`` driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_pg_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_pg_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _truncate_pg_tables(url: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        tables = await conn.fetch(
            "SELECT quote_ident(tablename) AS name FROM pg_tables"
            " WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
        )
        if tables:
            names = ", ".join(row["name"] for row in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; tests get copies."""
    path = tmp_path_factory.mktemp("sqlite-template") / "rallybot.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_database_url() -> Iterator[str]:
    """Create, migrate and finally drop this session's PostgreSQL database."""
    admin_url = os.environ.get("RALLYBOT_TEST_PG_URL", DEFAULT_PG_URL)
    name = f"rallybot_test_{uuid.uuid4().hex[:8]}"
    try:
        run_blocking(_create_pg_database(admin_url, name))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        safe = make_url(admin_url).render_as_string(hide_password=True)
        message = (
            f"PostgreSQL is not usable at {safe} ({type(exc).__name__}: {exc}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or set "
            "RALLYBOT_TEST_PG_URL to a server where databases may be created."
        )
        if in_ci():
            pytest.fail(f"{message} CI=true: PostgreSQL tests must run.", pytrace=False)
        pytest.skip(f"{message} (Not skipped but failed when CI=true.)")
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        run_blocking(_drop_pg_database(admin_url, name))


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to a migrated database with empty tables, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "rallybot.db"
        shutil.copyfile(template, path)
        wal = template.with_name(template.name + "-wal")  # normally checkpointed away on close
        if wal.exists():
            shutil.copyfile(wal, path.with_name(path.name + "-wal"))
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("_pg_database_url")
    run_blocking(_truncate_pg_tables(url))
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A :class:`Database` on ``db_url``, disposed after the test."""
    database = create_database(db_url)
    try:
        yield database
    finally:
        await database.dispose()


def in_ci() -> bool:
    """Whether the run is CI's (``CI=true``): a missing service fails there, never skips."""
    return os.environ.get("CI", "").lower() in ("true", "1")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt when missing (and apt is usable); without it
    the browser tests skip, but fail when ``CI=true``."""
    found = shutil.which("chromium")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        # A fresh machine may have no package lists yet: fetch them, then try again.
        for command in (install, ["apt-get", "update"], install):
            subprocess.run(command, check=False, capture_output=True, timeout=900, env=env)
            found = shutil.which("chromium")
            if found is not None:
                break
    if found is None:
        message = "chromium is not installed and could not be (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"{message}; CI=true: the browser test must run.", pytrace=False)
        pytest.skip(message)
    return found
