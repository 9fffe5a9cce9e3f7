"""The timeline shown by ``rallybot plan``: deliveries grouped by step, time and target."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rallybot.campaigns.planner import MemberView, PlannedDelivery, plan
from rallybot.campaigns.schema import Campaign

__all__ = ["TimelineRow", "default_window", "timeline"]

PREVIEW = 70


@dataclass
class TimelineRow:
    """One line of the timeline: a post, or the DMs of one step due at one instant."""

    campaign: str
    step: str
    occurrence: str
    due_utc: datetime
    due_local: datetime  # in the campaign's zone
    kind: str  # "post" or "dm"
    target: str  # "#annonces" or the audience names
    recipients: list[str] = field(default_factory=list)
    preview: str = ""

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
        }


def _preview(text: str) -> str:
    flat = " ".join(text.split())
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
            max_join_offset = max(
                max_join_offset, timedelta(days=step.at.days + 2, seconds=step.at.seconds)
            )
        if step.from_ is not None:
            points.append(step.from_.resolve(zone, stones))
        if step.until is not None:
            points.append(step.until.resolve(zone, stones))
        elif step.every is not None:
            open_ended = True
    points.extend(m.joined_at + max_join_offset for m in members if m.joined_at is not None)
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
) -> list[TimelineRow]:
    """Group the deliveries of ``[start, end)`` into timeline rows, in time order."""
    rows: dict[tuple[str, str, datetime], TimelineRow] = {}
    source = (
        deliveries
        if deliveries is not None
        else plan(campaign, members, start, end, default_timezone=default_timezone)
    )
    for delivery in source:
        step = delivery.step
        kind = "dm" if step.is_dm else "post"
        key = (step.id, delivery.occurrence, delivery.due_at)
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
                preview=_preview(delivery.message().text),
            )
            rows[key] = row
        if delivery.member is not None:
            row.recipients.append(delivery.member.key)
    return sorted(rows.values(), key=lambda r: (r.due_utc, r.step))
