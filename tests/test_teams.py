"""Teams from platform groups (``RALLYBOT_TEAM_GROUPS``): the sync on the memory platform, on
SQLite and PostgreSQL, the leaderboard per team it feeds, the setting, the schedule and
``rallybot teams sync``."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from typer.testing import CliRunner

from rallybot.bot.adapters.base import AdapterError
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.cli import app
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import CommandInvoked, UserRef
from rallybot.bot.scheduler import TEAMS_JOB_ID, build_scheduler
from rallybot.bot.teams import TeamSync, team_of
from rallybot.campaigns.roster import RosterEntry
from rallybot.storage import ledger
from rallybot.storage.database import Database, create_database
from rallybot.storage.models import Member
from rallybot.storage.repositories import upsert_member

NOW = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
runner = CliRunner()
_ids = itertools.count()


def settings(**options: Any) -> Settings:
    return Settings(
        _env_file=None, database_url="sqlite://", quiet_hours="off", locale="en", **options
    )


def make_bot(db: Database, tmp_path: Path, adapter: MemoryAdapter, **options: Any) -> Rallybot:
    (tmp_path / "campaigns").mkdir(exist_ok=True)
    return Rallybot(
        settings(**options),
        db,
        adapter,
        SimulatedClock(NOW),
        campaign_paths=[tmp_path / "campaigns"],
    )


async def teams(db: Database) -> dict[str, str | None]:
    async with db.session() as session:
        rows = await session.execute(sa.select(Member.platform_user_id, Member.team))  # type: ignore[call-overload]
        return {str(user): team for user, team in rows.all()}


async def column_of(db: Database, user_id: str, column: str) -> Any:
    async with db.session() as session:
        query = sa.select(getattr(Member, column)).where(Member.platform_user_id == user_id)  # type: ignore[arg-type]
        return (await session.execute(query)).scalar_one()


async def add_people(db: Database, *user_ids: str) -> None:
    for user_id in user_ids:
        await upsert_member(db, "memory", user_id, NOW, display_name=user_id.capitalize())


def test_team_of_takes_the_first_group_of_the_setting_whatever_the_case() -> None:
    order = ["sales", "Marketing"]
    assert team_of(["marketing", "SALES"], order) == "sales"
    assert team_of(["MARKETING", "design"], order) == "Marketing"
    assert team_of(["design"], order) is None
    assert team_of([], order) is None


def test_the_setting_is_a_comma_separated_ordered_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings().team_groups == []  # unset: the feature is off
    monkeypatch.setenv("RALLYBOT_TEAM_GROUPS", " sales, @Marketing ,SALES,, design ")
    assert Settings(_env_file=None).team_groups == ["sales", "Marketing", "design"]
    monkeypatch.setenv("RALLYBOT_TEAM_GROUPS", "")
    assert Settings(_env_file=None).team_groups == []
    monkeypatch.setenv("RALLYBOT_TEAM_GROUPS", "*")
    with pytest.raises(ValidationError, match="not supported"):
        Settings(_env_file=None)


async def test_members_in_team_groups_get_their_team(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {
        "ana": ["Sales"],  # matched without regard to case, written as the setting spells it
        "bo": ["marketing", "sales"],  # in two team groups: the first of the setting wins
        "cy": ["design"],  # not a team group
        "stranger": ["sales"],  # unknown to the bot: not created
    }
    await add_people(db, "ana", "bo", "cy", "dee")
    bot = make_bot(db, tmp_path, adapter, team_groups="sales,marketing")
    result = await bot.teams_tick()
    assert result == TeamSync(teamed=2, changed=2, cleared=0, kept=0)
    assert await teams(db) == {"ana": "sales", "bo": "sales", "cy": None, "dee": None}
    again = await bot.teams_tick()  # nothing moved: nothing written
    assert again == TeamSync(teamed=2, changed=0, cleared=0, kept=0)
    assert await column_of(db, "bo", "updated_at") == NOW  # changed rows: for the planner


async def test_a_roster_team_wins_over_the_groups(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["sales"], "bo": ["sales"], "cy": ["marketing"]}
    await add_people(db, "bo", "cy")
    bot = make_bot(db, tmp_path, adapter, team_groups="sales,marketing")
    await bot.import_roster(
        [RosterEntry(id="ana", email=None, name="Ana", team="Ventes")], "memory"
    )
    first = await bot.teams_tick()
    assert first == TeamSync(teamed=2, changed=2, cleared=0, kept=1)
    assert await teams(db) == {"ana": "Ventes", "bo": "sales", "cy": "marketing"}
    # a roster imported later replaces a group's team, and the next syncs keep it
    await bot.import_roster([RosterEntry(id="bo", email=None, team="Support")], "memory")
    adapter.groups["ana"] = []  # leaving the group does not clear a roster team either
    second = await bot.teams_tick()
    assert second == TeamSync(teamed=1, changed=0, cleared=0, kept=1)
    assert await teams(db) == {"ana": "Ventes", "bo": "Support", "cy": "marketing"}


async def test_a_member_who_leaves_a_group_loses_its_team_next_sync(
    db: Database, tmp_path: Path
) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["sales"], "bo": ["sales"], "cy": ["marketing"]}
    await add_people(db, "ana", "bo", "cy")
    bot = make_bot(db, tmp_path, adapter, team_groups="sales,marketing")
    await bot.teams_tick()
    assert await teams(db) == {"ana": "sales", "bo": "sales", "cy": "marketing"}
    adapter.groups = {"ana": ["sales"], "bo": ["marketing"]}  # bo moved, cy left
    result = await bot.teams_tick()
    assert result == TeamSync(teamed=2, changed=2, cleared=1, kept=0)
    assert await teams(db) == {"ana": "sales", "bo": "marketing", "cy": None}


async def test_a_respelled_group_takes_over_its_old_spelling(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["sales"]}
    await add_people(db, "ana")
    await make_bot(db, tmp_path, adapter, team_groups="sales").teams_tick()
    respelled = await make_bot(db, tmp_path, adapter, team_groups="Sales").teams_tick()
    assert respelled == TeamSync(teamed=1, changed=1)
    assert await teams(db) == {"ana": "Sales"}


async def test_top_all_team_lists_the_groups_members(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["sales"], "bo": ["marketing"], "cy": ["sales"]}
    await add_people(db, "ana", "bo", "cy")
    bot = make_bot(db, tmp_path, adapter, team_groups="sales,marketing")
    assert not (await bot.reload()).errors
    for user_id, amount in (("ana", 5), ("bo", 9), ("cy", 7)):
        await ledger.award(
            db,
            member_id=await column_of(db, user_id, "id"),
            amount=amount,
            source="challenge",
            reason="test",
            key=f"test:{user_id}",
            at=NOW - timedelta(hours=1),
        )

    async def top(*args: str) -> str:
        await bot.handle(
            CommandInvoked(
                event_id=f"e{next(_ids)}",
                platform="memory",
                user=UserRef("memory", "ana", name="Ana"),
                occurred_at=NOW,
                name="top",
                args=args,
            )
        )
        return adapter.directs[-1].message.text

    before = await top("all", "sales")
    assert "No points yet." in before  # no team before the sync
    await bot.teams_tick()
    text = await top("all", "sales")
    assert "team sales" in text
    assert "1. Cy — 7" in text and "2. Ana — 5" in text
    assert "Bo" not in text
    assert "1. Bo — 9" in await top("all", "marketing")


async def test_without_the_setting_nothing_changes(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["sales"]}
    await add_people(db, "ana")
    bot = make_bot(db, tmp_path, adapter)
    assert await bot.teams_tick() is None
    assert await teams(db) == {"ana": None}
    assert TEAMS_JOB_ID not in {job.id for job in build_scheduler(bot).get_jobs()}
    on = make_bot(db, tmp_path, adapter, team_groups="sales")
    assert TEAMS_JOB_ID in {job.id for job in build_scheduler(on).get_jobs()}


async def test_a_platform_without_groups_or_a_failed_read_changes_nothing(
    db: Database, tmp_path: Path
) -> None:
    class NoGroups(MemoryAdapter):
        member_groups = None  # type: ignore[assignment]

    class Broken(MemoryAdapter):
        async def member_groups(self) -> dict[str, list[str]]:
            raise AdapterError("missing_scope")

    await add_people(db, "ana")
    await upsert_member(db, "memory", "bo", NOW, team="sales")
    assert await make_bot(db, tmp_path, NoGroups(), team_groups="sales").teams_tick() is None
    assert await make_bot(db, tmp_path, Broken(), team_groups="sales").teams_tick() is None
    assert await teams(db) == {"ana": None, "bo": "sales"}  # bo's team was not cleared


def test_teams_sync_command(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rallybot.bot.adapters.base

    def create(name: str, **kwargs: Any) -> Any:
        assert name == "memory" and kwargs == {}
        platform = MemoryAdapter()
        platform.groups = {"ana": ["sales"], "bo": ["marketing"], "cy": ["sales"]}
        return platform

    async def seed() -> None:
        db = create_database(db_url)
        try:
            await add_people(db, "ana", "bo")
            await upsert_member(db, "memory", "cy", NOW, team="Ventes")  # a roster team
        finally:
            await db.dispose()

    async def stored() -> dict[str, str | None]:
        db = create_database(db_url)
        try:
            return await teams(db)
        finally:
            await db.dispose()

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(rallybot.bot.adapters.base, "create_adapter", create)
    monkeypatch.setenv("DATABASE_URL", db_url)
    asyncio.run(seed())
    off = runner.invoke(app, ["teams", "sync", "--platform", "memory"])
    assert off.exit_code == 1
    assert "RALLYBOT_TEAM_GROUPS n'est pas défini" in off.output
    assert asyncio.run(stored()) == {"ana": None, "bo": None, "cy": "Ventes"}
    monkeypatch.setenv("RALLYBOT_TEAM_GROUPS", "sales,marketing")
    result = runner.invoke(app, ["teams", "sync", "--platform", "memory"])
    assert result.exit_code == 0, result.output
    assert "2 membres ont reçu une équipe des groupes memory : 2 modifiés" in result.output
    assert "1 équipe du fichier des membres conservée" in result.output  # French by default
    again = runner.invoke(app, ["--locale", "de", "teams", "sync", "--platform", "memory"])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == (
        "2 Mitglieder haben ein Team aus den memory-Gruppen bekommen: 0 geändert, 0 geleert, "
        "1 Team aus der Mitgliederliste behalten."
    )
    assert asyncio.run(stored()) == {"ana": "sales", "bo": "marketing", "cy": "Ventes"}


# ---------------------------------------------------------------------------- team sources


async def sourced(db: Database) -> dict[str, tuple[str | None, str | None]]:
    async with db.session() as session:
        query = sa.select(Member.platform_user_id, Member.team, Member.team_source)  # type: ignore[call-overload]
        rows = await session.execute(query.where(Member.forgotten.is_(False)))  # type: ignore[attr-defined]
        return {str(user): (team, source) for user, team, source in rows.all()}


async def test_a_roster_team_named_like_a_team_group_is_kept(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["marketing"], "bo": ["sales"]}  # cy is in no group
    await add_people(db, "bo")
    bot = make_bot(db, tmp_path, adapter, team_groups="sales,marketing")
    await bot.import_roster(
        [
            RosterEntry(id="ana", email=None, team="sales"),  # a group's name, another group
            RosterEntry(id="cy", email=None, team="Marketing"),  # a group's name, no group
        ],
        "memory",
    )
    assert await sourced(db) == {
        "ana": ("sales", "roster"),
        "bo": (None, None),
        "cy": ("Marketing", "roster"),
    }
    first = await bot.teams_tick()
    assert first == TeamSync(teamed=1, changed=1, cleared=0, kept=1)
    assert await sourced(db) == {
        "ana": ("sales", "roster"),
        "bo": ("sales", "group"),
        "cy": ("Marketing", "roster"),
    }
    adapter.groups = {}  # everyone left: only the group's team goes
    second = await bot.teams_tick()
    assert second == TeamSync(teamed=0, changed=1, cleared=1, kept=0)
    assert await sourced(db) == {
        "ana": ("sales", "roster"),
        "bo": (None, None),
        "cy": ("Marketing", "roster"),
    }


async def test_a_roster_row_without_a_team_leaves_the_team_alone(
    db: Database, tmp_path: Path
) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["sales"], "bo": ["sales"]}
    await add_people(db, "ana", "bo")
    bot = make_bot(db, tmp_path, adapter, team_groups="sales")
    await bot.teams_tick()
    await bot.import_roster(
        [
            RosterEntry(id="ana", email=None, name="Ana", cohort="pilot"),  # no team cell
            RosterEntry(id="bo", email=None, team="sales"),  # the same team, now the roster's
        ],
        "memory",
    )
    assert await sourced(db) == {"ana": ("sales", "group"), "bo": ("sales", "roster")}
    adapter.groups = {}
    result = await bot.teams_tick()
    assert result == TeamSync(teamed=0, changed=1, cleared=1, kept=0)
    assert await sourced(db) == {"ana": (None, None), "bo": ("sales", "roster")}


async def test_a_group_taken_out_of_the_setting_clears_its_teams(
    db: Database, tmp_path: Path
) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["sales"], "bo": ["marketing"], "cy": ["marketing", "sales"]}
    await add_people(db, "ana", "bo", "cy")
    await make_bot(db, tmp_path, adapter, team_groups="marketing,sales").teams_tick()
    assert await sourced(db) == {
        "ana": ("sales", "group"),
        "bo": ("marketing", "group"),
        "cy": ("marketing", "group"),
    }
    # the members of marketing keep their groups on the platform, but it is no longer a team
    result = await make_bot(db, tmp_path, adapter, team_groups="sales").teams_tick()
    assert result == TeamSync(teamed=2, changed=2, cleared=1, kept=0)
    assert await sourced(db) == {
        "ana": ("sales", "group"),
        "bo": (None, None),  # no stale team left behind
        "cy": ("sales", "group"),  # falls back to its other team group
    }


async def test_teams_of_unknown_source_follow_the_former_rule(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["marketing"], "bo": ["sales"], "dee": ["sales"], "eve": ["sales"]}
    # rows from before migration 0010 (or written otherwise): no source
    for user_id, team in (
        ("ana", "sales"),  # named like a group: follows the groups
        ("bo", "Ventes"),  # any other name: kept as a roster team
        ("cy", "SALES"),  # named like a group, in none: cleared
        ("dee", "sales"),  # already right: only marked as the group's
        ("eve", None),
    ):
        await upsert_member(db, "memory", user_id, NOW, team=team)
    bot = make_bot(db, tmp_path, adapter, team_groups="sales,marketing")
    result = await bot.teams_tick()
    assert result == TeamSync(teamed=3, changed=4, cleared=1, kept=1)
    assert await sourced(db) == {
        "ana": ("marketing", "group"),
        "bo": ("Ventes", None),
        "cy": (None, None),
        "dee": ("sales", "group"),
        "eve": ("sales", "group"),
    }
    # a group taken out of the setting: an unknown-source team named after it now looks like a
    # roster team and stays, as before
    await upsert_member(db, "memory", "fay", NOW, team="marketing")
    await make_bot(db, tmp_path, adapter, team_groups="sales").teams_tick()
    assert (await sourced(db))["fay"] == ("marketing", None)
    assert (await sourced(db))["ana"] == (None, None)  # the group's own team is cleared


async def test_a_forgotten_members_team_stays_and_the_export_shows_its_source(
    db: Database, tmp_path: Path
) -> None:
    from rallybot.handlers.privacy.personal_data import export_member, forget_member

    adapter = MemoryAdapter()
    adapter.groups = {"ana": ["sales"], "bo": ["sales"]}
    await add_people(db, "ana", "bo")
    bot = make_bot(db, tmp_path, adapter, team_groups="sales")
    await bot.teams_tick()
    await bot.import_roster([RosterEntry(id="bo", email=None, team="Ventes")], "memory")
    exported = await export_member(db, await column_of(db, "bo", "id"))
    assert exported is not None
    assert exported["member"]["team"] == "Ventes"
    assert exported["member"]["team_source"] == "roster"
    report = await forget_member(db, await column_of(db, "ana", "id"), NOW)
    assert report is not None
    async with db.session() as session:
        ghost = await session.get(Member, report.ghost_id)
        assert ghost is not None
        assert (ghost.team, ghost.team_source) == ("sales", "group")
    # the ghost is in no platform group, yet keeps the team its points count for
    assert await bot.teams_tick() == TeamSync(teamed=0, changed=0, cleared=0, kept=1)
    async with db.session() as session:
        ghost = await session.get(Member, report.ghost_id)
        assert ghost is not None
        assert (ghost.team, ghost.team_source) == ("sales", "group")


def test_migration_0010_leaves_teams_and_adds_a_null_source(db_url: str) -> None:
    from rallybot.storage.migrate import (
        current_revision,
        downgrade,
        head_revision,
        run_blocking,
        upgrade,
    )
    from rallybot.storage.models import UTCDateTime

    at = sa.bindparam("at", type_=UTCDateTime())

    async def query(sql: str, **params: Any) -> list[Any]:
        db = create_database(db_url)
        try:
            async with db.session() as session:
                statement = sa.text(sql).bindparams(at) if "at" in params else sa.text(sql)
                result = await session.execute(statement, params)
                return list(result.all()) if sql.startswith("SELECT") else []
        finally:
            await db.dispose()

    def columns() -> set[str]:
        async def go() -> set[str]:
            db = create_database(db_url)
            try:
                async with db.session() as session:
                    conn = await session.connection()
                    found = await conn.run_sync(
                        lambda c: [col["name"] for col in sa.inspect(c).get_columns("member")]
                    )
                    return set(found)
            finally:
                await db.dispose()

        return run_blocking(go())

    try:
        downgrade(db_url, "0009")
        assert "team_source" not in columns()
        run_blocking(
            query(
                "INSERT INTO member (id, platform, platform_user_id, team, groups, is_bot, "
                "profile_complete, opted_out, forgotten, created_at, updated_at) VALUES "
                "(1, 'memory', 'ana', 'sales', '[]', :no, :no, :no, :no, :at, :at)",
                no=False,
                at=NOW,
            )
        )
        upgrade(db_url, "0010")
        assert "team_source" in columns()
        assert run_blocking(query("SELECT team, team_source FROM member")) == [("sales", None)]
        run_blocking(query("UPDATE member SET team_source = 'roster'"))
        downgrade(db_url, "0009")  # batch mode on SQLite: the table is copied
        assert "team_source" not in columns()
        assert run_blocking(query("SELECT platform_user_id, team FROM member")) == [
            ("ana", "sales")
        ]
        upgrade(db_url)
        assert current_revision(db_url) == head_revision()
        assert run_blocking(query("SELECT team, team_source FROM member")) == [("sales", None)]
    finally:
        upgrade(db_url)  # leave the shared PostgreSQL database at head whatever happened
