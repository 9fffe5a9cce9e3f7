"""Recorded inbound events waiting for the features: one queue per member, a few at a time.

The platform adapters acknowledge an event at once and hand it to the bot, which records it
(with the rest of the burst, in one transaction) and puts it here. Each member's events are
handled one after the other, in the order they were recorded (a reaction, then its removal);
different members' events are handled side by side by at most ``workers`` tasks, started when
events arrive and ended when none wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from rallybot.bot.events import Event

__all__ = ["Inbox"]

log = logging.getLogger("rallybot.inbox")


class Inbox:
    """Per-member FIFO queues drained by up to ``workers`` tasks calling ``handle``.

    A member's queue is either waiting in the ready list or being drained by exactly one
    worker, so one member's events never run side by side.
    """

    def __init__(self, handle: Callable[[Event], Awaitable[None]], *, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._handle = handle
        self._workers = workers
        self._queues: dict[str, deque[tuple[Event, asyncio.Future[None]]]] = {}
        self._ready: deque[str] = deque()
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        """How many events wait or are being handled."""
        return sum(len(queue) for queue in self._queues.values())

    def put(self, event: Event) -> asyncio.Future[None]:
        """Queue ``event`` behind its member's earlier events; the future is done once it has
        been handled (a failing handler is logged, never raised)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        key = event.user.key
        queue = self._queues.get(key)
        if queue is not None:  # waiting in the ready list, or being drained: it will be seen
            queue.append((event, done))
            return done
        self._queues[key] = deque([(event, done)])
        self._ready.append(key)
        if len(self._tasks) < self._workers:
            task = loop.create_task(self._work(), name="inbox-worker")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return done

    async def _work(self) -> None:
        while self._ready:
            key = self._ready.popleft()
            queue = self._queues[key]
            while queue:
                event, done = queue[0]
                try:
                    await self._handle(event)
                except Exception:
                    log.exception(
                        "the bot failed on %s event %s", type(event).__name__, event.event_id
                    )
                finally:
                    queue.popleft()
                    if not done.done():
                        done.set_result(None)
            del self._queues[key]

    async def idle(self) -> None:
        """Wait until every queued event has been handled."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
