"""The ``/rallybot`` subcommands the steering feature answers: its part of the one catalogue
(:func:`bot.commands.catalogue`), declared as its feature's ``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec, ParamSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "preview",
        N_("A step's message, sent to me as a member would see it (managers)"),
        (
            ParamSpec(
                "step",
                N_("The step id (CAMPAIGN/STEP if two campaigns share it)"),
                True,
                placeholder=N_("STEP"),
            ),
            ParamSpec(
                "locale", N_("The language to see it in (fr, en...)"), placeholder=N_("LOCALE")
            ),
        ),
        admin=True,
        group="manage",
    ),
    CommandSpec(
        "send",
        N_("Send a step now, once, even if it was skipped (managers)"),
        (
            ParamSpec(
                "step",
                N_("The step id (CAMPAIGN/STEP if two campaigns share it)"),
                True,
                placeholder=N_("STEP"),
            ),
            ParamSpec(
                "to",
                N_("A member, or an audience of the campaign"),
                prefix="to ",
                placeholder=N_("TO"),
            ),
        ),
        admin=True,
        group="manage",
    ),
    CommandSpec(
        "skip",
        N_("Skip what a step has not sent yet (managers)"),
        (
            ParamSpec(
                "step",
                N_("The step id (CAMPAIGN/STEP if two campaigns share it)"),
                True,
                placeholder=N_("STEP"),
            ),
        ),
        admin=True,
        group="manage",
    ),
    CommandSpec(
        "pending",
        N_("Evidence to approve, unanswered questions, failed sends (managers)"),
        admin=True,
        group="manage",
    ),
    CommandSpec(
        "timeline",
        N_("What goes out in the next days (managers)"),
        (ParamSpec("days", N_("How many days ahead (default 7)"), placeholder=N_("DAYS")),),
        admin=True,
        group="manage",
    ),
)
"""preview, send, skip, pending, timeline."""
