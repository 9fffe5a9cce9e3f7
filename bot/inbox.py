"""Recorded inbound events waiting for the features: one queue per member, a few at a time.

The platform adapters hand an event to the bot, which records it in the inbound journal (with
the rest of the burst, in one transaction), lets the adapter acknowledge it, and puts it here
with its journal id. Each member's events are
handled one after the other, in the order they were recorded (a reaction, then its removal);
different members' events are handled side by side by at most ``workers`` tasks, started when
events arrive and ended when none wait. Once an event is handled, its journal id goes to
``on_handled`` (which closes the journal row, see :mod:`storage.journal`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from rallybot.bot.events import Event
from rallybot.bot.logs import log_context

__all__ = ["Inbox"]

log = logging.getLogger("rallybot.inbox")


class Inbox:
    """Per-member FIFO queues drained by up to ``workers`` tasks calling ``handle``.

    A member's queue is either waiting in the ready list or being drained by exactly one
    worker, so one member's events never run side by side.
    """

    def __init__(
        self,
        handle: Callable[[Event], Awaitable[None]],
        *,
        workers: int,
        on_handled: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._handle = handle
        self._workers = workers
        self._on_handled = on_handled
        self._queues: dict[str, deque[tuple[Event, int | None, asyncio.Future[None]]]] = {}
        self._ready: deque[str] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closers: set[asyncio.Task[None]] = set()  # journal rows being closed

    def __len__(self) -> int:
        """How many events wait or are being handled."""
        return sum(len(queue) for queue in self._queues.values())

    def put(self, event: Event, journal_id: int | None = None) -> asyncio.Future[None]:
        """Queue ``event`` behind its member's earlier events; the future is done once it has
        been handled and its ``journal_id`` (if any) passed to ``on_handled`` (a failing
        handler is logged, never raised)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        key = event.user.key
        queue = self._queues.get(key)
        if queue is not None:  # waiting in the ready list, or being drained: it will be seen
            queue.append((event, journal_id, done))
            return done
        self._queues[key] = deque([(event, journal_id, done)])
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
                event, journal_id, done = queue[0]
                # The failure below is logged with the event's fields too (bot.logs).
                with log_context(event=event.event_id, platform=event.platform):
                    try:
                        await self._handle(event)
                        if journal_id is not None and self._on_handled is not None:
                            self._close(journal_id)  # the member's next event need not wait
                    except Exception:
                        # Left open in the journal: handled again at the next start (the
                        # features' effects are keyed, so what was done is not done twice).
                        log.exception(
                            "the bot failed on %s event %s", type(event).__name__, event.event_id
                        )
                    finally:
                        queue.popleft()
                        if not done.done():
                            done.set_result(None)
            del self._queues[key]

    def _close(self, journal_id: int) -> None:
        assert self._on_handled is not None
        task = asyncio.get_running_loop().create_task(self._closing(self._on_handled, journal_id))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    @staticmethod
    async def _closing(on_handled: Callable[[int], Awaitable[None]], journal_id: int) -> None:
        try:
            await on_handled(journal_id)
        except Exception:  # left open: handled again at the next start, its effects keyed
            log.exception("could not close recorded event %d", journal_id)

    async def idle(self) -> None:
        """Wait until every queued event has been handled and its journal row closed."""
        while self._tasks or self._closers:
            await asyncio.gather(*self._tasks, *self._closers, return_exceptions=True)
