"""Erasure of people who left: by a community manager in chat (``/rallybot forget @member``),
by ``rallybot member forget``, and by ``roster import --remove-missing`` then the retention.
No row refers to the person afterwards, the indicators are the same, nothing else is lost,
and the audit says who asked and when, never whom. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel
from typer.testing import CliRunner

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.cli import app as cli
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ButtonClicked, ChannelRef, CommandInvoked, UserRef
from rallybot.handlers.privacy.personal_data import deactivate_missing, erase_departed
from rallybot.handlers.reporting.report import ReportData, compute
from rallybot.storage.database import Database, create_database
from rallybot.storage.models import Member, table_of
from rallybot.storage.survey_models import ErasureAudit
from tests.privacy.test_forget_indicators import SCOPES
from tests.report.seed import seed

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
runner = CliRunner()


async def _indicators(db: Database) -> list[ReportData]:
    return [await compute(db, scope, NOW) for scope in SCOPES]


async def _everything(db: Database) -> dict[str, list[dict[str, Any]]]:
    async with db.session() as session:
        return {
            name: [dict(r) for r in (await session.execute(sa.select(table))).mappings()]
            for name, table in SQLModel.metadata.tables.items()
        }


async def _traces(db: Database, member_id: int, platform_id: str, name: str) -> list[str]:
    """Every row that still names the person: their id in a member column, their platform id
    or name anywhere (JSON included)."""
    found: list[str] = []
    for table, rows in (await _everything(db)).items():
        columns = {
            c.name
            for c in SQLModel.metadata.tables[table].columns
            if any(fk.column.table.name == "member" for fk in c.foreign_keys)
        }
        if table == "member":
            columns = {"id"}
        for row in rows:
            text = json.dumps(row, default=str, ensure_ascii=False)
            named = platform_id in text.split('"') or f'"{name}"' in text
            if named or any(row[c] == member_id for c in columns):
                found.append(f"{table}: {text[:120]}")
    return found


async def _audit(db: Database) -> list[dict[str, Any]]:
    return (await _everything(db))["erasure_audit"]


def _bot(db: Database, tmp_path: Path, adapter: MemoryAdapter) -> Rallybot:
    folder = tmp_path / "campaigns"
    folder.mkdir(exist_ok=True)
    settings = Settings(database_url=db.url, admins=["memory:cm"], locale="en")
    return Rallybot(settings, db, adapter, SimulatedClock(NOW), campaign_paths=[folder])


def _command(uid: str, *args: str) -> CommandInvoked:
    return CommandInvoked(
        event_id=f"forget-{uid}-{'-'.join(args)}",
        platform="memory",
        user=UserRef("memory", uid),
        occurred_at=NOW,
        name="forget",
        args=args,
    )


async def test_a_manager_erases_a_member_who_left(db: Database, tmp_path: Path) -> None:
    await seed(db)
    adapter = MemoryAdapter()
    bot = _bot(db, tmp_path, adapter)
    await bot.reload()

    # Not a manager: refused, nothing erased.
    await bot.handle(_command("U2", "<@U1>"))
    assert "community managers only" in adapter.directs[-1].message.text
    assert await _audit(db) == []

    await bot.handle(_command("cm", "<@U1|alice>"))
    confirm = next(d for d in adapter.directs if d.target == "cm" and d.message.buttons)
    assert "<@U1>" in confirm.message.text
    erase = next(b for b in confirm.message.buttons if b.action_id == "forget-member-confirm")
    # (The commands themselves are activity of the manager: counted from here.)
    before = await _indicators(db)
    rows_before = {k: len(v) for k, v in (await _everything(db)).items()}
    await bot.handle(
        ButtonClicked(
            event_id="confirm-1",
            platform="memory",
            user=UserRef("memory", "cm"),
            occurred_at=NOW,
            channel=ChannelRef("memory", "dm-cm", is_direct=True),
            message_id="m1",
            action_id="forget-member-confirm",
            value=erase.value,
        )
    )
    assert "no longer holds personal data" in adapter.directs[-1].message.text
    assert await _traces(db, 1, "U1", "alice") == []
    assert await _indicators(db) == before
    rows_after = {k: len(v) for k, v in (await _everything(db)).items()}
    # Nothing else lost: the same rows (the member row replaced by its anonymous row), one
    # audit row, inbound events of the commands recorded meanwhile.
    changed = {k for k in rows_before if rows_before[k] != rows_after[k]}
    # ... and the manager's confirmation: an outbox row written with the erasure.
    assert rows_after["delivery"] == rows_before["delivery"] + 1
    changed -= {"delivery", "delivery_hour"}  # the calendar's hourly counts follow the outbox
    # ... and the keyed digests that keep the member out of a roster imported again (and the
    # secret that keys them, generated on first use when the setting gives none).
    assert rows_after["erased_identity"] > rows_before["erased_identity"]
    changed -= {"erased_identity", "bot_secret"}
    assert changed <= {"erasure_audit", "inbound_event", "activity", "inbound_journal"}
    (audit,) = await _audit(db)
    assert audit["requested_by"] == "memory:cm" and audit["via"] == "chat"
    assert "U1" not in json.dumps(audit, default=str)

    # An unknown member: told so.
    await bot.handle(_command("cm", "<@U404>"))
    assert "No member" in adapter.directs[-1].message.text


def _cli_url(db: Database) -> str:
    return db.url


async def test_member_forget_on_the_command_line(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await seed(db)
    before = await _indicators(db)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", _cli_url(db))
    await db.dispose()  # the command opens its own connections

    result = await asyncio.to_thread(
        runner.invoke, cli, ["member", "forget", "--yes", "U1", "U3", "nobody@example.test"]
    )
    assert result.exit_code == 1, result.output  # one was unknown
    assert "Aucun membre 'nobody@example.test'." in result.output  # French by default
    assert "2 membres effacés." in result.output
    german = await asyncio.to_thread(
        runner.invoke, cli, ["--locale", "de", "member", "forget", "U2"], input="n\n"
    )
    assert german.exit_code == 1 and "1 Mitglied löschen?" in german.output  # asked, refused
    spanish = await asyncio.to_thread(
        runner.invoke, cli, ["--locale", "es", "member", "forget", "--yes", "ghost@example.test"]
    )
    assert "Ningún miembro 'ghost@example.test'." in spanish.output
    assert "0 miembros borrados." in spanish.output
    fresh = create_database(_cli_url(db))
    try:
        assert await _traces(fresh, 1, "U1", "alice") == []
        assert await _indicators(fresh) == before
        audit = await _audit(fresh)
        assert len(audit) == 2 and all(a["via"] == "cli" for a in audit)
        assert all(str(a["requested_by"]).startswith("cli:") for a in audit)
    finally:
        await fresh.dispose()


async def test_remove_missing_deactivates_then_erases(db: Database) -> None:
    await seed(db)
    before = await _indicators(db)
    async with db.session() as session:
        ids = dict(
            (
                await session.execute(
                    sa.select(table_of(Member).c.platform_user_id, table_of(Member).c.id)
                )
            ).all()
        )
    everyone = set(ids)
    # U1 is gone from the roster; U4 is a community manager (kept though absent).
    gone, back = await deactivate_missing(db, "memory", everyone - {"U1", "U4"}, NOW, keep={"U4"})
    assert (gone, back) == (1, 0)
    async with db.session() as session:
        left = await session.get(Member, ids["U1"])
    assert left is not None and left.opted_out and left.left_at is not None
    assert await erase_departed(db, NOW + timedelta(days=29), 30) == 0  # not yet
    # Back in the roster before the end: active again, nothing erased.
    assert await deactivate_missing(db, "memory", everyone, NOW) == (0, 1)
    assert await erase_departed(db, NOW + timedelta(days=40), 30) == 0
    await deactivate_missing(db, "memory", everyone - {"U1"}, NOW)
    assert await erase_departed(db, NOW + timedelta(days=30), 30) == 1
    assert await _traces(db, ids["U1"], "U1", "alice") == []
    assert await _indicators(db) == before
    (audit,) = await _audit(db)
    assert audit["requested_by"] == "roster" and audit["via"] == "roster"


async def test_a_manager_gone_from_the_roster_stays_out_of_the_figures(db: Database) -> None:
    # U4 was a community manager; once erased its replacement row keeps was_manager, so the
    # indicators that leave managers out still leave it out.
    await seed(db)
    async with db.session() as session:
        ids = dict(
            (
                await session.execute(
                    sa.select(table_of(Member).c.platform_user_id, table_of(Member).c.id)
                )
            ).all()
        )
    await deactivate_missing(db, "memory", set(ids) - {"U4"}, NOW)
    erased = await erase_departed(
        db, NOW + timedelta(days=30), 30, is_manager=lambda key: key == "memory:U4"
    )
    assert erased == 1
    async with db.session() as session:
        flags = (
            (
                await session.execute(
                    sa.select(table_of(Member).c.was_manager).where(
                        table_of(Member).c.forgotten.is_(True)
                    )
                )
            )
            .scalars()
            .all()
        )
    assert list(flags) == [True]


async def test_roster_import_remove_missing_on_the_command_line(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db.url)
    await db.dispose()
    header = "id,email,name,team,cohort\n"
    (tmp_path / "all.csv").write_text(
        header + "".join(f"U{i},m{i}@example.test,Member {i},ops,pilote\n" for i in range(4))
    )
    (tmp_path / "less.csv").write_text(
        header + "".join(f"U{i},m{i}@example.test,Member {i},ops,pilote\n" for i in (0, 2))
    )
    first = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["--locale", "en", "roster", "import", "all.csv", "--platform", "memory"],
    )
    assert first.exit_code == 0, first.output
    second = await asyncio.to_thread(
        runner.invoke,
        cli,
        [
            "--locale",
            "en",
            "roster",
            "import",
            "less.csv",
            "--platform",
            "memory",
            "--remove-missing",
        ],
    )
    assert second.exit_code == 0, second.output
    assert "2 members absent from the roster deactivated" in second.output
    fresh = create_database(db.url)
    try:
        async with fresh.session() as session:
            rows = (
                await session.execute(
                    sa.select(table_of(Member).c.platform_user_id, table_of(Member).c.left_at)
                )
            ).all()
        assert {uid for uid, left in rows if left is not None} == {"U1", "U3"}
    finally:
        await fresh.dispose()


def test_the_audit_names_no_one() -> None:
    columns = set(table_of(ErasureAudit).c.keys())
    assert columns == {"id", "requested_by", "via", "erased_at"}
