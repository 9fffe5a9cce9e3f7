"""The points rules file: points per action, limits, kudos, exclusions, badges and levels.

Read with the campaign loader's safe YAML machinery, so every mistake is reported as
``file:line:column: field: message``. Every key is optional; :data:`DEFAULT_RULES` applies when
no rules file is configured. Example (see ``campaigns/examples/*/r*/points.yaml``)::

    points: {reaction_on_announcement: 1, first_post: 5, kudos_received: 5}
    daily_caps: {reaction: 10, kudos: 25}
    cooldowns: {reaction_on_announcement: 1m}
    kudos: {emoji: [clap, tada], daily_allowance: 3, per_pair_daily: 1}
    exclude: {community_managers: true, members: [U0BOT]}
    leaderboard: {private: true, top: 3}
    announce: dm
    badges:
      - id: first-quiz
        name: {fr: Premier quiz, en: First quiz}
        when: {quizzes: 1}
    levels:
      - {points: 100, name: {fr: Curieux, en: Curious}}
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from rallybot.campaigns.base import LocalizedText, Problem, Strict, check_localized
from rallybot.campaigns.loader import CampaignLoadError, load_document, load_errors, read_head
from rallybot.campaigns.timeexpr import TimeExprError, parse_duration
from rallybot.campaigns.words import N_

__all__ = [
    "ACTIONS",
    "ACTION_SOURCES",
    "DEFAULT_RULES",
    "BadgeSpec",
    "Rules",
    "RulesLoadError",
    "is_rules_file",
    "is_rules_text",
    "load_rules",
    "load_rules_text",
    "localized",
]

ACTION_SOURCES: dict[str, str] = {
    "reaction_on_announcement": "reaction",
    "first_post": "first_post",
    "quiz_correct": "quiz",
    "quiz_speed_bonus": "quiz",
    "challenge_done": "challenge",
    "kudos_received": "kudos",
    "onboarding_task": "onboarding",
    "help_answer_accepted": "help",
}
"""Each action that earns points, and the ledger source it is recorded under."""
ACTIONS = tuple(ACTION_SOURCES)

Action = Literal[
    "reaction_on_announcement",
    "first_post",
    "quiz_correct",
    "quiz_speed_bonus",
    "challenge_done",
    "kudos_received",
    "onboarding_task",
    "help_answer_accepted",
]
Source = Literal["reaction", "first_post", "quiz", "challenge", "kudos", "onboarding", "help"]
BadgeId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Points = Annotated[int, Field(ge=0, le=100_000)]
Count = Annotated[int, Field(ge=1, le=1_000_000)]
Text = Annotated[LocalizedText, AfterValidator(check_localized)]


def _duration(text: str) -> str:
    try:
        days, seconds = parse_duration(str(text))
    except TimeExprError as exc:
        raise ValueError(exc.args[0]) from None
    if days == 0 and seconds == 0:
        raise ValueError(N_("a cooldown must be longer than 0"))
    return text


Duration = Annotated[str, AfterValidator(_duration)]


def _only_true(value: bool) -> bool:
    if value is not True:
        raise ValueError(N_("onboarding_done can only be true (leave it out otherwise)"))
    return value


OnlyTrue = Annotated[bool, AfterValidator(_only_true)]


class PointsSpec(Strict):
    """Points per action (0 turns an action off)."""

    reaction_on_announcement: Points = 1
    first_post: Points = 5
    quiz_correct: Points = 10
    quiz_speed_bonus: Points = 5
    challenge_done: Points = 20
    kudos_received: Points = 5
    onboarding_task: Points = 5
    help_answer_accepted: Points = 10


class KudosSpec(Strict):
    """Kudos: the emoji that gives them, how many a member may give a day, and to one person."""

    emoji: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | str = "clap"
    daily_allowance: Annotated[int, Field(ge=0, le=1000)] = 3
    per_pair_daily: Annotated[int, Field(ge=1, le=1000)] | None = 1


class ExcludeSpec(Strict):
    """Who never earns points (bots never do)."""

    community_managers: bool = False
    members: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = []


class LeaderboardSpec(Strict):
    """``private``: members see only the top ``top`` and their own rank."""

    private: bool = False
    top: Annotated[int, Field(ge=0, le=50)] = 10


class BadgeCondition(Strict):
    """Every condition given must hold (counts are awards that were not revoked)."""

    points: Annotated[int, Field(ge=1)] | None = None
    quizzes: Count | None = None
    challenges: Count | None = None
    kudos_given: Count | None = None
    kudos_received: Count | None = None
    onboarding_tasks: Count | None = None  # tasks done (the completion bonus is not one)
    onboarding_done: OnlyTrue | None = None  # an onboarding checklist completed
    help_answers: Count | None = None
    reactions: Count | None = None
    first_post: bool | None = None


class BadgeSpec(Strict):
    """A badge: its id, its name per language, when it is earned."""

    id: BadgeId
    name: Text
    when: BadgeCondition


class LevelSpec(Strict):
    """A level reached at ``points`` (all-time)."""

    points: Annotated[int, Field(ge=0)]
    name: Text


class Rules(Strict):
    """A whole rules file."""

    points: PointsSpec = PointsSpec()
    daily_caps: dict[Source, Annotated[int, Field(ge=0)]] = {}
    cooldowns: dict[Action, Duration] = {}
    kudos: KudosSpec = KudosSpec()
    exclude: ExcludeSpec = ExcludeSpec()
    leaderboard: LeaderboardSpec = LeaderboardSpec()
    announce: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "dm"
    badges: list[BadgeSpec] = []
    levels: list[LevelSpec] = []

    def amount(self, action: str) -> int:
        """Points for ``action`` (KeyError for an unknown action)."""
        if action not in ACTION_SOURCES:
            raise KeyError(action)
        return int(getattr(self.points, action))

    def cooldown(self, action: str) -> timedelta | None:
        """The minimum time between two awards of ``action`` to one member."""
        text = self.cooldowns.get(action)  # type: ignore[call-overload]
        if text is None:
            return None
        days, seconds = parse_duration(text)
        return timedelta(days=days, seconds=seconds)

    @property
    def kudos_emojis(self) -> frozenset[str]:
        """Kudos emoji names, without colons."""
        names = [self.kudos.emoji] if isinstance(self.kudos.emoji, str) else self.kudos.emoji
        return frozenset(name.strip(":") for name in names)

    def level(self, total: int) -> LevelSpec | None:
        """The highest level reached with ``total`` points."""
        reached = [level for level in self.levels if total >= level.points]
        return max(reached, key=lambda level: level.points) if reached else None

    def next_level(self, total: int) -> LevelSpec | None:
        """The next level to reach."""
        ahead = [level for level in self.levels if total < level.points]
        return min(ahead, key=lambda level: level.points) if ahead else None


DEFAULT_RULES = Rules()
"""The rules when no file is configured."""


def localized(text: LocalizedText, locale: str | None, default: str = "en") -> str:
    """The text in ``locale`` (or its language, the default locale, then any)."""
    if isinstance(text, str):
        return text
    for key in (locale, (locale or "").split("-")[0].split("_")[0], default, "en", "fr"):
        if key and key in text:
            return text[key]
    return next(iter(text.values()), "")


def _check(rules: Rules) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, badge in enumerate(rules.badges):
        if badge.id in seen:
            yield Problem(
                ("badges", index, "id"),
                N_(
                    'badge id "{id}" is already used by badges[{index}]',
                    id=badge.id,
                    index=seen[badge.id],
                ),
            )
        else:
            seen[badge.id] = index
        if badge.when == BadgeCondition():
            yield Problem(
                ("badges", index, "when"),
                N_(
                    "give at least one condition (points, quizzes, kudos_given, "
                    "onboarding_tasks...)"
                ),
            )
    levels: dict[int, int] = {}
    for index, level in enumerate(rules.levels):
        if level.points in levels:
            yield Problem(
                ("levels", index, "points"),
                N_(
                    "levels[{index}] already starts at {points} points",
                    index=levels[level.points],
                    points=level.points,
                ),
            )
        levels.setdefault(level.points, index)


class RulesLoadError(CampaignLoadError):
    """A rules file could not be loaded; ``errors`` lists every mistake."""


_EMPTY = N_("the file is empty: write at least one key (points:, daily_caps:, badges:...)")
_KEYS = "points: ..., daily_caps: ..., kudos: ..., badges: ..."


def _plain(message: str) -> str:
    """The loader's messages, speaking of rules files; one with nothing to change is kept as
    it is, still translatable (``str.replace`` gives a plain string)."""
    plain = message.replace("campaign files", "rules files").replace(
        "keep one campaign per file", "keep one rules document per file"
    )
    return message if plain == message else plain


def _load(raw: str | bytes | None, source: str, path: Path | None) -> Rules:
    rules, found, _document = load_document(
        raw, source, Rules, path=path, check=_check, empty=_EMPTY, keys=_KEYS
    )
    errors = [replace(error, message=_plain(error.message)) for error in load_errors(source, found)]
    if rules is None or errors:
        raise RulesLoadError(errors)
    return rules


_RULES_KEYS = frozenset(Rules.model_fields)
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:", re.MULTILINE)


def is_rules_file(path: str | Path) -> bool:
    """Whether a file looks like a rules file: its top-level keys are rules keys only (a
    campaign has ``id:`` and ``steps:``, a quiz bank ``bank:``)."""
    text = read_head(path, 64 * 1024)
    return text is not None and is_rules_text(text)


def is_rules_text(text: str) -> bool:
    """:func:`is_rules_file` for a text held in memory."""
    keys = set(_TOP_KEY.findall(text))
    return bool(keys) and keys <= _RULES_KEYS


def load_rules_text(text: str | bytes, source: str) -> Rules:
    """Load rules from memory (``source`` names the file in messages); raises
    :class:`RulesLoadError` listing every mistake."""
    return _load(text, source, None)


def load_rules(path: str | Path) -> Rules:
    """Load a rules file; raises :class:`RulesLoadError` listing every mistake."""
    return _load(None, str(path), Path(path))
