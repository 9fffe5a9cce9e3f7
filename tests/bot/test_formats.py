"""Numbers and dates in each language's own way, and English for an unknown locale."""

from __future__ import annotations

from datetime import UTC, datetime

from rallybot.bot import formats

AT = datetime(2026, 12, 4, 14, 5, tzinfo=UTC)
NNBSP = "\u202f"  # the narrow no-break space of French thousands
NBSP = "\xa0"  # the no-break space before a French percent sign


def test_numbers_follow_the_locale() -> None:
    assert formats.number("en", 1234.56, 1) == "1,234.6"
    assert formats.number("fr", 1234.56, 1) == f"1{NNBSP}234,6"
    assert formats.number("de", 1234) == "1.234"
    assert formats.number("es", 12345) == "12.345"
    assert formats.percent("fr", 0.425) == f"42{NBSP}%"
    assert formats.percent("en", 0.425) == "42%"


def test_dates_follow_the_locale_in_their_own_time_zone() -> None:
    assert formats.moment("en", AT) == "Dec 4, 2026, 14:05"
    assert formats.moment("de", AT) == "4. Dez. 2026, 14:05"
    assert formats.moment("es-MX", AT, "MMMEd").endswith("14:05")
    assert formats.moment("fr", AT, "MMMEd") == "ven. 4 déc., 14:05"
    assert formats.day("es", AT) == "4 dic 2026"


def test_an_unknown_locale_gives_english() -> None:
    assert formats.number("not a locale!", 1234) == "1,234"
    assert formats.moment(None, AT) == "Dec 4, 2026, 14:05"
