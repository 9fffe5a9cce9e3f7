"""Time-zone names and the advice given when one is wrong.

A wrong suggestion is worse than none: ``Europe/Cayenne`` once drew "did you mean
Europe/Vienna?", and ``UTC-3`` "did you mean UTC?" — both would have sent every message hours
off. So suggestions come only from the same place name (``Cayenne`` → ``America/Cayenne``), the
same region with a close spelling (``Europe/Pari`` → ``Europe/Paris``), or a different case;
a fixed offset such as ``UTC-3`` gets an explanation and real zones with that offset.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rallybot.campaigns.words import N_

__all__ = ["is_zone", "zone_problem"]

_OFFSET = re.compile(
    r"^(?:(?:UTC|GMT|UT|Z)\s*)?(?P<sign>[+-−])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$",
    re.IGNORECASE,
)
_EXAMPLES = 3
_REGIONS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)


def is_zone(name: str) -> bool:
    """Whether ``name`` is a time zone of the IANA database (``Europe/Paris``)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder: OSError
        return False
    return True


@cache
def _zones() -> tuple[str, ...]:
    # Only "Continent/City" names: old aliases (US/Eastern, Canada/Atlantic, Etc/GMT+3...) are
    # never suggested.
    return tuple(sorted(zone for zone in available_timezones() if zone.split("/")[0] in _REGIONS))


def _plain(text: str) -> str:
    """``Ciudad de México`` -> ``ciudad_de_mexico``: how place names are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s-]+", "_", ascii_only.strip()).casefold()


@cache
def _by_city() -> dict[str, tuple[str, ...]]:
    cities: dict[str, list[str]] = {}
    for zone in _zones():
        cities.setdefault(_plain(zone.rsplit("/", 1)[1]), []).append(zone)
    return {city: tuple(zones) for city, zones in cities.items()}


def _same_offset_all_year(hours: int, minutes: int) -> list[str]:
    """Zones whose offset is this one in January and in July (no daylight saving time)."""
    offset = timedelta(hours=hours, minutes=minutes)
    january, july = datetime(2027, 1, 15, tzinfo=UTC), datetime(2027, 7, 15, tzinfo=UTC)
    found = [
        zone
        for zone in _zones()
        if january.astimezone(ZoneInfo(zone)).utcoffset() == offset
        and july.astimezone(ZoneInfo(zone)).utcoffset() == offset
    ]
    # Capitals and big cities first would need a list of our own; the alphabetical order of
    # the database is predictable, and every name in it is a real place with that offset.
    return found[:_EXAMPLES]


def _offset_advice(name: str) -> str | None:
    match = _OFFSET.match(name.strip())
    if match is None:
        return None
    sign = -1 if match.group("sign") in "-−" else 1
    hours, minutes = int(match.group("hours")), int(match.group("minutes") or 0)
    if hours > 14 or minutes >= 60:
        return None
    shown = f"UTC{'-' if sign < 0 else '+'}{hours}" + (f":{minutes:02d}" if minutes else "")
    examples = _same_offset_all_year(sign * hours, sign * minutes)
    if examples:
        # Translators: {examples} are time zone names (Asia/Kolkata, ...), {offset} UTC+5:30.
        return N_(
            '"{name}" is a fixed offset, not a time zone: name the place instead (its zone '
            "follows its daylight saving time), e.g. {examples} for {offset} all year",
            name=name,
            examples=", ".join(examples),
            offset=shown,
        )
    return N_(
        '"{name}" is a fixed offset, not a time zone: name the place instead (its zone '
        "follows its daylight saving time)",
        name=name,
    )


def zone_problem(name: str) -> str:
    """The message for a time-zone name that is not one, with a suggestion only when it is
    safe (same place, same region, other case) or an explanation for offsets."""
    advice = _offset_advice(name)
    if advice is not None:
        return advice
    text = name.strip()
    lowered = {zone.casefold(): zone for zone in _zones()}
    if text.casefold() in lowered:
        return _did_you_mean(name, lowered[text.casefold()])
    city = _plain(text.rsplit("/", 1)[-1])
    places = _by_city().get(city, ())
    if len(places) == 1:
        return _did_you_mean(name, places[0])
    if places:
        # Translators: {zones} are time zone names separated by commas.
        return N_(
            'unknown time zone "{name}" (did you mean one of {zones}?)',
            name=name,
            zones=", ".join(places),
        )
    # A misspelt city (Cayene, Montreall): a close spelling of one city only, strict enough
    # that no other place can be offered.
    close_cities = difflib.get_close_matches(city, list(_by_city()), n=2, cutoff=0.85)
    if len(close_cities) == 1 and len(_by_city()[close_cities[0]]) == 1:
        return _did_you_mean(name, _by_city()[close_cities[0]][0])
    if "/" in text:
        region = text.split("/", 1)[0].casefold()
        same_region = [zone for zone in _zones() if zone.split("/", 1)[0].casefold() == region]
        close = difflib.get_close_matches(text, same_region, n=1, cutoff=0.8)
        if close:
            return _did_you_mean(name, close[0])
    # Translators: Region/City and Europe/Paris are written as they are.
    return N_('unknown time zone "{name}" (use a Region/City name such as Europe/Paris)', name=name)


def _did_you_mean(name: str, zone: str) -> str:
    return N_('unknown time zone "{name}" (did you mean "{zone}"?)', name=name, zone=zone)
