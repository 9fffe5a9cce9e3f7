"""The features of Rallybot, in the order the bot runs them (see :mod:`bot.feature`).

:data:`FEATURES` is the one list of them: the composition root (:mod:`bot.assembly`) gives a
new instance of each to the kernel, which names none. Adding a feature is adding its class
here; its ``after`` says which features it must follow, and the kernel checks it. Its
``/rallybot`` subcommands come with it (its ``commands``); :data:`COMMAND_ORDER` may place
them in the help.
"""

from __future__ import annotations

from rallybot.bot.feature import Feature, ordered
from rallybot.handlers.admin import AdminFeature
from rallybot.handlers.challenges import ChallengesFeature
from rallybot.handlers.console import ConsoleFeature
from rallybot.handlers.helpdesk import HelpdeskFeature
from rallybot.handlers.home import HomeFeature
from rallybot.handlers.leaderboard import LeaderboardFeature
from rallybot.handlers.members import MembersFeature
from rallybot.handlers.onboarding import OnboardingFeature
from rallybot.handlers.points import PointsFeature
from rallybot.handlers.polls import PollsFeature
from rallybot.handlers.privacy import PrivacyFeature
from rallybot.handlers.quiz import QuizFeature
from rallybot.handlers.stats import StatsFeature
from rallybot.handlers.steering import SteeringFeature
from rallybot.handlers.survey import SurveyFeature

__all__ = ["COMMAND_ORDER", "FEATURES", "features"]

FEATURES: tuple[type[Feature], ...] = (
    MembersFeature,  # first: a join is recorded before the others read it
    AdminFeature,
    PointsFeature,
    QuizFeature,
    HelpdeskFeature,
    OnboardingFeature,
    LeaderboardFeature,
    ChallengesFeature,
    SurveyFeature,
    PollsFeature,
    StatsFeature,  # activity rows for the indicators (before "forget")
    PrivacyFeature,  # "forget" runs after the others recorded the click
    SteeringFeature,
    HomeFeature,  # /rallybot me: reads the others' summaries
    ConsoleFeature,  # the web console, started once the bot runs (when turned on)
)
"""Every feature, in the order their handlers, reloads and ticks run."""

COMMAND_ORDER: tuple[str, ...] = (
    # Everyone's, most used first (the help lists managers' commands after these anyway).
    "help",
    "points",
    "top",
    "kudos",
    "quiz",
    "challenges",
    "challenge",
    "invite",
    "onboarding",
    "me",
    "stop",
    "start",
    "mydata",
    "forget",
    "helpdesk",
    # Managers'.
    "campaigns",
    "pause",
    "resume",
    "reload",
    "preview",
    "send",
    "skip",
    "pending",
    "timeline",
    "wave",
    "stats",
    "season",
    "survey",
    "poll",
)
"""The order ``/rallybot help`` and Discord's ``/rallybot`` list the features' subcommands in
(the features run in another order): a subcommand left out comes after these, in feature
order. Each feature declares its own subcommands (its ``commands``); this only orders them."""


def features() -> list[Feature]:
    """A new instance of every feature (one bot's), in order."""
    return ordered(kind() for kind in FEATURES)
