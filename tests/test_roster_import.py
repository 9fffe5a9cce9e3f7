"""``rallybot roster import`` and the all-or-nothing member import behind it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import upgrade
from rallybot.storage.models import Member, table_of
from rallybot.storage.repositories import get_member_by_platform_id, import_members

ROOT = Path(__file__).resolve().parents[1]
PILOT = ROOT / "campaigns" / "examples" / "fr" / "pilote.csv"
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
HEADER = "id,email,name,first_name,team,cohort,groups,start_date,locale,timezone\n"
runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run commands in an empty folder with their own SQLite file."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'roster.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def _count(url: str) -> int:
    upgrade(url)  # a refused import may not have created the tables

    async def count() -> int:
        db = create_database(url)
        try:
            async with db.session() as session:
                result = await session.execute(sa.select(sa.func.count()).select_from(Member))
                return int(result.scalar_one())
        finally:
            await db.dispose()

    return asyncio.run(count())


def test_import_creates_then_leaves_unchanged(cli_db: str) -> None:
    rows = len(PILOT.read_text(encoding="utf-8").strip().splitlines()) - 1
    first = runner.invoke(app, ["--locale", "en", "roster", "import", str(PILOT)])
    assert first.exit_code == 0, first.output
    assert f"{rows} members created, 0 updated, 0 unchanged." in first.output
    again = runner.invoke(app, ["--locale", "en", "roster", "import", str(PILOT)])
    assert f"0 members created, 0 updated, {rows} unchanged." in again.output
    assert _count(cli_db) == rows


def test_dry_run_stores_nothing(cli_db: str) -> None:
    result = runner.invoke(app, ["--locale", "en", "roster", "import", str(PILOT), "--dry-run"])
    assert result.exit_code == 0
    assert "no problem found (dry run: nothing stored)" in result.output
    assert _count(cli_db) == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            HEADER.encode() + b"ana,ana@example.com,Ana,Ana\x00\n",
            "bad.csv: this is not a text file (it contains binary data)",
        ),
        (
            b"nom,team\nAna,Sales\n",
            'the roster needs an "id", an "email" or a "discord" column',
        ),
        (
            (HEADER + "ana,ana@example.com,Ana\nbea,ANA@example.com,Bea\n").encode(),
            "bad.csv:3:2: email:",
        ),
    ],
    ids=["encoding", "missing-columns", "duplicate-email"],
)
def test_a_broken_roster_is_reported_row_by_row_and_nothing_is_imported(
    cli_db: str, tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = runner.invoke(app, ["--locale", "en", "roster", "import", "bad.csv"])
    assert result.exit_code == 1
    assert expected in result.output
    assert "nothing imported" in result.output
    assert _count(cli_db) == 0


async def test_import_is_all_or_nothing(db: Database) -> None:
    rows: list[tuple[str, dict[str, object]]] = [
        (f"u{i}", {"display_name": f"User {i}", "team": "Sales"}) for i in range(10)
    ]
    calls: list[int] = []

    def fail_on_second_chunk(n: int) -> None:
        calls.append(n)
        if len(calls) == 2:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        await import_members(db, "slack", rows, NOW, chunk=3, progress=fail_on_second_chunk)
    assert await get_member_by_platform_id(db, "slack", "u0") is None
    counts = await import_members(db, "slack", rows, NOW, chunk=3, progress=calls.append)
    assert (counts.created, counts.updated, counts.unchanged) == (10, 0, 0)
    assert calls[2:] == [3, 3, 3, 1]


async def test_reimport_updates_changed_fields_and_keeps_the_others(db: Database) -> None:
    await import_members(db, "slack", [("U1", {"team": "Sales", "locale": "fr"})], NOW)
    later = datetime(2026, 9, 2, tzinfo=UTC)
    counts = await import_members(
        db, "slack", [("U1", {"team": "Marketing"}), ("U2", {"team": "Sales"})], later
    )
    assert (counts.created, counts.updated, counts.unchanged) == (1, 1, 0)
    member = await get_member_by_platform_id(db, "slack", "U1")
    assert member is not None
    assert (member.team, member.locale, member.updated_at) == ("Marketing", "fr", later)
    assert member.created_at == NOW


async def test_a_repeated_id_in_one_import_is_one_member(db: Database) -> None:
    counts = await import_members(
        db, "slack", [("U1", {"team": "Sales"}), ("U1", {"locale": "fr"})], NOW
    )
    assert counts.created == 1
    member = await get_member_by_platform_id(db, "slack", "U1")
    assert member is not None and (member.team, member.locale) == ("Sales", "fr")


BIG = 100_000


def _big_roster(bad_line: int | None = None) -> str:
    """A roster of ``BIG`` members; the row on line ``bad_line`` (the header is line 1) has an
    email that is not one."""
    lines = [HEADER.rstrip("\n")]
    for i in range(BIG):
        email = "not-an-email" if i + 2 == bad_line else f"m{i}@example.com"
        lines.append(f"m{i},{email},Member {i},M{i},Team {i % 20},pilot,,2026-09-01,fr,UTC")
    return "\n".join(lines) + "\n"


async def _stored(db: Database) -> tuple[int, int, int]:
    """Count, distinct ids and distinct emails of the stored members."""
    async with db.session() as session:
        result = await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(sa.distinct(table_of(Member).c.platform_user_id)),
                sa.func.count(sa.distinct(table_of(Member).c.email)),
            ).select_from(Member)
        )
        count, ids, emails = result.one()
    return int(count), int(ids), int(emails)


async def test_a_100000_row_roster_is_imported_whole(db: Database) -> None:
    from rallybot.campaigns.roster import load_roster_text, member_fields

    entries = load_roster_text(_big_roster(), "big.csv", default_timezone="UTC")
    rows = [member_fields(entry) for entry in entries]
    seen: list[int] = []
    counts = await import_members(db, "slack", rows, NOW, progress=seen.append)
    assert (counts.created, counts.updated, counts.unchanged) == (BIG, 0, 0)
    assert sum(seen) == BIG and len(seen) == BIG // 1000
    assert await _stored(db) == (BIG, BIG, BIG)
    member = await get_member_by_platform_id(db, "slack", "m54321")
    assert member is not None
    assert (member.email, member.team, member.timezone) == ("m54321@example.com", "Team 1", "UTC")
    # Imported again at once (PostgreSQL's statistics not yet refreshed): all unchanged.
    again = await import_members(db, "slack", rows, NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, BIG)


async def test_a_100000_row_import_failing_in_the_middle_stores_nothing(db: Database) -> None:
    rows: list[tuple[str, dict[str, object]]] = [
        (f"m{i}", {"email": f"m{i}@example.com"}) for i in range(BIG)
    ]
    rows[BIG // 2] = ("m50000", {"created_at": None})  # refused by the database (NOT NULL)
    with pytest.raises(sa.exc.IntegrityError):
        await import_members(db, "slack", rows, NOW)
    assert await _stored(db) == (0, 0, 0)


def test_a_100000_row_roster_with_one_bad_row_imports_nothing(cli_db: str, tmp_path: Path) -> None:
    (tmp_path / "big.csv").write_text(_big_roster(bad_line=50_002), encoding="utf-8")
    result = runner.invoke(app, ["--locale", "en", "roster", "import", "big.csv"])
    assert result.exit_code == 1
    assert 'big.csv:50002:2: email: "not-an-email" is not an email address' in result.output
    assert "1 problem: nothing imported." in result.output
    assert _count(cli_db) == 0


def test_roster_import_shows_a_progress_bar(
    cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    import rallybot.bot.cli

    (tmp_path / "big.csv").write_text(_big_roster(), encoding="utf-8")
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, force_interactive=True, width=120)
    monkeypatch.setattr(rallybot.bot.cli, "err", terminal)
    result = runner.invoke(app, ["--locale", "en", "roster", "import", "big.csv"])
    assert result.exit_code == 0, result.output
    assert f"big.csv: {BIG:,} members created, 0 updated, 0 unchanged." in result.output
    shown = screen.getvalue()
    assert "Importing members" in shown
    assert f"{BIG}/{BIG}" in shown  # the bar's last frame, before it is cleared
    assert _count(cli_db) == BIG


def test_a_member_erased_from_the_command_line_is_not_imported_again(cli_db: str) -> None:
    rows = len(PILOT.read_text(encoding="utf-8").strip().splitlines()) - 1
    assert runner.invoke(app, ["--locale", "en", "roster", "import", str(PILOT)]).exit_code == 0
    erased = runner.invoke(
        app, ["--locale", "en", "member", "forget", "amelie@example.com", "--yes"]
    )
    assert "1 member erased." in erased.output, erased.output
    again = runner.invoke(app, ["--locale", "fr", "roster", "import", str(PILOT)])
    assert again.exit_code == 0, again.output
    assert f"0 membre créé, 0 mis à jour, {rows - 1} inchangés." in again.output
    assert "1 personne effacée à sa demande n'a pas été réimportée." in again.output
    as_json = runner.invoke(app, ["roster", "import", str(PILOT), "--format", "json"])
    assert '"erased": 1' in as_json.stdout

    async def amelie() -> tuple[int, int]:
        db = create_database(cli_db)
        try:
            async with db.read() as session:
                people = await session.scalar(
                    sa.select(sa.func.count()).where(table_of(Member).c.forgotten.is_(False))
                )
                named = await session.scalar(
                    sa.select(sa.func.count()).where(table_of(Member).c.email.like("amelie%"))
                )
            return int(people or 0), int(named or 0)
        finally:
            await db.dispose()

    assert asyncio.run(amelie()) == (rows - 1, 0)


def test_each_count_of_the_summary_agrees_with_its_own_number(cli_db: str, tmp_path: Path) -> None:
    """French says "1 inchangé" and "3 inchangés": each count is its own plural, not the
    created count's."""
    header, first, *_ = PILOT.read_text(encoding="utf-8").splitlines()
    one = tmp_path / "one.csv"
    one.write_text(f"{header}\n{first}\n", encoding="utf-8")
    assert runner.invoke(app, ["--locale", "fr", "roster", "import", str(one)]).exit_code == 0
    again = runner.invoke(app, ["--locale", "fr", "roster", "import", str(one)])
    assert "one.csv : 0 membre créé, 0 mis à jour, 1 inchangé." in again.output, again.output
