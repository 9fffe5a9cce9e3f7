"""The members search: a fragment anywhere in a name, an e-mail or an id, in any case; on
PostgreSQL it is read from migration 0024's trigram indexes, and a server where the
``pg_trgm`` extension cannot be installed still migrates (the search then reads every row)."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from rallybot.handlers.console.act_services import search_members
from rallybot.storage.database import Database
from rallybot.storage.migrate import (
    MIGRATIONS_DIR,
    OPTIONAL_INDEXES,
    current_revision,
    head_revision,
    upgrade,
)
from rallybot.storage.models import Member
from rallybot.storage.search import ACCENTED, PLAIN
from tests.conftest import DEFAULT_PG_URL
from tests.test_steering import make_world

INDEXES = OPTIONAL_INDEXES - {"ix_member_search_name"}  # replaced by 0029's folded name
SEARCH = (
    f"SELECT id FROM member WHERE lower(translate(display_name, '{ACCENTED}', '{PLAIN}'))"
    " LIKE '%ellam%' OR lower(email) LIKE '%ellam%' OR lower(platform_user_id) LIKE '%ellam%'"
)


async def _add_members(db: Database) -> None:
    async with db.session() as session:
        session.add(Member(platform="memory", platform_user_id="U0XBELLAMX", display_name="Zed"))
        session.add(Member(platform="memory", platform_user_id="u2", display_name="Ana BELLAMY"))
        session.add(
            Member(
                platform="memory",
                platform_user_id="u3",
                display_name="Bob",
                email="bob@mail.bellamy.test",
            )
        )


async def test_a_fragment_in_the_middle_in_any_case(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    await _add_members(db)
    rows, total = await search_members(w.bot, "elLAM")
    # name, e-mail and platform id all searched, by name (case ignored) then id
    assert total == 3
    assert [r.user_id for r in rows] == ["u2", "u3", "U0XBELLAMX"]
    page, total = await search_members(w.bot, "ELLAM", limit=1, offset=1)
    assert total == 3 and [r.user_id for r in page] == ["u3"]
    assert (await search_members(w.bot, "ella y"))[1] == 0  # a fragment is read as one


async def test_a_team_a_cohort_and_names_without_accents_or_capitals(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    async with db.session() as session:
        for user_id, name, team, cohort in (
            ("u1", "Amélie Durand", "Équipe Ventes", "Été 2027"),
            ("u2", "Bastien Roy", "équipe ventes", "été 2027 bis"),
            ("u3", "Chloé Martin", "Marketing", None),
            ("u4", "Zoë Ventes_Bis", None, None),
        ):
            session.add(
                Member(
                    platform="memory",
                    platform_user_id=user_id,
                    display_name=name,
                    team=team,
                    cohort=cohort,
                )
            )

    async def found(query: str) -> list[str]:
        rows, total = await search_members(w.bot, query)
        assert total == len(rows)
        return [r.user_id for r in rows]

    assert await found("EQUIPE VENTES") == ["u1", "u2"]  # a team, any case, no accent typed
    assert await found("équipe") == ["u1", "u2"]
    assert await found("ETE 2027") == ["u1", "u2"]  # a cohort
    assert await found("amelie") == ["u1"]  # a name without its accent
    assert await found("CHLOÉ") == ["u3"]  # a capital accented letter typed
    assert await found("zoe ventes_b") == ["u4"]  # "_" is a character, not a wildcard
    assert await found("ventes") == ["u1", "u2", "u4"]  # a team and a name
    assert await found("zoe ventesxbis") == []


async def test_postgresql_reads_the_search_from_its_trigram_indexes(db: Database) -> None:
    async with db.engine.connect() as conn:
        if db.dialect != "postgresql":
            names = {
                row[0]
                for row in await conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'index'"
                )
            }
            assert not names & INDEXES  # nothing of the kind on SQLite
            return
        names = {
            row[0]
            for row in await conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'member'"
            )
        }
        assert names >= INDEXES
        # A few rows in a test: forbid the sequential scan the planner would rather do, to
        # see that the indexes answer the search's LIKE at all.
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in await conn.exec_driver_sql(f"EXPLAIN {SEARCH}"))
    for name in INDEXES:
        assert name in plan


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # an extension: PostgreSQL's
async def test_without_the_right_to_install_pg_trgm_the_migration_goes_on(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    admin = make_url(os.environ.get("RALLYBOT_TEST_PG_URL", DEFAULT_PG_URL))
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    suffix = uuid.uuid4().hex[:8]
    name, role = f"rallybot_test_noext_{suffix}", f"rallybot_noext_{suffix}"
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(f'CREATE ROLE "{role}" LOGIN')
        await conn.execute(f'CREATE DATABASE "{name}"')
        # The role owns the schema it migrates, but may not CREATE in the database: it
        # cannot install an extension, not even a trusted one.
        other = await asyncpg.connect(dsn.rsplit("/", 1)[0] + f"/{name}", timeout=5)
        try:
            await other.execute(f'CREATE SCHEMA app AUTHORIZATION "{role}"')
            await other.execute(f'ALTER ROLE "{role}" SET search_path = app')
        finally:
            await other.close()
        url = admin.set(username=role, database=name).render_as_string(hide_password=False)
        with caplog.at_level(logging.WARNING, logger="rallybot.migrate"):
            upgrade(url)
        assert current_revision(url) == head_revision()
        assert "pg_trgm" in caplog.text and "CREATE EXTENSION pg_trgm" in caplog.text
        check = await asyncpg.connect(dsn.rsplit("/", 1)[0] + f"/{name}", timeout=5)
        try:
            found = await check.fetch(
                "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_member_search%'"
            )
            assert found == []
        finally:
            await check.close()
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        await conn.close()


def test_migration_0029_indexes_the_folding_the_search_uses() -> None:
    """The index's expression is frozen in its migration: the search must write the same
    letters, or PostgreSQL would not use it."""
    from importlib import util

    path = next((MIGRATIONS_DIR / "versions").glob("0029_*.py"))
    spec = util.spec_from_file_location("migration_0029", path)
    assert spec is not None and spec.loader is not None
    migration = util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert (migration.ACCENTED, migration.PLAIN) == (ACCENTED, PLAIN)
