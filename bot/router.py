"""One dispatch point for inbound events: deduplicate, then call the handlers registered."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.events import Event

__all__ = ["Handler", "Router"]

log = logging.getLogger("rallybot.router")

E = TypeVar("E", bound=Event)
Handler = Callable[[Any, Any], Awaitable[None]]
Deduplicate = Callable[[Event], Awaitable[bool]]


class Router:
    """Maps event types to handlers. A failing handler is logged and never stops the others."""

    def __init__(self, deduplicate: Deduplicate | None = None) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)
        self._deduplicate = deduplicate

    def add(self, event_type: type[E], handler: Callable[[E, Any], Awaitable[None]]) -> None:
        """Call ``handler(event, context)`` for every event of ``event_type``."""
        self._handlers[event_type].append(handler)

    def on(self, event_type: type[E]) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add`."""

        def decorator(handler: Handler) -> Handler:
            self.add(event_type, handler)
            return handler

        return decorator

    async def dispatch(self, event: Event, context: Any) -> bool:
        """Handle ``event`` once; False when it was a duplicate (a platform retry)."""
        if self._deduplicate is not None and not await self._deduplicate(event):
            log.info("dropped duplicate %s event %s", type(event).__name__, event.event_id)
            return False
        await self.handle(event, context)
        return True

    async def handle(self, event: Event, context: Any) -> None:
        """Call every handler of ``event``'s type, in order, with no deduplication."""
        for handler in self._handlers.get(type(event), ()):
            try:
                await handler(event, context)
            except Exception:
                log.exception(
                    "handler %s failed on %s event %s",
                    getattr(handler, "__qualname__", handler),
                    type(event).__name__,
                    event.event_id,
                )
