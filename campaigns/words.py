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

__all__ = ["N_", "Text", "gettext", "install", "languages", "render"]

Translate = Callable[[str | None, str], str]
"""``(locale, message) -> message in locale's language``."""


def _english(locale: str | None, message: str) -> str:
    return message


def _only_english() -> list[str]:
    return ["en"]


_translate: Translate = _english
_languages: Callable[[], list[str]] = _only_english


def install(translate: Translate, known: Callable[[], list[str]]) -> None:
    """Take the bot's words from ``translate`` from now on (the kernel's catalogs), in the
    languages ``known`` lists."""
    global _translate, _languages
    _translate, _languages = translate, known


def languages() -> list[str]:
    """The languages the bot's words exist in (for a text built once for every reader)."""
    return _languages()


def gettext(locale: str | None, message: str) -> str:
    """``message`` in ``locale``'s language (English until the catalogs are installed)."""
    return _translate(locale, message)


class Text(str):
    """A message of the campaign-file language (a loader error, a warning) kept translatable:
    the English text itself, as a ``str``, that also remembers its message id and parameters,
    so that whoever shows it (the CLI, the console) renders it in a reader's language with
    :func:`render`. Code that only compares or prints it sees the English text."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, params: dict[str, object]) -> Text:
        self = super().__new__(cls, template.format(**params) if params else template)
        self.template = template
        self.params = params
        return self


def N_(template: str, **params: object) -> Text:  # the gettext convention's marker name
    """``template`` filled with ``params``, in English now and translatable when shown
    (:func:`render`); ``make catalogs`` finds ``template`` by this name."""
    return Text(template, params)


def render(message: str, locale: str | None) -> str:
    """``message`` in ``locale``'s language when it was marked with :func:`N_` (its
    parameters rendered too), else as it is."""
    if not isinstance(message, Text):
        return str(message)
    if not message.params:
        return gettext(locale, message.template)
    params = {
        name: render(value, locale) if isinstance(value, str) else value
        for name, value in message.params.items()
    }
    return gettext(locale, message.template).format(**params)
