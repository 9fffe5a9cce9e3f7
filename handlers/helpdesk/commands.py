"""The ``/rallybot`` subcommands the help desk feature answers: its part of the one catalogue
(:func:`bot.commands.catalogue`), declared as its feature's ``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec, ParamSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "help",
        N_("What Rallybot can do; with a question: ask the helpers"),
        (
            ParamSpec(
                "question",
                N_("A question for the helpers (empty: the list of commands)"),
                placeholder=N_("QUESTION"),
            ),
            ParamSpec("private", N_("Ask privately rather than in the help channel"), kind="flag"),
        ),
    ),
    CommandSpec("helpdesk", N_("The open help tickets (helpers)")),
)
"""help, helpdesk."""
