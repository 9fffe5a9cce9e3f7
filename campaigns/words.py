"""The bot's own words on campaign messages (a quiz or survey invitation's button), without
the campaign-file language importing the kernel.

The planner builds those messages; the words come from the kernel's gettext catalogs
(:mod:`rallybot.bot.i18n`), which plug themselves in here when they are imported. Before that
(the campaign language used on its own, as by ``rallybot check``), the words are the English
message ids. Calls keep gettext's shape, ``gettext(locale, message)``, so that ``make
catalogs`` finds their messages like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date

from rallybot.campaigns.dates import first_of_month

__all__ = ["N_", "Text", "gettext", "install", "languages", "nN_", "ngettext", "render"]

Translate = Callable[[str | None, str], str]
"""``(locale, message) -> message in locale's language``."""
TranslatePlural = Callable[[str | None, str, str, int], str]
"""``(locale, singular, plural, n) -> the form of locale's language for n``."""


def _english(locale: str | None, message: str) -> str:
    return message


def _english_plural(locale: str | None, singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _only_english() -> list[str]:
    return ["en"]


_translate: Translate = _english
_translate_plural: TranslatePlural = _english_plural
_languages: Callable[[], list[str]] = _only_english


def install(
    translate: Translate,
    known: Callable[[], list[str]],
    translate_plural: TranslatePlural = _english_plural,
) -> None:
    """Take the bot's words from ``translate`` (and their plural forms from
    ``translate_plural``) from now on (the kernel's catalogs), in the languages ``known``
    lists."""
    global _translate, _translate_plural, _languages
    _translate, _translate_plural, _languages = translate, translate_plural, known


def languages() -> list[str]:
    """The languages the bot's words exist in (for a text built once for every reader)."""
    return _languages()


def gettext(locale: str | None, message: str) -> str:
    """``message`` in ``locale``'s language (English until the catalogs are installed)."""
    return _translate(locale, message)


def ngettext(locale: str | None, singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` that ``locale``'s language uses for ``n``."""
    return _translate_plural(locale, singular, plural, n)


def _shown(value: object, locale: str | None) -> object:
    """A parameter as a reader of ``locale`` reads it: a day (a ``date``) in their language's
    words ("Sunday, November 8, 2026", "dimanche 8 novembre 2026"), anything else as it is."""
    if not isinstance(value, date):
        return value
    try:
        language = Locale.parse((locale or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        language = Locale.parse("en")
    return first_of_month(format_date(value, format="full", locale=language), value, locale)


class Text(str):
    """A message of the campaign-file language (a loader error, a warning) kept translatable:
    the English text itself, as a ``str``, that also remembers its message id and parameters,
    so that whoever shows it (the CLI, the console) renders it in a reader's language with
    :func:`render`. Code that only compares or prints it sees the English text. A parameter
    that is a ``date`` is shown in the reader's words too; one that is a :class:`Text` is
    rendered in the same language."""

    template: str
    params: dict[str, object]
    plural: str | None
    """The plural message id, for a text whose words depend on the number ``params["n"]``."""

    def __new__(cls, template: str, params: dict[str, object], plural: str | None = None) -> Text:
        chosen = template
        if plural is not None and params.get("n") != 1:
            chosen = plural
        english = {name: _shown(value, "en") for name, value in params.items()}
        self = super().__new__(cls, chosen.format(**english) if params else chosen)
        self.template = template
        self.params = params
        self.plural = plural
        return self


def N_(template: str, **params: object) -> Text:  # the gettext convention's marker name
    """``template`` filled with ``params``, in English now and translatable when shown
    (:func:`render`); ``make catalogs`` finds ``template`` by this name."""
    return Text(template, params)


def nN_(singular: str, plural: str, n: int, **params: object) -> Text:
    """:func:`N_` for a text whose words depend on the number ``n`` (``{n}`` in the text):
    rendered with the plural form of the reader's language; ``make catalogs`` finds both
    texts by this name."""
    return Text(singular, {"n": n, **params}, plural)


def render(message: str, locale: str | None) -> str:
    """``message`` in ``locale``'s language when it was marked with :func:`N_` (its
    parameters rendered too), else as it is."""
    if not isinstance(message, Text):
        return str(message)
    if message.plural is not None:
        count = message.params.get("n")
        template = ngettext(
            locale, message.template, message.plural, count if isinstance(count, int) else 0
        )
    else:
        template = gettext(locale, message.template)
    if not message.params:
        return template
    params = {
        name: render(value, locale) if isinstance(value, str) else _shown(value, locale)
        for name, value in message.params.items()
    }
    return template.format(**params)
