"""Roster rows matched to Discord accounts by their ``discord`` cell (an id, a mention or a
username), through the adapter's member lookup against the fake Discord; the rows that match
no member are reported with the reason. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from discord.http import Route
from typer.testing import CliRunner

from rallybot.bot.adapters.discord.adapter import DiscordAdapter, build_client
from rallybot.bot.cli import app
from rallybot.campaigns.roster import load_roster_text, member_fields
from rallybot.handlers.onboarding.feature import match_roster
from rallybot.storage.database import Database, create_database
from rallybot.storage.models import Member
from rallybot.storage.repositories import import_members

from . import payloads
from .adapter_support import (
    ALICE,
    BOB,
    GUILD,
    Recorder,
    build_world,
    close_adapter,
    guild_payload,
    start_adapter,
)
from .fake_discord import FakeDiscord

CAROL = 333_000_000_000_000_003
PEOPLE = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol"}
KEPT = "333000000000000009"  # a row with an id is not looked up
ROSTER = f"""\
id,discord,email,name,cohort
,{ALICE},,Alice,pilot
,<@{BOB}>,,Bob,pilot
,carol,,Carol,pilot
,@ghost,,Ghost,pilot
,,dan@example.com,Dan,pilot
,123456789012345678,,Eve,pilot
{KEPT},,,Fay,pilot
"""
MATCHED = [(str(ALICE), "Alice"), (str(BOB), "Bob"), (str(CAROL), "Carol"), (KEPT, "Fay")]
REPORT = [
    "team.csv:5: @ghost: no member of the server has this id or username (or several do)",
    "team.csv:6: dan@example.com: this platform cannot look members up by email: give the row "
    'its account in a "discord" column (an id or a username)',
    "team.csv:7: 123456789012345678: no member of the server has this id or username "
    "(or several do)",
]
runner = CliRunner()


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    monkeypatch.setattr(Route, "BASE", Route.BASE)  # restored after the test
    async with FakeDiscord() as server:
        build_world(server, PEOPLE)
        yield server


async def stored(db: Database) -> list[tuple[str, str | None]]:
    async with db.session() as session:
        query = sa.select(Member.platform_user_id, Member.display_name)  # type: ignore[call-overload]
        return sorted((str(u), n) for u, n in (await session.execute(query)).all())


async def test_rows_are_matched_by_id_mention_or_username(fake: FakeDiscord, db: Database) -> None:
    adapter = await start_adapter(fake, Recorder(), people=PEOPLE)
    try:
        entries = load_roster_text(ROSTER, "team.csv", default_timezone="Europe/Paris")
        result = await match_roster(adapter, entries)
    finally:
        await close_adapter(adapter)
    assert [(e.id, e.name) for e in result.entries] == MATCHED
    assert result.report("team.csv") == REPORT
    now = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    counts = await import_members(db, "discord", [member_fields(e) for e in result.entries], now)
    assert counts.created == 4
    assert await stored(db) == sorted(MATCHED)


class PrimedDiscordAdapter(DiscordAdapter):
    """The real adapter, whose start logs in to the fake over REST and is primed with the
    server as the gateway would (the fake has no gateway)."""

    def __init__(self, fake: FakeDiscord, **kwargs: Any) -> None:
        super().__init__(client=build_client(), **kwargs)
        self.fake = fake
        self.started = False

    async def start(self, sink: Any) -> None:
        client = self.client
        await client._async_setup_hook()
        await client.http.static_login(self.fake.token)
        await payloads.prime(client, guilds=[guild_payload(PEOPLE)])
        self.started = True
        await super().start(sink)

    async def stop(self) -> None:
        await super().stop()
        await self.client.close()


@contextlib.contextmanager
def fake_in_a_thread() -> Iterator[FakeDiscord]:
    """The fake Discord served from a loop of its own (the command runs ``asyncio.run``)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeDiscord()
    asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(10)
    try:
        build_world(server, PEOPLE)
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_roster_import_on_discord_matches_the_discord_column(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rallybot.bot.adapters.base

    monkeypatch.setattr(Route, "BASE", Route.BASE)  # restored after the test
    monkeypatch.chdir(tmp_path)
    created: list[PrimedDiscordAdapter] = []
    with fake_in_a_thread() as server:

        def create(name: str, **kwargs: Any) -> Any:
            assert name == "discord" and kwargs["sync_commands"] is False
            adapter = PrimedDiscordAdapter(server, **kwargs)
            created.append(adapter)
            return adapter

        monkeypatch.setattr(rallybot.bot.adapters.base, "create_adapter", create)
        monkeypatch.setenv("DATABASE_URL", db_url)
        monkeypatch.setenv("DISCORD_TOKEN", server.token)
        monkeypatch.setenv("DISCORD_GUILD_IDS", str(GUILD))
        monkeypatch.setenv("DISCORD_API_URL", server.base_url)
        roster = tmp_path / "team.csv"
        roster.write_text(ROSTER, encoding="utf-8")
        result = runner.invoke(
            app, ["--locale", "en", "roster", "import", str(roster), "--platform", "discord"]
        )
        commands = dict(server.commands)
    assert result.exit_code == 0, result.output
    assert len(created) == 1 and created[0].started  # matched without --match
    assert commands == {}  # no /rallybot sync for a roster import
    output = " ".join(result.output.split())
    for line in REPORT:
        assert " ".join(line.replace("team.csv", str(roster)).split()) in output
    assert "3 rows matched no account on discord" in output
    assert "4 members created" in output

    async def rows() -> list[tuple[str, str | None]]:
        db = create_database(db_url)
        try:
            return await stored(db)
        finally:
            await db.dispose()

    assert asyncio.run(rows()) == sorted(MATCHED)


def test_a_roster_without_discord_cells_is_not_matched(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rallybot.bot.adapters.base

    def create(name: str, **kwargs: Any) -> Any:
        raise AssertionError("no platform is needed for a roster of ids")

    monkeypatch.setattr(rallybot.bot.adapters.base, "create_adapter", create)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    roster = tmp_path / "ids.csv"
    roster.write_text(f"id,name\n{ALICE},Alice\n", encoding="utf-8")
    result = runner.invoke(
        app, ["--locale", "en", "roster", "import", str(roster), "--platform", "discord"]
    )
    assert result.exit_code == 0, result.output
    assert "1 member created" in result.output
