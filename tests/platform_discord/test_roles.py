"""Teams from Discord roles: ``member_groups`` from the member cache (gateway payloads) and,
before the gateway is up (``rallybot teams sync``), from the fake REST API; the team sync on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
import sqlalchemy as sa
from discord.http import Route

from rallybot.bot.adapters.discord.adapter import DiscordAdapter, build_client
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.teams import TeamSync
from rallybot.storage.database import Database
from rallybot.storage.models import Member
from rallybot.storage.repositories import upsert_member

from . import payloads
from .adapter_support import (
    ALICE,
    BOB,
    GUILD,
    Recorder,
    build_world,
    discord_settings,
    guild_payload,
    tasks_settle,
)
from .fake_discord import FakeDiscord

SALES = 444_000_000_000_000_001
MARKETING = 444_000_000_000_000_002
CY = 333_000_000_000_000_003
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def role(role_id: int, name: str, position: int, template: dict[str, Any]) -> dict[str, Any]:
    """A role object shaped like the server's @everyone role."""
    return {**template, "id": str(role_id), "name": name, "position": position}


def world() -> dict[str, Any]:
    """A GUILD_CREATE with two roles: Alice in Sales, Bob in both, Cy in Marketing."""
    guild = guild_payload({ALICE: "Alice", BOB: "Bob", CY: "Cy"})
    everyone = guild["roles"][0]
    guild["roles"] += [role(SALES, "Sales", 1, everyone), role(MARKETING, "Marketing", 2, everyone)]
    grants = {ALICE: [SALES], BOB: [MARKETING, SALES], CY: [MARKETING], payloads.BOT_ID: [SALES]}
    for member in guild["members"]:
        member["roles"] = [str(r) for r in grants.get(int(member["user"]["id"]), [])]
    return guild


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    monkeypatch.setattr(Route, "BASE", Route.BASE)  # restored after the test
    async with FakeDiscord() as server:
        build_world(server, {ALICE: "Alice", BOB: "Bob", CY: "Cy"})
        yield server


async def primed_adapter(fake: FakeDiscord, guild: dict[str, Any]) -> DiscordAdapter:
    client = build_client()
    await client._async_setup_hook()
    Route.BASE = fake.base_url
    await client.http.static_login(fake.token)
    await payloads.prime(client, guilds=[guild])
    adapter = DiscordAdapter(
        settings=discord_settings(fake, team_groups="sales,marketing"),
        clock=SimulatedClock(NOW),
        client=client,
        sync_commands=False,
    )
    await adapter.start(Recorder())
    return adapter


async def teams(db: Database) -> dict[str, str | None]:
    async with db.session() as session:
        rows = await session.execute(sa.select(Member.platform_user_id, Member.team))  # type: ignore[call-overload]
        return {str(user): team for user, team in rows.all()}


async def test_roles_become_teams_and_follow_member_updates(
    fake: FakeDiscord, db: Database, tmp_path: Path
) -> None:
    guild = world()
    adapter = await primed_adapter(fake, guild)
    try:
        groups = await adapter.member_groups()
        assert {k: sorted(v) for k, v in groups.items()} == {
            str(ALICE): ["Sales"],
            str(BOB): ["Marketing", "Sales"],
            str(CY): ["Marketing"],
        }  # the bot and @everyone are left out
        for user_id in (ALICE, BOB, CY):
            await upsert_member(db, "discord", str(user_id), NOW, display_name=str(user_id))
        bot = Rallybot(
            adapter.settings, db, adapter, SimulatedClock(NOW), campaign_paths=[tmp_path]
        )
        assert await bot.teams_tick() == TeamSync(teamed=3, changed=3)
        assert await teams(db) == {str(ALICE): "sales", str(BOB): "sales", str(CY): "marketing"}
        # Alice loses her role (GUILD_MEMBER_UPDATE), Bob keeps only Marketing
        for user_id, name, roles in ((ALICE, "Alice", []), (BOB, "Bob", [MARKETING])):
            update = {**payloads.member(user_id, name, roles=roles), "guild_id": str(GUILD)}
            payloads.dispatch(adapter.client, "GUILD_MEMBER_UPDATE", update)
        await tasks_settle()
        assert await bot.teams_tick() == TeamSync(teamed=2, changed=2, cleared=1)
        assert await teams(db) == {str(ALICE): None, str(BOB): "marketing", str(CY): "marketing"}
    finally:
        await adapter.stop()
        await adapter.client.close()


async def test_before_the_gateway_roles_are_read_over_rest(fake: FakeDiscord) -> None:
    server = fake.guilds[GUILD]
    everyone = world()["roles"][0]
    server.roles = [role(SALES, "Sales", 1, everyone), role(MARKETING, "Marketing", 2, everyone)]
    server.members[ALICE]["roles"] = [str(SALES)]
    server.members[CY]["roles"] = [str(MARKETING), str(SALES)]
    adapter = DiscordAdapter(settings=discord_settings(fake), clock=SimulatedClock(NOW))
    try:
        assert adapter.client.user is None  # not started: no gateway, no member cache
        groups = await adapter.member_groups()
    finally:
        await adapter.stop()
    assert {k: sorted(v) for k, v in groups.items()} == {
        str(ALICE): ["Sales"],
        str(BOB): [],
        str(CY): ["Marketing", "Sales"],
    }
    assert isinstance(adapter.client, discord.Client) and adapter.client.is_closed()
