"""Fixtures of the Discord adapter tests: the fake Discord with its world, a started adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from discord.http import Route

from rallybot.bot.adapters.discord.adapter import DiscordAdapter

from .adapter_support import Recorder, build_world, close_adapter, start_adapter
from .fake_discord import FakeDiscord


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """The fake Discord with the test server, its channels and people (a module may define its
    own ``fake``)."""
    monkeypatch.setattr(Route, "BASE", Route.BASE)  # restored after the test
    async with FakeDiscord() as server:
        build_world(server)
        yield server


@pytest.fixture
async def running(fake: FakeDiscord) -> AsyncIterator[tuple[DiscordAdapter, Recorder]]:
    """A started adapter on ``fake`` whose events go to a :class:`Recorder`."""
    sink = Recorder()
    adapter = await start_adapter(fake, sink)
    try:
        yield adapter, sink
    finally:
        await close_adapter(adapter)
