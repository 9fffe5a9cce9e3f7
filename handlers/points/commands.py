"""The ``/rallybot`` subcommands the points feature answers: its part of the one catalogue
(:func:`bot.commands.catalogue`), declared as its feature's ``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec, ParamSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "points",
        N_("My points, rank and badges; managers: add, remove or revert points"),
        (
            ParamSpec(
                "action",
                N_("Managers: adjust points (empty: my points)"),
                choices=("add", "remove", "revert"),
            ),
            ParamSpec(
                "member",
                N_("add/remove: who"),
                kind="member",
                # Translators: the words in capitals (and "member" after @) stand for a value
                # in a command's usage (/rallybot kudos @member [REASON]): one types it there.
                placeholder=N_("member"),
            ),
            ParamSpec(
                "amount",
                N_("add/remove: how many points; revert: the entry id"),
                placeholder=N_("AMOUNT"),
            ),
            ParamSpec("reason", N_("Why (required for add and remove)"), placeholder=N_("REASON")),
        ),
    ),
    CommandSpec(
        "top",
        N_("The leaderboard"),
        (
            ParamSpec(
                "period",
                N_("Which period (default: all time)"),
                choices=("all", "season", "7d", "30d"),
            ),
            ParamSpec("team", N_("Only this team"), placeholder=N_("TEAM")),
        ),
    ),
    CommandSpec(
        "kudos",
        N_("Thank a colleague (a few a day)"),
        (
            ParamSpec("member", N_("Who to thank"), True, kind="member", placeholder=N_("member")),
            ParamSpec("reason", N_("What for"), placeholder=N_("REASON")),
        ),
    ),
    CommandSpec(
        "season",
        N_("Start a new points season (managers)"),
        (
            ParamSpec("action", N_("What to do"), True, choices=("start",)),
            ParamSpec("name", N_("The season's name (one word)"), True, placeholder=N_("NAME")),
        ),
        admin=True,
    ),
)
"""points, top, kudos, season."""
