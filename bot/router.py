"""One dispatch point for inbound events: the handlers registered for each event type."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any, TypeVar

from rallybot.bot.events import Event

__all__ = ["Handler", "Router"]

log = logging.getLogger("rallybot.router")

E = TypeVar("E", bound=Event)
Handler = Callable[[Any, Any], Awaitable[None]]


class Router:
    """Maps event types to handlers. A failing handler is logged and never stops the others.

    A handler added with ``transactional=True`` only reads and writes the database (no
    message, no platform call): the bot may run it inside a transaction shared with other
    events and with the closing of their journal rows (see :meth:`bot.app.Rallybot`)."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[tuple[Handler, bool]]] = defaultdict(list)

    def add(
        self,
        event_type: type[E],
        handler: Callable[[E, Any], Awaitable[None]],
        *,
        transactional: bool = False,
    ) -> None:
        """Call ``handler(event, context)`` for every event of ``event_type``."""
        self._handlers[event_type].append((handler, transactional))

    def has(self, event_type: type[Event], *, transactional: bool) -> bool:
        """Whether a handler added with that ``transactional`` flag takes ``event_type``."""
        return any(flag is transactional for _, flag in self._handlers.get(event_type, ()))

    def on(self, event_type: type[E]) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add`."""

        def decorator(handler: Handler) -> Handler:
            self.add(event_type, handler)
            return handler

        return decorator

    async def handle(
        self,
        event: Event,
        context: Any,
        *,
        transactional: bool | None = None,
        each: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        """Call every handler of ``event``'s type, in order (deduplication is the caller's:
        :meth:`bot.app.Rallybot.handle`); with ``transactional``, only the handlers added with
        that flag (True) or only the others (False). ``each`` wraps every handler's call (a
        savepoint: a failing handler's writes are undone, the others' kept)."""
        for handler, flag in self._handlers.get(type(event), ()):
            if transactional is not None and flag is not transactional:
                continue
            try:
                async with each() if each is not None else nullcontext():
                    await handler(event, context)
            except Exception:
                log.exception(
                    "handler %s failed on %s event %s",
                    getattr(handler, "__qualname__", handler),
                    type(event).__name__,
                    event.event_id,
                )
