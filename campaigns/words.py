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

__all__ = ["gettext", "install"]

Translate = Callable[[str | None, str], str]
"""``(locale, message) -> message in locale's language``."""


def _english(locale: str | None, message: str) -> str:
    return message


_translate: Translate = _english


def install(translate: Translate) -> None:
    """Take the bot's words from ``translate`` from now on (the kernel's catalogs)."""
    global _translate
    _translate = translate


def gettext(locale: str | None, message: str) -> str:
    """``message`` in ``locale``'s language (English until the catalogs are installed)."""
    return _translate(locale, message)
