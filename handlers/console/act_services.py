"""What the console's acting pages read and do, as plain functions returning typed rows: the
steps to act on and how many people each reaches, evidence waiting for a decision, members
(search, onboarding progress, opt-out) and their erasure, and a roster upload applied all or
nothing. Each reuses what the chat commands and the CLI use (:mod:`handlers.steering`,
:mod:`handlers.challenges`, :func:`handlers.privacy.service.erase_member`, the roster reader and
:func:`storage.repositories.import_members`), so the console never acts differently."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from rallybot.bot.messages import Message, plain
from rallybot.bot.schedule_words import schedule_words
from rallybot.bot.step_words import step_label, step_title, step_words_of
from rallybot.bot.views import member_view
from rallybot.campaigns.journey import journey_of
from rallybot.campaigns.loader import LoadError
from rallybot.campaigns.planner import MemberView
from rallybot.campaigns.roster import (
    RosterLoadError,
    member_fields,
    read_roster_bytes,
    summarize_errors,
)
from rallybot.campaigns.schema import Campaign, Step
from rallybot.campaigns.timeline import TimelineRow
from rallybot.handlers.challenges.service import evidence_links, title_of
from rallybot.handlers.console.security import UPLOAD_MAX_BYTES, megabytes
from rallybot.handlers.console.words import gettext, number
from rallybot.handlers.privacy.service import erase_member
from rallybot.handlers.steering.service import (
    REPLACED_BY,
    occurrence_for,
    preview_message,
    recipients,
)
from rallybot.storage.challenge_models import ChallengeSubmission, SubmissionState
from rallybot.storage.models import (
    CampaignState,
    CampaignStatus,
    ChannelMember,
    Delivery,
    DeliveryHour,
    DeliveryStatus,
    Member,
    table_of,
)
from rallybot.storage.onboarding_models import JourneyState, JourneyTask
from rallybot.storage.outbox import insert_deliveries
from rallybot.storage.repositories import (
    UPLOAD,
    RosterSource,
    import_members,
    list_members,
    roster_digest,
)
from rallybot.storage.search import escape_like, fold, folded_contains

if TYPE_CHECKING:
    from rallybot.bot.clock import Clock
    from rallybot.bot.config import Settings
    from rallybot.storage.database import Database

__all__ = [
    "PREVIEW_SUFFIX",
    "ROSTER_MAX_BYTES",
    "STEP_STATES",
    "Console",
    "MemberRow",
    "Progress",
    "Reach",
    "RosterOutcome",
    "StepRow",
    "SubmissionRow",
    "current_members",
    "erase",
    "import_roster",
    "pending_submissions",
    "preview_to",
    "reach_of",
    "search_members",
    "step_label",
    "step_rows",
    "step_title",
    "submission_rows",
]

PREVIEW_SUFFIX = ".preview"
"""Campaign id suffix of a preview sent to a community manager (a pause or a reload of the
campaign leaves it be, as it goes to the manager alone)."""
ROSTER_MAX_BYTES = UPLOAD_MAX_BYTES
"""The largest roster upload read: the console's upload limit (about 50,000 rows)."""

D = table_of(Delivery).c
M = table_of(Member).c
SUB = table_of(ChallengeSubmission).c
CM = table_of(ChannelMember).c
H = table_of(DeliveryHour).c
S = table_of(CampaignState).c
JS = table_of(JourneyState).c
JT = table_of(JourneyTask).c


class Console(Protocol):
    """What these functions read: the running bot (a :class:`BotContext`) or the console
    alone on the same database."""

    @property
    def db(self) -> Database:
        """The database."""
        ...

    @property
    def clock(self) -> Clock:
        """The clock."""
        ...

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        ...

    @property
    def campaigns(self) -> dict[str, Campaign]:
        """The campaigns loaded, by id."""
        ...

    def request_plan(self) -> None:
        """Ask for a planning pass soon (a no-op where no bot runs: its next tick plans)."""
        ...


# ---------------------------------------------------------------------------- acting on steps


@dataclass(frozen=True)
class StepRow:
    """A step of a loaded campaign as a manager recognises it (its words in the reader's
    language, its campaign, when it is due, its state) with what the outbox and the plan
    hold for it."""

    campaign: str
    step: str
    kind: str  # "post" or "dm"
    target: str  # "#channel" or the audiences
    pending: int
    failed: int
    campaign_title: str = ""
    title: str = ""  # what the step is, in the reader's language ("Onboarding: ...")
    detail: str = ""  # which of a task's reminders it is, in the reader's language
    extract: str = ""  # the first words of its message, in the reader's language
    schedule: str = ""  # its time in the reader's words ("2 jours après l'arrivée, à 10:00")
    schedule_file: str = ""  # its time as the file writes it ("at: join + 2d at 10:00")
    due: datetime | None = None  # the next message (waiting or planned), else the last one
    due_next: bool = True  # whether ``due`` is to come (False: the last message's day)
    state: str = "none"  # a key of :data:`STEP_STATES`
    sending: int = 0
    sent: int = 0
    skipped: int = 0
    cancelled: int = 0
    replaced: int = 0  # cancelled because a send now replaced them: not a failure
    planned: int = 0  # messages the files will send in the plan's window (two months)


STEP_STATES = (
    "planned",
    "waiting",
    "partly-sent",
    "sent",
    "paused",
    "failed",
    "skipped",
    "cancelled",
    "passed",
    "none",
)
"""What a step's row says of it: planned (nothing in the outbox yet), waiting (in the outbox),
partly sent, sent, paused (its campaign), failed, skipped, cancelled, passed (a one-off time
gone by with nothing sent), none (nothing planned: no member has it ahead)."""


def _kind(step: Step) -> str:
    return "dm" if step.is_dm else "post"


def _target(step: Step) -> str:
    return ", ".join(step.audiences) if step.is_dm else f"#{step.spec.post}"


def _schedule_file(step: Step) -> str:
    spec = step.spec
    if spec.every is not None:
        return f"every: {spec.every}"
    return f"at: {spec.at}" if spec.at is not None else ""


def _state(
    step: Step, campaign: Campaign, paused: bool, counts: dict[str, int], now: datetime
) -> tuple[str, datetime | None]:
    """The step's state, and the time of a one-off step that nothing holds (planned beyond
    the plan's window, or gone by)."""
    to_come = counts["pending"] + counts["sending"] + counts["planned"]
    done = counts["sent"]
    if paused:
        return "paused", None
    if to_come and done:
        return "partly-sent", None
    if counts["pending"] + counts["sending"]:
        return "waiting", None
    if counts["planned"]:
        return "planned", None
    if done:
        return ("partly-sent" if counts["failed"] else "sent"), None
    for status in ("failed", "cancelled", "skipped"):
        if counts[status]:
            return status, None
    if step.at is not None and not step.per_member:
        # A one-off step the outbox does not hold: due past the plan's window, or gone by
        # before the bot ran (too late to send: it is not planned again).
        at = step.at.resolve(campaign.zone, campaign.milestones)
        return ("planned" if at > now else "passed"), at
    return "none", None


def _hour_of(at: datetime) -> datetime:
    """The start of ``at``'s hour in UTC (how ``delivery_hour`` files a row)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


async def replaced_counts(session: Any) -> dict[tuple[str, str], int]:
    """How many of each step's cancelled messages a send now replaced (its reason says so),
    by (campaign, step): the pages count them apart, since they went out, only earlier."""
    result = await session.execute(
        sa.select(D.campaign_id, D.step_id, sa.func.count())
        .where(
            D.status == DeliveryStatus.cancelled.value,
            D.reason.startswith(REPLACED_BY, autoescape=True),
        )
        .group_by(D.campaign_id, D.step_id)
    )
    return {(c, st): int(n) for c, st, n in result.all()}


async def step_rows(
    ctx: Console,
    locale: str | None = None,
    *,
    planned: Sequence[TimelineRow] = (),
    now: datetime | None = None,
) -> list[StepRow]:
    """Every step of the loaded campaigns as a manager recognises it, in ``locale``, the
    next to send first (see :func:`_in_date_order`): its words (filled in as the bot
    fills them), when it is due, its state and its messages (waiting, sending, failed, skipped,
    cancelled, sent; ``planned``: the rows the files will send, from the console's timeline).

    The outbox's few rows of each state but sent are counted through its status index; the
    many sent ones are the step's total (``delivery_hour``, kept by the database) less
    those, so no page reads every sent row."""
    now = now or ctx.clock.now()
    counted = [s.value for s in DeliveryStatus if s is not DeliveryStatus.sent]
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    next_due: dict[tuple[str, str], datetime] = {}
    gone: dict[tuple[str, str], datetime] = {}
    totals: dict[tuple[str, str], tuple[int, datetime | None]] = {}
    async with ctx.db.read() as session:
        result = await session.execute(
            sa.select(
                D.campaign_id,
                D.step_id,
                D.status,
                sa.func.count(),
                sa.func.min(D.due_at),
                sa.func.max(D.due_at),
            )
            .where(D.status.in_(counted))
            .group_by(D.campaign_id, D.step_id, D.status)
        )
        for campaign_id, step_id, status, count, first, latest in result.all():
            key = (campaign_id, step_id)
            counts[key][status] = int(count)
            # A step none of whose messages went (all skipped, say) keeps the day they were
            # due: its row would show no date at all.
            if status not in (DeliveryStatus.pending.value, DeliveryStatus.claimed.value):
                gone[key] = max(latest, gone.get(key, latest))
            waiting = (DeliveryStatus.pending.value, DeliveryStatus.claimed.value)
            if status in waiting and (key not in next_due or first < next_due[key]):
                next_due[key] = first
        # The last message is the last one sent: an hour holds one when it counts more rows
        # than the few of it that were not sent (skipped, cancelled, failed, waiting, often
        # ahead of now), read through the status index.
        unsent: Counter[tuple[str, str, datetime]] = Counter()
        for campaign_id, step_id, due_at in (
            await session.execute(
                sa.select(D.campaign_id, D.step_id, D.due_at).where(D.status.in_(counted))
            )
        ).all():
            unsent[(campaign_id, step_id, _hour_of(due_at))] += 1
        hours = await session.execute(
            sa.select(H.campaign_id, H.step_id, H.hour, H.count).where(H.count > 0)
        )
        for campaign_id, step_id, hour, count in hours.all():
            key = (campaign_id, step_id)
            total, last = totals.get(key, (0, None))
            if count > unsent[(campaign_id, step_id, _hour_of(hour))]:
                last = hour if last is None or hour > last else last
            totals[key] = (total + int(count), last)
        states = await session.execute(
            sa.select(S.id).where(S.status == CampaignStatus.paused.value)
        )
        paused = set(states.scalars())
        replaced = await replaced_counts(session)
    for row in planned:
        key = (row.campaign, row.step)
        counts[key]["planned"] += row.count
        if row.due_utc >= now and (key not in next_due or row.due_utc < next_due[key]):
            next_due[key] = row.due_utc
    rows: list[StepRow] = []
    for campaign in sorted(ctx.campaigns.values(), key=lambda c: c.id):
        for step in campaign.steps:
            if step.is_channel_quiz or step.is_digest:
                continue
            key = (campaign.id, step.id)
            found = counts[key]
            total, last = totals.get(key, (0, None))
            mine = {
                "pending": found[DeliveryStatus.pending.value],
                "sending": found[DeliveryStatus.claimed.value],
                "failed": found[DeliveryStatus.failed.value],
                "skipped": found[DeliveryStatus.skipped.value],
                "cancelled": found[DeliveryStatus.cancelled.value] - replaced.get(key, 0),
                "replaced": replaced.get(key, 0),
                "planned": found["planned"],
            }
            mine["sent"] = max(0, total - sum(v for k, v in mine.items() if k != "planned"))
            state, at = _state(step, campaign, campaign.id in paused, mine, now)
            due, due_next = next_due.get(key), True
            if due is None and at is not None:
                due, due_next = at, at > now
            elif due is None and last is not None:
                due, due_next = last, False
            elif due is None and key in gone:
                due, due_next = gone[key], False
            title, detail, extract = step_words_of(campaign, step, locale, due or now)
            rows.append(
                StepRow(
                    campaign=campaign.id,
                    step=step.id,
                    kind=_kind(step),
                    target=_target(step),
                    campaign_title=campaign.spec.title,
                    title=title,
                    detail=detail,
                    extract=extract,
                    schedule=schedule_words(campaign, step, locale),
                    schedule_file=_schedule_file(step),
                    due=due,
                    due_next=due_next,
                    state=state,
                    **mine,
                )
            )
    return sorted(rows, key=_in_date_order)


def _in_date_order(row: StepRow) -> tuple[int, float]:
    """The Act page's order: the steps still to send by their next send time, then those
    done by their last one (the latest first), then the undated ones; a stable sort keeps
    ties in the files' order."""
    if row.due is None:
        return (2, 0.0)
    if row.due_next:
        return (0, row.due.timestamp())
    return (1, -row.due.timestamp())


@dataclass
class Reach:
    """Whom sending a step now reaches: its members (direct messages), or the people known
    to be in its channel (a post; 0 when the bot has not seen the channel's members)."""

    campaign: str
    step: str
    kind: str
    target: str
    people: int
    members: list[MemberView] = field(default_factory=list)
    problem: str | None = None  # an unknown member named as the target


async def reach_of(
    ctx: Console,
    campaign: Campaign,
    step: Step,
    target: str | None = None,
    *,
    locale: str | None = None,
) -> Reach:
    """How many people sending ``step`` now reaches (``target``: one audience, or ``@name``
    for one member; None: the step's own audiences), as ``/rallybot send`` would send it.
    ``locale``: the language of the problem, when there is one."""
    reach = Reach(campaign.id, step.id, _kind(step), target or _target(step), 0)
    if step.is_dm:
        found = await recipients(ctx.db, campaign, step, target, locale=locale)
        if isinstance(found, str):
            # shown on a page as it is, not through a chat renderer: without the marks
            reach.problem = plain(found)
        else:
            reach.members = found
            reach.people = len(found)
        return reach
    logical = step.spec.post or ""
    channel = {**campaign.spec.channels, **ctx.settings.channel_map}.get(logical, logical)
    async with ctx.db.read() as session:
        count = await session.scalar(
            sa.select(sa.func.count())
            .select_from(table_of(ChannelMember))
            .where(CM.channel_id == channel)
        )
    reach.people = int(count or 0)
    return reach


async def preview_to(
    ctx: Console,
    campaign: Campaign,
    step: Step,
    member: Member,
    key: str,
    locale: str | None = None,
) -> tuple[int, str]:
    """Queue ``step``'s message, as ``member`` would see it, as a direct message to them
    (through the outbox, so the running bot sends it, once per ``key``). (queued, locale)."""
    assert member.id is not None
    view = member_view(member)
    message, chosen = preview_message(campaign, step, view, ctx.clock.now(), locale)
    return await _queue_direct(ctx, campaign, step, member.id, message, key), chosen


async def _queue_direct(
    ctx: Console, campaign: Campaign, step: Step, member_id: int, message: Message, key: str
) -> int:
    now = ctx.clock.now()
    row: dict[str, Any] = {
        "campaign_id": campaign.id + PREVIEW_SUFFIX,
        "step_id": step.id,
        "recipient": f"member:{member_id}",
        "occurrence": occurrence_for(key, "preview"),
        "due_at": now,
        "grace_until": now + ctx.settings.grace,
        "status": DeliveryStatus.pending.value,
        "reason": None,
        "payload": {"message": message.to_dict(), "member_id": member_id},
        "content_hash": "",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    async with ctx.db.session() as session:
        queued = await insert_deliveries(session, [row])
    ctx.request_plan()
    return queued


# ---------------------------------------------------------------------------- approvals


@dataclass(frozen=True)
class SubmissionRow:
    """Evidence waiting for a decision."""

    id: int
    challenge: str
    title: str
    member: str
    text: str
    links: list[str]
    submitted_at: datetime


async def pending_submissions(
    ctx: Console, locale: str | None, *, limit: int = 50, offset: int = 0
) -> tuple[list[SubmissionRow], int]:
    """Evidence waiting for a decision, oldest first, and how many wait in all."""
    waiting = SUB.state == SubmissionState.pending.value
    async with ctx.db.read() as session:
        total = await session.scalar(
            sa.select(sa.func.count()).select_from(table_of(ChallengeSubmission)).where(waiting)
        )
        result = await session.execute(
            _submissions()
            .where(waiting)
            .order_by(SUB.submitted_at, SUB.id)
            .limit(limit)
            .offset(offset)
        )
        rows = result.all()
    return [_submission_row(ctx, row, locale) for row in rows], int(total or 0)


async def submission_row(
    ctx: Console, locale: str | None, submission_id: int
) -> SubmissionRow | None:
    """One submission, decided or not, as Approvals shows it (its member and challenge named
    in a decision's confirmation); None when there is no such submission."""
    async with ctx.db.read() as session:
        row = (await session.execute(_submissions().where(SUB.id == submission_id))).first()
    return None if row is None else _submission_row(ctx, row, locale)


async def submission_rows(
    ctx: Console, locale: str | None, submission_ids: set[int]
) -> dict[int, SubmissionRow]:
    """The submissions of ``submission_ids`` still kept (an erased member's are not), by id,
    their member and challenge named as :func:`submission_row` names them."""
    if not submission_ids:
        return {}
    query = _submissions().where(SUB.id.in_(sorted(submission_ids)))
    async with ctx.db.read() as session:
        rows = (await session.execute(query)).all()
    return {row.id: _submission_row(ctx, row, locale) for row in rows}


def _submissions() -> sa.Select[Any]:
    return sa.select(
        SUB.id,
        SUB.challenge,
        SUB.text,
        SUB.submitted_at,
        M.display_name,
        M.platform_user_id,
    ).join(table_of(Member), M.id == SUB.member_id)


def _submission_row(ctx: Console, row: sa.Row[Any], locale: str | None) -> SubmissionRow:
    return SubmissionRow(
        id=row.id,
        challenge=row.challenge,
        title=title_of(ctx.campaigns, row.challenge, locale),
        member=row.display_name or row.platform_user_id,
        text=row.text,
        links=evidence_links(row.text),
        submitted_at=row.submitted_at,
    )


# ---------------------------------------------------------------------------- members


@dataclass(frozen=True)
class Progress:
    """A member's onboarding journey of one campaign."""

    campaign: str
    done: int
    total: int  # tasks of the journey (0: the campaign is no longer loaded)
    completed: bool


@dataclass(frozen=True)
class MemberRow:
    """A member as the members page shows them (personal data: managers only)."""

    id: int
    platform: str
    user_id: str
    name: str
    email: str | None
    team: str | None
    cohort: str | None
    joined_at: datetime | None
    opted_out: bool
    left_at: datetime | None
    onboarding: list[Progress]


async def search_members(
    ctx: Console, query: str = "", *, limit: int = 50, offset: int = 0
) -> tuple[list[MemberRow], int]:
    """Members whose name, e-mail, platform id, team or cohort contains ``query`` (any case,
    with or without accents), by name, with their onboarding progress; and how many match.
    Forgotten rows and bots are left out."""
    condition = sa.and_(M.forgotten.is_(False), M.is_bot.is_(False))
    text = query.strip()[:100]
    if text:
        dialect = ctx.db.dialect
        folded = fold(text) or ""
        pattern = f"%{escape_like(folded)}%"
        matches: list[sa.ColumnElement[bool]] = [folded_contains(M.display_name, text, dialect)]
        for column in (M.email, M.platform_user_id):
            # E-mails and ids are written without accents: the query folded finds them; on
            # PostgreSQL lower(column) is what the trigram indexes of migration 0024 read.
            if dialect == "postgresql":
                matches.append(sa.func.lower(column).like(pattern, escape="\\"))
            else:  # SQLite's LIKE ignores the case of ASCII letters already
                matches.append(column.like(pattern, escape="\\"))
        # Teams and cohorts are a few names shared by many members: the names that match are
        # found among the distinct ones (read from their indexes), and their members through
        # the same indexes, rather than testing each member's team.
        async with ctx.db.read() as session:
            for column in (M.team, M.cohort):
                names = (
                    await session.execute(sa.select(column).where(column.is_not(None)).distinct())
                ).scalars()
                named = [name for name in names if folded in (fold(name) or "")]
                if named:
                    matches.append(column.in_(named))
        condition = sa.and_(condition, sa.or_(*matches))
    page = sa.select(Member)
    count = sa.select(sa.func.count()).select_from(table_of(Member)).where(condition)
    if text:
        # The members that match first, then their page: asked for the page in name order,
        # PostgreSQL walked every member in that order testing each (2.5 s for a team of
        # 5,000 among 100,000), where the indexes give the matching ones at once.
        matching = sa.select(M.id).where(condition).cte("matching").prefix_with("MATERIALIZED")
        page = page.join(matching, M.id == matching.c.id)
        count = sa.select(sa.func.count()).select_from(matching)
    else:
        page = page.where(condition)
    page = (
        page.order_by(sa.func.lower(sa.func.coalesce(M.display_name, "")), M.id)
        .limit(limit)
        .offset(offset)
    )
    async with ctx.db.read() as session:
        total: int | None = None
        if text:
            # A search tests every member's name, e-mail and id: one pass gives the
            # page and, as a window count, how many match (a separate count was a second
            # pass). Without a search the window would sort every member where the page
            # alone keeps only its first rows, so the count stays apart there.
            found = (
                await session.execute(page.add_columns(sa.func.count().over().label("total")))
            ).all()
            members = [row[0] for row in found]
            if found:
                total = int(found[0][1])
        else:
            members = list((await session.execute(page)).scalars())
        if total is None:  # no search, or past the last page: no row to carry the count
            total = await session.scalar(count)
        ids = [m.id for m in members if m.id is not None]
        journeys = (
            (
                await session.execute(
                    sa.select(JS.member_id, JS.campaign_id, JS.completed_at).where(
                        JS.member_id.in_(ids)
                    )
                )
            ).all()
            if ids
            else []
        )
        done = (
            (
                await session.execute(
                    sa.select(JT.member_id, JT.campaign_id, sa.func.count())
                    .where(JT.member_id.in_(ids))
                    .group_by(JT.member_id, JT.campaign_id)
                )
            ).all()
            if ids
            else []
        )
    tasks_done = {(m, c): int(n) for m, c, n in done}
    progress: dict[int, list[Progress]] = {}
    for member_id, campaign_id, completed_at in journeys:
        campaign = ctx.campaigns.get(campaign_id)
        journey = journey_of(campaign) if campaign is not None else None
        progress.setdefault(member_id, []).append(
            Progress(
                campaign=campaign_id,
                done=tasks_done.get((member_id, campaign_id), 0),
                total=len(journey.tasks) if journey is not None else 0,
                completed=completed_at is not None,
            )
        )
    rows = [
        MemberRow(
            id=m.id,
            platform=m.platform,
            user_id=m.platform_user_id,
            name=m.display_name or m.platform_user_id,
            email=m.email,
            team=m.team,
            cohort=m.cohort,
            joined_at=m.joined_at,
            opted_out=m.opted_out,
            left_at=m.left_at,
            onboarding=sorted(progress.get(m.id, []), key=lambda p: p.campaign),
        )
        for m in members
        if m.id is not None
    ]
    return rows, int(total or 0)


async def erase(ctx: Console, member_id: int, requested_by: str) -> bool:
    """Erase a member as ``rallybot member forget`` does (audited there: who asked and when,
    never whom); False when there is no such member (or they were erased already)."""
    async with ctx.db.read() as session:
        member = await session.get(Member, member_id)
    if member is None or member.forgotten:
        return False
    report = await erase_member(
        ctx.db,
        member_id,
        ctx.clock.now(),
        requested_by=requested_by,
        via="console",
        is_manager=ctx.settings.is_admin,  # a manager's replacement stays out of the figures
        secret_key=ctx.settings.secret_key,  # keys what recognises them in a roster
    )
    ctx.request_plan()
    return report is not None


@dataclass
class RosterOutcome:
    """What a roster upload did: every problem row by row and nothing imported, or the
    counts of the members created, updated and unchanged."""

    imported: bool
    problems: list[str] = field(default_factory=list)  # the CLI's lines, grouped alike
    errors: list[LoadError] = field(default_factory=list)
    # the same problems as the page says them ("Line 3, column 2: ..."), not file:3:2:
    lines: list[str] = field(default_factory=list)
    members: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    erased: int = 0  # rows naming a person erased on request: not imported again


def _at_line(locale: str | None) -> Callable[[LoadError, str], str]:
    """A roster problem's place as a person reads it, its row and column in words."""

    def located(error: LoadError, words: str) -> str:
        if error.whole_file:  # unreadable, empty: no line or column to point at
            return words[:1].upper() + words[1:]  # a sentence of its own
        if error.field:
            # Translators: a problem of an uploaded roster at its row (line) and column, the
            # column's name, then what is wrong ("Line 3, column 2: email: not an e-mail").
            text = gettext(locale, "Line {line}, column {column}: {field}: {problem}")
        else:
            # Translators: a problem of an uploaded roster at its row (line) and column, then
            # what is wrong.
            text = gettext(locale, "Line {line}, column {column}: {problem}")
        return text.format(line=error.line, column=error.column, field=error.field, problem=words)

    return located


async def import_roster(
    ctx: Console,
    raw: bytes,
    source: str,
    *,
    platform: str,
    date_format: str = "auto",
    dry_run: bool = False,
    locale: str | None = None,
) -> RosterOutcome:
    """Read an uploaded roster (CSV or workbook) as ``rallybot roster import`` does and
    apply it all or nothing: any row with a problem and no member changes. The problems are
    in ``locale``'s language."""
    if len(raw) > ROSTER_MAX_BYTES:
        size = number(len(raw) / (1024 * 1024), locale, "0.0")
        # Translators: {size} and {limit} are in megabytes ("7.5", "5").
        problem = gettext(
            locale, "{file}: the file is {size} MB; roster uploads are limited to {limit} MB"
        ).format(file=source, size=size, limit=megabytes(ROSTER_MAX_BYTES))
        return RosterOutcome(False, [problem], lines=[problem])
    try:
        roster = read_roster_bytes(
            raw, source, default_timezone=ctx.settings.timezone, date_format=date_format
        )
    except RosterLoadError as exc:
        return RosterOutcome(
            False,
            summarize_errors(exc.errors, locale=locale),
            exc.errors,
            summarize_errors(exc.errors, locale=locale, located=_at_line(locale)),
        )
    except ValueError as exc:  # the date format asked for is not one
        return RosterOutcome(False, [str(exc)], lines=[str(exc)])
    rows = [member_fields(entry) for entry in roster.entries]
    outcome = RosterOutcome(False, members=len(rows))
    if dry_run:
        return outcome
    counts = await import_members(
        ctx.db,
        platform,
        rows,
        ctx.clock.now(),
        secret_key=ctx.settings.secret_key,
        source=RosterSource(UPLOAD, roster_digest(raw)),
    )
    ctx.request_plan()
    outcome.imported = True
    outcome.created, outcome.updated, outcome.unchanged, outcome.erased = (
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.erased,
    )
    return outcome


async def current_members(ctx: Console) -> list[MemberView]:
    """The planner's views of the members the bot knows (a draft's timeline is planned for
    them): people only, forgotten rows left out."""
    rows = await list_members(ctx.db)
    return [member_view(row) for row in rows if not row.forgotten and not row.is_bot]
