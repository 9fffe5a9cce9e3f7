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
    field_validator,
    model_validator,
)

from bot.config import QuietHours, parse_quiet_hours
from campaigns.templates import check_template, did_you_mean, variables_for
from campaigns.timeexpr import (
    Recurrence,
    TimeExpr,
    TimeExprError,
    parse_datetime_local,
    parse_duration,
    parse_recurrence,
    parse_time_expr,
)

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
    "check_references",
    "compile_campaign",
    "pick_locale",
]

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$"),
]


def _not_reserved(name: str) -> str:
    if name == "join":
        raise ValueError('"join" is reserved for member-relative times')
    return name


def _milestone_date(text: str) -> str:
    try:
        parse_datetime_local(text)
    except TimeExprError as exc:
        raise ValueError(str(exc)) from None
    return text


MilestoneName = Annotated[
    str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$"), AfterValidator(_not_reserved)
]
MilestoneDate = Annotated[str, AfterValidator(_milestone_date)]
LocalizedText = str | dict[str, str]
"""A text, or a map from locale (``fr``, ``en``...) to text."""

CONDITIONS = frozenset({"profile_complete"})
"""Member states a step may depend on with ``unless:``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True)


def _check_localized(value: LocalizedText | None) -> LocalizedText | None:
    if isinstance(value, dict):
        for locale in value:
            if (
                not locale
                or len(locale) > 10
                or not locale.replace("-", "").replace("_", "").isalpha()
            ):
                raise ValueError(f'"{locale}" is not a language code (use fr, en, de...)')
    return value


class ButtonSpec(_Strict):
    """A link button (``url``) or an action button (``action``) the bot receives back."""

    label: LocalizedText
    url: str | None = None
    action: Identifier | None = None
    style: Literal["primary", "danger"] | None = None

    _locales = field_validator("label")(_check_localized)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://", "mailto:")):
            raise ValueError(f'"{value}" is not a link (it should start with https://)')
        return value

    @model_validator(mode="after")
    def _one_target(self) -> ButtonSpec:
        if self.url is not None and self.action is not None:
            raise ValueError("a button needs either a url or an action, not both")
        if self.url is None and self.action is None:
            raise ValueError('a button needs a "url" (a link) or an "action"')
        return self


class ImageSpec(_Strict):
    """An image shown with the message."""

    url: str
    alt: LocalizedText = ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f'"{value}" is not an image link (it should start with https://)')
        return value


class SenderSpec(_Strict):
    """The named sender of an announcement."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    icon: str | None = None


class AudienceSpec(_Strict):
    """Who a step is for. Keys given together must all match (cohort pilot AND team sales)."""

    everyone: bool = False
    channel: str | None = None
    group: str | list[str] | None = None
    cohort: str | list[str] | None = None
    team: str | list[str] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> AudienceSpec:
        if not (self.everyone or self.channel or self.group or self.cohort or self.team):
            raise ValueError(
                "an audience needs at least one of: everyone, channel, group, cohort, team"
            )
        return self


class StepSpec(_Strict):
    """One step: when (``at`` or ``every``), where (``post`` or ``dm``), and what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
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

    _locales = field_validator("dm", "text", "title", "context")(_check_localized)

    @field_validator("grace")
    @classmethod
    def _grace(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_duration(value)
            except TimeExprError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("unless")
    @classmethod
    def _unless(cls, value: str | list[str] | None) -> str | list[str] | None:
        for condition in [value] if isinstance(value, str) else value or []:
            if condition not in CONDITIONS:
                known = ", ".join(sorted(CONDITIONS))
                raise ValueError(
                    f'unknown condition "{condition}"{did_you_mean(condition, CONDITIONS)}; '
                    f"known: {known}"
                )
        return value

    @model_validator(mode="after")
    def _shape(self) -> StepSpec:
        if (self.at is None) == (self.every is None):
            raise ValueError('a step needs a time: either "at" (once) or "every" (recurring)')
        if self.every is None and (self.from_ is not None or self.until is not None):
            raise ValueError('"from" and "until" go with "every"')
        if (self.post is None) == (self.dm is None):
            raise ValueError(
                'a step either posts in a channel ("post") or sends a direct message ("dm")'
            )
        if self.post is not None and self.text is None:
            raise ValueError('a channel post needs a "text"')
        if self.dm is not None and self.text is not None:
            raise ValueError('a direct message carries its text in "dm": remove "text"')
        if self.post is not None and self.for_ is not None:
            raise ValueError(
                '"for" chooses who gets a direct message; a channel post goes to the channel'
            )
        return self

    @property
    def message_text(self) -> LocalizedText:
        """The step's text, wherever the file put it."""
        value = self.dm if self.dm is not None else self.text
        assert value is not None
        return value


class CampaignSpec(_Strict):
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
    steps: list[StepSpec] = Field(min_length=1, max_length=2000)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder: OSError
            raise ValueError(
                f'unknown time zone "{value}" (use a name like Europe/Paris)'
            ) from None
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
                raise ValueError(str(exc)) from None
        return value


Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """A cross-reference problem at a location in the file (a path of keys and indexes)."""

    loc: Loc
    message: str


def _texts(value: LocalizedText | None) -> list[tuple[str | None, str]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [(None, value)]
    return list(value.items())


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
                    f'unknown channel "{audience.channel}"{hint}; declare it under channels:',
                )
            )

    seen: dict[str, int] = {}
    for index, step in enumerate(spec.steps):
        base: Loc = ("steps", index)
        if step.id in seen:
            problems.append(
                Problem(
                    (*base, "id"),
                    f'step id "{step.id}" is used twice (first by step {seen[step.id] + 1})',
                )
            )
        else:
            seen[step.id] = index

        per_member_time = False
        for key in ("at", "from_", "until"):
            text = getattr(step, key)
            if text is None:
                continue
            alias = "from" if key == "from_" else key
            try:
                expr = parse_time_expr(text, allow_join=(key == "at"))
            except TimeExprError as exc:
                problems.append(Problem((*base, alias), str(exc)))
                continue
            if expr.anchor not in {"absolute", "join"} and expr.anchor not in milestones:
                known = ", ".join(sorted(milestones)) or "none defined"
                hint = did_you_mean(expr.anchor, milestones)
                problems.append(
                    Problem(
                        (*base, alias),
                        f'unknown milestone "{expr.anchor}"{hint}; milestones: {known}',
                    )
                )
            if key == "at" and expr.per_member:
                per_member_time = True
        if step.every is not None:
            try:
                parse_recurrence(step.every)
            except TimeExprError as exc:
                problems.append(Problem((*base, "every"), str(exc)))

        if step.post is not None and step.post not in channels:
            problems.append(
                Problem(
                    (*base, "post"),
                    f'unknown channel "{step.post}"{did_you_mean(step.post, channels)}; '
                    f"declare it under channels:",
                )
            )
        if per_member_time and step.post is not None:
            problems.append(
                Problem((*base, "at"), '"join" times are per member: use "dm", not "post"')
            )
        targets = [step.for_] if isinstance(step.for_, str) else step.for_ or []
        for position, target in enumerate(targets):
            loc: Loc = (*base, "for") if isinstance(step.for_, str) else (*base, "for", position)
            if target not in audiences:
                problems.append(
                    Problem(
                        loc,
                        f'unknown audience "{target}"{did_you_mean(target, audiences)}; '
                        "declare it under audiences:",
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
            entries = _texts(value)
            for locale, text in entries:
                loc = (*base, key) if locale is None else (*base, key, locale)
                if key == message_key and not text.strip():
                    problems.append(Problem(loc, "the message is empty"))
                    continue
                for message in check_template(text, variables, per_member=per_member):
                    problems.append(Problem(loc, message))
            if key == message_key and isinstance(value, dict) and not value:
                problems.append(
                    Problem((*base, key), "the message is empty: give at least one language")
                )
    return problems


def pick_locale(value: LocalizedText, wanted: str | None, default: str) -> tuple[str, str]:
    """(locale, text) for ``wanted``, else its base language, else ``default``, else the first."""
    if isinstance(value, str):
        return default, value
    for candidate in (wanted, (wanted or "").split("-")[0].split("_")[0], default):
        if candidate and candidate in value:
            return candidate, value[candidate]
    first = next(iter(value))
    return first, value[first]


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

    @property
    def id(self) -> str:
        """The step id."""
        return self.spec.id

    @property
    def is_dm(self) -> bool:
        """Whether the step sends direct messages."""
        return self.spec.dm is not None

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


def _hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _duration(text: str | None) -> timedelta | None:
    if text is None:
        return None
    days, seconds = parse_duration(text)
    return timedelta(days=days, seconds=seconds)


def compile_campaign(
    spec: CampaignSpec, source: str, *, default_quiet_hours: QuietHours | None = None
) -> Campaign:
    """Turn a spec that passed :func:`check_references` into a :class:`Campaign`."""
    steps: list[Step] = []
    for index, step in enumerate(spec.steps):
        if step.for_ is None:
            audiences: tuple[str, ...] = ("everyone",) if step.dm is not None else ()
        elif isinstance(step.for_, str):
            audiences = (step.for_,)
        else:
            audiences = tuple(step.for_)
        steps.append(
            Step(
                spec=step,
                index=index,
                at=parse_time_expr(step.at) if step.at else None,
                every=parse_recurrence(step.every) if step.every else None,
                from_=parse_time_expr(step.from_, allow_join=False) if step.from_ else None,
                until=parse_time_expr(step.until, allow_join=False) if step.until else None,
                audiences=audiences,
                grace=_duration(step.grace),
                content_hash=_hash(step.model_dump(mode="json", by_alias=True)),
            )
        )
    quiet = (
        parse_quiet_hours(spec.quiet_hours) if spec.quiet_hours is not None else default_quiet_hours
    )
    return Campaign(
        spec=spec,
        source=source,
        zone=ZoneInfo(spec.timezone),
        milestones={name: parse_datetime_local(str(v)) for name, v in spec.milestones.items()},
        steps=tuple(steps),
        quiet_hours=quiet,
        grace=_duration(spec.grace),
        content_hash=_hash(spec.model_dump(mode="json", by_alias=True)),
        roster_path=spec.roster,
    )
