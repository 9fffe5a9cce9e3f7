"""The timeline shown by ``rallybot plan``: deliveries grouped by step, time and target."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rallybot.campaigns import words
from rallybot.campaigns.messages import readable
from rallybot.campaigns.planner import (
    NEVER,
    MemberView,
    PlannedDelivery,
    member_opening,
    message_locale,
    plan,
)
from rallybot.campaigns.schema import Campaign

__all__ = ["TimelineRow", "WaveRow", "default_window", "timeline", "waves"]

PREVIEW = 70


@dataclass
class TimelineRow:
    """One line of the timeline: a post, or the DMs of one step due at one instant in one
    time zone and one language (Madrid and Paris share an offset, not a language)."""

    campaign: str
    step: str
    occurrence: str
    due_utc: datetime
    due_local: datetime  # in the campaign's zone
    kind: str  # "post", "dm", "quiz" (in a channel) or "digest"
    target: str  # "#annonces" or the audience names
    recipients: list[str] = field(default_factory=list)
    preview: str = ""
    zone: str = ""  # the recipients' time zone (the campaign's for posts)
    locale: str = ""  # the language the message is shown in
    sender: str | None = None  # the named sender ("The CEO"), None for the bot itself
    pin: bool = False

    @property
    def recipient_local(self) -> datetime:
        """The due time in the recipients' own zone."""
        return self.due_utc.astimezone(ZoneInfo(self.zone)) if self.zone else self.due_local

    @property
    def count(self) -> int:
        """How many messages this row stands for."""
        return len(self.recipients) if self.kind == "dm" else 1

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "campaign": self.campaign,
            "step": self.step,
            "occurrence": self.occurrence,
            "due_utc": self.due_utc.isoformat(),
            "due_local": self.due_local.isoformat(),
            "kind": self.kind,
            "target": self.target,
            "count": self.count,
            "recipients": self.recipients,
            "preview": self.preview,
            "zone": self.zone,
            "recipient_local": self.recipient_local.isoformat(),
            "locale": self.locale,
            "sender": self.sender,
            "pin": self.pin,
        }


def _describe(delivery: PlannedDelivery, kind: str, locale: str) -> str:
    """What the row shows of the message: its text, or what happens for quizzes and digests
    (in the row's language, as the channel will read it)."""
    spec = delivery.step.spec
    if kind == "quiz":
        if spec.quiz_mode == "daily":
            # Translators: a timeline row for a quiz in a channel; {quiz} is its file's id.
            label = words.gettext(locale, "[question of the day: {quiz}]")
        else:
            label = words.gettext(locale, "[live quiz: {quiz}]")
        return label.format(quiz=spec.quiz)
    if kind == "digest":
        return words.gettext(locale, "[the indicators digest]")
    return _preview(delivery.message().text)


def _preview(text: str) -> str:
    flat = " ".join(readable(text).split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def default_window(campaign: Campaign, members: Sequence[MemberView]) -> tuple[datetime, datetime]:
    """From the first to the last thing the campaign does (open recurrences: 90 days)."""
    zone, stones = campaign.zone, campaign.milestones
    points: list[datetime] = []
    open_ended = False
    max_join_offset = timedelta(0)
    for step in campaign.steps:
        if step.at is not None and not step.per_member:
            points.append(step.at.resolve(zone, stones))
        elif step.at is not None:
            # Working days and weekend moves stretch a journey: a generous margin, as the
            # window only bounds what is looked at.
            slack = 2 + 2 * abs(step.at.workdays) + (3 if step.on_weekend != "keep" else 0)
            max_join_offset = max(
                max_join_offset, timedelta(days=step.at.days + slack, seconds=step.at.seconds)
            )
        if step.from_ is not None:
            points.append(step.from_.resolve(zone, stones))
        if step.until is not None:
            points.append(step.until.resolve(zone, stones))
        elif step.every is not None:
            open_ended = True
    # A journey runs from each member's start (or their wave's opening) to its last step: the
    # window covers all of it, not only its end.
    starts = [m.joined_at for m in members if m.joined_at is not None]
    starts += [when for when in campaign.waves.values() if when is not None]
    points.extend(starts)
    points.extend(when + max_join_offset for when in starts)
    if not points:
        now = datetime.now(zone)
        return now, now + timedelta(days=90)
    start = min(points) - timedelta(days=1)
    end = max(points) + timedelta(days=1)
    if open_ended:
        end = max(end, start + timedelta(days=90))
    return start, end


def timeline(
    campaign: Campaign,
    members: Sequence[MemberView],
    start: datetime,
    end: datetime,
    *,
    default_timezone: str,
    deliveries: Iterable[PlannedDelivery] | None = None,
    openings: Mapping[str, datetime] | None = None,
) -> list[TimelineRow]:
    """Group the deliveries of ``[start, end)`` into timeline rows, in time order
    (``openings``: the members' wave openings, see :func:`campaigns.planner.openings`)."""
    rows: dict[tuple[str, str, datetime, str, str], TimelineRow] = {}
    if deliveries is not None:
        source: Iterable[PlannedDelivery] = deliveries
    else:
        # Every kind of step: channel quizzes (live, question of the day) and digests are not
        # outbox messages, but a community manager must see when they happen too.
        source = itertools.chain.from_iterable(
            plan(
                campaign,
                members,
                start,
                end,
                default_timezone=default_timezone,
                openings=openings,
                channel_quizzes=quizzes,
                digests=digests,
            )
            for quizzes, digests in ((False, False), (True, False), (False, True))
        )
    for delivery in source:
        step = delivery.step
        kind = (
            "dm"
            if step.is_dm
            else "quiz"
            if step.is_channel_quiz
            else "digest"
            if step.is_digest
            else "post"
        )
        zone = str(getattr(delivery.zone, "key", delivery.zone))
        # The language of the text the member gets (a German reader of a campaign written
        # in French and English gets one of those), not their own: the filter and the
        # preview then tell what is really sent.
        locale = message_locale(campaign, step, delivery.member)
        key = (step.id, delivery.occurrence, delivery.due_at, zone, locale)
        row = rows.get(key)
        if row is None:
            target = f"#{step.spec.post}" if not step.is_dm else ", ".join(step.audiences)
            row = TimelineRow(
                campaign=campaign.id,
                step=step.id,
                occurrence=delivery.occurrence,
                due_utc=delivery.due_at,
                due_local=delivery.due_at.astimezone(campaign.zone),
                kind=kind,
                target=target,
                preview=_describe(delivery, kind, locale),
                zone=zone,
                locale=locale,
                sender=step.spec.sender.name if step.spec.sender is not None else None,
                pin=step.spec.pin,
            )
            rows[key] = row
        if delivery.member is not None:
            row.recipients.append(delivery.member.key)
    return sorted(rows.values(), key=lambda r: (r.due_utc, r.step))


@dataclass
class WaveRow:
    """One wave of the campaign: when it opens and who waits for it."""

    name: str
    opens_utc: datetime | None  # None: manual, opened by a community manager
    opens_local: datetime | None
    members: list[str] = field(default_factory=list)  # members whose opening is this wave's

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "wave": self.name,
            "opens_utc": self.opens_utc.isoformat() if self.opens_utc else "manual",
            "opens_local": self.opens_local.isoformat() if self.opens_local else "manual",
            "members": self.members,
        }


def waves(campaign: Campaign, members: Sequence[MemberView]) -> list[WaveRow]:
    """The campaign's waves in opening order (manual ones last), each with the members who
    wait for it (a member in several waves waits for the earliest)."""
    result: dict[str, WaveRow] = {}
    for name, when in campaign.waves.items():
        local = when.astimezone(campaign.zone) if when is not None else None
        result[name] = WaveRow(name, when, local)
    for member in members:
        opening = member_opening(member, [campaign])
        if opening is None:
            continue
        for name, when in campaign.waves.items():
            if (when or NEVER) == opening and _in_wave(campaign, name, member):
                result[name].members.append(member.key)
                break
    return sorted(result.values(), key=lambda w: (w.opens_utc or NEVER, w.name))


def _in_wave(campaign: Campaign, name: str, member: MemberView) -> bool:
    return member_opening(member, [_only_wave(campaign, name)]) is not None


def _only_wave(campaign: Campaign, name: str) -> Campaign:
    return replace(campaign, waves={name: campaign.waves[name]})
