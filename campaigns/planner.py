"""The planner: campaign files + members -> the deliveries due in a window of time.

Pure and deterministic: the same files, members and window always give the same
deliveries with the same keys, which is what lets a restart or a second replica recompute
the plan while the outbox's unique key keeps every message from going out twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rallybot.campaigns import words
from rallybot.campaigns.base import LocalizedText, pick_locale
from rallybot.campaigns.messages import Button, Image, Message, Sender
from rallybot.campaigns.quiet_hours import QuietHours
from rallybot.campaigns.schema import AudienceSpec, Campaign, Step
from rallybot.campaigns.survey import start_label, step_survey_id, survey_key
from rallybot.campaigns.templates import render
from rallybot.campaigns.timeexpr import TimeExpr, localize
from rallybot.campaigns.workdays import OnWeekend, calendar_for_zone

__all__ = [
    "NEVER",
    "MemberView",
    "PlannedDelivery",
    "after_quiet",
    "build_message",
    "member_opening",
    "members_of",
    "message_locale",
    "openings",
    "plan",
    "wave_names",
    "zone_of",
]

ONCE = "once"
NEVER = datetime(9999, 1, 1, tzinfo=UTC)
"""The opening of a ``manual`` wave nobody has opened yet."""


@dataclass(frozen=True, slots=True)
class MemberView:
    """What the planner needs to know of a member; built from the database or a roster."""

    key: str
    name: str | None = None
    first_name: str | None = None
    locale: str | None = None
    timezone: str | None = None
    joined_at: datetime | None = None
    team: str | None = None
    cohort: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    channels: frozenset[str] = field(default_factory=frozenset)
    profile_complete: bool = False
    opted_out: bool = False
    is_bot: bool = False


@lru_cache(maxsize=512)
def zone_of(name: str | None, default: str) -> ZoneInfo:
    """The member's zone, or ``default`` when unknown or invalid."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(default)


@lru_cache(maxsize=65536)
def _localize(naive: datetime, zone: tzinfo) -> datetime:
    return localize(naive, zone)


@lru_cache(maxsize=65536)
def after_quiet(instant: datetime, zone: tzinfo, quiet: QuietHours) -> datetime:
    """Move ``instant`` to the end of the quiet window if it falls inside it."""
    local = instant.astimezone(zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return instant
    end_day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        end_day += timedelta(days=1)
    return _localize(datetime.combine(end_day, quiet.end), zone)


@dataclass(slots=True)
class PlannedDelivery:
    """One message the plan says must go out; rendered only when asked."""

    campaign: Campaign
    step: Step
    recipient: str  # "channel:<logical name>" or "member:<key>"
    occurrence: str
    due_at: datetime  # UTC
    member: MemberView | None = None
    zone: tzinfo = UTC

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The outbox's unique key."""
        return (self.campaign.id, self.step.id, self.recipient, self.occurrence)

    @property
    def local_due(self) -> datetime:
        """The due time in the recipient's zone (the campaign's for channel posts)."""
        return self.due_at.astimezone(self.zone)

    def message(self) -> Message:
        """The message, in the recipient's language, with its variables filled in."""
        return build_message(self.campaign, self.step, self.local_due, self.member)

    def grace(self, default: timedelta) -> timedelta:
        """How late this delivery may still be sent."""
        return self.step.grace or self.campaign.grace or default

    def render_marker(self) -> dict[str, object] | None:
        """What the dispatcher's render hook must fill in when the message is sent (the
        outbox payload's ``render``): a leaderboard step's standings; None for other steps."""
        board = self.step.spec.leaderboard
        if board is None:
            return None
        return {"kind": "leaderboard", "period": board.period, "top": board.top, "team": board.team}


def _values(campaign: Campaign, when: datetime, member: MemberView | None) -> dict[str, object]:
    values: dict[str, object] = {"campaign": campaign.spec.title, "date": when}
    today = when.astimezone(campaign.zone).date()
    for name, moment in campaign.milestones.items():
        values[name] = moment
        delta = (moment.date() - today).days
        values[f"days_to_{name}"] = delta
        values[f"days_since_{name}"] = -delta
    if member is not None:
        first = member.first_name or (member.name.split()[0] if member.name else "")
        values["first_name"] = first
        values["name"] = member.name or first
        values["team"] = member.team or ""
    return values


def message_locale(campaign: Campaign, step: Step, member: MemberView | None) -> str:
    """The language ``step``'s message is written in for ``member`` (None: a channel): the
    member's when the step has a text in it (or in its base language), else the campaign's,
    else the step's first. What the timeline shows and filters on, so it agrees with what
    :func:`build_message` sends."""
    spec = step.spec
    wanted = member.locale if member is not None else None
    default = campaign.spec.locale
    if spec.quiz is not None and isinstance(spec.message_text, str):
        return wanted or default  # the bot's own words (invitation, button) in their language
    return pick_locale(spec.message_text, wanted, default)[0]


def build_message(
    campaign: Campaign, step: Step, when: datetime, member: MemberView | None
) -> Message:
    """Render ``step`` for ``member`` (or for a channel) at local time ``when``."""
    spec = step.spec
    default = campaign.spec.locale
    locale = message_locale(campaign, step, member)
    text = pick_locale(spec.message_text, locale, default)[1]
    values = _values(campaign, when, member)

    def tr(value: LocalizedText | None) -> str | None:
        if value is None:
            return None
        return render(pick_locale(value, locale, default)[1], values, locale)

    buttons = tuple(
        Button(
            label=tr(b.label) or "",
            url=b.url,
            action_id=b.action,
            value=f"{campaign.id}/{spec.id}" if b.action else "",
            style=b.style,
        )
        for b in spec.buttons
    )
    if spec.quiz is not None:  # a self-paced quiz invitation: its button starts the quiz
        # Translators: the button of a self-paced quiz invitation.
        label = words.gettext(locale, "Start the quiz")
        buttons += (Button(label=label, action_id="quiz-start", value=spec.quiz, style="primary"),)
        if not text:
            text = words.gettext(
                locale, "A short quiz is waiting for you: answer at your own pace, here."
            )
    if spec.survey is not None:  # a survey invitation: its button asks the questions in DMs
        label = start_label(locale)
        survey = step_survey_id(campaign.id, spec.id, spec.renamed_from)
        key = survey_key(survey)
        buttons += (Button(label=label, action_id="survey-start", value=key, style="primary"),)
    images = (Image(url=spec.image.url, alt=tr(spec.image.alt) or ""),) if spec.image else ()
    sender = Sender(spec.sender.name, spec.sender.icon) if spec.sender else None
    return Message(
        text=render(text, values, locale),
        title=tr(spec.title),
        buttons=buttons,
        images=images,
        context=tr(spec.context),
        sender=sender,
        pin=spec.pin,
        metadata={
            "campaign": campaign.id,
            "step": spec.id,
            "locale": locale,
            **({"survey": survey} if spec.survey is not None else {}),
        },
    )


def _as_set(value: str | list[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    return frozenset([value] if isinstance(value, str) else value)


def _matches(spec: AudienceSpec, member: MemberView, channel_ids: Mapping[str, str]) -> bool:
    if spec.channel is not None:
        target = channel_ids.get(spec.channel, spec.channel)
        if target not in member.channels and spec.channel not in member.channels:
            return False
    if spec.group is not None and not (_as_set(spec.group) & member.groups):
        return False
    if spec.cohort is not None and member.cohort not in _as_set(spec.cohort):
        return False
    return spec.team is None or member.team in _as_set(spec.team)


def members_of(
    campaign: Campaign,
    audiences: Iterable[str],
    members: Sequence[MemberView],
    channel_ids: Mapping[str, str] | None = None,
) -> list[MemberView]:
    """Members in any of ``audiences`` (bots and people who opted out are never included)."""
    channel_ids = channel_ids if channel_ids is not None else campaign.spec.channels
    specs: list[AudienceSpec | None] = []
    for name in audiences:
        audience = campaign.spec.audiences.get(name, "everyone")
        if audience == "everyone" or (
            isinstance(audience, AudienceSpec)
            and audience.everyone
            and not (audience.channel or audience.group or audience.cohort or audience.team)
        ):
            specs.append(None)
        else:
            assert isinstance(audience, AudienceSpec)
            specs.append(audience)
    if any(s is None for s in specs):
        return [m for m in members if not m.is_bot and not m.opted_out]
    chosen = [s for s in specs if s is not None]
    return [
        m
        for m in members
        if not m.is_bot and not m.opted_out and any(_matches(s, m, channel_ids) for s in chosen)
    ]


def wave_names(campaigns: Iterable[Campaign]) -> frozenset[str]:
    """The names of every wave (an audience with ``opens``) in ``campaigns``."""
    return frozenset(name for campaign in campaigns for name in campaign.waves)


def member_opening(
    member: MemberView,
    campaigns: Iterable[Campaign],
    opened: Mapping[str, datetime] | None = None,
    channel_ids: Mapping[str, Mapping[str, str]] | None = None,
) -> datetime | None:
    """When ``member``'s wave opens: the earliest opening of the waves they belong to, in
    every campaign; None when they are in no wave (open from the start).

    ``opened`` maps a wave name to when a community manager opened it by command (a
    ``manual`` wave, or a dated one opened early); a manual wave not opened is :data:`NEVER`.
    ``channel_ids`` maps a campaign id to its logical channel names (default: the file's).
    """
    opened = opened or {}
    found: datetime | None = None
    for campaign in campaigns:
        if not campaign.waves:
            continue
        ids = (channel_ids or {}).get(campaign.id, campaign.spec.channels)
        for name, when in campaign.waves.items():
            audience = campaign.spec.audiences.get(name)
            if not isinstance(audience, AudienceSpec):
                continue
            if audience.everyone and not (
                audience.channel or audience.group or audience.cohort or audience.team
            ):
                matched = True
            else:
                matched = _matches(audience, member, ids)
            if not matched:
                continue
            by_hand = opened.get(name)
            candidates = [t for t in (when, by_hand) if t is not None]
            opening = min(candidates) if candidates else NEVER
            found = opening if found is None else min(found, opening)
    return found


def openings(
    members: Iterable[MemberView],
    campaigns: Sequence[Campaign],
    opened: Mapping[str, datetime] | None = None,
    channel_ids: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, datetime]:
    """Member key -> opening, for the members in a wave (the others are open from the start)."""
    if not any(c.waves for c in campaigns):
        return {}
    result: dict[str, datetime] = {}
    for member in members:
        opening = member_opening(member, campaigns, opened, channel_ids)
        if opening is not None:
            result[member.key] = opening
    return result


def _occurrence_dates(step: Step, campaign: Campaign, start: datetime, end: datetime) -> list[date]:
    """Local dates of a recurring step that may fall inside [start, end) (with a day's slack)."""
    assert step.every is not None
    zone = campaign.zone
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    if step.from_ is not None:
        first = max(first, step.from_.resolve(zone, campaign.milestones).astimezone(zone).date())
    if step.until is not None:
        last = min(last, step.until.resolve(zone, campaign.milestones).astimezone(zone).date())
    return step.every.occurrences(first, last)


def plan(
    campaign: Campaign,
    members: Sequence[MemberView],
    start: datetime,
    end: datetime,
    *,
    default_timezone: str = "Europe/Paris",
    channel_ids: Mapping[str, str] | None = None,
    steps: Iterable[Step] | None = None,
    full_members: frozenset[str] = frozenset(),
    channel_quizzes: bool = False,
    digests: bool = False,
    openings: Mapping[str, datetime] | None = None,
) -> Iterator[PlannedDelivery]:
    """Every delivery of ``campaign`` due in ``[start, end)``, in step order.

    ``openings`` (see :func:`openings`) holds back the members of waves: nothing reaches them
    before their wave opens, and their join-relative steps count from the later of their
    join and their opening (so a wave's journey starts when it opens).

    ``full_members`` names members (by key) whose join-relative deliveries are wanted
    whatever their due time up to ``end``: members just added, whose journey must be
    planned from their own start. Quizzes run in a channel (live, question of the day) are
    not outbox messages: the quiz tick starts them, asking for them with ``channel_quizzes``.
    Digest steps neither: the digest tick writes them when due, asking with ``digests``.
    """
    zone = campaign.zone
    quiet = campaign.quiet_hours
    opens = openings or {}
    for step in steps if steps is not None else campaign.steps:
        spec = step.spec
        if step.is_channel_quiz != channel_quizzes:
            continue
        if step.is_digest != digests:  # digests are written by the digest tick, see handlers.stats
            continue
        if not step.is_dm:
            recipient = f"channel:{spec.post}"
            if step.at is not None:
                due = step.at.resolve(zone, campaign.milestones, calendar=calendar_for_zone(zone))
                due = _on_weekend(due, zone, step.on_weekend)
                if start <= due < end:
                    yield PlannedDelivery(campaign, step, recipient, ONCE, due, None, zone)
            else:
                assert step.every is not None
                for day in _occurrence_dates(step, campaign, start, end):
                    if _skipped(day, zone, step.on_weekend):
                        continue
                    due = _localize(datetime.combine(day, step.every.at), zone)
                    if start <= due < end:
                        yield PlannedDelivery(
                            campaign, step, recipient, day.isoformat(), due, None, zone
                        )
            continue

        audience = members_of(campaign, step.audiences, members, channel_ids)
        use_quiet = quiet if spec.quiet_hours else None
        if step.every is not None:
            days = _occurrence_dates(step, campaign, start, end)
            at = step.every.at
            for member in audience:
                mzone = zone_of(member.timezone, default_timezone)
                opening = opens.get(member.key)
                for day in days:
                    if _skipped(day, mzone, step.on_weekend):
                        continue
                    due = _localize(datetime.combine(day, at), mzone)
                    if use_quiet is not None:
                        due = after_quiet(due, mzone, use_quiet)
                    if opening is not None and due < opening:
                        continue  # the member's wave is not open yet
                    if start <= due < end:
                        yield PlannedDelivery(
                            campaign,
                            step,
                            f"member:{member.key}",
                            day.isoformat(),
                            due,
                            member,
                            mzone,
                        )
            continue

        expr = step.at
        assert expr is not None
        if expr.per_member:
            for member in audience:
                if member.joined_at is None:
                    continue
                opening = opens.get(member.key)
                if opening is not None and opening >= end:
                    continue  # the wave opens later: nothing to plan yet
                begins = member.joined_at if opening is None else max(member.joined_at, opening)
                mzone = zone_of(member.timezone, default_timezone)
                due = _join_due(expr.days, expr.seconds, expr.at, begins, mzone, expr.workdays)
                due = _on_weekend(due, mzone, step.on_weekend)
                if use_quiet is not None:
                    due = after_quiet(due, mzone, use_quiet)
                if due < end and (start <= due or member.key in full_members):
                    yield PlannedDelivery(
                        campaign, step, f"member:{member.key}", ONCE, due, member, mzone
                    )
            continue

        for member in audience:
            mzone = zone_of(member.timezone, default_timezone)
            due = _on_weekend(_fixed_due(expr, campaign, mzone), mzone, step.on_weekend)
            if use_quiet is not None:
                due = after_quiet(due, mzone, use_quiet)
            opening = opens.get(member.key)
            if opening is not None and due < opening:
                continue  # "everyone" is everyone whose wave is open when the step is due
            if start <= due < end:
                yield PlannedDelivery(
                    campaign, step, f"member:{member.key}", ONCE, due, member, mzone
                )


def _fixed_due(expr: object, campaign: Campaign, mzone: tzinfo) -> datetime:
    # Cached per (expression, zone): thousands of members share a handful of zones.
    return _fixed_due_cached(expr, campaign.zone, tuple(sorted(campaign.milestones.items())), mzone)


@lru_cache(maxsize=4096)
def _fixed_due_cached(
    expr: object, zone: tzinfo, milestones: tuple[tuple[str, datetime], ...], mzone: tzinfo
) -> datetime:
    assert isinstance(expr, TimeExpr)
    return expr.resolve(mzone, dict(milestones), date_zone=zone, calendar=calendar_for_zone(mzone))


def _on_weekend(due: datetime, zone: tzinfo, policy: OnWeekend) -> datetime:
    """``due``, moved to the next or previous working day of ``zone``'s country when it falls
    on a weekend or a public holiday and the step says so (same local time)."""
    if policy == "keep":
        return due
    local = due.astimezone(zone)
    day = calendar_for_zone(zone).adjust(local.date(), policy)
    if day == local.date():
        return due
    return _localize(datetime.combine(day, local.time()), zone)


def _skipped(day: date, zone: tzinfo, policy: OnWeekend) -> bool:
    """A recurring step with an ``on_weekend`` policy skips weekends and public holidays
    (moving them would fire twice on the next working day)."""
    return policy != "keep" and not calendar_for_zone(zone).is_workday(day)


@lru_cache(maxsize=65536)
def _join_due(
    days: int,
    seconds: int,
    at: time | None,
    joined: datetime,
    mzone: tzinfo,
    workdays: int = 0,
) -> datetime:
    """``join + Nd at HH:MM`` in the member's zone; a time before the join itself moves to the
    next day, so ``join + 0d at 10:00`` means the first 10:00 after joining. Working days
    (``join + 2 workdays``) count in the member's country."""
    local = joined.astimezone(mzone).replace(tzinfo=None) + timedelta(days=days)
    if workdays:
        moved = calendar_for_zone(mzone).add(local.date(), workdays)
        local = datetime.combine(moved, local.time())
    if at is None:
        return _localize(local, mzone) + timedelta(seconds=seconds)
    due = _localize(datetime.combine(local.date(), at), mzone) + timedelta(seconds=seconds)
    if due < joined:
        due = _localize(datetime.combine(local.date() + timedelta(days=1), at), mzone)
        due += timedelta(seconds=seconds)
    return due
