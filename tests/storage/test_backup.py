"""``rallybot db backup`` then ``rallybot db restore``: the database comes back identical."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.storage.backup import BackupError, backup_sqlite, restore_sqlite, sqlite_path
from rallybot.storage.database import create_database
from rallybot.storage.repositories import set_flag

NOW = datetime(2026, 9, 15, 9, 30, tzinfo=UTC)


def _dump(url: str) -> str:
    """The whole database as SQL text: schema and rows."""
    path = sqlite_path(url)
    if path is not None:
        with sqlite3.connect(path) as connection:
            return "\n".join(connection.iterdump())
    done = subprocess.run(
        ["pg_dump", "--no-owner", "--format=plain", f"--dbname={url}"],
        capture_output=True,
        text=True,
        check=True,
    )
    # pg_dump writes a random \restrict key into each dump (CVE-2025-8714): not content.
    return "\n".join(
        line for line in done.stdout.splitlines() if not line.startswith(("\\restrict", "\\unr"))
    )


async def _set(url: str, name: str, value: str) -> None:
    db = create_database(url)
    try:
        await set_flag(db, name, value, NOW)
    finally:
        await db.dispose()


async def test_backup_then_restore_gives_the_same_dump(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sqlite_path(db_url) is None and shutil.which("pg_dump") is None:
        pytest.fail(
            "pg_dump is needed for the PostgreSQL backup (apt-get install postgresql-client)"
        )
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    await _set(db_url, "reload", "requested")
    original = _dump(db_url)
    runner = CliRunner()

    saved = runner.invoke(app, ["--locale", "en", "db", "backup", str(tmp_path / "backup.db")])
    assert saved.exit_code == 0, saved.output
    assert "Backed up to" in saved.output

    await _set(db_url, "reload", "changed after the backup")
    await _set(db_url, "another", "flag")
    assert _dump(db_url) != original

    restored = runner.invoke(app, ["db", "restore", str(tmp_path / "backup.db"), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _dump(db_url) == original


def test_backup_refuses_to_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "live.db"
    sqlite3.connect(database).close()
    (tmp_path / "old.db").write_text("keep me")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["db", "backup", str(tmp_path / "old.db")])
    assert result.exit_code == 1
    assert (tmp_path / "old.db").read_text() == "keep me"


def test_restore_refuses_a_file_that_is_no_database(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    with sqlite3.connect(live) as connection:
        connection.execute("CREATE TABLE t (x)")
        connection.execute("INSERT INTO t VALUES (1)")
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("this is not a database " * 100)
    with pytest.raises(BackupError, match="not a SQLite database"):
        restore_sqlite(not_a_db, live)
    with pytest.raises(BackupError, match="no such file"):
        backup_sqlite(tmp_path / "missing.db", tmp_path / "copy.db")
    with sqlite3.connect(live) as connection:
        assert connection.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_a_failed_pg_dump_says_why_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed (apt-get install postgresql-client)")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret-pw@127.0.0.1:9/none")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["--locale", "en", "db", "backup", str(tmp_path / "x.dump")])
    assert result.exit_code == 1, result.output
    assert "Backup failed: pg_dump failed:" in result.output
    assert "secret-pw" not in result.output
    assert list(tmp_path.iterdir()) == []
