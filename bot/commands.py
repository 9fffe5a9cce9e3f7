"""The types of the ``/rallybot`` subcommands, and their catalogue made from the features.

Slack's slash command takes free text (``/rallybot points add @ana 10 great talk``) and needs
no catalogue; Discord's application commands must declare every subcommand and its options
when they are synced. Each feature declares the subcommands it answers, with parameter hints,
as its :attr:`~bot.feature.Feature.commands` (in its own package: this module names none);
:func:`catalogue` gathers them from the ordered list of features. The Discord adapter builds
``/rallybot`` from it and turns the options back into the words the handlers parse
(:func:`args_from_options`), so a handler sees the same ``CommandInvoked.args`` on both
platforms.

It is the one catalogue: Slack's ``/rallybot help`` text (:func:`handlers.admin.help_text`)
is made from it too, as the kernel holds it (``Kernel.commands``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rallybot.bot.feature import Feature

__all__ = [
    "CommandSpec",
    "ParamKind",
    "ParamSpec",
    "args_from_options",
    "catalogue",
]

ParamKind = Literal["text", "member", "flag"]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of a subcommand.

    ``kind``: ``text`` is typed text, split into words as the Slack slash command splits it;
    ``member`` picks a person (Discord: a user option), passed on as a mention ``<@id>``,
    which handlers read like Slack's ``<@U123|name>``; ``flag`` is a yes/no switch passed on
    as ``--<name>`` when set. ``choices`` are the only values offered (Discord shows them as
    a list). ``prefix`` goes before the value (``cohort=`` for ``/rallybot stats``).
    ``description`` is in English, the catalogs' message id: Discord shows it in each
    member's client language. ``placeholder`` stands for the value in ``/rallybot help``
    (``REASON``, ``@member``), a message id marked with ``N_`` so that the help shows it in
    the reader's language (default: the name, in capitals for a text).
    """

    name: str
    description: str
    required: bool = False
    kind: ParamKind = "text"
    choices: tuple[str, ...] = ()
    prefix: str = ""
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A ``/rallybot`` subcommand; ``admin`` marks those for community managers only
    (the handlers check it; platforms only show it). ``description`` is in English, the
    catalogs' message id: ``/rallybot help`` shows it in the reader's language."""

    name: str
    description: str
    params: tuple[ParamSpec, ...] = ()
    admin: bool = False
    # Discord shows at most 25 subcommands under /rallybot: newer managers' commands sit in
    # a group there (/rallybot manage send ...); Slack and the console take them as they are.
    group: str | None = None


def catalogue(features: Iterable[Feature], order: Sequence[str] = ()) -> tuple[CommandSpec, ...]:
    """Every subcommand the ``features`` declare (their :attr:`~bot.feature.Feature.commands`):
    those named in ``order`` first, in that order, then the others in feature order (a new
    feature's commands need no entry). Names in ``order`` no feature declares are skipped (a
    bot with fewer features). ValueError for a name two features declare."""
    declared: dict[str, CommandSpec] = {}
    owners: dict[str, str] = {}
    for feature in features:
        owner = feature.name or type(feature).__name__
        for spec in feature.commands:
            if spec.name in declared:
                raise ValueError(
                    f'the subcommand "{spec.name}" is declared twice: by {owners[spec.name]} '
                    f"and by {owner}"
                )
            declared[spec.name] = spec
            owners[spec.name] = owner
    rank = {name: index for index, name in enumerate(order)}
    # sorted() is stable: the commands left out of ``order`` keep the features' order.
    return tuple(sorted(declared.values(), key=lambda spec: rank.get(spec.name, len(rank))))


def args_from_options(spec: CommandSpec, values: Mapping[str, object]) -> tuple[str, ...]:
    """The handler's ``args`` for the option ``values`` of an application command.

    Parameters go in catalogue order; empty ones are left out; text is split into words
    (``question="Where is the wifi?"`` gives ``("Where", "is", "the", "wifi?")``); a flag set
    gives ``--name``; a member is given as its mention text (the caller passes ``<@id>``).
    A flag goes before the other words (``help --private QUESTION``).
    """
    flags: list[str] = []
    words: list[str] = []
    for param in spec.params:
        value = values.get(param.name)
        if value is None or value is False or value == "":
            continue
        if param.kind == "flag":
            flags.append(f"--{param.name}")
            continue
        parts = str(value).split()
        if parts and param.prefix:
            parts[0] = param.prefix + parts[0]
        words.extend(parts)
    return (*flags, *words)
