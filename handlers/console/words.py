"""The console's words: gettext catalogs of their own domain, ``console``.

The console's ``.po`` files sit beside the bot's (``bot/locale/<lang>/LC_MESSAGES/console.po``)
and load through :mod:`rallybot.bot.i18n`, with its fallbacks (``es_MX``, ``es``, English);
a domain of their own lets the bot's words and the console's be translated and merged apart.
``make catalogs`` extracts this package's Python (the keywords of :mod:`rallybot.bot.i18n`:
the locale first) and its templates (Babel's Jinja2 extractor) into ``console.pot``.

Python code calls :func:`gettext`, :func:`ngettext` and :func:`pgettext` with the locale first.
Templates call ``_()``, ``gettext()``, ``ngettext()`` and ``pgettext()`` (installed by
:func:`install` on the environment of :mod:`jinja2.ext.i18n`); they read the language of the
page being rendered from its ``locale`` variable, and fill ``{name}`` fields the same way as
Python does, escaping what they put in::

    {{ _("Signed in as {name}", name=viewer.name) }}
    {{ ngettext("{n} message", "{n} messages", n, n=n) }}

Placeholders are ``{name}`` everywhere, so one catalog check covers both.

Dates and times go through one filter, ``when`` (:func:`when`): ``5 oct. 2026, 09:30`` in
French, ``Oct 5, 2026, 9:30 AM`` in English, in the zone the page names, inside a
``<time datetime="ISO">`` element that keeps the exact value for machines::

    {{ entry.at | when(zone) }}             {# a date and time in a zone (an IANA name) #}
    {{ row.local | when }}                  {# in the zone the value already carries #}
    {{ week | when(form="date") }}          {# a day; form="month": "octobre 2026" #}
    {{ day | when(form="date", tag=False) }}  {# plain text, for an attribute #}
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time, get_date_format, get_day_names
from babel.numbers import format_decimal
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from rallybot.bot import i18n
from rallybot.bot.i18n import N_
from rallybot.campaigns.dates import first_of_month

__all__ = [
    "DOMAIN",
    "N_",
    "day_pattern",
    "day_text",
    "gettext",
    "install",
    "language",
    "language_name",
    "ngettext",
    "number",
    "parse_day",
    "pgettext",
    "weekday_names",
    "when",
]

DOMAIN = "console"
"""The gettext domain of the console's catalogs."""


def gettext(locale: str | None, message: str) -> str:
    """``message`` in ``locale``'s language."""
    return i18n.translations(locale, DOMAIN).gettext(message)


def ngettext(locale: str | None, singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` that ``locale``'s language uses for ``n``."""
    return i18n.translations(locale, DOMAIN).ngettext(singular, plural, n)


def pgettext(locale: str | None, context: str, message: str) -> str:
    """``message`` in ``locale``'s language, told apart from the same English words used
    elsewhere by ``context``."""
    return str(i18n.translations(locale, DOMAIN).pgettext(context, message))


def language(locale: str | None) -> str:
    """The two-letter language of a locale (``fr_CA`` -> ``fr``); ``en`` when unknown."""
    return (locale or "en").replace("-", "_").split("_")[0].lower() or "en"


def number(value: int | float, locale: str | None, pattern: str | None = None) -> str:
    """A number written for the locale (``1,234`` in English, ``1 234`` in French), with a
    Babel ``pattern`` when given (``"0.0"``: one decimal, always); English when Babel does not
    know the locale."""
    try:
        return format_decimal(value, pattern, locale=(locale or "en").replace("-", "_"))
    except (ValueError, LookupError):
        return format_decimal(value, pattern, locale="en")


def language_name(code: str | None, locale: str | None) -> str:
    """The name of the language ``code`` ("fr", "es_MX") in ``locale``'s language
    ("français", "espagnol (Mexique)"), from Babel's CLDR data; the code itself when Babel
    does not know it."""
    try:
        shown = Locale.parse((code or "").strip().replace("-", "_"))
        reader = Locale.parse((locale or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return code or ""
    return shown.get_display_name(reader) or code or ""


def weekday_names(locale: str | None) -> list[str]:
    """Monday to Sunday, abbreviated, in the locale's language (from Babel's CLDR data:
    ``Mon``, ``lun.``, ``Mo.``); English when Babel does not know the locale."""
    names = get_day_names("abbreviated", locale=_babel_locale(locale))
    return [str(names[day]) for day in range(7)]


Form = Literal["datetime", "date", "month", "time"]
"""What :func:`when` writes of a time: all of it, its day, its month, or its hour."""

# CLDR skeletons: the fields wanted, in the order and punctuation of each language.
_SKELETONS = {"date": "yMMMd", "month": "yMMMM"}


def _babel_locale(locale: str | None) -> Locale:
    try:
        return Locale.parse((locale or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


def when(
    value: datetime | date,
    locale: str | None,
    zone: str | None = None,
    form: Form = "datetime",
) -> str:
    """A day or a time written for the locale, from Babel's CLDR data: ``5 oct. 2026, 09:30``
    in French, ``5. Okt. 2026, 09:30`` in German; ``form`` ``"date"`` (``5 oct. 2026``),
    ``"month"`` (``octobre 2026``) or ``"time"`` (``09:30``). A datetime is shown in ``zone``
    (an IANA name) when given, else in its own; English when Babel does not know the locale."""
    where = _babel_locale(locale)
    if isinstance(value, datetime) and zone:
        value = value.astimezone(ZoneInfo(zone))
    if form in _SKELETONS:
        # French writes a month's first day "1er" ("1er déc. 2026"), which CLDR does not
        return first_of_month(format_skeleton(_SKELETONS[form], value, locale=where), value, locale)
    if not isinstance(value, datetime):
        raise TypeError(f"a {form} needs a datetime, not {value!r}")
    hour = format_time(value, "short", locale=where)
    if form == "time":
        return hour
    day = first_of_month(format_skeleton(_SKELETONS["date"], value, locale=where), value, locale)
    # The language's way of joining a day and an hour ("{1}, {0}", "{1} 'um' {0}"...).
    return str(where.datetime_formats["medium"]).replace("{1}", day).replace("{0}", hour)


def _day_shape(locale: str | None) -> tuple[str, str]:
    """The order of the day, month and year ("dmy", "mdy", "ymd") in the locale's short
    numeric date (CLDR: ``dd/MM/y`` in French, ``M/d/yy`` in English, ``dd.MM.yy`` in German),
    and the character between them."""
    pattern = str(get_date_format("short", locale=_babel_locale(locale)).pattern)
    order = "".join(dict.fromkeys(c.lower() for c in pattern if c in "dMy"))
    separators = [c for c in pattern if not c.isalnum() and c not in "' "]
    if sorted(order) != ["d", "m", "y"] or not separators:
        return "ymd", "-"
    return order, separators[0]


def day_text(day: date, locale: str | None) -> str:
    """A day as a date field of the locale shows it: ``15/09/2026`` in French, ``09/15/2026``
    in English, ``15.09.2026`` in German (the year always whole)."""
    order, separator = _day_shape(locale)
    fields = {"d": f"{day.day:02d}", "m": f"{day.month:02d}", "y": f"{day.year:04d}"}
    return separator.join(fields[f] for f in order)


def day_pattern(locale: str | None) -> str:
    """What a date field of the locale asks for, in its own letters: ``jj/mm/aaaa`` in
    French, ``mm/dd/yyyy`` in English, ``TT.MM.JJJJ`` in German."""
    order, separator = _day_shape(locale)
    letters = {
        # Translators: the letters that stand for a day's two digits in a date field
        # ("jj" in French, "TT" in German).
        "d": pgettext(locale, "date field letters", "dd"),
        # Translators: the letters that stand for a month's two digits in a date field.
        "m": pgettext(locale, "date field letters", "mm"),
        # Translators: the letters that stand for a year's four digits in a date field
        # ("aaaa" in French, "JJJJ" in German).
        "y": pgettext(locale, "date field letters", "yyyy"),
    }
    return separator.join(letters[f] for f in order)


_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_day(text: str, locale: str | None) -> date | None:
    """The day written in ``text`` as :func:`day_text` writes it for the locale (any of
    ``/ . -`` or a space between the numbers, a two-digit year in this century), or in ISO
    8601 (``2026-09-15``: the links between pages); None when it is not a day."""
    text = text.strip()
    iso = _ISO_DAY.match(text)
    if iso is not None:
        numbers = {"y": iso[1], "m": iso[2], "d": iso[3]}
    else:
        parts = re.split(r"\s*[/.\-\s]\s*", text)
        order, _separator = _day_shape(locale)
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
            return None
        numbers = dict(zip(order, parts, strict=True))
        if len(numbers["y"]) == 2:
            numbers["y"] = "20" + numbers["y"]
        if len(numbers["y"]) != 4 or len(numbers["d"]) > 2 or len(numbers["m"]) > 2:
            return None
    try:
        return date(int(numbers["y"]), int(numbers["m"]), int(numbers["d"]))
    except ValueError:
        return None


def _machine(value: datetime | date, zone: str | None, form: Form) -> str:
    """The value as HTML's ``datetime`` attribute wants it (ISO 8601, with its offset)."""
    if form == "month":
        return value.strftime("%Y-%m")
    if isinstance(value, datetime):
        shown = value.astimezone(ZoneInfo(zone)) if zone else value
        return shown.date().isoformat() if form == "date" else shown.isoformat()
    return value.isoformat()


@pass_context
def _when(
    context: Context,
    value: datetime | date | None,
    zone: str | None = None,
    form: Form = "datetime",
    tag: bool = True,
) -> str:
    """The ``when`` filter: :func:`when` in the page's language, in a ``<time>`` element
    whose ``datetime`` keeps the exact value (plain text with ``tag=False``, for an
    attribute); nothing for None."""
    if value is None:
        return ""
    text = when(value, context.get("locale"), zone, form)
    if not tag:
        return text
    return Markup('<time datetime="{}">{}</time>').format(_machine(value, zone, form), text)


def _fill(context: Context, text: str, values: dict[str, Any]) -> str:
    # Markup.format escapes what it puts in; autoescape is on for every console template.
    return Markup(text).format(**values) if context.eval_ctx.autoescape else text.format(**values)


@pass_context
def _gettext(context: Context, message: str, /, **values: Any) -> str:
    return _fill(context, gettext(context.get("locale"), message), values)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int, /, **values: Any) -> str:
    locale = context.get("locale")
    counted = {
        name: number(v, locale) if isinstance(v, int) and not isinstance(v, bool) else v
        for name, v in values.items()
    }
    return _fill(context, ngettext(locale, singular, plural, n), counted)


@pass_context
def _pgettext(context: Context, where: str, message: str, /, **values: Any) -> str:
    return _fill(context, pgettext(context.get("locale"), where, message), values)


def install(env: Environment) -> None:
    """Give ``env`` the i18n extension and the console's catalogs: each render reads the
    catalogs of its own ``locale`` variable (the signed-in person's)."""
    env.add_extension("jinja2.ext.i18n")
    env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext)
    env.filters["when"] = _when
