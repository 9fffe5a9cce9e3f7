"""Time expressions of campaign files.

``2026-09-15 09:30``, ``launch``, ``launch - 30d at 08:45``, ``launch + 2w``, ``launch - 2h``,
``join + 2d at 10:00``, working days (``launch - 3 workdays at 08:45``: weekends and the
public holidays of the calendar the planner gives are skipped) and recurrences such as
``monday at 09:00``, ``day at 18:00``, ``weekday at 08:30``, ``2 weeks on monday at 09:00``,
``first monday of the month at 09:00``, ``last friday of the month at 17:00`` or a cron line
(``cron 30 9 * * 1-5``). Day and week offsets are calendar days in local time, so
``at 09:00`` stays 09:00 across a daylight-saving change; hour and minute offsets are exact
durations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from croniter import croniter

from rallybot.campaigns.words import N_
from rallybot.campaigns.workdays import WorkCalendar

__all__ = [
    "Recurrence",
    "TimeExpr",
    "TimeExprError",
    "localize",
    "parse_duration",
    "parse_recurrence",
    "parse_time_expr",
    "parse_window",
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
# "3 workdays", "3 working days", "3 business days", "3 jours ouvrés", "3 wd": one spelling.
_WORKDAY_WORDS = re.compile(
    r"(?<![a-z])(?:work(?:ing)?[ -]?days?|business[ -]days?|jours?[ -]ouvr[ée]s?|wd)\b",
    re.IGNORECASE,
)
_WORKDAY_OFFSET = re.compile(r"([+-])\s*(\d+)\s*workdays(?![a-z])")


def _parse_clock(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2})[:h](\d{2})", text.strip())
    if not match:
        raise TimeExprError(
            N_(
                '"{text}" is not a time of day (write it like 09:30)',
                text=text,
            )
        )
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise TimeExprError(
            N_(
                '"{text}" is not a time of day (hours 00-23, minutes 00-59)',
                text=text,
            )
        )
    return time(hour, minute)


def parse_duration(text: str) -> tuple[int, int]:
    """Parse ``30d``, ``2w``, ``1d 12h``, ``90min`` into (calendar days, seconds)."""
    cleaned = text.strip().lower()
    if not _DURATION_FULL.match(cleaned):
        raise TimeExprError(
            N_(
                '"{text}" is not a duration (use a number and a unit: 30d, 2w, 3h, 15m)',
                text=text,
            )
        )
    days = seconds = 0
    for amount, unit in _DURATION_PART.findall(cleaned):
        unit_days, unit_seconds = _UNITS[unit]
        days += int(amount) * unit_days
        seconds += int(amount) * unit_seconds
    return days, seconds


def parse_window(text: str) -> timedelta:
    """An answer window: ``30s``, ``45 seconds``, ``2m``, ``1h``; ValueError otherwise."""
    match = re.fullmatch(
        r"\s*(\d+)\s*(s|sec|secs|second|seconds|seconde|secondes)\s*", text.lower()
    )
    if match:
        seconds = int(match.group(1))
    else:
        try:
            days, seconds = parse_duration(text)
        except TimeExprError:
            raise ValueError(
                N_(
                    '"{text}" is not an answer window (use a number and a unit: 30s, 2m, 1h)',
                    text=text,
                )
            ) from None
        seconds += days * 86400
    if seconds <= 0:
        raise ValueError(N_("the answer window must be longer than zero"))
    return timedelta(seconds=seconds)


def parse_datetime_local(text: str) -> datetime:
    """Parse ``2026-09-15`` or ``2026-09-15 09:30`` as a naive local datetime."""
    match = _ABSOLUTE.match(text.strip())
    if not match:
        raise TimeExprError(
            N_(
                '"{text}" is not a date (write it like 2026-09-15 09:30)',
                text=text,
            )
        )
    try:
        day = date.fromisoformat(match.group(1))
    except ValueError:
        raise TimeExprError(
            N_(
                '"{value}" is not a real calendar date',
                value=match.group(1),
            )
        ) from None
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
    workdays: int = 0  # working days, after the calendar days

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
        calendar: WorkCalendar | None = None,
    ) -> datetime:
        """The UTC instant of this expression.

        ``milestones`` hold naive local datetimes of the campaign's zone. The calendar date
        is worked out in ``date_zone`` (default ``zone``) and the time of day (``at``) is read
        in ``zone``: a DM ``launch - 1d at 09:00`` reaches each member at 09:00 their time.
        Working days count in ``calendar`` (weekends only when None).
        """
        date_zone = date_zone or zone
        if self.anchor == "absolute":
            assert self.absolute is not None
            base_local = self.absolute
            base_zone = date_zone
        elif self.anchor == "join":
            if join is None:
                raise TimeExprError(N_("a join-relative time needs the member's join date"))
            base_local = join.astimezone(zone).replace(tzinfo=None)
            base_zone = zone
        else:
            base_local = milestones[self.anchor]
            base_zone = date_zone
        local = base_local + timedelta(days=self.days)
        if self.workdays:
            day = (calendar or WorkCalendar()).add(local.date(), self.workdays)
            local = datetime.combine(day, local.time())
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
        raise TimeExprError(N_("the time is empty (write a date, a milestone or join + 2d)"))
    source = _WORKDAY_WORDS.sub("workdays", source)
    match = _EXPR.match(source)
    if not match:
        raise TimeExprError(
            N_(
                '"{source}" is not a time: write a date (2026-09-15 09:30), a '
                "milestone with an offset (launch - 30d at 09:00) or a time after "
                "joining (join + 2d at 10:00)",
                source=source,
            )
        )
    anchor_text = match.group("anchor")
    absolute: datetime | None = None
    if anchor_text[0].isdigit():
        absolute = parse_datetime_local(anchor_text)
        anchor = "absolute"
    else:
        anchor = anchor_text
        if anchor == "join" and not allow_join:
            raise TimeExprError(N_('"join" can only be used in steps, not here'))
    days = seconds = workdays = 0
    offsets = match.group("offsets").strip()
    for sign, amount in _WORKDAY_OFFSET.findall(offsets):
        workdays += int(amount) * (-1 if sign == "-" else 1)
    offsets = _WORKDAY_OFFSET.sub("", offsets).strip()
    consumed = ""
    for sign, body in _OFFSET.findall(offsets):
        consumed += sign + body
        try:
            d, s = parse_duration(body)
        except TimeExprError:
            raise TimeExprError(
                N_(
                    '"{value}" in "{source}" is not a duration',
                    value=body.strip(),
                    source=source,
                )
            ) from None
        factor = -1 if sign == "-" else 1
        days += factor * d
        seconds += factor * s
    if re.sub(r"\s", "", consumed) != re.sub(r"\s", "", offsets):
        bad = offsets.replace(" ", "")
        raise TimeExprError(
            N_(
                '"{bad}" in "{source}" is not an offset (use + or - and a duration: - 30d, + 2h)',
                bad=bad,
                source=source,
            )
        )
    at = _parse_clock(match.group("at")) if match.group("at") else None
    if absolute is not None and at is not None and (days or seconds) == 0 and absolute.time():
        raise TimeExprError(
            N_(
                '"{source}" gives the time of day twice',
                source=source,
            )
        )
    return TimeExpr(
        source=source,
        anchor=anchor,
        absolute=absolute,
        days=days,
        seconds=seconds,
        at=at,
        workdays=workdays,
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


_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
    "premier": 1,
    "1er": 1,
    "deuxième": 2,
    "deuxieme": 2,
    "2e": 2,
    "troisième": 3,
    "troisieme": 3,
    "3e": 3,
    "quatrième": 4,
    "quatrieme": 4,
    "4e": 4,
    "dernier": -1,
}
_MONTHLY = re.compile(
    r"^(?:the\s+|le\s+)?(?P<nth>\S+)\s+(?P<day>\S+)\s+(?:of\s+(?:the|each|every)\s+month|du\s+mois)$"
)
_EVERY_WEEKS = re.compile(
    r"^(?P<n>\d+)\s*(?:weeks?|semaines?)\s+(?:on\s+|le\s+|les\s+)?(?P<days>.+)$"
)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """``every: monday at 09:00``: the days it fires on and its local time of day.

    Weekly by default (``weekdays``); every ``interval`` weeks counted from the week of
    ``anchor`` (the step's ``from``); the ``nth`` weekday of each month (``-1``: the last); or
    the days a ``cron`` line names (its minute and hour give ``at``).
    """

    source: str
    weekdays: frozenset[int]
    at: time
    interval: int = 1
    anchor: date | None = None
    nth: int | None = None
    cron: str | None = None

    def fires_on(self, day: date) -> bool:
        """Whether it fires on local date ``day``."""
        if self.cron is not None:
            return bool(croniter.match(self.cron, datetime.combine(day, self.at)))
        if day.weekday() not in self.weekdays:
            return False
        if self.nth is not None:
            if self.nth > 0:
                return (day.day - 1) // 7 + 1 == self.nth
            return (day + timedelta(days=7)).month != day.month
        if self.interval > 1:
            start = self.anchor or date(2001, 1, 1)  # a Monday: plain ISO weeks otherwise
            week0 = start - timedelta(days=start.weekday())
            return ((day - week0).days // 7) % self.interval == 0
        return True

    def occurrences(self, start: date, end: date) -> list[date]:
        """Local dates from ``start`` to ``end`` inclusive on which it fires."""
        days: list[date] = []
        current = start
        while current <= end:
            if self.fires_on(current):
                days.append(current)
            current += timedelta(days=1)
        return days

    def starting(self, anchor: date) -> Recurrence:
        """The same recurrence with its weeks counted from ``anchor``."""
        return replace(self, anchor=anchor)


def _weekdays(what: str, text: str) -> set[int]:
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
            raise TimeExprError(
                N_(
                    '"{name}" is not a day: use monday...sunday, "day" or "weekday"',
                    name=name,
                )
            )
    if not weekdays:
        raise TimeExprError(
            N_(
                '"{text}" names no day',
                text=text,
            )
        )
    return weekdays


def _parse_cron(source: str, text: str) -> Recurrence:
    line = source.split(None, 1)[1] if " " in source else ""
    line = line.lstrip(":").strip()
    fields = line.split()
    if len(fields) != 5 or not croniter.is_valid(line):
        raise TimeExprError(
            N_(
                '"{text}" is not a cron line: five fields, minute hour day month '
                'weekday (like "cron 30 9 * * 1-5")',
                text=text,
            )
        )
    if not (fields[0].isdigit() and fields[1].isdigit()):
        raise TimeExprError(
            N_(
                '"{text}": a cron line here fires once a day at most: give one '
                'minute and one hour (like "cron 30 9 * * 1-5")',
                text=text,
            )
        )
    at = _parse_clock(f"{int(fields[1])}:{int(fields[0]):02d}")
    return Recurrence(source=source, weekdays=frozenset(range(7)), at=at, cron=line)


def parse_recurrence(text: str) -> Recurrence:
    """Parse ``monday at 09:00``, ``day at 18:00``, ``weekday at 08:30``, ``2 weeks on monday
    at 09:00``, ``first monday of the month at 09:00``, ``last friday of the month at
    17:00`` (English or French) or ``cron 30 9 * * 1-5``."""
    source = " ".join(str(text).lower().split())
    if source.startswith("cron"):
        return _parse_cron(" ".join(str(text).split()), text)
    source = re.sub(r"^(?:every|toutes les|tous les)\s+", "", source)
    what, sep, clock = source.rpartition(" at ")
    if not sep:
        what, sep, clock = source.rpartition(" à ")
    if not sep:
        raise TimeExprError(
            N_(
                '"{text}" is not a recurrence: write a day and a time, like "monday '
                'at 09:00" or "day at 18:00"',
                text=text,
            )
        )
    at = _parse_clock(clock)
    monthly = _MONTHLY.match(what)
    if monthly is not None:
        nth = _ORDINALS.get(monthly.group("nth"))
        day = monthly.group("day")
        if nth is None:
            raise TimeExprError(
                N_(
                    '"{value}" is not first, second, third, fourth or last (in "{text}")',
                    value=monthly.group("nth"),
                    text=text,
                )
            )
        if day not in _WEEKDAYS:
            raise TimeExprError(
                N_(
                    '"{day}" is not a day of the week (in "{text}")',
                    day=day,
                    text=text,
                )
            )
        return Recurrence(source=source, weekdays=frozenset({_WEEKDAYS[day]}), at=at, nth=nth)
    interval = 1
    weeks = _EVERY_WEEKS.match(what)
    if weeks is not None:
        interval = int(weeks.group("n"))
        what = weeks.group("days")
        if interval < 1:
            raise TimeExprError(
                N_(
                    '"{text}": every 0 weeks never comes',
                    text=text,
                )
            )
    weekdays = _weekdays(what, text)
    return Recurrence(source=source, weekdays=frozenset(weekdays), at=at, interval=interval)


def utc(dt: datetime) -> datetime:
    """``dt`` in UTC (naive datetimes are refused)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC)
