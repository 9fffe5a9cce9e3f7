"""The ``/rallybot`` subcommands the quiz feature answers: its part of the one catalogue
(:func:`bot.commands.catalogue`), declared as its feature's ``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec, ParamSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "quiz",
        N_("Take a quiz in direct messages; its leaderboard; managers: a live quiz here"),
        (
            ParamSpec(
                "mode",
                N_("top: the leaderboard; live: a live quiz (managers)"),
                choices=("top", "live"),
            ),
            ParamSpec(
                "bank", N_("Which quiz (default: the one in your language)"), placeholder=N_("BANK")
            ),
            ParamSpec("questions", N_("live: how many questions"), placeholder=N_("QUESTIONS")),
            ParamSpec("time", N_("live: time per question, like 30s"), placeholder=N_("TIME")),
        ),
    ),
)
"""quiz."""
