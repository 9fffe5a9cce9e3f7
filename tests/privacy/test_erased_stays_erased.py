"""An erased member stays erased: a roster imported again (at the bot's start, from the
command line, from the console) does not bring them back, nor count them twice in the
indicators. What erasure keeps to recognise them is a keyed digest, never an identifier.
On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.runner import _import_campaign_rosters
from rallybot.campaigns.roster import load_roster, member_fields
from rallybot.handlers.privacy.personal_data import erase_departed, erase_member
from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.report import compute
from rallybot.storage.database import Database, create_database
from rallybot.storage.models import Member, table_of
from rallybot.storage.repositories import import_members, upsert_member
from rallybot.storage.survey_models import BotSecret, ErasedIdentity

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "campaigns" / "examples" / "fr"
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
M = table_of(Member).c


def _pilot_rows() -> list[tuple[str, dict[str, object]]]:
    entries = load_roster(EXAMPLES / "pilote.csv", default_timezone="Europe/Paris")
    return [member_fields(entry) for entry in entries]


async def _people(db: Database) -> dict[str, Member]:
    """The members that are people (not the anonymous rows of the erased), by platform id."""
    async with db.read() as session:
        rows = (await session.execute(sa.select(Member).where(M.forgotten.is_(False)))).scalars()
        return {member.platform_user_id: member for member in rows}


async def _invited(db: Database) -> int:
    return (await compute(db, Scope(), NOW)).funnel.count("invited")


async def _erase(db: Database, user_id: str, secret_key: object = None) -> None:
    member = (await _people(db))[user_id]
    assert member.id is not None
    report = await erase_member(
        db, member.id, NOW, requested_by="console:cm", via="console", secret_key=secret_key
    )
    assert report is not None


def _bot(db: Database, campaigns: Path) -> Rallybot:
    settings = Settings(database_url=db.url, admins=["console:cm"])
    return Rallybot(settings, db, MemoryAdapter(), SimulatedClock(NOW), campaign_paths=[campaigns])


async def test_the_roster_imported_at_the_next_start_does_not_bring_them_back(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    for name in ("lancement-connect.yaml", "pilote.csv"):
        shutil.copy(EXAMPLES / name, campaigns / name)
    first = _bot(db, campaigns)
    assert not (await first.reload()).errors
    await _import_campaign_rosters(first)
    assert len(await _people(db)) == 11
    invited = await _invited(db)

    await _erase(db, "amelie")
    assert await _invited(db) == invited  # the anonymous row keeps the figures

    # The roster file changes (one more person) and the bot starts again (a new connection:
    # nothing remembered in memory): it imports the file, which still names Amélie.
    roster = campaigns / "pilote.csv"
    with roster.open("a", encoding="utf-8") as file:
        file.write("gael,gael@example.com,Gaël,Gaël,Ventes,pilote,,2026-09-15 09:30,fr,\n")
    again = create_database(db.url)
    try:
        restarted = _bot(again, campaigns)
        assert not (await restarted.reload()).errors
        caplog.set_level(logging.INFO, logger="rallybot")
        await _import_campaign_rosters(restarted)
    finally:
        await again.dispose()
    people = await _people(db)
    assert "amelie" not in people and len(people) == 11 and "gael" in people
    assert all(member.email != "amelie@example.com" for member in people.values())
    assert await _invited(db) == invited + 1  # Gaël; Amélie not counted twice
    assert "pilote.csv: members created: 1, updated: 0" in caplog.text
    assert "pilote.csv: 1 person erased on request not imported again" in caplog.text


async def test_an_import_skips_them_by_id_or_by_e_mail(db: Database) -> None:
    rows = _pilot_rows()
    await import_members(db, "console", rows, NOW)
    await _erase(db, "amelie")
    await _erase(db, "bastien")
    # Amélie under another id (the same e-mail, written otherwise), Bastien under his id with
    # another e-mail: both recognised; the others are updated as ever.
    changed = [
        ("amelie.m", {"email": " Amelie@Example.COM ", "team": "Ventes"}),
        ("bastien", {"email": "b.new@example.com", "team": "Ventes"}),
        ("chloe", {"team": "Finance"}),
    ]
    counts = await import_members(db, "console", changed, NOW)
    assert (counts.created, counts.updated, counts.unchanged, counts.erased) == (0, 1, 0, 2)
    people = await _people(db)
    assert {"amelie", "amelie.m", "bastien"}.isdisjoint(people)
    assert people["chloe"].team == "Finance"


async def test_someone_back_on_the_platform_is_a_new_member_the_roster_does_not_fill(
    db: Database,
) -> None:
    await import_members(db, "console", _pilot_rows(), NOW)
    await _erase(db, "chloe")
    # Chloé writes to the bot again: a new presence, with nothing from before.
    back = await upsert_member(db, "console", "chloe", NOW, display_name="Chloé")
    assert (back.email, back.team, back.cohort) == (None, None, None)
    counts = await import_members(db, "console", _pilot_rows(), NOW)
    assert counts.erased == 1
    again = (await _people(db))["chloe"]
    assert (again.email, again.team, again.cohort) == (None, None, None)
    assert not again.groups


async def test_the_roster_retention_does_not_keep_them_out(db: Database) -> None:
    # Erased because they left the roster (not on request): a roster naming them again
    # invites them anew.
    await import_members(db, "console", _pilot_rows(), NOW)
    async with db.session() as session:
        await session.execute(
            sa.update(Member)
            .where(M.platform_user_id == "farid")
            .values(left_at=NOW, opted_out=True)
        )
    assert await erase_departed(db, NOW, 0) == 1
    async with db.read() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(ErasedIdentity)) == 0
    counts = await import_members(db, "console", _pilot_rows(), NOW)
    assert (counts.created, counts.erased) == (1, 0)
    assert (await _people(db))["farid"].email == "farid@example.com"


async def test_only_keyed_digests_are_kept_and_the_key_is_not_in_the_database(
    db: Database,
) -> None:
    key = SecretStr("a secret kept outside the database")
    await import_members(db, "console", _pilot_rows(), NOW, secret_key=key)
    await _erase(db, "david", secret_key=key)
    async with db.read() as session:
        digests = set((await session.execute(sa.select(ErasedIdentity.digest))).scalars())
        secrets = await session.execute(sa.select(sa.func.count()).select_from(BotSecret))
    assert len(digests) == 2  # console:david and david@example.com
    assert secrets.scalar_one() == 0  # keyed from the setting: no secret written in the database
    plain = {"david", "console:david", "david@example.com"}
    for identifier in plain:
        assert identifier not in digests
        assert hashlib.sha256(identifier.encode()).hexdigest() not in digests
    # Recognised with the same key; not with another (the database alone cannot test a guess).
    counts = await import_members(db, "console", _pilot_rows(), NOW, secret_key=key)
    assert counts.erased == 1
    other = create_database(db.url)  # a new process: the secret is read afresh
    try:
        counts = await import_members(
            other, "console", _pilot_rows(), NOW, secret_key=SecretStr("another key")
        )
    finally:
        await other.dispose()
    assert counts.erased == 0
