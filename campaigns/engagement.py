"""Engagement blocks of campaign files: the ``leaderboard:`` of a step and the ``challenges:``.

A leaderboard step is an ordinary channel post whose standings are written when it is sent
(not when it is planned)::

    - id: weekly-top
      every: monday at 09:00
      from: launch
      post: annonces
      text: {fr: "Le classement de la semaine", en: "This week's leaderboard"}
      leaderboard: {period: 7d, top: 10}

Challenges run between two times, for members or for teams, and earn points once done::

    challenges:
      - id: three-posts
        title: {fr: "Trois messages", en: "Three posts"}
        goal: {kind: post_in_channel, count: 3, channel: annonces}
        start: launch
        end: launch + 7d
        points: 30
        announce: annonces

Goal kinds: ``post_in_channel`` and ``react`` (N times, optionally in one channel),
``complete_onboarding``, ``answer_quiz`` (N answers, optionally of one bank), ``invite`` (N
colleagues who then join) and ``submit_evidence`` (N submissions a community manager approved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, StringConstraints, field_validator

from rallybot.campaigns import words
from rallybot.campaigns.base import LocalizedText, Problem, Strict, check_filled
from rallybot.campaigns.templates import did_you_mean
from rallybot.campaigns.timeexpr import TimeExprError, parse_datetime_local, parse_time_expr
from rallybot.campaigns.words import N_, Text

if TYPE_CHECKING:
    from rallybot.campaigns.schema import Campaign, CampaignSpec

__all__ = [
    "GOAL_KINDS",
    "Challenge",
    "ChallengeSpec",
    "GoalSpec",
    "LeaderboardSpec",
    "challenge_problems",
    "challenge_words",
    "challenges_of",
    "compile_challenges",
]

ChallengeId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
GoalKind = Literal[
    "post_in_channel",
    "react",
    "complete_onboarding",
    "answer_quiz",
    "invite",
    "submit_evidence",
]
GOAL_KINDS: tuple[str, ...] = (
    "post_in_channel",
    "react",
    "complete_onboarding",
    "answer_quiz",
    "invite",
    "submit_evidence",
)


class LeaderboardSpec(Strict):
    """The standings a channel post shows, computed when it is sent."""

    period: Literal["all", "season", "7d", "30d"] = "7d"
    top: Annotated[int, Field(ge=1, le=50)] = 10
    team: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None


class GoalSpec(Strict):
    """What completes a challenge."""

    kind: GoalKind
    count: Annotated[int, Field(ge=1, le=10_000)] = 1
    channel: str | None = None  # post_in_channel, react: only in this channel (logical name)
    quiz: str | None = None  # answer_quiz: only answers to this bank


class ChallengeSpec(Strict):
    """A challenge, as written in a campaign file."""

    id: ChallengeId
    title: LocalizedText
    description: LocalizedText | None = None
    goal: GoalSpec
    by: Literal["member", "team"] = "member"
    start: str
    end: str
    points: Annotated[int, Field(ge=0, le=100_000)] | None = None
    announce: str | None = None  # the channel (logical name) where the winners are announced

    _locales = field_validator("title", "description")(check_filled)


@dataclass(frozen=True, slots=True)
class Challenge:
    """A compiled challenge: resolved times and logical names."""

    campaign_id: str
    id: str
    title: LocalizedText
    description: LocalizedText | None
    kind: str
    count: int
    channel: str | None  # logical name
    quiz: str | None
    by: str  # "member" or "team"
    start: datetime  # UTC
    end: datetime  # UTC
    points: int | None
    announce: str | None  # logical name

    @property
    def key(self) -> str:
        """``campaign/challenge``: unique across campaigns."""
        return f"{self.campaign_id}/{self.id}"

    def active(self, at: datetime) -> bool:
        """Whether ``at`` falls inside the challenge."""
        return self.start <= at < self.end


_SINGLE = frozenset({"complete_onboarding"})
_CHANNEL_KINDS = frozenset({"post_in_channel", "react"})


def challenge_problems(spec: CampaignSpec) -> list[Problem]:
    """Cross-field problems of the ``challenges:`` section (times, channels, goals)."""
    problems: list[Problem] = []
    channels = set(spec.channels)
    milestones = set(spec.milestones)
    local = {name: parse_datetime_local(str(v)) for name, v in spec.milestones.items()}
    zone = ZoneInfo(spec.timezone)
    seen: dict[str, int] = {}
    for index, challenge in enumerate(spec.challenges):
        base: tuple[str | int, ...] = ("challenges", index)
        if challenge.id in seen:
            problems.append(
                Problem(
                    (*base, "id"),
                    N_(
                        'challenge id "{id}" is used twice (first by challenge {first})',
                        id=challenge.id,
                        first=seen[challenge.id] + 1,
                    ),
                )
            )
        else:
            seen[challenge.id] = index
        times: dict[str, datetime] = {}
        for key in ("start", "end"):
            text = getattr(challenge, key)
            try:
                expr = parse_time_expr(text, allow_join=False)
            except TimeExprError as exc:
                message = exc.args[0]
                if isinstance(message, Text) and message.template.endswith("in steps, not here"):
                    message = N_('"join" can only be used in steps, not in challenges')
                problems.append(Problem((*base, key), message))
                continue
            if expr.anchor != "absolute" and expr.anchor not in milestones:
                known = ", ".join(sorted(milestones)) or N_("none defined")
                problems.append(
                    Problem(
                        (*base, key),
                        N_(
                            'unknown milestone "{anchor}"{hint}; milestones: {known}',
                            anchor=expr.anchor,
                            hint=did_you_mean(expr.anchor, milestones),
                            known=known,
                        ),
                    )
                )
                continue
            times[key] = expr.resolve(zone, local)
        if len(times) == 2 and times["end"] <= times["start"]:
            problems.append(Problem((*base, "end"), N_("the challenge ends before it starts")))
        goal = challenge.goal
        if goal.channel is not None:
            if goal.kind not in _CHANNEL_KINDS:
                problems.append(
                    Problem(
                        (*base, "goal", "channel"),
                        N_('"channel" goes with the post_in_channel and react goals'),
                    )
                )
            elif goal.channel not in channels:
                problems.append(
                    Problem(
                        (*base, "goal", "channel"),
                        N_(
                            'unknown channel "{channel}"{hint}; declare it under channels:',
                            channel=goal.channel,
                            hint=did_you_mean(goal.channel, channels),
                        ),
                    )
                )
        if goal.quiz is not None and goal.kind != "answer_quiz":
            problems.append(
                Problem((*base, "goal", "quiz"), N_('"quiz" goes with the answer_quiz goal'))
            )
        if goal.kind in _SINGLE and goal.count != 1:
            problems.append(
                Problem((*base, "goal", "count"), N_("onboarding is completed once: remove count"))
            )
        if goal.kind == "complete_onboarding" and spec.journey is None:
            problems.append(
                Problem(
                    (*base, "goal", "kind"),
                    N_("complete_onboarding needs a journey: section in this campaign file"),
                )
            )
        if challenge.announce is not None and challenge.announce not in channels:
            problems.append(
                Problem(
                    (*base, "announce"),
                    N_(
                        'unknown channel "{announce}"{hint}; declare it under channels:',
                        announce=challenge.announce,
                        hint=did_you_mean(challenge.announce, channels),
                    ),
                )
            )
    return problems


def compile_challenges(spec: CampaignSpec) -> tuple[Challenge, ...]:
    """The challenges of a spec that passed :func:`challenge_problems`."""
    local = {name: parse_datetime_local(str(v)) for name, v in spec.milestones.items()}
    zone = ZoneInfo(spec.timezone)
    return tuple(
        Challenge(
            campaign_id=spec.id,
            id=c.id,
            title=c.title,
            description=c.description,
            kind=c.goal.kind,
            count=c.goal.count,
            channel=c.goal.channel,
            quiz=c.goal.quiz,
            by=c.by,
            start=parse_time_expr(c.start, allow_join=False).resolve(zone, local),
            end=parse_time_expr(c.end, allow_join=False).resolve(zone, local),
            points=c.points,
            announce=c.announce,
        )
        for c in spec.challenges
    )


def challenge_words(key: str, campaign_title: str | None, locale: str | None) -> str:
    """A challenge ``campaign/challenge`` that its campaign's file no longer has (its title
    gone with it), as people read it: its id's words, then the campaign's title ("photo ·
    Connect launch"). The key as it is when the campaign is not known either (a report made
    without the files): nothing better to say."""
    challenge_id = key.rpartition("/")[2]
    if not campaign_title or not challenge_id:
        return key
    named = " ".join(challenge_id.replace("-", " ").replace("_", " ").split())
    # Translators: a challenge its campaign's file no longer has: its id's words, then the
    # campaign's title ("photo · Connect launch").
    return words.gettext(locale, "{challenge} · {campaign}").format(
        challenge=named, campaign=campaign_title
    )


def challenges_of(campaign: Campaign) -> tuple[Challenge, ...]:
    """A compiled campaign's challenges (none when the file has no ``challenges:``)."""
    found = campaign.extra.get("challenges", ())
    return tuple(c for c in found if isinstance(c, Challenge))
