"""The catalogue of ``/rallybot`` subcommands, for platforms that declare them up front.

Slack's slash command takes free text (``/rallybot points add @ana 10 great talk``) and needs
no catalogue; Discord's application commands must declare every subcommand and its options
when they are synced. :data:`COMMANDS` lists them all, with parameter hints; the Discord
adapter builds ``/rallybot`` from it and turns the options back into the words the handlers
parse (:func:`args_from_options`), so a handler sees the same ``CommandInvoked.args`` on both
platforms.

It is the one catalogue: Slack's ``/rallybot help`` text (:func:`handlers.admin.help_text`)
is made from it too. Keep it in step with the handlers: a test compares it with each handler
module's ``COMMANDS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from rallybot.bot.i18n import N_

__all__ = [
    "COMMANDS",
    "CommandSpec",
    "ParamKind",
    "ParamSpec",
    "args_from_options",
    "catalogue",
    "command",
    "register",
    "specs",
]

ParamKind = Literal["text", "member", "flag"]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of a subcommand.

    ``kind``: ``text`` is typed text, split into words as the Slack slash command splits it;
    ``member`` picks a person (Discord: a user option), passed on as a mention ``<@id>``,
    which handlers read like Slack's ``<@U123|name>``; ``flag`` is a yes/no switch passed on
    as ``--<name>`` when set. ``choices`` are the only values offered (Discord shows them as
    a list). ``prefix`` goes before the value (``cohort=`` for ``/rallybot stats``).
    ``description`` is in English, the catalogs' message id: Discord shows it in each
    member's client language. ``placeholder`` stands for the value in ``/rallybot help``
    (``REASON``, ``@member``), a message id marked with ``N_`` so that the help shows it in
    the reader's language (default: the name, in capitals for a text).
    """

    name: str
    description: str
    required: bool = False
    kind: ParamKind = "text"
    choices: tuple[str, ...] = ()
    prefix: str = ""
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A ``/rallybot`` subcommand; ``admin`` marks those for community managers only
    (the handlers check it; platforms only show it). ``description`` is in English, the
    catalogs' message id: ``/rallybot help`` shows it in the reader's language."""

    name: str
    description: str
    params: tuple[ParamSpec, ...] = ()
    admin: bool = False
    # Discord shows at most 25 subcommands under /rallybot: newer managers' commands sit in
    # a group there (/rallybot manage send ...); Slack and the console take them as they are.
    group: str | None = None


_CAMPAIGN = ParamSpec(
    "campaign",
    N_("The campaign id, as /rallybot campaigns lists it"),
    True,
    placeholder=N_("CAMPAIGN"),
)

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "help",
        N_("What Rallybot can do; with a question: ask the helpers"),
        (
            ParamSpec(
                "question",
                N_("A question for the helpers (empty: the list of commands)"),
                placeholder=N_("QUESTION"),
            ),
            ParamSpec("private", N_("Ask privately rather than in the help channel"), kind="flag"),
        ),
    ),
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
    CommandSpec("onboarding", N_("My onboarding checklist: what is done, what is left")),
    CommandSpec("me", N_("My space: checklist, points, badges, challenges, what comes next")),
    CommandSpec("stop", N_("No more reminders (announcements go on)")),
    CommandSpec("start", N_("Reminders again")),
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
    CommandSpec("helpdesk", N_("The open help tickets (helpers)")),
    CommandSpec("campaigns", N_("The campaigns and their state (managers)"), admin=True),
    CommandSpec(
        "pause", N_("Stop sending a campaign's messages (managers)"), (_CAMPAIGN,), admin=True
    ),
    CommandSpec(
        "resume", N_("Send a paused campaign's messages again (managers)"), (_CAMPAIGN,), admin=True
    ),
    CommandSpec("reload", N_("Re-read the campaign files (managers)"), admin=True),
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
    CommandSpec(
        "season",
        N_("Start a new points season (managers)"),
        (
            ParamSpec("action", N_("What to do"), True, choices=("start",)),
            ParamSpec("name", N_("The season's name (one word)"), True, placeholder=N_("NAME")),
        ),
        admin=True,
    ),
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
"""Every ``/rallybot`` subcommand (Discord allows 25, each with 25 options at most)."""

_BY_NAME = {spec.name: spec for spec in COMMANDS}
_ADDED: list[CommandSpec] = []


def register(*added: CommandSpec) -> tuple[CommandSpec, ...]:
    """Add subcommands to the catalogue (a feature package declaring its own, when its module
    is imported): Discord's ``/rallybot``, the help text and :func:`specs` then know them.
    Returns them; ValueError for a name already taken by another spec."""
    for spec in added:
        known = _BY_NAME.get(spec.name)
        if known is not None and known != spec:
            raise ValueError(f'the subcommand "{spec.name}" is in the catalogue already')
        if known is None:
            _BY_NAME[spec.name] = spec
            _ADDED.append(spec)
    return added


def catalogue() -> tuple[CommandSpec, ...]:
    """Every subcommand: :data:`COMMANDS`, then those features added with :func:`register`."""
    return (*COMMANDS, *_ADDED)


def command(name: str) -> CommandSpec | None:
    """The subcommand called ``name``, if any."""
    return _BY_NAME.get(name)


def args_from_options(spec: CommandSpec, values: Mapping[str, object]) -> tuple[str, ...]:
    """The handler's ``args`` for the option ``values`` of an application command.

    Parameters go in catalogue order; empty ones are left out; text is split into words
    (``question="Where is the wifi?"`` gives ``("Where", "is", "the", "wifi?")``); a flag set
    gives ``--name``; a member is given as its mention text (the caller passes ``<@id>``).
    A flag goes before the other words (``help --private QUESTION``).
    """
    flags: list[str] = []
    words: list[str] = []
    for param in spec.params:
        value = values.get(param.name)
        if value is None or value is False or value == "":
            continue
        if param.kind == "flag":
            flags.append(f"--{param.name}")
            continue
        parts = str(value).split()
        if parts and param.prefix:
            parts[0] = param.prefix + parts[0]
        words.extend(parts)
    return (*flags, *words)


def specs(*names: str) -> tuple[CommandSpec, ...]:
    """The catalogue entries called ``names``, for a feature's declaration (KeyError for a
    name the catalogue lacks)."""
    return tuple(_BY_NAME[name] for name in names)
