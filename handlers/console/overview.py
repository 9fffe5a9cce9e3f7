"""The console's campaigns page: each campaign's state, its file's last change, its next
sends, its deliveries by status and the errors and warnings of the last reload.

Pause and resume are :func:`storage.repositories.set_campaign_status`, as for
``/rallybot pause`` and ``rallybot campaign pause``: running bots see the state at once.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rallybot.bot.context import ReloadReport
from rallybot.bot.reloads import load_absences
from rallybot.campaigns.loader import LoadError
from rallybot.campaigns.schema import Campaign
from rallybot.handlers.console.act_services import replaced_counts
from rallybot.handlers.console.timeline import Entry, Filters, TimelineSource
from rallybot.storage.database import Database
from rallybot.storage.models import CampaignStatus
from rallybot.storage.outbox import counts_by_step
from rallybot.storage.repositories import list_states, set_campaign_status

__all__ = ["CampaignSummary", "FileChange", "campaign_summaries", "file_change", "set_paused"]

NEXT_SENDS = 3


@dataclass(frozen=True, slots=True)
class FileChange:
    """When a campaign file last changed: its last commit in git, else its modification time."""

    at: datetime
    source: str  # "git" or "file"
    commit: str | None = None


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """One campaign as the campaigns page shows it."""

    id: str
    title: str
    status: str  # CampaignStatus
    absent_since: datetime | None
    paused_at: datetime | None
    source: str
    loaded: bool  # its file is loaded now (False: known to the database only)
    changed: FileChange | None
    deliveries: dict[str, int]
    next_sends: list[Entry]
    errors: list[LoadError] = field(default_factory=list)


def file_change(path: Path) -> FileChange | None:
    """The file's last change: its last commit (when it is in git and unchanged since), else
    its modification time; None when it cannot be read."""
    try:
        mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return None
    try:
        result = subprocess.run(
            ["git", "-C", str(path.parent), "log", "-1", "--format=%cI %h", "--", path.name],
            capture_output=True,
            check=False,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(path.parent), "status", "--porcelain", "--", path.name],
            capture_output=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return FileChange(mtime, "file")
    line = result.stdout.decode("utf-8", errors="replace").strip()
    if result.returncode != 0 or not line or dirty.stdout.strip():
        return FileChange(mtime, "file")  # not in git, or edited since its last commit
    when, _, commit = line.partition(" ")
    return FileChange(datetime.fromisoformat(when).astimezone(UTC), "git", commit or None)


def _belongs(error: LoadError, source: str) -> bool:
    return bool(source) and Path(error.file).resolve() == Path(source).resolve()


async def campaign_summaries(
    db: Database,
    campaigns: Mapping[str, Campaign],
    timeline: TimelineSource,
    now: datetime,
    report: ReloadReport | None = None,
) -> tuple[list[CampaignSummary], list[LoadError]]:
    """Every campaign the database or the files know, and the reload's errors that belong
    to no campaign (a broken new file, the community file, a quiz bank...). The reload's
    warnings (steps that look renamed) are ``report.warnings``."""
    states = {s.id: s for s in await list_states(db)}
    counts = await counts_by_step(db)
    async with db.read() as session:
        replaced = await replaced_counts(session)
    absences = await load_absences(db)
    errors = list(report.errors) if report is not None else []
    summaries: list[CampaignSummary] = []
    claimed: set[int] = set()
    for campaign_id in sorted(set(states) | set(campaigns)):
        state = states.get(campaign_id)
        campaign = campaigns.get(campaign_id)
        source = campaign.source if campaign is not None else (state.source if state else "")
        totals: dict[str, int] = {}
        for cid, _step, status, n in counts:
            if cid == campaign_id:
                totals[status] = totals.get(status, 0) + n
        # The copies a send now replaced went out, only earlier: counted apart from the
        # cancelled ones, which read as a failure.
        swapped = sum(n for (cid, _step), n in replaced.items() if cid == campaign_id)
        if swapped:
            totals["cancelled"] -= swapped
            totals["replaced"] = swapped
            if not totals["cancelled"]:
                del totals["cancelled"]
        mine = [i for i, e in enumerate(errors) if _belongs(e, source)]
        claimed.update(mine)
        next_sends = await _next_sends(timeline, campaign_id, now)
        summaries.append(
            CampaignSummary(
                id=campaign_id,
                title=(
                    campaign.spec.title if campaign is not None else state.title if state else ""
                ),
                status=state.status if state is not None else CampaignStatus.active.value,
                absent_since=absences.get(campaign_id),
                paused_at=state.paused_at if state is not None else None,
                source=source,
                loaded=campaign is not None,
                changed=file_change(Path(source)) if source else None,
                deliveries=dict(sorted(totals.items())),
                next_sends=next_sends,
                errors=[errors[i] for i in mine],
            )
        )
    return summaries, [e for i, e in enumerate(errors) if i not in claimed]


async def _next_sends(timeline: TimelineSource, campaign_id: str, now: datetime) -> list[Entry]:
    """The campaign's first :data:`NEXT_SENDS` messages to go: waiting in the outbox or
    planned. Asked of the timeline status by status: a page of every status, filtered after,
    lost places to messages that will not go (cancelled, skipped) or went already."""
    found: list[Entry] = []
    for status in ("pending", "planned"):
        page = await timeline.page(
            Filters(campaign=campaign_id, start=now, status=status), now, limit=NEXT_SENDS
        )
        found.extend(page.entries)
    return sorted(found, key=lambda e: e.due_utc)[:NEXT_SENDS]


async def set_paused(db: Database, campaign_id: str, paused: bool, now: datetime) -> bool:
    """Pause or resume a campaign (False: unknown campaign)."""
    status = CampaignStatus.paused if paused else CampaignStatus.active
    return await set_campaign_status(db, campaign_id, status, now)
