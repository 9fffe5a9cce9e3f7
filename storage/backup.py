"""Back up and restore the database: SQLite through its online backup API, PostgreSQL through
``pg_dump`` and ``pg_restore``.

SQLite's backup API copies a consistent snapshot page by page while the bot keeps running (a
plain ``cp`` of a database in WAL mode can miss the last transactions). A restore writes the
backup's pages over the live database: stop the bots first. PostgreSQL backups use the custom
format of ``pg_dump`` (compressed, restorable table by table); the password is passed in the
environment, never on a command line that ``ps`` shows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import make_url

from rallybot.storage.database import normalize_url

__all__ = [
    "BackupError",
    "backup",
    "backup_sqlite",
    "restore",
    "restore_sqlite",
    "sqlite_dump",
    "sqlite_path",
]


class BackupError(Exception):
    """A backup or restore could not be done; the message says why in one line."""


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL, or None for PostgreSQL."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    return Path(parsed.database or "")


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path)
    try:
        yield connection
    finally:
        connection.close()


def _check_sqlite_file(path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with _connect(path) as connection:
            (verdict,) = connection.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database ({exc})") from None
    if verdict != "ok":
        raise BackupError(f"{path} is damaged: {verdict}")


def backup_sqlite(database: Path, target: Path) -> None:
    """Copy the SQLite ``database`` into a new file ``target`` (a consistent snapshot, taken
    while other connections keep writing); the file appears only once complete."""
    _check_sqlite_file(database)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with _connect(database) as source, _connect(partial) as copy:
            source.backup(copy)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{database}: {exc}") from None
    partial.replace(target)


def restore_sqlite(backup_file: Path, database: Path) -> None:
    """Replace the content of the SQLite ``database`` with ``backup_file`` (checked first)."""
    _check_sqlite_file(backup_file)
    database.parent.mkdir(parents=True, exist_ok=True)
    with _connect(backup_file) as source, _connect(database) as live:
        source.backup(live)


def sqlite_dump(database: Path) -> str:
    """The SQL text of a SQLite database (schema and rows), to compare two databases."""
    with _connect(database) as connection:
        return "\n".join(connection.iterdump())


def _pg_environment(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq settings of a PostgreSQL URL: the database name as an argument, the rest (password
    included) in the environment of the child process."""
    parsed = make_url(url)
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", str(parsed.port) if parsed.port else None),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
    ):
        if value:
            env[name] = str(value)
    return ["--dbname", parsed.database or ""], env


def _run(tool: str, arguments: list[str], env: dict[str, str]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            f"{tool} is not installed: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client)"
        )
    done = subprocess.run(
        [executable, *arguments], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise BackupError(f"{tool} failed: {last}")


def backup(url: str, target: Path) -> None:
    """Back up the database of ``url`` into ``target`` (SQLite file or ``pg_dump`` archive)."""
    database = sqlite_path(url)
    if database is not None:
        backup_sqlite(database, target)
        return
    dbname, env = _pg_environment(url)
    partial = target.with_name(target.name + ".partial")
    try:
        _run("pg_dump", ["--format=custom", "--no-owner", "--file", str(partial), *dbname], env)
    except BackupError:
        partial.unlink(missing_ok=True)  # no half-written dump left beside the real ones
        raise
    partial.replace(target)


def restore(url: str, backup_file: Path) -> None:
    """Restore ``backup_file`` (made by :func:`backup`) into the database of ``url``."""
    database = sqlite_path(url)
    if database is not None:
        restore_sqlite(backup_file, database)
        return
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such file")
    dbname, env = _pg_environment(url)
    arguments = ["--clean", "--if-exists", "--no-owner", "--single-transaction", *dbname]
    _run("pg_restore", [*arguments, str(backup_file)], env)
