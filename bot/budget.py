"""One send budget for every replica: each process takes its share of the platform allowance.

Slack's limits are per workspace and method, Discord's global and per route: they count every
call of the app, whichever process makes it. Each process has its own :class:`RateLimiter`
(tokens handed out in memory, no database round trip per call) modelled on the whole
allowance; :class:`SharedBudget` cuts it to this process's share through the ``replica``
table:

- at start a process registers (a row with its heartbeat) and renews it every ``interval``
  seconds; a replica whose heartbeat is older than ``3 * interval`` is dead;
- at every heartbeat each process counts the live replicas of its platform, ``n``, and hands
  out ``1/n`` of every rate and burst (:meth:`RateLimiter.set_share`): together they never go
  beyond the allowance, whatever the mix of methods each one calls;
- a newcomer sends nothing until every other live replica has written a heartbeat after its
  own first one: the others have then counted it and shrunk their share. When one stops
  cleanly it removes its row and the others take its share at their next heartbeat; when one
  dies they take it once its heartbeat is stale;
- a replica that has not written its heartbeat for ``2 * interval`` (a stalled event loop, a
  slow database) pauses its sends until it has: the others may count it dead soon, and take
  its share. Once written again it comes back as a newcomer does, waiting for every other one
  to have seen it. A handshake rather than a delay: however late the others' heartbeats, no
  two replicas ever count on the same share.

Limits (see ``docs/guides/scaling.md``): the share is even, not by need (an idle replica keeps
its share unused); a per-channel allowance is divided like the others; replicas' clocks must
agree within a fraction of ``interval``; a 429 slows down only the replica that received it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from rallybot.bot.ratelimit import RateLimiter
from rallybot.storage import journal as store
from rallybot.storage.database import Database
from rallybot.storage.journal import LiveReplica

__all__ = ["FENCE_BEATS", "STALE_BEATS", "SharedBudget"]

log = logging.getLogger("rallybot.budget")

STALE_BEATS = 3.0
"""A replica is dead when its heartbeat is older than this many intervals."""
FENCE_BEATS = 2.0
"""A replica whose last heartbeat is this many intervals old pauses its sends."""
_PAUSE_SECONDS = 3600.0  # until a heartbeat lifts it


class SharedBudget:
    """This process's entry in the replica registry and its share of the send budget."""

    def __init__(
        self,
        db: Database,
        worker_id: str,
        platform: str,
        limiter: RateLimiter | None,
        *,
        interval: float = 5.0,
        time_func: Callable[[], float] = time.time,
    ) -> None:
        if not interval > 0:
            raise ValueError("the heartbeat interval must be positive")
        self.db = db
        self.worker_id = worker_id
        self.platform = platform
        self.limiter = limiter
        self.interval = interval
        self._time = time_func
        self._last_beat: float | None = None
        # Sends wait until every other live replica has a heartbeat later than this.
        self._unseen_since: float | None = None
        self._fence: asyncio.Task[None] | None = None
        self.replicas: list[LiveReplica] = []

    @property
    def stale_after(self) -> float:
        """Seconds without a heartbeat after which a replica counts as dead."""
        return self.interval * STALE_BEATS

    def live_since(self) -> float:
        """The oldest heartbeat (Unix seconds) of a replica still alive now."""
        return self._time() - self.stale_after

    async def start(self) -> None:
        """Register, then take this process's share (waiting for the others if needed)."""
        now = self._time()
        await store.register(self.db, self.worker_id, self.platform, now)
        await self.beat()

    async def beat(self) -> list[LiveReplica]:
        """Renew the heartbeat and set the share from the live replicas; returns them."""
        previous = self._last_beat
        now = self._time()
        live = await store.beat(
            self.db, self.worker_id, self.platform, now, live_since=now - self.stale_after
        )
        written = self._time()  # a slow write is as late as a late start
        self._last_beat = now
        before = len(self.replicas)
        self.replicas = live
        count = max(1, len(live))
        if count != before:
            log.info("replicas sharing the %s send budget: %d", self.platform, count)
        if self.limiter is None:
            return live
        self.limiter.set_share(1.0 / count)
        self._arm_fence(now)
        if previous is None or written - previous >= self.interval * FENCE_BEATS:
            # New, or late enough that the others may have counted this one dead and grown
            # into its share: they hand it out until they have seen this heartbeat.
            self._unseen_since = written
        others = [r for r in live if r.worker_id != self.worker_id]
        if self._unseen_since is not None and all(
            r.heartbeat_at > self._unseen_since for r in others
        ):
            self._unseen_since = None
        if self._unseen_since is None:
            self.limiter.resume()  # alive again, if a late heartbeat had paused the sends
        else:
            self.limiter.pause(_PAUSE_SECONDS)
        return live

    def _arm_fence(self, beat_at: float) -> None:
        if self._fence is not None:
            self._fence.cancel()
        delay = beat_at + self.interval * FENCE_BEATS - self._time()
        self._fence = asyncio.get_running_loop().create_task(
            self._pause_after(delay), name="budget-fence"
        )

    async def _pause_after(self, delay: float) -> None:
        await asyncio.sleep(max(0.0, delay))
        if self.limiter is not None:
            log.warning(
                "no heartbeat written for %.1f s: sends paused until one is (the other "
                "replicas may take this one's share)",
                self.interval * FENCE_BEATS,
            )
            self.limiter.pause(_PAUSE_SECONDS)

    async def stop(self) -> None:
        """Leave the registry: the others take this share at their next heartbeat."""
        if self._fence is not None:
            self._fence.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._fence
            self._fence = None
        await store.deregister(self.db, self.worker_id)
        self.replicas = []
