"""The ``/rallybot`` subcommands the admin feature answers (the managers' campaign commands):
its part of the one catalogue (:func:`bot.commands.catalogue`), declared as its feature's
``commands``."""

from __future__ import annotations

from rallybot.bot.commands import CommandSpec, ParamSpec
from rallybot.bot.i18n import N_

__all__ = ["COMMAND_SPECS"]

_CAMPAIGN = ParamSpec(
    "campaign",
    N_("The campaign id, as /rallybot campaigns lists it"),
    True,
    placeholder=N_("CAMPAIGN"),
)

COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("campaigns", N_("The campaigns and their state (managers)"), admin=True),
    CommandSpec(
        "pause", N_("Stop sending a campaign's messages (managers)"), (_CAMPAIGN,), admin=True
    ),
    CommandSpec(
        "resume", N_("Send a paused campaign's messages again (managers)"), (_CAMPAIGN,), admin=True
    ),
    CommandSpec("reload", N_("Re-read the campaign files (managers)"), admin=True),
    CommandSpec(
        "wave",
        N_("The waves and when they open; open a manual wave (managers)"),
        (
            ParamSpec("action", N_("list (default) or open"), choices=("list", "open")),
            ParamSpec(
                "wave",
                N_("open: the wave's name, as the campaign file's audiences name it"),
                placeholder=N_("WAVE"),
            ),
        ),
        admin=True,
    ),
    CommandSpec(
        "stats",
        N_("The community indicators (managers)"),
        (
            ParamSpec("weeks", N_("How many weeks back (default 4)"), placeholder=N_("WEEKS")),
            ParamSpec("cohort", N_("Only this cohort"), prefix="cohort=", placeholder=N_("COHORT")),
            ParamSpec("team", N_("Only this team"), prefix="team=", placeholder=N_("TEAM")),
            ParamSpec(
                "campaign", N_("Only this campaign"), prefix="campaign=", placeholder=N_("CAMPAIGN")
            ),
        ),
        admin=True,
    ),
)
"""campaigns, pause, resume, reload, wave, stats."""
