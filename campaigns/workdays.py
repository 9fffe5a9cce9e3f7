"""Working days: weekends and each country's public holidays.

A member's country comes from their time zone (the IANA database says which country each zone
belongs to: ``Europe/Madrid`` is Spain, ``America/Cayenne`` French Guiana), so a roster needs
no country column and a Friday joiner in Madrid and one in Paris each get their own holidays.
Holidays come from the ``holidays`` package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from functools import cache
from importlib.resources import files
from typing import Literal

import holidays

__all__ = [
    "ON_WEEKEND",
    "OnWeekend",
    "WorkCalendar",
    "calendar_for_zone",
    "country_of_zone",
]

OnWeekend = Literal["keep", "next_workday", "previous_workday"]
ON_WEEKEND: tuple[OnWeekend, ...] = ("keep", "next_workday", "previous_workday")
"""What a step does when its day is a weekend or a public holiday."""

_MAX_SHIFT = 60  # working days looked at before giving up (a calendar with no working day)


@cache
def _zone_countries() -> dict[str, str]:
    table = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    countries: dict[str, str] = {}
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        countries[parts[2]] = parts[0]
    return countries


def country_of_zone(zone: tzinfo | str) -> str | None:
    """The ISO country code of a time zone (``Europe/Paris`` → ``FR``), or None (``UTC``)."""
    name = zone if isinstance(zone, str) else getattr(zone, "key", None)
    if name is None:
        return None
    return _zone_countries().get(name)


@dataclass(frozen=True)
class WorkCalendar:
    """Monday to Friday, less the public holidays of ``country`` (None: weekends only)."""

    country: str | None = None
    _years: dict[int, holidays.HolidayBase] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def _holidays(self, year: int) -> holidays.HolidayBase | None:
        if self.country is None:
            return None
        found = self._years.get(year)
        if found is None:
            try:
                found = holidays.country_holidays(self.country, years=year)
            except NotImplementedError:  # a country the package does not know
                found = holidays.HolidayBase(years=year)
            self._years[year] = found
        return found

    def holiday(self, day: date) -> str | None:
        """The name of the public holiday on ``day``, or None."""
        table = self._holidays(day.year)
        if table is None:
            return None
        name = table.get(day)
        return str(name) if name is not None else None

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day (not a weekend, not a public holiday)."""
        return day.weekday() < 5 and self.holiday(day) is None

    def add(self, day: date, workdays: int) -> date:
        """The ``workdays``-th working day after ``day`` (before it when negative)."""
        step = 1 if workdays >= 0 else -1
        current, left = day, abs(workdays)
        while left:
            current += timedelta(days=step)
            if self.is_workday(current):
                left -= 1
        return current

    def adjust(self, day: date, policy: OnWeekend) -> date:
        """``day``, or the nearest working day after (or before) it, as ``policy`` says."""
        if policy == "keep" or self.is_workday(day):
            return day
        step = 1 if policy == "next_workday" else -1
        current = day
        for _ in range(_MAX_SHIFT):
            current += timedelta(days=step)
            if self.is_workday(current):
                return current
        return day


@cache
def calendar_for_zone(zone: tzinfo | str) -> WorkCalendar:
    """The working-day calendar of the country of ``zone`` (weekends only if none)."""
    return WorkCalendar(country_of_zone(zone))
