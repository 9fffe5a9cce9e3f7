"""The rate limiter, on simulated time: no real sleeping, no timed assertions."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from rallybot.bot.ratelimit import RateLimiter, Rule


class FakeTime:
    """A clock that moves only when the limiter sleeps.

    ``sleep`` first lets the tasks that were just woken run (so they see the instant they
    were served at), then moves the clock. The limiter has a single sleeper (its timer), so
    this is exact.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        for _ in range(3):
            await asyncio.sleep(0)
        self.now += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


def limiter(clock: FakeTime, rules: dict[str, Rule], **kwargs: int) -> RateLimiter:
    return RateLimiter(rules, time_func=clock.time, sleep=clock.sleep, **kwargs)


async def test_ten_acquires_at_two_per_second_take_four_and_a_half_seconds(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=2)})
    for _ in range(10):
        await rl.acquire("channel:C1")
    assert clock.now == pytest.approx(4.5)
    assert len(clock.sleeps) == 9  # one sleep per wait: no polling
    assert rl.stats() == {"channel": 10}


async def test_burst_is_spent_first(clock: FakeTime) -> None:
    rl = limiter(clock, {"workspace": Rule(rate=1, burst=3)})
    stamps = []
    for _ in range(5):
        await rl.acquire("workspace")
        stamps.append(clock.now)
    assert stamps == pytest.approx([0, 0, 0, 1, 2])


async def test_two_keys_of_one_rule_are_independent(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=1)})
    await rl.acquire("channel:C1")
    await rl.acquire("channel:C2")
    assert clock.now == 0
    await rl.acquire("channel:C1")
    assert clock.now == pytest.approx(1)
    await rl.acquire("channel:C2")  # refilled meanwhile
    assert clock.now == pytest.approx(1)
    assert rl.stats() == {"channel": 4}


async def test_a_key_without_rule_is_unlimited(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=1)})
    for _ in range(100):
        await rl.acquire("dm:U1", "other")
    await rl.acquire()
    assert clock.now == 0
    assert rl.bucket_count == 0
    assert rl.stats() == {"channel": 0}


async def test_an_exact_key_rule_wins_over_the_prefix(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=1), "channel:VIP": Rule(rate=10, burst=5)})
    for _ in range(5):
        await rl.acquire("channel:VIP")
    assert clock.now == 0
    assert rl.stats() == {"channel": 0, "channel:VIP": 5}


async def test_duplicate_keys_take_one_token(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=1, burst=2)})
    await rl.acquire("channel:C1", "channel:C1")
    await rl.acquire("channel:C1")
    assert clock.now == 0


async def test_acquire_waits_for_every_bucket(clock: FakeTime) -> None:
    rl = limiter(clock, {"workspace": Rule(rate=10), "channel": Rule(rate=1)})
    await rl.acquire("workspace", "channel:C1")
    await rl.acquire("workspace", "channel:C1")
    assert clock.now == pytest.approx(1)
    assert rl.stats() == {"workspace": 2, "channel": 2}


async def test_waiting_on_one_channel_does_not_hold_the_workspace(clock: FakeTime) -> None:
    rl = limiter(clock, {"workspace": Rule(rate=4), "channel": Rule(rate=1)})
    await rl.acquire("workspace", "channel:C1")
    done: dict[str, float] = {}

    async def send(name: str, channel: str) -> None:
        await rl.acquire("workspace", channel)
        done[name] = clock.now

    # C1 arrives first but needs its channel until t=1; C2 only needs the workspace (t=0.25)
    await asyncio.gather(send("c1", "channel:C1"), send("c2", "channel:C2"))
    assert done["c2"] == pytest.approx(0.25)
    assert done["c1"] == pytest.approx(1.0)


async def test_penalize_delays_that_key_only(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=10)})
    rl.penalize("channel:C1", 5)  # returns at once
    assert clock.now == 0
    await rl.acquire("channel:C2")
    assert clock.now == 0
    await rl.acquire("channel:C1")
    assert clock.now == pytest.approx(5)
    await rl.acquire("channel:C1")  # the penalty is over: the normal rate again
    assert clock.now == pytest.approx(5.1)


async def test_penalize_everything(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=10)})
    rl.penalize("*", 3)
    await rl.acquire("channel:C9")
    assert clock.now == pytest.approx(3)
    rl.penalize("*", 2)
    await rl.acquire("no-rule")  # even unlimited keys wait
    assert clock.now == pytest.approx(5)


async def test_penalize_a_key_without_rule(clock: FakeTime) -> None:
    rl = limiter(clock, {})
    rl.penalize("conversations.open", 30)
    await rl.acquire("chat.postMessage")
    assert clock.now == 0
    await rl.acquire("conversations.open")
    assert clock.now == pytest.approx(30)
    await rl.acquire("conversations.open")
    assert clock.now == pytest.approx(30)


async def test_a_shorter_penalty_does_not_shorten_a_longer_one(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=10)})
    rl.penalize("channel:C1", 5)
    rl.penalize("channel:C1", 1)
    await rl.acquire("channel:C1")
    assert clock.now == pytest.approx(5)


async def test_a_penalty_ends_at_the_rate_not_with_a_burst(clock: FakeTime) -> None:
    # The platform's allowance comes back when Retry-After ends, with nothing saved: a full
    # burst sent at that moment left no margin, drew the next 429, and so on every second.
    rl = limiter(clock, {"workspace": Rule(rate=10, burst=5)})
    rl.penalize("workspace", 1)
    stamps = []
    for _ in range(4):
        await rl.acquire("workspace")
        stamps.append(clock.now)
    assert stamps == pytest.approx([1.0, 1.1, 1.2, 1.3])
    clock.now += 10  # idle again: the burst is saved up as before
    for _ in range(5):
        await rl.acquire("workspace")
    assert clock.now == pytest.approx(11.3)


async def test_penalty_while_others_wait(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=2)})
    await rl.acquire("channel:C1")
    waiting = asyncio.create_task(rl.acquire("channel:C1"))
    await asyncio.sleep(0)
    assert rl.waiting == 1
    rl.penalize("channel:C1", 10)
    await waiting
    assert clock.now == pytest.approx(10)


async def test_concurrent_acquires_keep_the_rate_in_order(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=2)})
    stamps: list[tuple[int, float]] = []

    async def send(i: int) -> None:
        await rl.acquire("channel:C1")
        stamps.append((i, clock.now))

    await asyncio.gather(*(send(i) for i in range(10)))
    assert [i for i, _ in stamps] == list(range(10))  # first come, first served
    times = [t for _, t in stamps]
    assert times == pytest.approx([i * 0.5 for i in range(10)])
    assert len(clock.sleeps) == 9  # one timer, one wake-up per token
    assert rl.waiting == 0
    assert rl.stats() == {"channel": 10}


async def test_concurrent_acquires_on_many_channels_share_the_workspace(clock: FakeTime) -> None:
    rl = limiter(clock, {"workspace": Rule(rate=5, burst=5), "channel": Rule(rate=1)})
    stamps: dict[str, list[float]] = {}

    async def send(channel: str) -> None:
        await rl.acquire("workspace", channel)
        stamps.setdefault(channel, []).append(clock.now)

    jobs = [send(f"channel:C{c}") for _ in range(4) for c in range(5)]
    await asyncio.gather(*jobs)
    assert rl.stats() == {"workspace": 20, "channel": 20}
    every = sorted(t for ts in stamps.values() for t in ts)
    for i in range(len(every) - 5):  # never more than 5 per second over the workspace
        assert every[i + 5] - every[i] >= 1 - 1e-9
    for ts in stamps.values():  # and one per second per channel
        assert all(b - a >= 1 - 1e-9 for a, b in itertools.pairwise(ts))
    assert clock.now == pytest.approx(3)


async def test_a_cancelled_waiter_takes_nothing(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=1)})
    await rl.acquire("channel:C1")
    task = asyncio.create_task(rl.acquire("channel:C1"))
    await asyncio.sleep(0)
    assert rl.waiting == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rl.waiting == 0
    await rl.acquire("channel:C1")
    assert clock.now == pytest.approx(1)
    assert rl.stats() == {"channel": 2}
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not others  # no timer left behind


async def test_an_earlier_need_reschedules_the_timer(clock: FakeTime) -> None:
    rl = limiter(clock, {"slow": Rule(rate=0.1), "fast": Rule(rate=2)})
    await rl.acquire("slow")
    await rl.acquire("fast")
    slow = asyncio.create_task(rl.acquire("slow"))  # needs 10 s
    await asyncio.sleep(0)
    fast = asyncio.create_task(rl.acquire("fast"))  # needs 0.5 s
    await fast
    assert clock.now == pytest.approx(0.5)
    await slow
    assert clock.now == pytest.approx(10)


async def test_idle_buckets_are_evicted(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=1)}, max_buckets=100)
    for i in range(5_000):
        await rl.acquire(f"channel:C{i}")
        clock.now += 1.0  # the bucket just used is full again by the next call
    assert rl.bucket_count <= 100
    assert rl.stats() == {"channel": 5_000}


async def test_busy_buckets_are_kept_over_the_bound(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=1)}, max_buckets=10)
    for i in range(20):
        await rl.acquire(f"channel:C{i}")
    assert rl.bucket_count == 20  # all used this instant: forgetting one would lose its state
    await rl.acquire("channel:C0")
    assert clock.now == pytest.approx(1)  # still limited
    clock.now += 5
    await rl.acquire("channel:new")
    assert rl.bucket_count <= 10


async def test_penalized_buckets_are_not_evicted(clock: FakeTime) -> None:
    rl = limiter(clock, {"channel": Rule(rate=100)}, max_buckets=2)
    rl.penalize("channel:C1", 50)
    for i in range(2, 10):
        clock.now += 1
        await rl.acquire(f"channel:C{i}")
    await rl.acquire("channel:C1")
    assert clock.now == pytest.approx(50)


async def test_real_clock_smoke() -> None:
    rl = RateLimiter({"channel": Rule(rate=1000)})
    await asyncio.gather(*(rl.acquire("channel:C1") for _ in range(5)))
    assert rl.stats() == {"channel": 5}


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_rules_are_validated(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        Rule(rate=rate, burst=burst)
