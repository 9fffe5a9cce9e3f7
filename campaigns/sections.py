"""Step sections: a feature's own block in a campaign step, such as ``poll:``, without the
campaign-file language naming the feature.

A feature that gives steps a new block describes it with a :class:`StepSection` (the key, a
strict pydantic model for the block, the words the loader uses for it in error messages, and
optionally the checks that need the whole file) and calls :func:`register` when its module is
imported. From then on every campaign step accepts the key:

- the block is validated with the section's model where the file is read, so its mistakes are
  reported at their line and column like any other (``steps[2].poll.choices: ...``);
- :attr:`StepSection.problems` adds the checks that look across the file (a milestone that
  does not exist, a step shape the block does not go with), at their line too;
- a step without the block hashes as before (adding a section never rewrites pending
  messages), and a step with it hashes with it;
- the compiled step reads the block with :func:`section_of`.

The feature then does the rest through its own hooks (its buttons with
:meth:`bot.feature.Feature.prepare`, its ticks, its click handlers). This module imports
nothing from the schema, so the schema can read the registry without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from rallybot.campaigns.words import N_

__all__ = ["SectionLoc", "StepSection", "register", "registered", "section_of", "unregister"]

M = TypeVar("M", bound=BaseModel)

SectionLoc = tuple[str | int, ...]
"""A place inside the block (``("choices", 3)``); ``()`` is the block itself."""


@dataclass(frozen=True, slots=True)
class StepSection:
    """A block a feature adds to campaign steps.

    ``key`` is the step key (``poll``); ``model`` validates the block; ``words`` names such a
    block in the loader's messages (``a poll (choices: ..., closes: ...)``). ``problems``,
    given the whole campaign spec, the step spec and the validated block, yields
    ``(place inside the block, message)`` for mistakes that need more than the block; a place
    starting with ``".."`` names a key of the step itself (``("..", "post")``).
    """

    key: str
    model: type[BaseModel]
    words: str
    problems: Callable[[Any, Any, Any], Iterable[tuple[SectionLoc, str]]] | None = None


_SECTIONS: dict[str, StepSection] = {}


def register(section: StepSection) -> StepSection:
    """Make every campaign step accept ``section.key`` (idempotent for the same section).

    Raises ValueError when another section already has the key."""
    known = _SECTIONS.get(section.key)
    if known is not None and known != section:
        raise ValueError(
            N_(
                'two step sections are called "{key}"',
                key=section.key,
            )
        )
    _SECTIONS[section.key] = section
    return section


def unregister(key: str) -> None:
    """Forget the section ``key`` (for tests that register their own)."""
    _SECTIONS.pop(key, None)


def registered() -> tuple[StepSection, ...]:
    """The registered sections, in registration order."""
    return tuple(_SECTIONS.values())


def section_of(step: object, section: StepSection, model: type[M]) -> M | None:
    """The validated block of ``section`` in a step spec, or None when the step has none."""
    value = getattr(step, section.key, None)
    return value if isinstance(value, model) else None
