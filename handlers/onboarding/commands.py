"""The ``/rallybot`` subcommands the onboarding feature answers: its part of the one catalogue
(:func:`bot.commands.catalogue`), declared as its feature's ``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("onboarding", N_("My onboarding checklist: what is done, what is left")),
    CommandSpec("stop", N_("No more reminders (announcements go on)")),
    CommandSpec("start", N_("Reminders again")),
)
"""onboarding, stop, start."""
