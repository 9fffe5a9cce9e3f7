"""The ``/rallybot`` subcommands the privacy feature answers: its part of the one catalogue
(:func:`bot.commands.catalogue`), declared as its feature's ``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec, ParamSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("mydata", N_("Everything stored about me, as JSON, in direct messages")),
    CommandSpec(
        "forget",
        N_("Erase my personal data, or a member's who left (managers); asks for a confirmation"),
        (
            ParamSpec(
                "member",
                N_("Managers: the member to erase"),
                kind="member",
                placeholder=N_("member"),
            ),
        ),
    ),
)
"""mydata, forget."""
