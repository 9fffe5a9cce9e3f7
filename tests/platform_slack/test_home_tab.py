"""Slack's App Home tab: a member opening it sees their space (``/rallybot me``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from rallybot.bot.adapters.slack.adapter import event_from_callback
from rallybot.bot.adapters.slack.manifest import BOT_EVENTS, build_manifest
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import HomeOpened, UserRef
from rallybot.storage.database import Database
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import slack_adapter, slack_settings

AT = datetime(2026, 11, 22, 20, tzinfo=UTC)


def _opened(tab: str) -> dict[str, object]:
    return {
        "type": "event_callback",
        "event_id": "Ev0HOME1",
        "event_time": 1763841600,
        "event": {
            "type": "app_home_opened",
            "user": "U1",
            "channel": "D1",
            "tab": tab,
            "event_ts": "1763841600.000100",
        },
    }


def test_opening_the_home_tab_is_a_neutral_event() -> None:
    event = event_from_callback(_opened("home"), now=AT)
    assert isinstance(event, HomeOpened)
    assert (event.event_id, event.user) == ("Ev0HOME1", UserRef("slack", "U1"))
    assert event_from_callback(_opened("messages"), now=AT) is None  # the Messages tab


def test_the_manifest_turns_the_home_tab_on() -> None:
    manifest = build_manifest(name="Connect", mode="socket")
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in BOT_EVENTS


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


async def test_the_home_tab_shows_my_space(fake: FakeSlack, db: Database) -> None:
    fake.add_user("U1", "First Member")
    clock = SimulatedClock(AT)
    settings = slack_settings(fake, timezone="UTC")
    async with slack_adapter(fake, db, clock, settings=settings) as adapter:
        bot = Rallybot(settings, db, adapter, clock, campaign_paths=[])
        event = HomeOpened(
            event_id="Ev0HOME1", platform="slack", user=UserRef("slack", "U1"), occurred_at=AT
        )
        await bot.handle(event)
    view = fake.home_views["U1"]
    assert view["type"] == "home"
    text = str(view["blocks"])
    for section in ("Intégration", "Points", "Vous avez 0 point.", "À venir"):  # a French member
        assert section in text
