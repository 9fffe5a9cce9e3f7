"""Numbers, percentages and dates written the way a locale writes them (Babel).

The words come from the gettext catalogs (:mod:`rallybot.bot.i18n`); the figures and dates put
into them come from here, so that "1,234.5" reads "1 234,5" in French and "1.234,5" in German,
and a date is "4 déc. 2026" rather than "2026-12-04". A locale Babel does not know gives
English, as the catalogs do.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_skeleton
from babel.numbers import format_decimal, format_percent, get_decimal_symbol

from rallybot.campaigns.dates import first_of_month

__all__ = ["babel_locale", "day", "decimal_symbol", "moment", "number", "percent", "weekday_iso"]


@functools.cache
def babel_locale(locale: str | None) -> Locale:
    """Babel's locale for ``locale`` (``fr``, ``es-MX``, ``de_AT``); English when it is empty
    or unknown."""
    try:
        return Locale.parse((locale or "en").strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale("en")


def decimal_symbol(locale: str | None) -> str:
    """The locale's decimal symbol ("," in French); "." when it is not a single comma or dot."""
    symbol = get_decimal_symbol(babel_locale(locale))
    return symbol if symbol in {",", "."} else "."


def number(locale: str | None, value: float, digits: int = 0) -> str:
    """``value`` with the locale's separators, with at most ``digits`` decimals."""
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=babel_locale(locale))


def percent(locale: str | None, ratio: float) -> str:
    """``ratio`` (0.42) as a whole percentage in the locale's way ("42 %" in French). A share
    that is neither none nor all keeps one decimal below 1 % and above 99 %, where a whole
    percentage could say it is ("0,3 %" for 4 of 1,500, not "0 %"; "99,9 %", not "100 %"),
    and "< 0,1 %" below that."""
    loc = babel_locale(locale)
    if 0 < ratio < 0.01 or 0.99 < ratio < 1:
        # The locale's own pattern ("#,##0 %", "#,##0%", "%#,##0"...) with one decimal.
        pattern = re.sub(r"0(?![0#])", "0.0", str(loc.percent_formats[None].pattern), count=1)
        if ratio < 0.0005:
            return "< " + format_percent(0.001, format=pattern, locale=loc)
        # Rounded down near all: 99.97 % is not all of them.
        shown = min(ratio, 0.999)
        return format_percent(shown, format=pattern, locale=loc, decimal_quantization=True)
    return format_percent(ratio, locale=loc)


def day(locale: str | None, value: date, skeleton: str = "yMMMd") -> str:
    """A date in the locale's way for a CLDR ``skeleton``: by default the day, the month's
    short name and the year ("Dec 4, 2026", "4 déc. 2026"); ``MMMd`` leaves the year out.
    French writes a month's first day "1er" ("1er déc. 2026")."""
    return first_of_month(
        format_skeleton(skeleton, value, locale=babel_locale(locale)), value, locale
    )


def moment(locale: str | None, value: datetime, date_skeleton: str = "yMMMd") -> str:
    """A date and a 24-hour time in the locale's way ("Dec 4, 2026, 14:05", "4 déc. 2026,
    14:05"), in ``value``'s own time zone (no conversion). ``date_skeleton`` is a CLDR skeleton
    for the date part (``MMMEd`` gives the weekday and no year)."""
    loc = babel_locale(locale)
    when = first_of_month(format_skeleton(date_skeleton, value, locale=loc), value, locale)
    hour = format_skeleton("Hm", value, locale=loc)
    return str(loc.datetime_formats["medium"]).format(hour, when)


def weekday_iso(locale: str | None, value: datetime) -> str:
    """``Tue 2026-11-03 10:00``: the weekday in the locale's language, the date as ISO (the
    timeline's columns line up and sort as text)."""
    return format_datetime(value, "EEE yyyy-MM-dd HH:mm", locale=babel_locale(locale))
