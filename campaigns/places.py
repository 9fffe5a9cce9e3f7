"""Where a problem is in a file, as its author reads it: ``steps[1].at`` (a 0-based path, the
loader's) becomes "step 2 (id teaser-1), field at", in the reader's language.

``rallybot validate`` and the console's pages show the same words; the loader's errors keep
the path itself (``LoadError.field``) for programs and for grouping.
"""

from __future__ import annotations

import re
from typing import Any

from rallybot.campaigns.words import gettext

__all__ = ["field_place"]

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _item(name: str, number: int, locale: str | None) -> str:
    """The ``number``-th (1-based) element of the list ``name``, named as the file's author
    calls it."""
    nouns = {
        # Translators: "step 2" of a campaign file ({number} counts from 1).
        "steps": gettext(locale, "step {number}"),
        # Translators: "question 2" of a quiz bank, a survey or a FAQ.
        "questions": gettext(locale, "question {number}"),
        # Translators: "choice 2" of a question or a poll.
        "choices": gettext(locale, "choice {number}"),
        # Translators: "button 2" of a step's message.
        "buttons": gettext(locale, "button {number}"),
        # Translators: "task 2" of an onboarding journey.
        "tasks": gettext(locale, "task {number}"),
        # Translators: "challenge 2" of a campaign file.
        "challenges": gettext(locale, "challenge {number}"),
        # Translators: "entry 2" of a FAQ or a list.
        "entries": gettext(locale, "entry {number}"),
    }
    # Translators: the element of a list of a file without a name of its own ("item 2 of
    # badges"); {list} is the key written in the file.
    pattern = nouns.get(name) or gettext(locale, "item {number} of {list}")
    return pattern.format(number=number, list=name)


def field_place(field: str, data: Any, locale: str | None) -> str:
    """``field`` (``steps[1].at``) as the file's author reads it, in ``locale``: each list
    element by its 1-based number and, when it has one, its id, from ``data`` (the file's
    values; None when unknown); the keys left as written. A path without a list element is
    returned as it is (``timezone``, ``milestones.launch``)."""
    parts = [(name, int(index) if index else None) for name, index in _PART.findall(field)]
    if not any(index is not None for _, index in parts):
        return field
    places: list[str] = []
    keys: list[str] = []
    node = data
    for position, (name, index) in enumerate(parts):
        if index is None:
            following = parts[position + 1][1] if position + 1 < len(parts) else None
            node = node.get(name) if isinstance(node, dict) else None
            if following is None:
                keys.append(name)
            continue
        # ``name[index]``: the key just before (``steps``) names the list
        listed = parts[position - 1][0] if position else ""
        if keys:  # keys between two list elements (``survey``) stay part of the path
            places.append(".".join(keys))
            keys = []
        node = node[index] if isinstance(node, list) and 0 <= index < len(node) else None
        place = _item(listed, index + 1, locale)
        identifier = node.get("id") if isinstance(node, dict) else None
        if isinstance(identifier, str | int) and not isinstance(identifier, bool):
            # Translators: a list element of a file and its id: "step 2 (id teaser-1)".
            place = gettext(locale, "{place} (id {id})").format(place=place, id=identifier)
        places.append(place)
    shown = ", ".join(places)
    if keys:
        # Translators: a key of a file's list element: "step 2 (id teaser-1), field at".
        shown = gettext(locale, "{place}, field {field}").format(place=shown, field=".".join(keys))
    return shown
