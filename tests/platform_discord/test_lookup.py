"""Finding a server member by id, mention or name (Discord gives bots no email addresses)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from discord.http import Route

from rallybot.bot.adapters.discord.adapter import DiscordAdapter

from . import payloads
from .adapter_support import ALICE, BOB, Recorder, build_world, close_adapter, start_adapter
from .fake_discord import FakeDiscord


@pytest.fixture
async def adapter(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordAdapter]:
    monkeypatch.setattr(Route, "BASE", Route.BASE)  # restored after the test
    async with FakeDiscord() as server:
        build_world(server)
        started = await start_adapter(server, Recorder())
        try:
            yield started
        finally:
            await close_adapter(started)


async def test_members_are_found_by_id_mention_or_name(adapter: DiscordAdapter) -> None:
    assert await adapter.lookup_member(str(ALICE)) == str(ALICE)
    assert await adapter.lookup_member(f"<@{BOB}>") == str(BOB)
    assert await adapter.lookup_member(f"<@!{BOB}>") == str(BOB)
    assert await adapter.lookup_member("alice") == str(ALICE)  # the username
    assert await adapter.lookup_member("@bob") == str(BOB)
    assert await adapter.lookup_member("ALICE") == str(ALICE)  # the display name


async def test_unknown_people_and_bots_are_not_found(adapter: DiscordAdapter) -> None:
    assert await adapter.lookup_member("nobody") is None
    assert await adapter.lookup_member("") is None
    assert await adapter.lookup_member("Rallybot") is None
    assert await adapter.lookup_member(str(payloads.BOT_ID)) is None
    assert await adapter.lookup_member("123456789012345678") is None  # not in the server
    assert not hasattr(adapter, "lookup_by_email")  # roster matching by email says so
