"""The campaign file schema (pydantic) and the compiled, ready-to-plan form.

Field-level rules live here; rules that look across the file (unknown audiences, channels
or milestones, template variables, duplicate step ids) live in :func:`check_references`, so
the loader can point every error at a file, a line and a column.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from rallybot.campaigns.base import (
    Identifier,
    Loc,
    LocalizedText,
    Problem,
    Strict,
    check_localized,
    pick_locale,
    texts_of,
)
from rallybot.campaigns.engagement import (
    ChallengeSpec,
    LeaderboardSpec,
    challenge_problems,
    compile_challenges,
)
from rallybot.campaigns.journey import (
    TASK_CONDITION,
    compile_journey,
    journey_problems,
    journey_step_data,
)
from rallybot.campaigns.quiet_hours import QuietHours, parse_quiet_hours
from rallybot.campaigns.sections import registered
from rallybot.campaigns.survey import SurveySpec
from rallybot.campaigns.templates import check_template, did_you_mean, variables_for
from rallybot.campaigns.timeexpr import (
    Recurrence,
    TimeExpr,
    TimeExprError,
    parse_datetime_local,
    parse_duration,
    parse_recurrence,
    parse_time_expr,
    parse_window,
)
from rallybot.campaigns.words import N_
from rallybot.campaigns.workdays import OnWeekend
from rallybot.campaigns.zones import zone_problem

__all__ = [
    "AudienceSpec",
    "ButtonSpec",
    "Campaign",
    "CampaignSpec",
    "ImageSpec",
    "LocalizedText",
    "Problem",
    "SenderSpec",
    "Step",
    "StepSpec",
    "campaign_model",
    "check_references",
    "compile_campaign",
    "pick_locale",
]


def _not_reserved(name: str) -> str:
    if name == "join":
        raise ValueError(N_('"join" is reserved for member-relative times'))
    return name


def _milestone_date(text: str) -> str:
    try:
        parse_datetime_local(text)
    except TimeExprError as exc:
        raise ValueError(exc.args[0]) from None
    return text


MilestoneName = Annotated[
    str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$"), AfterValidator(_not_reserved)
]
MilestoneDate = Annotated[str, AfterValidator(_milestone_date)]

MANUAL = "manual"
"""``opens: manual``: a wave a community manager opens by command."""

CONDITIONS = frozenset({"profile_complete"})
"""Member states a step may depend on with ``unless:``."""


class ButtonSpec(Strict):
    """A link button (``url``) or an action button (``action``) the bot receives back."""

    label: LocalizedText
    url: str | None = None
    action: Identifier | None = None
    style: Literal["primary", "danger"] | None = None

    _locales = field_validator("label")(check_localized)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://", "mailto:")):
            raise ValueError(
                N_(
                    '"{value}" is not a link (it should start with https://)',
                    value=value,
                )
            )
        return value

    @model_validator(mode="after")
    def _one_target(self) -> ButtonSpec:
        if self.url is not None and self.action is not None:
            raise ValueError(N_("a button needs either a url or an action, not both"))
        if self.url is None and self.action is None:
            raise ValueError(N_('a button needs a "url" (a link) or an "action"'))
        return self


class ImageSpec(Strict):
    """An image shown with the message."""

    url: str
    alt: LocalizedText = ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(
                N_(
                    '"{value}" is not an image link (it should start with https://)',
                    value=value,
                )
            )
        return value


class SenderSpec(Strict):
    """The named sender of an announcement."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    icon: str | None = None


class AudienceSpec(Strict):
    """Who a step is for. Keys given together must all match (cohort pilot AND team sales)."""

    everyone: bool = False
    channel: str | None = None
    group: str | list[str] | None = None
    cohort: str | list[str] | None = None
    team: str | list[str] | None = None
    opens: str | None = None
    """When this audience is a wave: ``launch + 30d`` (a milestone expression), a date, or
    ``manual`` (a community manager opens it with ``/rallybot wave open NAME``). Nobody in a
    wave hears anything before it opens; see :func:`campaigns.planner.member_opening`."""

    @field_validator("opens")
    @classmethod
    def _opens(cls, value: str | None) -> str | None:
        if value is None or value.strip() == MANUAL:
            return value
        try:
            parse_time_expr(value, allow_join=False)
        except TimeExprError as exc:
            raise ValueError(
                N_(
                    "{problem} (a wave opens at a milestone like launch + 30d, a "
                    'date like 2026-12-15 09:00, or "{manual}")',
                    problem=exc.args[0],
                    manual=MANUAL,
                )
            ) from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> AudienceSpec:
        if not (self.everyone or self.channel or self.group or self.cohort or self.team):
            raise ValueError(
                N_("an audience needs at least one of: everyone, channel, group, cohort, team")
            )
        return self


class StepSpec(Strict):
    """One step: when (``at`` or ``every``), where (``post`` or ``dm``), and what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
    renamed_from: Identifier | None = None  # the step's former id: its history carries over
    at: str | None = None
    every: str | None = None
    from_: str | None = Field(default=None, alias="from")
    until: str | None = None
    post: str | None = None
    dm: LocalizedText | None = None
    text: LocalizedText | None = None
    title: LocalizedText | None = None
    for_: str | list[str] | None = Field(default=None, alias="for")
    unless: str | list[str] | None = None
    sender: SenderSpec | None = None
    pin: bool = False
    buttons: list[ButtonSpec] = Field(default_factory=list, max_length=5)
    image: ImageSpec | None = None
    context: LocalizedText | None = None
    grace: str | None = None
    quiet_hours: bool = True
    # A day that is a weekend or a public holiday of the recipient's country: keep it, or
    # move to the next or previous working day (recurring steps skip such days instead).
    on_weekend: OnWeekend | None = None
    # After a pause or an outage, go out late rather than be skipped as missed (the CEO's
    # announcement must not be lost to an 18-hour pause over launch day).
    must_send: bool = False
    quiz: Identifier | None = None
    mode: Literal["live", "self-paced", "daily"] | None = None
    questions: Annotated[int, Field(ge=1, le=500)] | None = None
    window: str | None = None
    survey: SurveySpec | None = None
    digest: bool = False  # post the indicators (the weekly digest for community managers)
    leaderboard: LeaderboardSpec | None = None  # standings written when the post is sent

    _locales = field_validator("dm", "text", "title", "context")(check_localized)

    @field_validator("window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None:
            parse_window(value)
        return value

    @field_validator("grace")
    @classmethod
    def _grace(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_duration(value)
            except TimeExprError as exc:
                raise ValueError(exc.args[0]) from None
        return value

    @field_validator("unless")
    @classmethod
    def _unless(cls, value: str | list[str] | None) -> str | list[str] | None:
        for condition in [value] if isinstance(value, str) else value or []:
            if condition not in CONDITIONS and not TASK_CONDITION.match(condition):
                known = ", ".join([*sorted(CONDITIONS), "task_done(TASK)"])
                raise ValueError(
                    N_(
                        'unknown condition "{condition}"{hint}; known: {known}',
                        condition=condition,
                        hint=did_you_mean(condition, CONDITIONS),
                        known=known,
                    )
                )
        return value

    @model_validator(mode="after")
    def _shape(self) -> StepSpec:
        if (self.at is None) == (self.every is None):
            raise ValueError(N_('a step needs a time: either "at" (once) or "every" (recurring)'))
        if self.every is None and (self.from_ is not None or self.until is not None):
            raise ValueError(N_('"from" and "until" go with "every"'))
        if self.digest and (
            self.post is None or self.dm is not None or self.quiz or self.survey or self.for_
        ):
            raise ValueError(
                N_(
                    'a digest is posted in a channel: give "post", and no "dm", '
                    '"for", "quiz" or "survey"'
                )
            )
        if self.quiz is not None and self.survey is not None:
            raise ValueError(N_("a step is a quiz or a survey, not both"))
        if self.leaderboard is not None and (
            self.post is None or self.dm is not None or self.quiz or self.survey or self.digest
        ):
            raise ValueError(
                N_(
                    'a leaderboard is posted in a channel: give "post", and no "dm", '
                    '"quiz", "survey" or "digest"'
                )
            )
        if self.quiz is not None:
            return self._quiz_shape()
        for name in ("mode", "questions", "window"):
            if getattr(self, name) is not None:
                raise ValueError(
                    N_(
                        '"{name}" goes with "quiz" (a quiz step)',
                        name=name,
                    )
                )
        if (self.post is None) == (self.dm is None):
            raise ValueError(
                N_('a step either posts in a channel ("post") or sends a direct message ("dm")')
            )
        if self.post is not None and self.text is None and not self.digest and not self.leaderboard:
            raise ValueError(N_('a channel post needs a "text"'))
        if self.dm is not None and self.text is not None:
            raise ValueError(N_('a direct message carries its text in "dm": remove "text"'))
        if self.post is not None and self.for_ is not None:
            raise ValueError(
                N_('"for" chooses who gets a direct message; a channel post goes to the channel')
            )
        return self

    def _quiz_shape(self) -> StepSpec:
        mode = self.quiz_mode
        if mode == "self-paced":
            if self.post is not None:
                raise ValueError(
                    N_(
                        'a self-paced quiz is taken in direct messages: use "for" '
                        '(an audience), not "post" (or mode: live)'
                    )
                )
            if self.text is not None:
                raise ValueError(
                    N_('a self-paced quiz carries its invitation in "dm": remove "text"')
                )
            if self.window is not None:
                raise ValueError(N_('"window" is for live quizzes: a self-paced quiz has no clock'))
            return self
        if self.post is None:
            raise ValueError(
                N_(
                    'a {mode} quiz is posted in a channel: add "post"',
                    mode=mode,
                )
            )
        if self.dm is not None or self.for_ is not None:
            raise ValueError(
                N_(
                    'a {mode} quiz goes to a channel: remove "dm" and "for" (or mode: self-paced)',
                    mode=mode,
                )
            )
        if mode == "daily":
            if self.every is None:
                raise ValueError(
                    N_('a question of the day needs "every" (like every: weekday at 09:00)')
                )
            if self.window is not None:
                raise ValueError(
                    N_('a question of the day is open until the next one: remove "window"')
                )
        return self

    @property
    def quiz_mode(self) -> str | None:
        """``live``, ``self-paced`` or ``daily`` for a quiz step; None for other steps."""
        if self.quiz is None:
            return None
        return self.mode or ("live" if self.post is not None else "self-paced")

    @property
    def message_text(self) -> LocalizedText:
        """The step's text, wherever the file put it (empty for a quiz step without one)."""
        value = self.dm if self.dm is not None else self.text
        if value is None and (self.quiz is not None or self.digest or self.leaderboard):
            return ""
        assert value is not None
        return value


TaskKind = Literal[
    "profile_complete",
    "joined_channels",
    "first_post",
    "quiz_answered",
    "charter_accepted",
    "self_declared",
]
"""How an onboarding task is seen done (the last two by a button in its nudges)."""


class NudgeSpec(Strict):
    """A reminder of an onboarding task, sent unless the task is done by then."""

    id: Identifier | None = None  # the step id (default: journey-TASK-N)
    at: str
    dm: LocalizedText
    buttons: list[ButtonSpec] = Field(default_factory=list, max_length=4)
    image: ImageSpec | None = None

    _locales = field_validator("dm")(check_localized)


class TaskSpec(Strict):
    """One item of the onboarding checklist."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    done_when: TaskKind
    label: LocalizedText
    channels: list[str] = Field(default_factory=list, max_length=20)
    channel: str | None = None
    button: LocalizedText | None = None
    nudges: list[NudgeSpec] = Field(default_factory=list, max_length=10)
    # the task's former id: who did it, and its nudges already sent, carry over
    renamed_from: (
        Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] | None
    ) = None

    _locales = field_validator("label", "button")(check_localized)


class WelcomeSpec(Strict):
    """The first message of the journey."""

    id: Identifier | None = None  # the step id (default: journey-welcome)
    at: str = "join + 0d at 10:00"
    dm: LocalizedText
    buttons: list[ButtonSpec] = Field(default_factory=list, max_length=4)
    image: ImageSpec | None = None

    _locales = field_validator("dm")(check_localized)


class CompletionSpec(Strict):
    """What happens when every task is done: a message and a points bonus."""

    dm: LocalizedText
    points: Annotated[int, Field(ge=0, le=10_000)] | None = None

    _locales = field_validator("dm")(check_localized)


class JourneySpec(Strict):
    """A newcomer's onboarding journey: a welcome, a checklist of tasks with nudges, a finish."""

    for_: str | list[str] | None = Field(default=None, alias="for")
    community: str | None = None
    max_nudges_per_day: Annotated[int, Field(ge=1, le=20)] | None = None
    welcome: WelcomeSpec | None = None
    tasks: list[TaskSpec] = Field(min_length=1, max_length=20)
    done: CompletionSpec | None = None


class CampaignSpec(Strict):
    """A whole campaign file, as written."""

    id: Identifier
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    timezone: str = "Europe/Paris"
    locale: str = "fr"
    milestones: dict[MilestoneName, MilestoneDate] = Field(default_factory=dict)
    channels: dict[Identifier, str] = Field(default_factory=dict)
    audiences: dict[Identifier, AudienceSpec | Literal["everyone"]] = Field(default_factory=dict)
    roster: str | None = None
    quiet_hours: str | None = None
    grace: str | None = None
    on_weekend: OnWeekend | None = None  # the steps' default (keep when unset)
    steps: list[StepSpec] = Field(min_length=1, max_length=2000)
    journey: JourneySpec | None = None
    challenges: list[ChallengeSpec] = Field(default_factory=list, max_length=100)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder: OSError
            raise ValueError(zone_problem(value)) from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        if value is not None:
            parse_quiet_hours(value)
        return value

    @field_validator("grace")
    @classmethod
    def _grace(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_duration(value)
            except TimeExprError as exc:
                raise ValueError(exc.args[0]) from None
        return value


_MODELS: dict[tuple[tuple[str, type[BaseModel]], ...], type[CampaignSpec]] = {}


def campaign_model() -> type[CampaignSpec]:
    """The model a campaign file is validated with: :class:`CampaignSpec`, whose steps also
    accept the blocks of the registered step sections (:mod:`campaigns.sections`)."""
    sections = tuple((s.key, s.model) for s in registered())
    if not sections:
        return CampaignSpec
    model = _MODELS.get(sections)
    if model is None:
        for key, _ in sections:
            if key in StepSpec.model_fields or key == "from":
                raise ValueError(
                    N_(
                        'the step section "{key}" would hide a step key',
                        key=key,
                    )
                )
        fields: dict[str, Any] = {key: (kind | None, None) for key, kind in sections}
        # Same class names: the loader's messages name the models by their class.
        step = create_model("StepSpec", __base__=StepSpec, __module__=__name__, **fields)
        model = create_model(
            "CampaignSpec",
            __base__=CampaignSpec,
            __module__=__name__,
            steps=(list[step], Field(min_length=1, max_length=2000)),
        )
        _MODELS[sections] = model
    return model


def _resolved(expr: TimeExpr, spec: CampaignSpec) -> datetime:
    milestones = {name: parse_datetime_local(str(v)) for name, v in spec.milestones.items()}
    return expr.resolve(ZoneInfo(spec.timezone), milestones)


def check_references(spec: CampaignSpec) -> list[Problem]:
    """Problems that need the whole file: names that point nowhere, bad times, templates."""
    problems: list[Problem] = []
    milestones = set(spec.milestones)
    channels = set(spec.channels)
    audiences = set(spec.audiences) | {"everyone"}

    for name, audience in spec.audiences.items():
        if (
            isinstance(audience, AudienceSpec)
            and audience.channel
            and audience.channel not in channels
        ):
            hint = did_you_mean(audience.channel, channels)
            problems.append(
                Problem(
                    ("audiences", name, "channel"),
                    N_(
                        'unknown channel "{channel}"{hint}; declare it under channels:',
                        channel=audience.channel,
                        hint=hint,
                    ),
                )
            )

        if isinstance(audience, AudienceSpec) and audience.opens not in (None, MANUAL):
            assert audience.opens is not None
            anchor = parse_time_expr(audience.opens, allow_join=False).anchor
            if anchor != "absolute" and anchor not in milestones:
                known = ", ".join(sorted(milestones)) or N_("none defined")
                problems.append(
                    Problem(
                        ("audiences", name, "opens"),
                        N_(
                            'unknown milestone "{anchor}"{hint}; milestones: {known}',
                            anchor=anchor,
                            hint=did_you_mean(anchor, milestones),
                            known=known,
                        ),
                    )
                )

    step_ids = {step.id for step in spec.steps}
    for index, step in enumerate(spec.steps):
        if step.renamed_from is not None and step.renamed_from in step_ids:
            problems.append(
                Problem(
                    ("steps", index, "renamed_from"),
                    N_(
                        'step "{renamed_from}" is still in the file: a step renamed '
                        "from it would share its history; remove renamed_from or the "
                        "old step",
                        renamed_from=step.renamed_from,
                    ),
                )
            )

    seen: dict[str, int] = {}
    for index, step in enumerate(spec.steps):
        base: Loc = ("steps", index)
        if step.id in seen:
            problems.append(
                Problem(
                    (*base, "id"),
                    N_(
                        'step id "{id}" is used twice (first by step {first})',
                        id=step.id,
                        first=seen[step.id] + 1,
                    ),
                )
            )
        else:
            seen[step.id] = index

        per_member_time = False
        bounds: dict[str, TimeExpr] = {}
        for key in ("at", "from_", "until"):
            text = getattr(step, key)
            if text is None:
                continue
            alias = "from" if key == "from_" else key
            try:
                expr = parse_time_expr(text, allow_join=(key == "at"))
            except TimeExprError as exc:
                problems.append(Problem((*base, alias), exc.args[0]))
                continue
            if expr.anchor not in {"absolute", "join"} and expr.anchor not in milestones:
                known = ", ".join(sorted(milestones)) or N_("none defined")
                hint = did_you_mean(expr.anchor, milestones)
                problems.append(
                    Problem(
                        (*base, alias),
                        N_(
                            'unknown milestone "{anchor}"{hint}; milestones: {known}',
                            anchor=expr.anchor,
                            hint=hint,
                            known=known,
                        ),
                    )
                )
            elif key != "at":
                bounds[key] = expr
            if key == "at" and expr.per_member:
                per_member_time = True
        if len(bounds) == 2 and _resolved(bounds["until"], spec) < _resolved(bounds["from_"], spec):
            problems.append(
                Problem(
                    (*base, "until"),
                    N_(
                        '"until" ({until}) comes before "from" ({from_}): the step '
                        "would never fire",
                        until=step.until,
                        from_=step.from_,
                    ),
                )
            )
        if step.every is not None:
            try:
                recurrence = parse_recurrence(step.every)
            except TimeExprError as exc:
                problems.append(Problem((*base, "every"), exc.args[0]))
            else:
                if recurrence.interval > 1 and step.from_ is None:
                    problems.append(
                        Problem(
                            (*base, "every"),
                            N_(
                                '"every {interval} weeks" counts its weeks from '
                                '"from": add from: (the first day it may fire, like '
                                "from: launch)",
                                interval=recurrence.interval,
                            ),
                        )
                    )

        if step.post is not None and step.post not in channels:
            problems.append(
                Problem(
                    (*base, "post"),
                    N_(
                        'unknown channel "{post}"{hint}; declare it under channels:',
                        post=step.post,
                        hint=did_you_mean(step.post, channels),
                    ),
                )
            )
        if per_member_time and step.post is not None:
            problems.append(
                Problem(
                    (*base, "at"),
                    N_('"join" times are per member: use "dm", not "post"'),
                )
            )
        targets = [step.for_] if isinstance(step.for_, str) else step.for_ or []
        for position, target in enumerate(targets):
            loc: Loc = (*base, "for") if isinstance(step.for_, str) else (*base, "for", position)
            if target not in audiences:
                problems.append(
                    Problem(
                        loc,
                        N_(
                            'unknown audience "{target}"{hint}; declare it under audiences:',
                            target=target,
                            hint=did_you_mean(target, audiences),
                        ),
                    )
                )

        per_member = step.dm is not None
        variables = variables_for(milestones, per_member=per_member)
        message_key = "dm" if step.dm is not None else "text"
        for key, value in (
            (message_key, step.message_text),
            ("title", step.title),
            ("context", step.context),
        ):
            entries = texts_of(value)
            if (
                (step.quiz is not None or step.digest or step.leaderboard)
                and key == message_key
                and value == ""
            ):
                continue  # a quiz step's text is optional
            for locale, text in entries:
                loc = (*base, key) if locale is None else (*base, key, locale)
                if key == message_key and not text.strip():
                    problems.append(
                        Problem(
                            loc,
                            N_("the message is empty"),
                        )
                    )
                    continue
                for message in check_template(text, variables, per_member=per_member):
                    problems.append(Problem(loc, message))
            if key == message_key and isinstance(value, dict) and not value:
                problems.append(
                    Problem(
                        (*base, key),
                        N_("the message is empty: give at least one language"),
                    )
                )
    problems.extend(_section_problems(spec))
    problems.extend(journey_problems(spec))
    problems.extend(challenge_problems(spec))
    return problems


def _section_problems(spec: CampaignSpec) -> list[Problem]:
    """The registered step sections' own checks, placed in the block (or on the step)."""
    problems: list[Problem] = []
    for section in registered():
        if section.problems is None:
            continue
        for index, step in enumerate(spec.steps):
            value = getattr(step, section.key, None)
            if value is None:
                continue
            for place, message in section.problems(spec, step, value):
                if place[:1] == ("..",):
                    problems.append(Problem(("steps", index, *place[1:]), message))
                else:
                    problems.append(Problem(("steps", index, section.key, *place), message))
    return problems


@dataclass(frozen=True, slots=True)
class Step:
    """A compiled step, ready for the planner."""

    spec: StepSpec
    index: int
    at: TimeExpr | None
    every: Recurrence | None
    from_: TimeExpr | None
    until: TimeExpr | None
    audiences: tuple[str, ...]
    grace: timedelta | None
    content_hash: str
    on_weekend: OnWeekend = "keep"

    @property
    def id(self) -> str:
        """The step id."""
        return self.spec.id

    @property
    def is_dm(self) -> bool:
        """Whether the step sends direct messages."""
        return self.spec.dm is not None or self.spec.quiz_mode == "self-paced"

    @property
    def is_digest(self) -> bool:
        """Whether the step posts the indicators digest (written by the digest tick)."""
        return self.spec.digest

    @property
    def is_channel_quiz(self) -> bool:
        """Whether the step runs a quiz in a channel (live, or a question of the day)."""
        return self.spec.quiz_mode in {"live", "daily"}

    @property
    def per_member(self) -> bool:
        """Whether the step's time depends on each member's join date."""
        return self.at is not None and self.at.per_member


@dataclass(frozen=True, slots=True)
class Campaign:
    """A validated campaign, with parsed times: what the planner works from."""

    spec: CampaignSpec
    source: str
    zone: ZoneInfo
    milestones: dict[str, datetime]
    steps: tuple[Step, ...]
    quiet_hours: QuietHours | None
    grace: timedelta | None
    content_hash: str
    roster_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    waves: dict[str, datetime | None] = field(default_factory=dict)
    """Audiences that declare ``opens``: their opening instant (UTC), None for ``manual``."""

    @property
    def id(self) -> str:
        """The campaign id."""
        return self.spec.id

    def step(self, step_id: str) -> Step | None:
        """The step with ``step_id``, if any."""
        for step in self.steps:
            if step.id == step_id:
                return step
        return None


_QUIZ_FIELDS = frozenset({"quiz", "mode", "questions", "window"})
"""Left out of the hashes of steps that are not quizzes: adding quizzes to the schema must not
change the hash of an existing step (its pending messages would be rewritten)."""


def _unset_extras(step: StepSpec) -> set[str]:
    """Fields added after the first schema, left out of the hash when a step does not use them
    (adding a kind of step must not change the hash of an existing step)."""
    extras = set(_QUIZ_FIELDS) if step.quiz is None else set()
    if step.renamed_from is None:
        extras.add("renamed_from")
    if step.on_weekend is None:
        extras.add("on_weekend")
    if not step.must_send:
        extras.add("must_send")
    if step.survey is None:
        extras.add("survey")
    if not step.digest:
        extras.add("digest")
    if step.leaderboard is None:
        extras.add("leaderboard")
    extras.update(s.key for s in registered() if getattr(step, s.key, None) is None)
    return extras


def _hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _duration(text: str | None) -> timedelta | None:
    if text is None:
        return None
    days, seconds = parse_duration(text)
    return timedelta(days=days, seconds=seconds)


def _recurrence(
    step: StepSpec, zone: ZoneInfo, milestones: dict[str, datetime]
) -> Recurrence | None:
    """The step's recurrence, its weeks counted from its ``from`` date."""
    if not step.every:
        return None
    recurrence = parse_recurrence(step.every)
    if step.from_:
        first = parse_time_expr(step.from_, allow_join=False).resolve(zone, milestones)
        recurrence = recurrence.starting(first.astimezone(zone).date())
    return recurrence


def compile_campaign(
    spec: CampaignSpec, source: str, *, default_quiet_hours: QuietHours | None = None
) -> Campaign:
    """Turn a spec that passed :func:`check_references` into a :class:`Campaign`."""
    milestones = {name: parse_datetime_local(str(v)) for name, v in spec.milestones.items()}
    zone = ZoneInfo(spec.timezone)
    steps: list[Step] = []
    for index, step in enumerate(
        [*spec.steps, *(StepSpec.model_validate(data) for data in journey_step_data(spec))]
    ):
        if step.for_ is None:
            is_dm = step.dm is not None or step.quiz_mode == "self-paced"
            audiences: tuple[str, ...] = ("everyone",) if is_dm else ()
        elif isinstance(step.for_, str):
            audiences = (step.for_,)
        else:
            audiences = tuple(step.for_)
        steps.append(
            Step(
                spec=step,
                index=index,
                at=parse_time_expr(step.at) if step.at else None,
                every=_recurrence(step, zone, milestones),
                from_=parse_time_expr(step.from_, allow_join=False) if step.from_ else None,
                until=parse_time_expr(step.until, allow_join=False) if step.until else None,
                audiences=audiences,
                grace=_duration(step.grace),
                on_weekend=step.on_weekend or spec.on_weekend or "keep",
                content_hash=_hash(
                    step.model_dump(
                        mode="json",
                        by_alias=True,
                        exclude=_unset_extras(step) or None,
                    )
                ),
            )
        )
    quiet = (
        parse_quiet_hours(spec.quiet_hours) if spec.quiet_hours is not None else default_quiet_hours
    )
    waves: dict[str, datetime | None] = {}
    for name, audience in spec.audiences.items():
        if isinstance(audience, AudienceSpec) and audience.opens is not None:
            opens = audience.opens.strip()
            waves[name] = (
                None
                if opens == MANUAL
                else parse_time_expr(opens, allow_join=False).resolve(zone, milestones)
            )
    return Campaign(
        spec=spec,
        source=source,
        zone=zone,
        milestones=milestones,
        steps=tuple(steps),
        quiet_hours=quiet,
        grace=_duration(spec.grace),
        content_hash=_hash(
            spec.model_dump(
                mode="json",
                by_alias=True,
                exclude={
                    "steps": {
                        i: _unset_extras(s) for i, s in enumerate(spec.steps) if _unset_extras(s)
                    },
                    **({} if spec.challenges else {"challenges": True}),
                    **({} if spec.on_weekend else {"on_weekend": True}),
                },
            )
        ),
        roster_path=spec.roster,
        extra=_extra(spec),
        waves=waves,
    )


def _extra(spec: CampaignSpec) -> dict[str, Any]:
    """The compiled sections of a campaign: its journey, its challenges."""
    extra: dict[str, Any] = {}
    if spec.journey is not None:
        extra["journey"] = compile_journey(spec)
    if spec.challenges:
        extra["challenges"] = compile_challenges(spec)
    return extra
