"""What every kind of file is written with: campaigns, quiz banks, FAQs, rules, the community.

One strict base model, one localized text with its checks, one identifier, and the
:class:`Problem` a check reports at a place in a file (the loader turns the place into a
line and a column, see :func:`rallybot.campaigns.loader.load_document`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from rallybot.campaigns.words import N_

__all__ = [
    "Identifier",
    "Loc",
    "LocalizedText",
    "Problem",
    "Strict",
    "check_filled",
    "check_localized",
    "pick_locale",
    "texts_of",
]


class Strict(BaseModel):
    """The base of every file model: unknown keys are mistakes, and a loaded file is frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$"),
]
"""An id written in a file: lower-case letters, digits, ``-`` and ``_``."""

LocalizedText = str | dict[str, str]
"""A text, or a map from locale (``fr``, ``en``...) to text."""


def _is_language_code(locale: str) -> bool:
    return bool(locale) and len(locale) <= 10 and locale.replace("-", "").replace("_", "").isalpha()


def check_localized(value: LocalizedText | None) -> LocalizedText | None:
    """A pydantic validator: every key of a localized text is a language code (``fr``,
    ``pt-BR``). Empty texts pass: the file's checks say where a message is empty."""
    if isinstance(value, dict):
        for locale in value:
            if not _is_language_code(locale):
                raise ValueError(
                    N_(
                        '"{locale}" is not a language code (use fr, en, de...)',
                        locale=locale,
                    )
                )
    return value


def check_filled(value: LocalizedText | None) -> LocalizedText | None:
    """A pydantic validator: :func:`check_localized`, and no text is empty (for texts such as
    a challenge's title or a survey question, which have no other check)."""
    if isinstance(value, dict):
        if not value:
            raise ValueError(N_("give the text in at least one language"))
        for locale, text in value.items():
            if not _is_language_code(locale):
                raise ValueError(
                    N_(
                        '"{locale}" is not a language code (use fr, en, de...)',
                        locale=locale,
                    )
                )
            if not str(text).strip():
                raise ValueError(
                    N_(
                        'the "{locale}" text is empty',
                        locale=locale,
                    )
                )
    elif isinstance(value, str) and not value.strip():
        raise ValueError(N_("the text is empty"))
    return value


def texts_of(value: LocalizedText | None) -> list[tuple[str | None, str]]:
    """``(locale, text)`` for each language of ``value``; the locale is None for a plain text."""
    if value is None:
        return []
    if isinstance(value, str):
        return [(None, value)]
    return list(value.items())


def pick_locale(value: LocalizedText, wanted: str | None, default: str) -> tuple[str, str]:
    """(locale, text) for ``wanted``, else its base language, else ``default``, else the first."""
    if isinstance(value, str):
        return default, value
    for candidate in (wanted, (wanted or "").split("-")[0].split("_")[0], default):
        if candidate and candidate in value:
            return candidate, value[candidate]
    first = next(iter(value))
    return first, value[first]


Loc = tuple[str | int, ...]
"""A place in a file: the keys and list indexes leading to a value (``("steps", 2, "at")``)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """A cross-reference problem at a location in the file (a path of keys and indexes)."""

    loc: Loc
    message: str
