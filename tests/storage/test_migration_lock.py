"""Migrations under a lock: processes started together migrate once; read-only commands never
migrate and say when the schema is behind."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import make_url
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.storage.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    schema_status,
    sqlite_lock_path,
    upgrade,
)
from rallybot.storage.migrate import run_blocking as _run
from tests.conftest import DEFAULT_PG_URL, _create_pg_database, _drop_pg_database

runner = CliRunner()

UPGRADE = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
    "from rallybot.storage.migrate import upgrade\n"
    "upgrade(sys.argv[1])\n"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a database with no schema at all, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("_pg_database_url")  # skips (or fails on CI) without PostgreSQL
    admin = os.environ.get("RALLYBOT_TEST_PG_URL", DEFAULT_PG_URL)
    name = f"rallybot_lock_{uuid.uuid4().hex[:8]}"
    _run(_create_pg_database(admin, name))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        _run(_drop_pg_database(admin, name))


@pytest.mark.slow
def test_processes_started_together_migrate_once(empty_url: str, tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, empty_url],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    logs = []
    for proc in procs:
        _, log = proc.communicate(timeout=120)
        logs.append(log)
        assert proc.returncode == 0, log
    # Exactly one process ran the first revision; the others waited and found the schema done.
    ran_first = [log for log in logs if "migrating the database schema from empty" in log]
    assert len(ran_first) == 1, "\n----\n".join(logs)
    assert current_revision(empty_url) == head_revision()


def test_sqlite_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    path = sqlite_lock_path(f"sqlite:///{tmp_path / 'x.db'}")
    assert path == tmp_path / "x.db.migrate-lock"
    assert sqlite_lock_path("postgresql://h/db") is None


def _previous(revision: str | None) -> str:
    # The revision it revises (numbers may skip one while a branch waits to land).
    assert revision is not None
    down = ScriptDirectory.from_config(alembic_config()).get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


@pytest.mark.parametrize(
    "command", [["health"], ["campaign", "list"], ["report", "--from", "2026-09-01"]]
)
def test_read_only_commands_never_migrate_and_say_the_schema_is_behind(
    empty_url: str, command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", empty_url)
    # Empty: nothing is created, and the command says how to fix it.
    result = runner.invoke(app, command)
    assert result.exit_code == 1, result.output
    assert "rallybot db upgrade" in result.output
    assert current_revision(empty_url) is None
    # One revision behind: still untouched, and the message names both revisions.
    behind = _previous(head_revision())
    upgrade(empty_url, behind)
    result = runner.invoke(app, command, env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert behind in result.output and str(head_revision()) in result.output
    assert current_revision(empty_url) == behind
    # At head: the command works.
    upgrade(empty_url)
    result = runner.invoke(app, command, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output


def test_plan_reads_no_database(
    empty_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # plan works from the files alone: an empty database stays empty, and is not needed.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", empty_url)
    example = Path(__file__).resolve().parents[2] / "campaigns/examples/en/connect-launch.yaml"
    result = runner.invoke(app, ["plan", str(example)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert current_revision(empty_url) is None


def test_a_writing_command_migrates_and_the_status_agrees(
    empty_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", empty_url)
    assert schema_status(empty_url).empty
    result = runner.invoke(app, ["reload"])
    assert result.exit_code == 0, result.output
    status = schema_status(empty_url)
    assert status.at_head and not status.ahead
