"""Clocks: the system clock and a simulated one that tests and the demo move by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SimulatedClock", "SystemClock", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


@runtime_checkable
class Clock(Protocol):
    """What the bot asks of time. Every datetime is timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant."""
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        await asyncio.sleep(seconds)


class SimulatedClock:
    """A clock that only moves when told to, or at ``speed`` times real time.

    With ``speed=0`` (the default) time stands still between calls to :meth:`advance`
    and :meth:`set`; a positive speed lets it run on by itself, accelerated.
    """

    def __init__(self, start: datetime, speed: float = 0.0) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware start")
        self._base = start.astimezone(UTC)
        self._speed = speed
        self._real_base = utcnow()

    @property
    def speed(self) -> float:
        """Simulated seconds per real second (0: time moves only when told to)."""
        return self._speed

    def now(self) -> datetime:
        """The simulated instant."""
        if self._speed:
            return self._base + (utcnow() - self._real_base) * self._speed
        return self._base

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (never backwards)."""
        when = when.astimezone(UTC)
        current = self.now()
        self._base = max(when, current)
        self._real_base = utcnow()

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new instant."""
        if delta < timedelta(0):
            raise ValueError("the clock cannot go backwards")
        self.set(self.now() + delta)
        return self._base

    async def sleep(self, seconds: float) -> None:
        """Advance simulated time; with a speed, also wait the scaled real time."""
        if self._speed:
            await asyncio.sleep(seconds / self._speed)
        else:
            self.advance(timedelta(seconds=seconds))
            await asyncio.sleep(0)
