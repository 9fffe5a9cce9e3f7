"""Time expressions of campaign files.

``2026-09-15 09:30``, ``launch``, ``launch - 30d at 08:45``, ``launch + 2w``, ``launch - 2h``,
``join + 2d at 10:00`` and recurrences such as ``monday at 09:00``, ``day at 18:00`` or
``weekday at 08:30``. Day and week offsets are calendar days in local time, so ``at 09:00``
stays 09:00 across a daylight-saving change; hour and minute offsets are exact durations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

__all__ = [
    "Recurrence",
    "TimeExpr",
    "TimeExprError",
    "localize",
    "parse_duration",
    "parse_recurrence",
    "parse_time_expr",
]


class TimeExprError(ValueError):
    """A time expression that cannot be read; the message says what was expected."""


_UNITS: dict[str, tuple[int, int]] = {}  # unit word -> (days, seconds)
for _words, _value in (
    (("w", "week", "weeks", "sem", "semaine", "semaines"), (7, 0)),
    (("d", "day", "days", "j", "jour", "jours"), (1, 0)),
    (("h", "hour", "hours", "heure", "heures"), (0, 3600)),
    (("m", "min", "mins", "minute", "minutes"), (0, 60)),
):
    for _word in _words:
        _UNITS[_word] = _value
_UNIT_RE = "|".join(sorted(_UNITS, key=len, reverse=True))
_DURATION_PART = re.compile(rf"(\d+)\s*({_UNIT_RE})(?![a-z])")
_DURATION_FULL = re.compile(rf"^(?:\d+\s*(?:{_UNIT_RE})(?![a-z])\s*)+$")
_ABSOLUTE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?$")
_EXPR = re.compile(
    r"^(?P<anchor>[A-Za-z_][A-Za-z0-9_]*|\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2})?)"
    # An offset body never ends with a space, so the spaces before the next sign belong to
    # exactly one place: without this the match backtracks exponentially on long inputs.
    r"(?P<offsets>(?:\s*[+-]\s*[0-9](?:[0-9a-zé]|\s(?=[0-9a-zé]))*?)*)"
    r"(?:\s+at\s+(?P<at>\S+))?$"
)
_OFFSET = re.compile(rf"([+-])\s*((?:\d+\s*(?:{_UNIT_RE})(?![a-z])\s*)+)")


def _parse_clock(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2})[:h](\d{2})", text.strip())
    if not match:
        raise TimeExprError(f'"{text}" is not a time of day (write it like 09:30)')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise TimeExprError(f'"{text}" is not a time of day (hours 00-23, minutes 00-59)')
    return time(hour, minute)


def parse_duration(text: str) -> tuple[int, int]:
    """Parse ``30d``, ``2w``, ``1d 12h``, ``90min`` into (calendar days, seconds)."""
    cleaned = text.strip().lower()
    if not _DURATION_FULL.match(cleaned):
        raise TimeExprError(
            f'"{text}" is not a duration (use a number and a unit: 30d, 2w, 3h, 15m)'
        )
    days = seconds = 0
    for amount, unit in _DURATION_PART.findall(cleaned):
        unit_days, unit_seconds = _UNITS[unit]
        days += int(amount) * unit_days
        seconds += int(amount) * unit_seconds
    return days, seconds


def parse_datetime_local(text: str) -> datetime:
    """Parse ``2026-09-15`` or ``2026-09-15 09:30`` as a naive local datetime."""
    match = _ABSOLUTE.match(text.strip())
    if not match:
        raise TimeExprError(f'"{text}" is not a date (write it like 2026-09-15 09:30)')
    try:
        day = date.fromisoformat(match.group(1))
    except ValueError:
        raise TimeExprError(f'"{match.group(1)}" is not a real calendar date') from None
    clock = _parse_clock(match.group(2)) if match.group(2) else time(0, 0)
    return datetime.combine(day, clock)


@dataclass(frozen=True, slots=True)
class TimeExpr:
    """A parsed time expression: an anchor, calendar-day and exact offsets, a time of day."""

    source: str
    anchor: str  # a milestone name, "join", or "absolute"
    absolute: datetime | None = None  # naive, local to the campaign's zone
    days: int = 0
    seconds: int = 0
    at: time | None = None

    @property
    def per_member(self) -> bool:
        """Whether the time depends on each member's join date."""
        return self.anchor == "join"

    def resolve(
        self,
        zone: tzinfo,
        milestones: dict[str, datetime],
        join: datetime | None = None,
        *,
        date_zone: tzinfo | None = None,
    ) -> datetime:
        """The UTC instant of this expression.

        ``milestones`` hold naive local datetimes of the campaign's zone. The calendar date
        is worked out in ``date_zone`` (default ``zone``) and the time of day (``at``) is read
        in ``zone``: a DM ``launch - 1d at 09:00`` reaches each member at 09:00 their time.
        """
        date_zone = date_zone or zone
        if self.anchor == "absolute":
            assert self.absolute is not None
            base_local = self.absolute
            base_zone = date_zone
        elif self.anchor == "join":
            if join is None:
                raise TimeExprError("a join-relative time needs the member's join date")
            base_local = join.astimezone(zone).replace(tzinfo=None)
            base_zone = zone
        else:
            base_local = milestones[self.anchor]
            base_zone = date_zone
        local = base_local + timedelta(days=self.days)
        if self.at is not None:
            instant = localize(datetime.combine(local.date(), self.at), zone)
        else:
            instant = localize(local, base_zone)
        return instant + timedelta(seconds=self.seconds)


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone`` to a wall-clock time and return UTC.

    A time that does not exist (the hour skipped in spring) moves forward by the gap; an
    ambiguous one (the hour repeated in autumn) takes its first occurrence.
    """
    # PEP 495: with fold=0 a repeated time takes its first occurrence, and a skipped time is
    # read with the offset from before the transition, which lands after the gap (02:30 on
    # the spring-forward night becomes 03:30). fold=1 would move it back to 01:30.
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def parse_time_expr(text: str, *, allow_join: bool = True) -> TimeExpr:
    """Parse a time expression; raises :class:`TimeExprError` with a readable message."""
    source = " ".join(str(text).split())
    if not source:
        raise TimeExprError("the time is empty (write a date, a milestone or join + 2d)")
    match = _EXPR.match(source)
    if not match:
        raise TimeExprError(
            f'"{source}" is not a time: write a date (2026-09-15 09:30), a milestone with an '
            "offset (launch - 30d at 09:00) or a time after joining (join + 2d at 10:00)"
        )
    anchor_text = match.group("anchor")
    absolute: datetime | None = None
    if anchor_text[0].isdigit():
        absolute = parse_datetime_local(anchor_text)
        anchor = "absolute"
    else:
        anchor = anchor_text
        if anchor == "join" and not allow_join:
            raise TimeExprError('"join" can only be used in steps, not here')
    days = seconds = 0
    offsets = match.group("offsets").strip()
    consumed = ""
    for sign, body in _OFFSET.findall(offsets):
        consumed += sign + body
        try:
            d, s = parse_duration(body)
        except TimeExprError:
            raise TimeExprError(f'"{body.strip()}" in "{source}" is not a duration') from None
        factor = -1 if sign == "-" else 1
        days += factor * d
        seconds += factor * s
    if re.sub(r"\s", "", consumed) != re.sub(r"\s", "", offsets):
        bad = offsets.replace(" ", "")
        raise TimeExprError(
            f'"{bad}" in "{source}" is not an offset (use + or - and a duration: - 30d, + 2h)'
        )
    at = _parse_clock(match.group("at")) if match.group("at") else None
    if absolute is not None and at is not None and (days or seconds) == 0 and absolute.time():
        raise TimeExprError(f'"{source}" gives the time of day twice')
    return TimeExpr(
        source=source, anchor=anchor, absolute=absolute, days=days, seconds=seconds, at=at
    )


_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
}
_DAILY = {"day", "daily", "jour", "every day"}
_WORKDAYS = {"weekday", "weekdays", "workday", "jour ouvré", "jours ouvrés"}


@dataclass(frozen=True, slots=True)
class Recurrence:
    """``every: monday at 09:00``: the weekdays it fires on and its local time of day."""

    source: str
    weekdays: frozenset[int]
    at: time

    def occurrences(self, start: date, end: date) -> list[date]:
        """Local dates from ``start`` to ``end`` inclusive on which it fires."""
        days: list[date] = []
        current = start
        while current <= end:
            if current.weekday() in self.weekdays:
                days.append(current)
            current += timedelta(days=1)
        return days


def parse_recurrence(text: str) -> Recurrence:
    """Parse ``monday at 09:00``, ``day at 18:00``, ``weekday at 08:30`` (English or French)."""
    source = " ".join(str(text).lower().split())
    what, sep, clock = source.rpartition(" at ")
    if not sep:
        what, sep, clock = source.rpartition(" à ")
    if not sep:
        raise TimeExprError(
            f'"{text}" is not a recurrence: write a day and a time, like "monday at 09:00" '
            'or "day at 18:00"'
        )
    at = _parse_clock(clock)
    names = [part.strip() for part in re.split(r",|\band\b|\bet\b", what) if part.strip()]
    weekdays: set[int] = set()
    for name in names:
        plural = name[:-1] if name.endswith("s") and name[:-1] in _WEEKDAYS else name
        if name in _DAILY:
            weekdays.update(range(7))
        elif name in _WORKDAYS:
            weekdays.update(range(5))
        elif plural in _WEEKDAYS:
            weekdays.add(_WEEKDAYS[plural])
        else:
            raise TimeExprError(f'"{name}" is not a day: use monday...sunday, "day" or "weekday"')
    if not weekdays:
        raise TimeExprError(f'"{text}" names no day')
    return Recurrence(source=source, weekdays=frozenset(weekdays), at=at)


def utc(dt: datetime) -> datetime:
    """``dt`` in UTC (naive datetimes are refused)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC)
