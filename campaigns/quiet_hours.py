"""Quiet hours: the daily window, in a member's local time, when no direct message is sent.

Part of the campaign-file language (a campaign's ``quiet_hours:``) and of the settings
(``RALLYBOT_QUIET_HOURS``, the default), which read it from here.
"""

from __future__ import annotations

from datetime import time

from rallybot.campaigns.words import N_

__all__ = ["QuietHours", "parse_quiet_hours"]


class QuietHours:
    """A daily window, in a member's local time, during which no direct message is sent."""

    __slots__ = ("end", "start")

    def __init__(self, start: time, end: time) -> None:
        self.start = start
        self.end = end

    def contains(self, t: time) -> bool:
        """Whether the local wall-clock time ``t`` falls inside the window."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def __repr__(self) -> str:
        return f"QuietHours({self.start:%H:%M}-{self.end:%H:%M})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuietHours) and (self.start, self.end) == (other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.start, self.end))


def parse_quiet_hours(value: str) -> QuietHours | None:
    """Parse ``"21:00-08:00"``; an empty string or ``"off"`` means no quiet hours."""
    text = value.strip().lower()
    if text in {"", "off", "none"}:
        return None
    try:
        start_s, end_s = (part.strip() for part in text.split("-"))
        return QuietHours(time.fromisoformat(start_s), time.fromisoformat(end_s))
    except ValueError as exc:
        raise ValueError(
            N_(
                'quiet hours must look like "21:00-08:00", not "{value}"',
                value=value,
            )
        ) from exc
