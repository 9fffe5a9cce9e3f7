"""Rate-limit waits and 429s in the metrics, by platform and method (never by channel)."""

from __future__ import annotations

import pytest

from rallybot.bot.messages import Message
from rallybot.bot.metrics import METRICS
from rallybot.bot.ratelimit import RateLimiter, Rule
from rallybot.storage.database import Database
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import slack_adapter, slack_settings


def sample(name: str, **labels: str) -> float:
    return METRICS.registry.get_sample_value(name, labels) or 0.0


async def test_waits_are_counted_by_platform_and_rule_or_method() -> None:
    limiter = RateLimiter({"post": Rule(rate=200.0, burst=1)}, platform="slack")
    before = sample("rallybot_ratelimit_waits_total", platform="slack", method="post")
    named = sample("rallybot_ratelimit_waits_total", platform="slack", method="chat.postMessage")
    await limiter.acquire("post:channel:C1")  # the burst: no wait
    await limiter.acquire("post:channel:C1")  # waits for the next token
    await limiter.acquire("post:channel:C1", label="chat.postMessage")
    assert sample("rallybot_ratelimit_waits_total", platform="slack", method="post") == before + 1
    assert (
        sample("rallybot_ratelimit_waits_total", platform="slack", method="chat.postMessage")
        == named + 1
    )
    assert sample("rallybot_ratelimit_wait_seconds_total", platform="slack", method="post") > 0
    # The channel id is never a label.
    assert b"C1" not in METRICS.render()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_slack_429s_are_counted_by_method(db: Database, db_url: str) -> None:
    before = sample("rallybot_rate_limited_total", platform="slack", method="chat.postMessage")
    async with FakeSlack(scale=50) as fake:
        fake.add_user("U1", "A member")
        fake.add_channel("C1", "general", ["U1"])
        settings = slack_settings(fake, database_url=db_url)
        # The bot believes in limits a hundred times higher than the fake's: it meets 429s.
        async with slack_adapter(fake, db, settings=settings, scale=5000) as adapter:
            for n in range(4):
                await adapter.post("C1", Message(text=f"update {n}"))
    refused = len([c for c in fake.calls_to("chat.postMessage") if c.status == 429])
    assert refused >= 1
    after = sample("rallybot_rate_limited_total", platform="slack", method="chat.postMessage")
    assert after - before == refused == adapter.rate_limited
