"""Reloads that forgive a moment's absence, and renamed steps that keep their history.

A campaign file can vanish for a moment without anyone meaning it: a file moved away and back,
a ``git checkout`` of another branch, a deploy that replaces the folder. So:

- a pending delivery is cancelled at once only when its file is present, parses, and no
  longer has the step;
- a file that is absent holds its campaign (status ``absent``: nothing of it is sent) and
  its pending deliveries are cancelled only once it has been absent for longer than
  ``RALLYBOT_FILE_ABSENT_MINUTES`` (the absence is kept in a control flag, so a restart or
  another replica counts from the same instant);
- deliveries cancelled either way come back when the step returns before their own grace
  ends (``grace_until``), so nothing is lost and, their keys being the same, nothing is sent
  twice;
- a step that declares ``renamed_from: OLD-ID`` takes over the old id's deliveries (sent ones
  included) instead of going to everyone again.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.metrics import METRICS
from rallybot.campaigns.journey import journey_of
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.campaigns.schema import Campaign, Step
from rallybot.campaigns.words import N_
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import (
    CampaignState,
    CampaignStatus,
    ControlFlag,
    Delivery,
    DeliveryStatus,
    table_of,
)
from rallybot.storage.onboarding_models import JourneyTask

__all__ = [
    "ABSENT",
    "FILE_REMOVED",
    "STEP_REMOVED",
    "absent_flag",
    "absent_sources",
    "cancel_absent",
    "carry_renames",
    "carry_task_renames",
    "committed_rename_warnings",
    "committed_text",
    "forget_absence",
    "load_absences",
    "note_absence",
    "rename_warnings",
    "restore_cancelled",
]

log = logging.getLogger("rallybot.reloads")

ABSENT = CampaignStatus.absent.value
"""The campaign status while its file is missing: held, neither sent nor cancelled yet."""
STEP_REMOVED = "cancelled: the step was removed from the campaign file"
FILE_REMOVED = "cancelled: the campaign file was removed"
_RESTORABLE = (STEP_REMOVED, FILE_REMOVED)
_FLAG_PREFIX = "absent:"

D = table_of(Delivery).c
_TASK = table_of(JourneyTask)
F = table_of(ControlFlag).c
S = table_of(CampaignState).c


def absent_flag(campaign_id: str) -> str:
    """The control flag that records since when a campaign's file is missing."""
    name = _FLAG_PREFIX + campaign_id
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(campaign_id.encode()).hexdigest()[:8]
    return f"{_FLAG_PREFIX}{campaign_id[:46]}~{digest}"


async def load_absences(db: Database) -> dict[str, datetime]:
    """Campaign id -> since when its file is missing (as recorded by any replica)."""
    async with db.session() as session:
        rows = await session.execute(
            sa.select(F.value, F.updated_at).where(F.name.startswith(_FLAG_PREFIX))
        )
        return {str(value): when for value, when in rows.all()}


async def note_absence(db: Database, campaign_id: str, now: datetime) -> datetime:
    """Record that ``campaign_id``'s file is missing (once) and hold the campaign; returns
    since when it is missing."""
    async with db.session() as session:
        flag = await session.get(ControlFlag, absent_flag(campaign_id))
        if flag is not None:
            return flag.updated_at
        session.add(ControlFlag(name=absent_flag(campaign_id), value=campaign_id, updated_at=now))
        await session.execute(
            sa.update(CampaignState)
            .where(S.id == campaign_id, S.status == CampaignStatus.active.value)
            .values(status=ABSENT, updated_at=now)
        )
    log.warning("campaign %s: its file is missing; its messages wait for it", campaign_id)
    return now


async def forget_absence(db: Database, campaign_id: str, now: datetime) -> bool:
    """The file is back: drop the record and let the campaign send again; False if it was
    not recorded missing."""
    async with db.session() as session:
        flag = await session.get(ControlFlag, absent_flag(campaign_id))
        await session.execute(
            sa.update(CampaignState)
            .where(S.id == campaign_id, S.status == ABSENT)
            .values(status=CampaignStatus.active.value, updated_at=now)
        )
        if flag is None:
            return False
        await session.delete(flag)
        return True


async def cancel_absent(
    db: Database, absences: dict[str, datetime], now: datetime, grace: timedelta
) -> dict[str, int]:
    """Cancel the pending deliveries of campaigns missing for longer than ``grace``;
    campaign id -> how many were cancelled."""
    done: dict[str, int] = {}
    for campaign_id, since in absences.items():
        if now - since <= grace:
            continue
        by_step: dict[tuple[str, str], int] = {}
        count = await outbox.cancel_pending(
            db, campaign_id, None, FILE_REMOVED, now, by_step=by_step
        )
        for (cancelled_campaign, step_id), n in by_step.items():
            METRICS.delivery(cancelled_campaign, step_id, "cancelled", n)
        if count:
            log.warning(
                "campaign %s: its file has been missing since %s UTC: pending messages "
                "cancelled: %d (they come back if the file does, within their grace)",
                campaign_id,
                f"{since:%Y-%m-%d %H:%M}",
                count,
            )
        done[campaign_id] = count
    return done


async def restore_cancelled(db: Database, campaign: Campaign, now: datetime) -> int:
    """Bring back the deliveries cancelled because their step or file went missing, now that
    the step is there again, if their grace has not ended; how many came back."""
    async with db.session() as session:
        result = await session.execute(
            sa.update(Delivery)
            .where(
                D.campaign_id == campaign.id,
                D.status == DeliveryStatus.cancelled.value,
                D.reason.in_(_RESTORABLE),
                D.step_id.in_([s.id for s in campaign.steps]),
                D.grace_until >= now,
            )
            .values(status=DeliveryStatus.pending.value, reason=None, updated_at=now)
        )
        return outbox.affected(result)


async def carry_task_renames(db: Database, campaign: Campaign) -> int:
    """Give each onboarding task declaring ``renamed_from`` the members who did its old id
    (they are not asked again, nor credited twice); returns how many rows moved. A member who
    already has the new id keeps that row. The nudges follow as renamed steps."""
    journey = campaign.spec.journey
    if journey is None:
        return 0
    ids = {t.id for t in journey.tasks}
    renames = {
        t.renamed_from: t.id
        for t in journey.tasks
        if t.renamed_from is not None and t.renamed_from not in ids
    }
    moved = 0
    async with db.session() as session:
        for old, new in renames.items():
            already = sa.select(_TASK.c.member_id).where(
                _TASK.c.campaign_id == campaign.id, _TASK.c.task_id == new
            )
            result = await session.execute(
                sa.update(_TASK)
                .where(
                    _TASK.c.campaign_id == campaign.id,
                    _TASK.c.task_id == old,
                    _TASK.c.member_id.not_in(already),
                )
                .values(task_id=new)
            )
            moved += outbox.affected(result)
    if moved:
        log.info(
            "campaign %s: onboarding tasks done that follow their renamed task: %d",
            campaign.id,
            moved,
        )
    return moved


async def carry_renames(db: Database, campaign: Campaign, now: datetime) -> int:
    """Give each step declaring ``renamed_from`` the deliveries of its old id (sent ones too,
    so that nobody gets it again), and each renamed onboarding task its members who did it
    (:func:`carry_task_renames`); returns how many rows moved. Rows whose new key already
    exists stay where they are. A renamed survey step keeps its survey (see
    :func:`campaigns.survey.step_survey_id`): its answers and buttons stay valid."""
    tasks = await carry_task_renames(db, campaign)
    moved = 0
    ids = {s.id for s in campaign.steps}
    renames = {
        s.spec.renamed_from: s.id
        for s in campaign.steps
        if s.spec.renamed_from is not None and s.spec.renamed_from not in ids
    }
    if not renames:
        return tasks
    async with db.session() as session:
        for old, new in renames.items():
            rows = (
                await session.execute(
                    sa.select(D.id, D.recipient, D.occurrence).where(
                        D.campaign_id == campaign.id, D.step_id == old
                    )
                )
            ).all()
            if not rows:
                continue
            taken = {
                (r, o)
                for r, o in (
                    await session.execute(
                        sa.select(D.recipient, D.occurrence).where(
                            D.campaign_id == campaign.id, D.step_id == new
                        )
                    )
                ).all()
            }
            free = [i for i, r, o in rows if (r, o) not in taken]
            for offset in range(0, len(free), 500):
                result = await session.execute(
                    sa.update(Delivery)
                    .where(D.id.in_(free[offset : offset + 500]))
                    .values(step_id=new, updated_at=now)
                )
                moved += outbox.affected(result)
    if moved:
        log.info("campaign %s: %d delivery(ies) follow their renamed step", campaign.id, moved)
    return moved + tasks


def _content(step: Step) -> tuple[object, ...]:
    spec = step.spec
    return (spec.post, spec.dm is not None, repr(spec.message_text), spec.quiz, spec.survey)


def rename_warnings(old: Campaign, new: Campaign) -> list[str]:
    """Warnings for steps that look renamed without ``renamed_from``: an id gone while
    another appeared with the same message (it would go again to everyone)."""
    return [message for _, message in _renames(old, new)]


def _renames(old: Campaign, new: Campaign) -> list[tuple[tuple[str | int, ...], str]]:
    new_ids = {s.id for s in new.steps}
    old_ids = {s.id for s in old.steps}
    gone = [s for s in old.steps if s.id not in new_ids]
    came = [s for s in new.steps if s.id not in old_ids and s.spec.renamed_from is None]
    found: list[tuple[tuple[str | int, ...], str]] = []
    # A journey's nudges are named after their task: a renamed task renames them, and the
    # advice is renamed_from on the task (the nudges have no line of their own).
    old_tasks = old_journey.step_task if (old_journey := journey_of(old)) else {}
    new_tasks = new_journey.step_task if (new_journey := journey_of(new)) else {}
    task_pairs: set[tuple[str, str]] = set()
    for before in gone:
        for after in came:
            if not (_content(before) == _content(after) and before.spec.message_text):
                continue
            was, now = old_tasks.get(before.id), new_tasks.get(after.id)
            journey = new.spec.journey
            if was is not None and now is not None and was != now and journey is not None:
                if (was, now) not in task_pairs:
                    task_pairs.add((was, now))
                    index = next(i for i, t in enumerate(journey.tasks) if t.id == now)
                    found.append(
                        (
                            ("journey", "tasks", index, "id"),
                            # Translators: {was} and {now} are task ids of the file;
                            # "renamed_from:" is a key written as it is.
                            N_(
                                'onboarding task "{was}" is gone and task "{now}" has the '
                                'same nudge: if it was renamed, add "renamed_from: {was}" to '
                                'task "{now}"; otherwise its nudges go again to everyone who '
                                'had them, and those who did "{was}" must do it again',
                                was=was,
                                now=now,
                            ),
                        )
                    )
                continue
            found.append(
                (
                    ("steps", after.index, "id"),
                    # Translators: {before} and {after} are step ids of the file;
                    # "renamed_from:" is a key written as it is.
                    N_(
                        'step "{before}" is gone and step "{after}" has the same message: if '
                        'it was renamed, add "renamed_from: {before}" to "{after}"; otherwise '
                        '"{after}" goes again to everyone who had "{before}"',
                        before=before.id,
                        after=after.id,
                    ),
                )
            )
    return found


def committed_text(path: Path) -> str | None:
    """The file as last committed in its git repository (None: not in git, new, or no git)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(path.parent), "show", f"HEAD:./{path.name}"],
            capture_output=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.decode("utf-8", errors="replace")


def committed_rename_warnings(campaign: Campaign) -> list[tuple[tuple[str | int, ...], str]]:
    """(location, message) of the steps that look renamed without ``renamed_from`` since the
    file was last committed in git (nothing outside git)."""
    text = committed_text(Path(campaign.source))
    if text is None:
        return []
    try:
        before = load_campaign_text(text, campaign.source)
    except CampaignLoadError:  # the committed version was broken: nothing to compare with
        return []
    return _renames(before, campaign)


def absent_sources(states: Sequence[CampaignState], loaded: set[str]) -> list[str]:
    """Campaigns the database knows, active, not loaded now, whose file no longer exists."""
    return [
        s.id
        for s in states
        if s.id not in loaded
        and s.status == CampaignStatus.active.value
        and s.source
        and not Path(s.source).exists()
    ]
