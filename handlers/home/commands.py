"""The ``/rallybot`` subcommands the home feature answers: its part of the one catalogue
(:func:`bot.commands.catalogue`), declared as its feature's ``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("me", N_("My space: checklist, points, badges, challenges, what comes next")),
)
"""me."""
