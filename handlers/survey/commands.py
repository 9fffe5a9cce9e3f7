"""The ``/rallybot`` subcommands the survey feature answers: its part of the one catalogue
(:func:`bot.commands.catalogue`), declared as its feature's ``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec, ParamSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "survey",
        N_("The surveys and their results (managers)"),
        (
            ParamSpec("action", N_("list (default) or results"), choices=("list", "results")),
            ParamSpec("survey", N_("results: the survey id"), placeholder=N_("SURVEY")),
        ),
        admin=True,
    ),
)
"""survey."""
