"""The roster a start imports (the campaigns' ``roster:`` files on the console platform,
``rallybot run --roster``) is imported again only when the file changed since its last import:
a change made meanwhile (a roster uploaded in the console, ``rallybot roster import``) holds
over a restart. ``rallybot roster import`` imports whenever asked. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.cli import app
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.runner import _import_campaign_rosters, _import_roster_at_start
from rallybot.storage.database import Database, create_database
from rallybot.storage.repositories import (
    UPLOAD,
    RosterSource,
    get_member_by_platform_id,
    import_members,
    last_roster_import,
    roster_digest,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "campaigns" / "examples" / "en"
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
runner = CliRunner()


def _campaigns(tmp_path: Path) -> Path:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    for name in ("connect-launch.yaml", "pilot.csv"):
        shutil.copy(EXAMPLES / name, folder / name)
    return folder


def _bot(db: Database, campaigns: Path) -> Rallybot:
    settings = Settings(database_url=db.url)
    return Rallybot(settings, db, MemoryAdapter(), SimulatedClock(NOW), campaign_paths=[campaigns])


async def _start(url: str, campaigns: Path) -> None:
    """A start of the bot on the console platform: a new connection, nothing in memory."""
    db = create_database(url)
    try:
        bot = _bot(db, campaigns)
        assert not (await bot.reload()).errors
        await _import_campaign_rosters(bot)
    finally:
        await db.dispose()


async def _upload_language(db: Database, user_id: str, locale: str) -> None:
    """What a roster uploaded in the console that changes one row's language does."""
    raw = f"id,locale\n{user_id},{locale}\n".encode()
    await import_members(
        db,
        "console",
        [(user_id, {"locale": locale})],
        NOW,
        source=RosterSource(UPLOAD, roster_digest(raw)),
    )


async def _locale(db: Database, user_id: str) -> str | None:
    member = await get_member_by_platform_id(db, "console", user_id)
    assert member is not None
    return member.locale


async def test_an_unchanged_roster_file_leaves_a_change_made_since_in_place(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    campaigns = _campaigns(tmp_path)
    caplog.set_level(logging.INFO, logger="rallybot")
    await _start(db.url, campaigns)
    assert await _locale(db, "alice") == "en"
    assert "pilot.csv: members created: 11, updated: 0" in caplog.text
    await _upload_language(db, "alice", "de")

    caplog.clear()
    await _start(db.url, campaigns)  # the bot restarts: pilot.csv is as it was imported
    assert await _locale(db, "alice") == "de"
    assert "pilot.csv: unchanged since its import of 2026-11-10 09:00 UTC" in caplog.text
    assert "members created" not in caplog.text


async def test_a_changed_roster_file_is_imported_again_and_its_rows_win(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    campaigns = _campaigns(tmp_path)
    await _start(db.url, campaigns)
    await _upload_language(db, "alice", "de")
    pilot = campaigns / "pilot.csv"
    pilot.write_text(pilot.read_text(encoding="utf-8").replace(",Sales,", ",Sales team,"))

    caplog.set_level(logging.INFO, logger="rallybot")
    await _start(db.url, campaigns)
    assert await _locale(db, "alice") == "en"  # the file's row, as at its first import
    assert "pilot.csv: changed since its import of 2026-11-10 09:00 UTC, imported again" in (
        caplog.text
    )
    member = await get_member_by_platform_id(db, "console", "alice")
    assert member is not None and member.team == "Sales team"

    caplog.clear()
    await _upload_language(db, "alice", "de")
    await _start(db.url, campaigns)  # the changed file was kept as imported: not again
    assert await _locale(db, "alice") == "de"
    assert "pilot.csv: unchanged since" in caplog.text


async def test_the_roster_of_run_follows_the_same_rule_per_platform(
    db: Database, tmp_path: Path
) -> None:
    roster = tmp_path / "team.csv"
    roster.write_text("id,email,locale\nU1,u1@example.com,en\n", encoding="utf-8")
    bot = _bot(db, _campaigns(tmp_path))
    assert await _import_roster_at_start(bot, roster, "slack", default_timezone="UTC")
    kept = await last_roster_import(db, "slack", str(roster.resolve()))
    assert kept is not None and kept.digest == roster_digest(roster.read_bytes())
    assert await last_roster_import(db, "discord", str(roster.resolve())) is None

    await import_members(db, "slack", [("U1", {"locale": "fr"})], NOW)
    assert await _import_roster_at_start(bot, roster, "slack", default_timezone="UTC")
    member = await get_member_by_platform_id(db, "slack", "U1")
    assert member is not None and member.locale == "fr"
    # another platform never imported it: imported there
    assert await _import_roster_at_start(bot, roster, "discord", default_timezone="UTC")
    assert await get_member_by_platform_id(db, "discord", "U1") is not None
    # a file that cannot be read stops the start, as before
    assert not await _import_roster_at_start(
        bot, tmp_path / "missing.csv", "slack", default_timezone="UTC"
    )


def test_the_command_imports_whenever_asked_and_a_start_then_keeps_it(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    campaigns = _campaigns(tmp_path)
    pilot = campaigns / "pilot.csv"
    command = ["--locale", "en", "roster", "import", "--platform", "console", str(pilot)]
    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    assert "11 members created" in first.output

    async def change_then_start() -> str | None:
        db = create_database(db_url)
        try:
            await _upload_language(db, "alice", "de")
            await _start(db_url, campaigns)  # the command imported this very file
            return await _locale(db, "alice")
        finally:
            await db.dispose()

    assert asyncio.run(change_then_start()) == "de"
    again = runner.invoke(app, command)  # the same file, unchanged: imported all the same
    assert again.exit_code == 0, again.output
    assert "0 members created, 1 updated, 10 unchanged." in again.output
