"""Discord DM channel ids are stored with the member: a restart opens no DM channel again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from discord.http import Route

from rallybot.bot.messages import Message
from rallybot.storage.database import Database
from rallybot.storage.repositories import get_member_by_platform_id, upsert_member

from .adapter_support import ALICE, BOB, Recorder, build_world, close_adapter, start_adapter
from .fake_discord import FakeDiscord

OPEN_DM = "POST /users/@me/channels"
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    monkeypatch.setattr(Route, "BASE", Route.BASE)  # restored after the test
    async with FakeDiscord() as server:
        build_world(server)
        yield server


async def test_the_dm_channel_is_stored_and_reused_after_a_restart(
    fake: FakeDiscord, db: Database
) -> None:
    await upsert_member(db, "discord", str(ALICE), NOW, display_name="Alice")
    first = await start_adapter(fake, Recorder(), db=db)
    try:
        await first.send_direct(str(ALICE), Message(text="Welcome!"))
        await first.send_direct(str(BOB), Message(text="Hello Bob"))  # no member row: not stored
    finally:
        await close_adapter(first)
    assert len(fake.calls_to(OPEN_DM)) == 2
    member = await get_member_by_platform_id(db, "discord", str(ALICE))
    assert member is not None and member.dm_channel_id == str(fake.dm_channel_of(ALICE))

    second = await start_adapter(fake, Recorder(), db=db)  # a new process, a cold client
    try:
        await second.send_direct(str(ALICE), Message(text="Day 2"))
        assert len(fake.calls_to(OPEN_DM)) == 2  # the stored channel was used
        await second.send_direct(str(BOB), Message(text="Day 2, Bob"))
        assert len(fake.calls_to(OPEN_DM)) == 3  # Bob's was not stored: opened again
    finally:
        await close_adapter(second)
    assert [m["content"] for m in fake.dms_to(ALICE)] == ["Welcome!", "Day 2"]
