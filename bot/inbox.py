"""Recorded inbound events waiting for the features: one queue per member, a few at a time.

The platform adapters hand an event to the bot, which records it in the inbound journal (with
the rest of the burst, in one transaction), lets the adapter acknowledge it, and puts it here
with its journal id. Each member's events are
handled one after the other, in the order they were recorded (a reaction, then its removal);
different members' events are handled side by side by at most ``workers`` tasks, started when
events arrive and ended when none wait.

Events that ``groupable`` accepts (reactions: a burst of them follows every announcement) are
handled a group at a time: up to ``max_group`` members' next events go to ``handle_group``
together, which handles them in one transaction and closes their journal rows in it. Any other
event goes to ``handle_group`` alone (to ``handle`` when there is none), which closes its
journal row in the transaction of its effects too (see :meth:`bot.app.Kernel._handle_group`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from rallybot.bot.events import Event
from rallybot.bot.logs import log_context

__all__ = ["Inbox"]

log = logging.getLogger("rallybot.inbox")


Item = tuple[Event, int | None, "asyncio.Future[None]"]
"""A queued event, its journal id, and the future set once it is handled."""


class Inbox:
    """Per-member FIFO queues drained by up to ``workers`` tasks calling ``handle`` (or
    ``handle_group`` for a group of different members' groupable events).

    A member's queue is either waiting in the ready list or held by exactly one worker, which
    handles its first event and puts it back at the end of the ready list when more wait: one
    member's events never run side by side, and are handled in the order they were put.
    """

    def __init__(
        self,
        handle: Callable[[Event], Awaitable[None]],
        *,
        workers: int,
        handle_group: Callable[[Sequence[tuple[Event, int | None]]], Awaitable[None]] | None = None,
        groupable: Callable[[Event], bool] | None = None,
        max_group: int = 64,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._handle = handle
        self._workers = workers
        self._handle_group = handle_group
        self._groupable = groupable if handle_group is not None else None
        self._max_group = max_group
        self._queues: dict[str, deque[Item]] = {}
        self._ready: deque[str] = deque()
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        """How many events wait or are being handled."""
        return sum(len(queue) for queue in self._queues.values())

    def put(self, event: Event, journal_id: int | None = None) -> asyncio.Future[None]:
        """Queue ``event`` behind its member's earlier events; the future is done once it has
        been handled and its journal row closed, or left open for a later try (a failing
        handler is logged, never raised)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        key = event.user.key
        queue = self._queues.get(key)
        if queue is not None:  # waiting in the ready list, or held by a worker: it will be seen
            queue.append((event, journal_id, done))
            return done
        self._queues[key] = deque([(event, journal_id, done)])
        self._ready.append(key)
        if len(self._tasks) < self._workers:
            task = loop.create_task(self._work(), name="inbox-worker")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return done

    def _take(self) -> list[str]:
        """The members whose next events this worker handles now: one, or a group of members
        whose next events are all groupable (the others keep their place)."""
        key = self._ready.popleft()
        groupable = self._groupable
        if groupable is None or not groupable(self._queues[key][0][0]):
            return [key]
        keys: list[str] = [key]
        skipped: list[str] = []
        scan = 4 * self._max_group  # do not walk a long list of other events for a group
        while self._ready and len(keys) < self._max_group and scan > 0:
            scan -= 1
            other = self._ready.popleft()
            (keys if groupable(self._queues[other][0][0]) else skipped).append(other)
        self._ready.extendleft(reversed(skipped))
        return keys

    async def _work(self) -> None:
        while self._ready:
            keys = self._take()
            heads = [self._queues[key][0] for key in keys]
            try:
                if self._handle_group is None:
                    await self._one(heads[0][0])
                else:
                    await self._group(heads)
            finally:
                for key, (_, _, done) in zip(keys, heads, strict=True):
                    queue = self._queues[key]
                    queue.popleft()
                    if not done.done():
                        done.set_result(None)
                    if queue:
                        self._ready.append(key)
                    else:
                        del self._queues[key]

    async def _one(self, event: Event) -> None:
        # The failure below is logged with the event's fields too (bot.logs).
        with log_context(event=event.event_id, platform=event.platform):
            try:
                await self._handle(event)
            except Exception:
                log.exception("the bot failed on %s event %s", type(event).__name__, event.event_id)

    async def _group(self, heads: list[Item]) -> None:
        assert self._handle_group is not None
        try:
            await self._handle_group([(event, journal_id) for event, journal_id, _ in heads])
        except Exception:  # left open in the journal: handled again at the next start
            log.exception("the bot failed on a group of %d events", len(heads))

    async def idle(self) -> None:
        """Wait until every queued event has been handled and its journal row closed."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
