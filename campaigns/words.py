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

__all__ = ["gettext", "install", "languages"]

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
