"""Slack's tiers on the rate limiter, on simulated time (no real sleeping)."""

from __future__ import annotations

import asyncio

import pytest

from rallybot.bot.adapters.slack.limits import (
    HEADROOM,
    METHOD_TIERS,
    POST_WORKSPACE_BURST,
    SLACK_TIERS,
    rate_keys,
    slack_limiter,
    slack_rules,
)
from rallybot.bot.ratelimit import RateLimiter


class FakeTime:
    """A clock that moves only when the limiter sleeps (as in tests/test_ratelimit.py)."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        self.now += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


def limiter(clock: FakeTime, scale: float = 1.0) -> RateLimiter:
    return slack_limiter(scale, time_func=clock.time, sleep=clock.sleep)


async def call(rl: RateLimiter, method: str, channel: str | None = None) -> None:
    await rl.acquire(*rate_keys(method, channel))


def test_the_tiers_are_slacks() -> None:
    assert SLACK_TIERS == {"tier1": 1.0, "tier2": 20.0, "tier3": 50.0, "tier4": 100.0}
    assert METHOD_TIERS["conversations.open"] == "tier3"
    assert METHOD_TIERS["conversations.history"] == "tier3"
    assert METHOD_TIERS["conversations.members"] == "tier4"
    assert METHOD_TIERS["users.info"] == "tier4"
    assert METHOD_TIERS["users.list"] == "tier2"
    assert METHOD_TIERS["pins.add"] == "tier2"
    assert METHOD_TIERS["chat.update"] == "tier3"
    assert METHOD_TIERS["reactions.add"] == "tier3"
    assert METHOD_TIERS["chat.postEphemeral"] == "tier4"
    assert METHOD_TIERS["chat.postMessage"] == "post"
    assert METHOD_TIERS["files.getUploadURLExternal"] == "tier4"
    assert METHOD_TIERS["files.completeUploadExternal"] == "tier4"
    rules = slack_rules()
    assert rules["tier3"].rate == pytest.approx(50 / 60 * HEADROOM)
    assert rules["post"].rate == pytest.approx(1 * HEADROOM)
    assert rules["post"].burst == 1
    assert rules["post:workspace"].burst == POST_WORKSPACE_BURST


def test_rate_keys() -> None:
    assert rate_keys("chat.postMessage", "C1") == ("post:workspace", "post:channel:C1")
    assert rate_keys("chat.postMessage") == ("post:workspace",)
    assert rate_keys("conversations.open") == ("tier3:conversations.open",)
    assert rate_keys("users.info", "C1") == ("tier4:users.info",)  # channel is irrelevant
    assert rate_keys("users.list") == ("tier2:users.list",)
    assert rate_keys("auth.test") == ("special:auth.test",)
    assert rate_keys("some.newMethod") == ("tier2:some.newMethod",)  # unknown: Tier 2


def test_every_budgeted_method_has_a_rule() -> None:
    rules = slack_rules()
    for method, tier in METHOD_TIERS.items():
        for key in rate_keys(method, "C1"):
            prefix = key if key in rules else key.partition(":")[0]
            assert (prefix in rules) == (tier != "special"), (method, key)


def test_scale_multiplies_every_rate_but_no_burst() -> None:
    base, fast = slack_rules(), slack_rules(50)
    assert base.keys() == fast.keys()
    for name in base:
        assert fast[name].rate == pytest.approx(base[name].rate * 50)
        assert fast[name].burst == base[name].burst
    with pytest.raises(ValueError):
        slack_rules(0)


async def test_one_channel_gets_about_one_message_a_second(clock: FakeTime) -> None:
    rl = limiter(clock)
    for _ in range(6):
        await call(rl, "chat.postMessage", "C1")
    assert clock.now == pytest.approx(5 / HEADROOM)  # no burst in one channel


async def test_two_channels_are_not_serialised(clock: FakeTime) -> None:
    rl = limiter(clock)
    done: dict[str, list[float]] = {"C1": [], "C2": []}

    async def post(channel: str) -> None:
        await call(rl, "chat.postMessage", channel)
        done[channel].append(clock.now)

    await asyncio.gather(*(post(c) for _ in range(3) for c in ("C1", "C2")))
    step = 1 / HEADROOM
    assert done["C1"] == pytest.approx([0, step, 2 * step])
    assert done["C2"] == pytest.approx([0, step, 2 * step])


async def test_a_fan_out_of_dms_runs_at_the_workspace_allowance(clock: FakeTime) -> None:
    rl = limiter(clock)
    await asyncio.gather(*(call(rl, "chat.postMessage", f"D{n}") for n in range(110)))
    # the burst of ten goes at once, then ten a second (times the headroom)
    assert clock.now == pytest.approx(100 / (10 * HEADROOM))
    assert rl.stats()["post:workspace"] == 110


async def test_scaled_limits_run_faster_in_the_same_ratio(clock: FakeTime) -> None:
    rl = limiter(clock, scale=20)
    await asyncio.gather(*(call(rl, "chat.postMessage", f"D{n}") for n in range(110)))
    assert clock.now == pytest.approx(100 / (10 * HEADROOM) / 20)


async def test_conversations_open_is_tier_3(clock: FakeTime) -> None:
    rl = limiter(clock)
    for n in range(15):
        await call(rl, "conversations.open", f"U{n}")
    # a burst of five, then 50 a minute
    assert clock.now == pytest.approx(10 * 60 / 50 / HEADROOM)


async def test_tiers_are_per_method(clock: FakeTime) -> None:
    rl = limiter(clock)
    for _ in range(5):  # spends the burst of conversations.open
        await call(rl, "conversations.open")
    for _ in range(5):  # another Tier 3 method: its own bucket
        await call(rl, "conversations.history")
    for _ in range(10):
        await call(rl, "users.info")
    assert clock.now == 0


async def test_a_penalized_key_does_not_block_others(clock: FakeTime) -> None:
    rl = limiter(clock)
    for key in rate_keys("chat.postMessage", "C1"):
        if "channel" in key:
            rl.penalize(key, 30)  # a 429 with Retry-After: 30 for channel C1
    rl.penalize(rate_keys("conversations.open")[0], 60)
    blocked = asyncio.create_task(call(rl, "chat.postMessage", "C1"))
    opened = asyncio.create_task(call(rl, "conversations.open"))
    await call(rl, "chat.postMessage", "C2")
    await call(rl, "users.info")
    await call(rl, "auth.test")
    assert clock.now == 0
    assert not blocked.done() and not opened.done()
    await blocked
    assert clock.now == pytest.approx(30)
    await opened
    assert clock.now == pytest.approx(60)


async def test_a_special_method_is_free_but_honours_a_penalty(clock: FakeTime) -> None:
    rl = limiter(clock)
    for _ in range(100):
        await call(rl, "auth.test")
    assert clock.now == 0
    rl.penalize(rate_keys("auth.test")[0], 5)
    await call(rl, "auth.test")
    assert clock.now == pytest.approx(5)


def test_the_limiter_never_outpaces_the_fake_slack() -> None:
    """The budget stays within what the local fake Slack (Slack's figures) accepts, so a
    fan-out against it runs at the allowed rate without 429s."""
    from tests.platform_slack.fake_slack import DEFAULT_LIMITS

    rules = slack_rules()
    for name, limit in DEFAULT_LIMITS.items():
        if name == "chat.postMessage:channel":
            rule = rules["post"]
        elif name == "chat.postMessage":
            rule = rules["post:workspace"]
        else:
            key = rate_keys(name)[0]
            rule = rules[key.partition(":")[0]]
        assert rule.rate <= limit.per_minute / 60, name
        assert rule.rate >= 0.9 * limit.per_minute / 60, name  # and uses at least 90 % of it
        assert rule.burst <= limit.burst, name
