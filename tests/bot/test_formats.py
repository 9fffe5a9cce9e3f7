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


def test_french_writes_a_months_first_day_1er() -> None:
    first = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert formats.day("fr", first) == "1er déc. 2026"
    assert formats.day("fr-CA", first, "MMMd") == "1er déc."
    assert formats.moment("fr", first, "MMMEd") == "mar. 1er déc., 09:00"
    assert formats.moment("fr", first) == "1er déc. 2026, 09:00"
    # only the first: the 11th and the 21st stay numbers, as other languages' first does
    assert formats.day("fr", datetime(2026, 12, 11, tzinfo=UTC)) == "11 déc. 2026"
    assert formats.day("fr", datetime(2026, 12, 21, tzinfo=UTC), "MMMd") == "21 déc."
    assert formats.day("en", first) == "Dec 1, 2026"
    assert formats.day("de", first) == "1. Dez. 2026"
    assert formats.day("es", first) == "1 dic 2026"


def test_a_share_that_is_neither_none_nor_all_never_reads_as_either() -> None:
    """4 of 1,499 people is not "0 %", 1,498 of 1,499 not "100 %": below 1 % and above 99 %
    a share keeps one decimal, and a share under 0.1 % says so."""
    assert formats.percent("fr", 4 / 1499) == f"0,3{NBSP}%"
    assert formats.percent("en", 4 / 1499) == "0.3%"
    assert formats.percent("en", 1498 / 1499) == "99.9%"
    assert formats.percent("en", 0.99996) == "99.9%"
    assert formats.percent("de", 1 / 5000) == f"< 0,1{NBSP}%"
    assert formats.percent("en", 0.005) == "0.5%"
    # none, all, and every share between keep their whole number
    assert [formats.percent("en", r) for r in (0, 0.01, 0.5, 0.99, 1)] == [
        "0%",
        "1%",
        "50%",
        "99%",
        "100%",
    ]
