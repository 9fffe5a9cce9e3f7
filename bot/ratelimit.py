"""An asyncio rate limiter: token buckets keyed by string, shared by the outbox dispatcher.

Keys name buckets, and a key's rule is found by the key itself or by its prefix before
``:`` (the rule ``"channel"`` gives ``"channel:C1"`` and ``"channel:C2"`` a bucket each); a
key with no rule is unlimited. :meth:`RateLimiter.acquire` takes one token from every named
bucket at once, so a caller waiting on a busy channel never holds the workspace allowance
that other channels could use. Waiters are served in arrival order, except that a waiter
blocked on one bucket lets later waiters use the other buckets it needs ("fair-ish" FIFO).

A single timer task sleeps until the earliest moment a waiter could be served, so there is
no polling; ``time_func`` and ``sleep`` are injectable so tests run on simulated time.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from rallybot.bot.metrics import METRICS

__all__ = ["RateLimiter", "Rule"]

_EPSILON = 1e-9  # float slack when comparing token counts and instants
_MIN_SLEEP = 1e-6  # never schedule a zero-length wake-up (no spinning on rounding errors)


@dataclass(frozen=True)
class Rule:
    """``rate`` tokens per second, at most ``burst`` of them saved up."""

    rate: float
    burst: int = 1

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"a rate limit rule needs a positive rate, not {self.rate!r}")
        if self.burst < 1:
            raise ValueError(f"a rate limit rule needs a burst of at least 1, not {self.burst!r}")


class _Bucket:
    """One key's state. ``rule`` is None for a key without a rule that was penalized."""

    __slots__ = ("blocked_until", "rule", "rule_name", "tokens", "updated", "waiters")

    def __init__(self, rule_name: str | None, rule: Rule | None, now: float) -> None:
        self.rule_name = rule_name
        self.rule = rule
        self.tokens = float(rule.burst) if rule else 0.0
        self.updated = now
        self.blocked_until = float("-inf")
        self.waiters = 0  # pending acquisitions that need this bucket (never evicted while > 0)

    def refill(self, now: float) -> None:
        if self.rule is not None and now > self.updated:
            burst = float(self.rule.burst)
            self.tokens = min(burst, self.tokens + (now - self.updated) * self.rule.rate)
            self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until a token is available here (0 when one is); call after refill."""
        penalty = self.blocked_until - now
        if self.rule is None or self.tokens >= 1.0 - _EPSILON:
            shortage = 0.0
        else:
            shortage = (1.0 - self.tokens) / self.rule.rate
        wait = max(penalty, shortage)
        return wait if wait > _EPSILON else 0.0

    def take(self) -> None:
        if self.rule is not None:
            self.tokens = max(0.0, self.tokens - 1.0)

    def idle(self, now: float) -> bool:
        """True when forgetting this bucket changes nothing: full, unpenalized, unused."""
        if self.waiters or self.blocked_until > now:
            return False
        self.refill(now)
        return self.rule is None or self.tokens >= self.rule.burst - _EPSILON


def _label(buckets: list[_Bucket]) -> str:
    for bucket in buckets:
        if bucket.rule_name is not None:
            return bucket.rule_name
    return "penalty"  # only keys without a rule, held by a 429 penalty


@dataclass(eq=False)
class _Waiter:
    buckets: list[_Bucket]
    future: asyncio.Future[None]
    served: bool = False


def _scaled(rule: Rule, share: float) -> Rule:
    """``rule`` cut to ``share`` of its rate and burst (a burst of at least one).

    A shared burst is three quarters of the burst's share: calls that replicas were granted
    apart may still reach the platform together (a busy event loop, a network queue), and the
    platform's own burst must absorb that.
    """
    if share >= 1.0 - _EPSILON:
        return rule
    burst = max(1, int(rule.burst * share * 0.75 + _EPSILON))
    return Rule(rate=rule.rate * share, burst=burst)


class RateLimiter:
    """Token buckets keyed by string; see the module docstring.

    Args:
        rules: rate limit rules by name (``"workspace"``, ``"channel"``...).
        time_func: a monotonic clock in seconds.
        sleep: how to wait; a fake pair of ``time_func``/``sleep`` simulates time.
        max_buckets: how many buckets to keep; beyond it the least recently used idle ones
            (full, unpenalized, with no waiter) are forgotten, which loses nothing.
    """

    def __init__(
        self,
        rules: Mapping[str, Rule],
        *,
        time_func: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_buckets: int = 10_000,
        platform: str = "bot",
    ) -> None:
        if max_buckets < 1:
            raise ValueError("max_buckets must be at least 1")
        self._rules = dict(rules)
        self._base_rules = dict(rules)  # the whole allowance; _rules is this process's share
        self._share = 1.0
        self._time = time_func
        self._sleep = sleep
        self._max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._waiters: dict[int, _Waiter] = {}  # insertion order is arrival order
        self._tickets = itertools.count()
        self._blocked_all_until = float("-inf")
        self._paused_until = float("-inf")  # see pause(): unlike a penalty, it can be lifted
        self._acquired: dict[str, int] = dict.fromkeys(self._rules, 0)
        self._timer: asyncio.Task[None] | None = None
        self._timer_deadline = float("inf")
        self.platform = platform  # the metrics' label (bot.metrics: rate limit waits)

    # -- public API ---------------------------------------------------------------------

    async def acquire(self, *keys: str, label: str | None = None) -> None:
        """Wait until every named bucket has a token, then take one from each.

        Keys without a rule cost nothing (but still honour :meth:`penalize`). If the caller
        is cancelled while waiting, it takes nothing. A wait is counted in the metrics under
        ``label`` (the API method; by default the first bucket's rule name, never a key,
        which may hold a channel id).
        """
        now = self._time()
        buckets: list[_Bucket] = []
        for key in dict.fromkeys(keys):  # drop duplicates, keep order
            bucket = self._bucket(key, now, create=False)
            if bucket is not None:
                buckets.append(bucket)
        if not any(bucket.waiters for bucket in buckets) and self._ready(buckets, now):
            # nobody is queued for these buckets, so nobody is overtaken
            self._grant(buckets)
            self._evict(now)  # after the grant: the buckets just used are not idle
            return
        waiter = _Waiter(buckets, asyncio.get_running_loop().create_future())
        ticket = next(self._tickets)
        self._waiters[ticket] = waiter
        for bucket in buckets:
            bucket.waiters += 1
        self._evict(now)  # buckets with waiters are never evicted
        wait = self._wait(buckets, now)
        if wait > 0.0:
            deadline: float | None = now + wait  # a lower bound: the timer re-checks then
        else:  # ready, but others queue for the same buckets: serve in order, now
            deadline = self._pump()
            if waiter.served:
                return
        self._schedule(deadline)
        try:
            await waiter.future
            if METRICS.enabled:
                METRICS.waited(self.platform, label or _label(buckets), self._time() - now)
        except asyncio.CancelledError:
            if self._waiters.pop(ticket, None) is not None:
                for bucket in buckets:
                    bucket.waiters -= 1
                if not self._waiters and self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
            raise

    def penalize(self, key: str, retry_after: float) -> None:
        """Give nobody a token for ``key`` (every key when ``"*"``) for ``retry_after`` s.

        Called after a platform answered 429; never blocks. A longer existing penalty stays.
        When the penalty ends, one call goes, then the next at the rule's rate (no burst).
        """
        now = self._time()
        until = now + max(0.0, retry_after)
        if key == "*":
            self._blocked_all_until = max(self._blocked_all_until, until)
            return
        bucket = self._bucket(key, now, create=True)
        assert bucket is not None
        bucket.refill(now)
        bucket.tokens = 0.0  # what had been saved up before the 429 is spent
        bucket.blocked_until = max(bucket.blocked_until, until)
        # Nothing is saved up while held back either: a bucket that came back with a full
        # burst would send it the moment the platform's own allowance starts again, with no
        # margin for the calls' jitter, and draw the next 429 (one every Retry-After). One
        # call goes when the penalty ends, the next ones at the rate.
        if bucket.rule is not None:
            bucket.updated = max(bucket.updated, bucket.blocked_until - 1.0 / bucket.rule.rate)
        self._evict(now)

    def untouched(self, key: str) -> bool:
        """True when nothing holds ``key`` back and nothing was taken from it lately: its
        bucket is full (or forgotten), unpenalized, with no waiter. A 429 for a call whose
        most specific bucket was untouched was caused by a wider allowance (bot.adapters)."""
        bucket = self._buckets.get(key)
        return bucket is None or bucket.idle(self._time())

    def set_share(self, share: float) -> None:
        """Hand out only ``share`` (0 < share <= 1) of every rule: its rate times ``share``
        and its burst too (at least 1), so that replicas sharing one platform allowance never
        exceed it together (see :mod:`bot.budget`). Tokens saved beyond the new burst are
        dropped; waiters are re-examined at once."""
        if not 0.0 < share <= 1.0:
            raise ValueError(f"a share must be in (0, 1], not {share!r}")
        if abs(share - self._share) < _EPSILON:
            return
        self._share = share
        self._rules = {name: _scaled(rule, share) for name, rule in self._base_rules.items()}
        now = self._time()
        for bucket in self._buckets.values():
            if bucket.rule_name is None:
                continue
            bucket.refill(now)  # what was saved at the old rate stays saved
            bucket.rule = self._rules[bucket.rule_name]
            bucket.tokens = min(bucket.tokens, float(bucket.rule.burst))
        if self._waiters:
            self._schedule(self._pump())

    def pause(self, seconds: float) -> None:
        """Give nobody any token for ``seconds`` (replacing an earlier pause), until
        :meth:`resume`: a replica that cannot prove it is alive stops sending (bot.budget)."""
        self._paused_until = self._time() + max(0.0, seconds)

    def resume(self) -> None:
        """Lift :meth:`pause` (429 penalties stay); waiters are served at once."""
        if self._paused_until == float("-inf"):
            return
        self._paused_until = float("-inf")
        if self._waiters:
            self._schedule(self._pump())

    @property
    def share(self) -> float:
        """The share of the allowance this limiter hands out (1.0 when alone)."""
        return self._share

    def stats(self) -> dict[str, int]:
        """How many acquisitions each rule has granted so far."""
        return dict(self._acquired)

    @property
    def bucket_count(self) -> int:
        """How many buckets are currently kept in memory."""
        return len(self._buckets)

    @property
    def waiting(self) -> int:
        """How many acquisitions are waiting."""
        return len(self._waiters)

    # -- internals ----------------------------------------------------------------------

    def _rule_for(self, key: str) -> tuple[str | None, Rule | None]:
        if key in self._rules:
            return key, self._rules[key]
        prefix = key.partition(":")[0]
        if prefix in self._rules:
            return prefix, self._rules[prefix]
        return None, None

    def _bucket(self, key: str, now: float, *, create: bool) -> _Bucket | None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            self._buckets.move_to_end(key)
            return bucket
        rule_name, rule = self._rule_for(key)
        if rule is None and not create:
            return None
        bucket = _Bucket(rule_name, rule, now)
        self._buckets[key] = bucket
        return bucket

    def _evict(self, now: float) -> None:
        # Second chance over the least recently used end: idle buckets go, busy ones move to
        # the back. Busy buckets are those used within burst/rate seconds or penalized, so
        # the bound only overflows while that many keys are genuinely active.
        excess = len(self._buckets) - self._max_buckets
        checks = excess + 32 if excess > 0 else 0  # bounded work per call
        while excess > 0 and checks > 0:
            checks -= 1
            key, bucket = next(iter(self._buckets.items()))
            if bucket.idle(now):
                del self._buckets[key]
                excess -= 1
            else:
                self._buckets.move_to_end(key)

    def _wait(self, buckets: list[_Bucket], now: float) -> float:
        """Seconds until every one of ``buckets`` has a token (0 when they all have)."""
        wait = max(self._blocked_all_until, self._paused_until) - now
        for bucket in buckets:
            bucket.refill(now)
            wait = max(wait, bucket.wait(now))
        return wait if wait > _EPSILON else 0.0

    def _ready(self, buckets: list[_Bucket], now: float) -> bool:
        return self._wait(buckets, now) == 0.0

    def _grant(self, buckets: list[_Bucket]) -> None:
        for bucket in buckets:
            bucket.take()
            if bucket.rule_name is not None:
                self._acquired[bucket.rule_name] += 1

    def _pump(self) -> float | None:
        """Serve every waiter that can be served now; the next instant worth waking at."""
        if not self._waiters:
            return None
        now = self._time()
        global_wait = max(self._blocked_all_until, self._paused_until) - now
        if global_wait > _EPSILON:
            return now + global_wait
        next_at = float("inf")
        blocked: set[_Bucket] = set()  # buckets found empty during this pass
        served: list[int] = []
        for ticket, waiter in self._waiters.items():
            ready = True
            for bucket in waiter.buckets:
                if bucket in blocked:
                    ready = False  # an earlier waiter already waits for it
                    continue
                bucket.refill(now)
                wait = bucket.wait(now)
                if wait > 0.0:
                    ready = False
                    blocked.add(bucket)
                    next_at = min(next_at, now + wait)
            if ready:
                served.append(ticket)
                self._grant(waiter.buckets)
                waiter.served = True
                if not waiter.future.done():
                    waiter.future.set_result(None)
            elif any(b.waiters == len(self._waiters) for b in waiter.buckets if b in blocked):
                break  # every waiter needs an empty bucket (a shared workspace): none can go
        for ticket in served:
            for bucket in self._waiters.pop(ticket).buckets:
                bucket.waiters -= 1
        return next_at if self._waiters else None

    def _schedule(self, deadline: float | None) -> None:
        if deadline is None:
            return
        if self._timer is not None and not self._timer.done():
            if deadline >= self._timer_deadline - _EPSILON:
                return  # the running timer wakes early enough
            self._timer.cancel()
        self._timer_deadline = deadline
        self._timer = asyncio.get_running_loop().create_task(
            self._run_timer(deadline), name="ratelimit-timer"
        )

    async def _run_timer(self, deadline: float) -> None:
        me = asyncio.current_task()
        try:
            while True:
                delay = max(deadline - self._time(), _MIN_SLEEP)
                await self._sleep(delay)
                next_deadline = self._pump()
                if next_deadline is None:
                    return
                deadline = next_deadline
                self._timer_deadline = deadline
        finally:
            if self._timer is me:
                self._timer = None
                self._timer_deadline = float("inf")

    def __repr__(self) -> str:
        return (
            f"<RateLimiter rules={sorted(self._rules)} buckets={len(self._buckets)} "
            f"waiting={len(self._waiters)}>"
        )
