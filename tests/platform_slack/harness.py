"""Helpers shared by the Slack adapter tests: settings and an adapter wired to a FakeSlack."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from rallybot.bot.adapters.slack.adapter import SlackAdapter
from rallybot.bot.clock import Clock, SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import Event
from rallybot.storage.database import Database
from tests.platform_slack.fake_slack import FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)


def slack_settings(fake: FakeSlack, **overrides: Any) -> Settings:
    """Settings pointing at the fake, with every token set."""
    options: dict[str, Any] = {
        "database_url": "sqlite://",
        "slack_bot_token": fake.bot_token,
        "slack_app_token": fake.app_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "quiet_hours": "off",
        **overrides,
    }
    return Settings(**options)


@asynccontextmanager
async def slack_adapter(
    fake: FakeSlack,
    db: Database,
    clock: Clock | None = None,
    *,
    http_port: int | None = None,
    scale: float | None = None,
    settings: Settings | None = None,
    **kwargs: Any,
) -> AsyncIterator[SlackAdapter]:
    """An adapter on the fake (limits scaled like the fake unless ``scale`` is given);
    stopped (its client closed) at the end."""
    adapter = SlackAdapter(
        settings=settings or slack_settings(fake),
        db=db,
        clock=clock or SimulatedClock(NOW),
        http_port=http_port,
        limiter_scale=scale if scale is not None else fake.scale,
        host="127.0.0.1",
        **kwargs,
    )
    try:
        yield adapter
    finally:
        await adapter.stop()


async def eventually(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``predicate()`` holds (for state no event announces, like a limiter queue)."""
    deadline = time.monotonic() + within
    for _ in itertools.count():
        if predicate():
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not become true in time")
        await asyncio.sleep(0.01)


class Sink:
    """An event sink that records what it receives and lets a test wait for it."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait_for(self, count: int, within: float = 5.0) -> list[Event]:
        """Wait until ``count`` events were received."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.events) >= count), within
            )
        return list(self.events)
