"""Dates as a language's typography writes them, where Babel's CLDR data stops short.

French writes the first day of a month as an ordinal, "1er décembre", where CLDR's patterns
give "1 décembre" (every other day is a plain number: "2 décembre"). Every place that writes
a day and a month in words (the console, the CLI, the reports, the campaigns' messages) passes
its Babel output through :func:`first_of_month`.
"""

from __future__ import annotations

import functools
import re
from datetime import date

from babel.core import Locale, UnknownLocaleError

__all__ = ["first_of_month"]

# The languages whose first day of a month is an ordinal, and how they write it.
_FIRST = {"fr": "1er"}


@functools.cache
def _first_day(locale: str | None) -> tuple[re.Pattern[str], str] | None:
    """A pattern that finds the day "1" before a month's name in ``locale``, and what to
    write instead; None for a language that writes "1" as it is."""
    try:
        language = Locale.parse((locale or "en").strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    ordinal = _FIRST.get(language.language)
    if ordinal is None:
        return None
    names = {
        str(name)
        for context in ("format", "stand-alone")
        for width in ("wide", "abbreviated")
        for name in language.months[context][width].values()
    }
    months = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    # "1" alone (not the end of "21" or "01"), a space (plain or no-break), then a month
    return re.compile(rf"(?<![\d.])1(?=[  ](?:{months})(?!\w))", re.IGNORECASE), ordinal


def first_of_month(text: str, value: date, locale: str | None) -> str:
    """``text``, a date written by Babel for ``locale``, with the first day of a month
    written as the language writes it ("1 décembre 2026" → "1er décembre 2026"); anything else
    as it is. ``value`` is the day that ``text`` shows (in the zone it is shown in)."""
    if value.day != 1:
        return text
    found = _first_day(locale)
    if found is None:
        return text
    pattern, ordinal = found
    return pattern.sub(ordinal, text, count=1)
