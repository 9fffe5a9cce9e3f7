"""The ``/rallybot`` subcommands the challenges feature answers: its part of the one catalogue
(:func:`bot.commands.catalogue`), declared as its feature's ``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec, ParamSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("challenges", N_("My challenges and my progress")),
    CommandSpec(
        "challenge",
        N_("Send evidence for a challenge (a manager approves it)"),
        (
            ParamSpec("action", N_("What to do"), True, choices=("submit",)),
            ParamSpec(
                "challenge",
                N_("The challenge id, as /rallybot challenges lists it"),
                True,
                placeholder=N_("CHALLENGE"),
            ),
            ParamSpec("evidence", N_("A text or a link"), True, placeholder=N_("EVIDENCE")),
        ),
    ),
    CommandSpec(
        "invite",
        N_("Say you invited a colleague (counts when they join)"),
        (
            ParamSpec(
                "colleague",
                N_("Their user id, or a @mention if they are already here"),
                True,
                placeholder=N_("COLLEAGUE"),
            ),
        ),
    ),
)
"""challenges, challenge, invite."""
