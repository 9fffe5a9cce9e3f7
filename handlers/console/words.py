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
"""

from __future__ import annotations

from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.dates import get_day_names
from babel.numbers import format_decimal
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from rallybot.bot import i18n
from rallybot.bot.i18n import N_

__all__ = [
    "DOMAIN",
    "N_",
    "gettext",
    "install",
    "language",
    "ngettext",
    "number",
    "pgettext",
    "weekday_names",
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


def weekday_names(locale: str | None) -> list[str]:
    """Monday to Sunday, abbreviated, in the locale's language (from Babel's CLDR data:
    ``Mon``, ``lun.``, ``Mo.``); English when Babel does not know the locale."""
    try:
        parsed = Locale.parse((locale or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        parsed = Locale("en")
    names = get_day_names("abbreviated", locale=parsed)
    return [str(names[day]) for day in range(7)]


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
