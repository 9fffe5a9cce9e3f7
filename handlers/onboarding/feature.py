"""Onboarding journeys: the checklist, task detection, nudges that stop, buddies, escalation.

The journey's messages (welcome, nudges) are campaign steps generated from the file's
``journey:`` section (:mod:`campaigns.journey`): the planner and the outbox pace them. This
module decides, at send time, whether a nudge still has a reason to go (:func:`make_gate`):
its task not done, the checklist not finished, fewer than N nudges today for that member. It
records tasks done (from events, from the platform profile, from the quiz answers, from the
accept and done buttons), celebrates a finished checklist once, assigns buddies and tells
the community managers about newcomers stuck for too long.

One-off messages (celebration, buddy introductions, escalations) go through the outbox too,
under the campaign id ``<campaign>.onboarding`` so that they are rate limited, retried and
never sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from rallybot.bot import i18n, notices
from rallybot.bot.context import locale_for
from rallybot.bot.events import (
    ButtonClicked,
    CommandInvoked,
    MemberJoined,
    MessagePosted,
    ProfileChanged,
)
from rallybot.bot.feature import Feature, Subscription, Tick
from rallybot.bot.messages import Message
from rallybot.bot.messages import member as member_text
from rallybot.bot.outbox import HANDED_BACK, NOT_NEEDED
from rallybot.bot.views import member_view
from rallybot.campaigns.journey import (
    ACCEPT_ACTION,
    DONE_ACTION,
    TASK_CONDITION,
    Journey,
    Task,
    journey_of,
    task_done_step_id,
)
from rallybot.campaigns.planner import MemberView, after_quiet, build_message, members_of, zone_of
from rallybot.campaigns.schema import (
    AudienceSpec,
    Campaign,
    LocalizedText,
    Step,
    StepSpec,
    pick_locale,
)
from rallybot.campaigns.timeexpr import localize
from rallybot.handlers.onboarding.commands import COMMAND_SPECS
from rallybot.handlers.points.service import check_badges, grant
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.inserts import insert_for
from rallybot.storage.ledger import onboarding_done_key
from rallybot.storage.models import ChannelMember, Delivery, DeliveryStatus, Member, table_of
from rallybot.storage.onboarding_models import JourneyState, JourneyTask
from rallybot.storage.quiz_models import QuizAnswer
from rallybot.storage.repositories import (
    channel_memberships,
    get_member,
    get_member_by_platform_id,
    upsert_member,
)

if TYPE_CHECKING:
    from rallybot.bot.adapters.base import Adapter
    from rallybot.bot.context import BotContext
    from rallybot.bot.outbox import Gate
    from rallybot.campaigns.roster import RosterEntry

__all__ = [
    "COMMANDS",
    "SIDE_SUFFIX",
    "OnboardingFeature",
    "RosterMatch",
    "checklist",
    "make_gate",
    "match_roster",
    "next_event_time",
    "tick",
]

log = logging.getLogger("rallybot.onboarding")

COMMANDS = frozenset({"onboarding", "stop", "start"})
SIDE_SUFFIX = ".onboarding"
"""Campaign id suffix of the journey's one-off outbox rows (celebration, buddies, escalation)."""

J = table_of(JourneyState).c
T = table_of(JourneyTask).c
D = table_of(Delivery).c
Q = table_of(QuizAnswer).c


def _mention(user_id: str) -> str:
    return f"<@{user_id}>"


def _name(member: Member) -> str:
    """The member's name as member text: the renderers escape it (a name can be ``<!channel>``)."""
    return member_text(member.display_name or member.first_name or member.platform_user_id)


# ---------------------------------------------------------------------------- lookups


def _campaigns(ctx: BotContext) -> list[tuple[Campaign, Journey]]:
    """The loaded campaigns that have a journey."""
    found: list[tuple[Campaign, Journey]] = []
    campaigns: Mapping[str, Campaign] = ctx.campaigns
    for campaign in campaigns.values():
        journey = journey_of(campaign)
        if journey is not None:
            found.append((campaign, journey))
    return found


def _resolve(ctx: BotContext, campaign: Campaign, name: str) -> str:
    return ctx.channel_ids(campaign).get(name, name)


async def _view(
    ctx: BotContext, campaign: Campaign, journey: Journey, member: Member
) -> MemberView:
    by_channel = any(
        isinstance(spec, AudienceSpec) and spec.channel
        for name, spec in campaign.spec.audiences.items()
        if name in journey.audiences
    )
    channels: set[str] = set()
    if by_channel and member.id is not None:  # only channel audiences need the memberships
        channels = (await channel_memberships(ctx.db, [member.id])).get(member.id, set())
    # The checklist is theirs even when reminders are off.
    return replace(member_view(member, channels), opted_out=False)


def _in_journey(ctx: BotContext, campaign: Campaign, journey: Journey, view: MemberView) -> bool:
    return bool(members_of(campaign, journey.audiences, [view], ctx.channel_ids(campaign)))


# ---------------------------------------------------------------------------- storage


async def _state(db: Database, member_id: int, campaign_id: str) -> JourneyState | None:
    async with db.session() as session:
        return await session.get(JourneyState, (member_id, campaign_id), populate_existing=True)


async def _mark(
    db: Database, member_id: int, campaign_id: str, task_id: str, at: datetime, how: str
) -> bool:
    """Record a task done; False when it already was."""
    async with db.session() as session:
        stmt = (
            insert_for(session, JourneyTask)
            .values(
                member_id=member_id, campaign_id=campaign_id, task_id=task_id, done_at=at, how=how
            )
            .on_conflict_do_nothing(index_elements=["member_id", "campaign_id", "task_id"])
        )
        return bool(outbox.affected(await session.execute(stmt)))


async def _set_once(
    db: Database, member_id: int, campaign_id: str, column: str, value: object
) -> bool:
    """Set a journey column that is still empty; False when another process set it first."""
    async with db.session() as session:
        result = await session.execute(
            sa.update(JourneyState)
            .where(J.member_id == member_id, J.campaign_id == campaign_id, J[column].is_(None))
            .values({column: value})
        )
        return bool(outbox.affected(result))


# ---------------------------------------------------------------------------- the outbox


async def _queue(
    ctx: BotContext,
    campaign: Campaign,
    step_id: str,
    occurrence: str,
    message: Message,
    *,
    member: Member | None = None,
    channel: str | None = None,
    service: bool = False,
) -> int:
    """Put a one-off message in the outbox (due now); 0 when that key was already queued.
    ``service``: it answers something the member did (never held by a closed wave)."""
    now = ctx.clock.now()
    side = campaign.id + SIDE_SUFFIX
    grace = campaign.grace or ctx.settings.grace
    if member is not None:
        assert member.id is not None
        row = notices.direct_row(
            side,
            step_id,
            member.id,
            message,
            now,
            occurrence=occurrence,
            grace=grace,
            service=False,
        )
    else:
        assert channel is not None
        row = notices.channel_row(
            side,
            step_id,
            channel,
            message,
            now,
            occurrence=occurrence,
            grace=grace,
            service=service,
        )
    async with ctx.db.session() as session:
        return await notices.queue(session, [row])


def _adhoc(step_id: str, dm: LocalizedText) -> Step:
    spec = StepSpec.model_validate({"id": step_id, "at": "join", "dm": dm})
    return Step(spec, -1, None, None, None, None, (), None, "")


# ---------------------------------------------------------------------------- tasks


@dataclass
class _Snapshot:
    """What one read of the database knows of a member's journey."""

    state: JourneyState | None
    done: dict[str, datetime]
    channels: set[str]
    answered_quiz: bool
    nudges_today: int = 0
    created: bool = False  # this read started the journey


async def _snapshot(
    db: Database,
    member_id: int,
    journey: Journey,
    *,
    nudges_since: tuple[str, datetime] | None = None,
    start_at: datetime | None = None,
) -> _Snapshot:
    """The journey row (created first, started at ``start_at``, when given), the tasks done,
    what detection needs and (``nudges_since``: recipient and instant) the nudges sent since
    then, in one database session."""
    campaign_id = journey.campaign_id
    kinds = {task.kind for task in journey.tasks}
    async with db.session() as session:
        created = False
        if start_at is not None:
            stmt = (
                insert_for(session, JourneyState)
                .values(member_id=member_id, campaign_id=campaign_id, started_at=start_at)
                .on_conflict_do_nothing(index_elements=["member_id", "campaign_id"])
            )
            created = bool(outbox.affected(await session.execute(stmt)))
        state = await session.get(JourneyState, (member_id, campaign_id), populate_existing=True)
        done: dict[str, datetime] = {}
        channels: set[str] = set()
        answered = False
        sent = 0
        if state is not None:
            rows = await session.execute(
                sa.select(T.task_id, T.done_at).where(
                    T.member_id == member_id, T.campaign_id == campaign_id
                )
            )
            done = {task_id: done_at for task_id, done_at in rows.all()}
            pending = {task.kind for task in journey.tasks if task.id not in done}
            if "joined_channels" in pending:
                found = await session.execute(
                    sa.select(table_of(ChannelMember).c.channel_id).where(
                        table_of(ChannelMember).c.member_id == member_id
                    )
                )
                channels = set(found.scalars())
            if "quiz_answered" in pending and "quiz_answered" in kinds:
                quiz = await session.execute(
                    sa.select(Q.id).where(Q.member_id == member_id, Q.final.is_(True)).limit(1)
                )
                answered = quiz.first() is not None
            if nudges_since is not None:
                recipient, since = nudges_since
                count = await session.execute(
                    sa.select(sa.func.count()).where(
                        D.campaign_id == campaign_id,
                        D.recipient == recipient,
                        D.step_id.in_(list(journey.step_task)),
                        D.status == DeliveryStatus.sent.value,
                        D.sent_at >= since,
                    )
                )
                sent = int(count.scalar() or 0)
        return _Snapshot(state, done, channels, answered, sent, created)


async def _detect(
    ctx: BotContext,
    campaign: Campaign,
    journey: Journey,
    member: Member,
    snapshot: _Snapshot,
    *,
    fetch_profile: bool,
) -> list[Task]:
    """Tasks the platform or the database shows done that are not recorded yet."""
    found: list[Task] = []
    for task in journey.tasks:
        if task.id in snapshot.done:
            continue
        if task.kind == "profile_complete":
            complete = member.profile_complete
            if not complete and fetch_profile:
                profile = await ctx.adapter.fetch_profile(member.platform_user_id)
                if profile is not None and profile.profile_complete:
                    complete = True
                    await upsert_member(
                        ctx.db,
                        member.platform,
                        member.platform_user_id,
                        ctx.clock.now(),
                        profile_complete=True,
                    )
            if complete:
                found.append(task)
        elif task.kind == "joined_channels":
            wanted = [(name, _resolve(ctx, campaign, name)) for name in task.channels]
            if all(name in snapshot.channels or id_ in snapshot.channels for name, id_ in wanted):
                found.append(task)
        elif task.kind == "quiz_answered" and snapshot.answered_quiz:
            found.append(task)
    return found


async def _grant(ctx: BotContext, **kwargs: Any) -> None:
    try:
        await grant(ctx, action="onboarding_task", **kwargs)
    except Exception:  # points are a bonus: a ledger problem never stops the journey
        log.exception("could not grant onboarding points (%s)", kwargs.get("key"))


async def _check_badges(ctx: BotContext, member: Member, at: datetime) -> None:
    try:
        await check_badges(ctx, member, at=at)
    except Exception:  # badges are a bonus too
        log.exception("could not check the badges of member %s", member.id)


async def _record(
    ctx: BotContext,
    campaign: Campaign,
    member: Member,
    task: Task,
    at: datetime,
    how: str,
) -> bool:
    assert member.id is not None
    if not await _mark(ctx.db, member.id, campaign.id, task.id, at, how):
        return False
    log.info("member %s did onboarding task %s/%s", member.id, campaign.id, task.id)
    await _grant(
        ctx,
        member_id=member.id,
        key=f"onboarding:{campaign.id}:{task.id}:{member.id}",
        at=at,
        campaign_id=campaign.id,
    )
    return True


async def refresh(
    ctx: BotContext,
    campaign: Campaign,
    journey: Journey,
    member: Member,
    *,
    fetch_profile: bool = False,
) -> dict[str, datetime] | None:
    """Bring a member's journey up to date: start it, record tasks seen done, celebrate a
    finished checklist (once). Returns the tasks done, or None when the member has no
    journey in this campaign (not in its audience, or not joined yet)."""
    snapshot = await _refresh(ctx, campaign, journey, member, fetch_profile=fetch_profile)
    return snapshot.done if snapshot is not None else None


async def _refresh(
    ctx: BotContext,
    campaign: Campaign,
    journey: Journey,
    member: Member,
    *,
    fetch_profile: bool = False,
    nudges_since: tuple[str, datetime] | None = None,
) -> _Snapshot | None:
    if member.id is None or member.is_bot or member.joined_at is None:
        return None
    now = ctx.clock.now()
    if member.joined_at > now:
        return None
    snapshot = await _snapshot(ctx.db, member.id, journey, nudges_since=nudges_since)
    if snapshot.state is None:
        if not _in_journey(ctx, campaign, journey, await _view(ctx, campaign, journey, member)):
            return None
        snapshot = await _snapshot(
            ctx.db, member.id, journey, nudges_since=nudges_since, start_at=member.joined_at
        )
        assert snapshot.state is not None
        if snapshot.created:
            await _assign_buddy(ctx, campaign, member)
    assert snapshot.state is not None
    if snapshot.state.completed_at is not None:
        return snapshot
    found = await _detect(ctx, campaign, journey, member, snapshot, fetch_profile=fetch_profile)
    for task in found:
        if await _record(ctx, campaign, member, task, now, "detected"):
            snapshot.done[task.id] = now
    finished = all(task.id in snapshot.done for task in journey.tasks)
    if finished and await _celebrate(ctx, campaign, journey, member, now):
        snapshot.state.completed_at = now
    return snapshot


async def _celebrate(
    ctx: BotContext, campaign: Campaign, journey: Journey, member: Member, now: datetime
) -> bool:
    assert member.id is not None
    if not await _set_once(ctx.db, member.id, campaign.id, "completed_at", now):
        return False  # celebrated already, by this process or another
    log.info("member %s finished onboarding of %s", member.id, campaign.id)
    await _grant(
        ctx,
        member_id=member.id,
        key=onboarding_done_key(campaign.id, member.id),
        at=now,
        campaign_id=campaign.id,
        amount=journey.done_points,
        reason="onboarding checklist complete",
    )
    await _check_badges(ctx, member, now)  # "onboarding_done" even when the bonus is 0
    locale = locale_for(ctx, member, campaign)
    # Translators: {first_name} is filled in by the campaign's templates; keep it as it is.
    done = i18n.gettext(
        locale, "Congratulations {first_name}, your onboarding checklist is complete!"
    )
    text: LocalizedText = journey.done_dm or {locale: done}
    view = await _view(ctx, campaign, journey, member)
    zone = zone_of(member.timezone, ctx.settings.timezone)
    message = build_message(campaign, _adhoc("journey-done", text), now.astimezone(zone), view)
    await _queue(ctx, campaign, "journey-done", "once", message, member=member)
    return True


# ---------------------------------------------------------------------------- buddies


async def _buddy_loads(db: Database, pool: Sequence[str]) -> dict[str, int]:
    async with db.session() as session:
        rows = await session.execute(
            sa.select(J.buddy_user_id, sa.func.count())
            .where(J.buddy_user_id.in_(list(pool)))
            .group_by(J.buddy_user_id)
        )
        return {str(buddy): int(count) for buddy, count in rows.all()}


async def _assign_buddy(ctx: BotContext, campaign: Campaign, member: Member) -> str | None:
    """Give a newcomer the least busy buddy of the pool (pool order breaks ties: round-robin)
    and introduce them to each other."""
    pool = [b for b in ctx.settings.onboarding_buddies if b != member.platform_user_id]
    if not pool or member.id is None:
        return None
    loads = await _buddy_loads(ctx.db, pool)
    buddy = min(pool, key=lambda b: (loads.get(b, 0), pool.index(b)))
    if not await _set_once(ctx.db, member.id, campaign.id, "buddy_user_id", buddy):
        return None
    buddy_member = await upsert_member(ctx.db, member.platform, buddy, ctx.clock.now())
    title = campaign.spec.title
    # Translators: {buddy} is a mention of a colleague; {campaign} the onboarding's title.
    newcomer = i18n.gettext(
        locale_for(ctx, member, campaign),
        "{buddy} is your buddy on {campaign}: ask them anything, they have been there.",
    ).format(buddy=_mention(buddy), campaign=title)
    await _queue(ctx, campaign, "journey-buddy", "once", Message(text=newcomer), member=member)
    intro = i18n.gettext(
        locale_for(ctx, buddy_member, campaign),
        "You are the buddy of {name}, who just arrived. A short hello makes all the difference!",
    ).format(name=_mention(member.platform_user_id))
    await _queue(
        ctx,
        campaign,
        "journey-buddy-intro",
        str(member.id),
        Message(text=intro),
        member=buddy_member,
    )
    log.info("member %s gets buddy %s (%s)", member.id, buddy, campaign.id)
    return buddy


# ---------------------------------------------------------------------------- the gate


def _next_day_same_time(due: datetime, zone: Any, campaign: Campaign, now: datetime) -> datetime:
    """The same local time as ``due`` on the day after ``now`` (out of quiet hours)."""
    local_due = due.astimezone(zone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    later = localize(datetime.combine(tomorrow, local_due.time().replace(tzinfo=None)), zone)
    if campaign.quiet_hours is not None:
        later = after_quiet(later, zone, campaign.quiet_hours)
    return later


async def _hand_back(
    ctx: BotContext, row: Delivery, due: datetime, grace: timedelta, reason: str
) -> bool:
    """Put a claimed row back in the queue, due at ``due``, as if never tried."""
    async with ctx.db.session() as session:
        result = await session.execute(
            sa.update(Delivery)
            .where(
                D.id == row.id,
                D.claimed_by == row.claimed_by,
                D.status == DeliveryStatus.claimed.value,
            )
            .values(
                status=DeliveryStatus.pending.value,
                claimed_by=None,
                lease_until=None,
                attempts=0,
                due_at=due,
                grace_until=due + grace,
                reason=reason,
                updated_at=ctx.clock.now(),
            )
        )
        return bool(outbox.affected(result))


def make_gate(ctx: BotContext) -> Gate:
    """The outbox gate of journey messages: ``unless: task_done(...)``, a finished checklist,
    and at most N nudges per member per day (the next ones move to the next day)."""

    async def gate(row: Delivery, member: Member) -> object:
        campaigns: Mapping[str, Campaign] = ctx.campaigns
        campaign = campaigns.get(row.campaign_id)
        journey = journey_of(campaign) if campaign is not None else None
        if campaign is None or journey is None:
            return None
        conditions = [
            match.group(1)
            for match in (TASK_CONDITION.match(c) for c in row.payload.get("unless", ()))
            if match is not None
        ]
        if not journey.owns(row.step_id) and not conditions:
            return None
        task_id = journey.step_task.get(row.step_id)
        task = journey.task(task_id) if task_id else None
        zone = zone_of(member.timezone, ctx.settings.timezone)
        now = ctx.clock.now()
        midnight = localize(datetime.combine(now.astimezone(zone).date(), time(0)), zone)
        snapshot = await _refresh(
            ctx,
            campaign,
            journey,
            member,
            fetch_profile=task is not None and task.kind == "profile_complete",
            nudges_since=(row.recipient, midnight) if task is not None else None,
        )
        if snapshot is None:
            return None
        for condition in conditions:
            if condition in snapshot.done:
                return f'condition met: the onboarding task "{condition}" is done'
        if task is None:
            return None
        if snapshot.state is not None and snapshot.state.completed_at is not None:
            return f"{NOT_NEEDED}the onboarding checklist is complete"
        cap = journey.max_nudges_per_day or ctx.settings.onboarding_max_nudges_per_day
        sent = snapshot.nudges_today
        if sent < cap:
            return None
        later = _next_day_same_time(row.due_at, zone, campaign, now)
        grace = campaign.grace or ctx.settings.grace
        reason = f"deferred: onboarding reminders already sent today: {sent} (at most {cap})"
        if await _hand_back(ctx, row, later, grace, reason):
            log.info("deferred %s to %s: %s", row.key, later.isoformat(), reason)
        return HANDED_BACK

    return gate


# ---------------------------------------------------------------------------- escalation


async def tick(ctx: BotContext) -> int:
    """Tell the community managers about newcomers still not done N days after joining."""
    days = ctx.settings.onboarding_escalate_after_days
    if not days:
        return 0
    journeys = {campaign.id: (campaign, journey) for campaign, journey in _campaigns(ctx)}
    if not journeys:
        return 0
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        rows = (
            await session.execute(
                sa.select(J.member_id, J.campaign_id)
                .where(
                    J.completed_at.is_(None),
                    J.escalated_at.is_(None),
                    J.started_at <= now - timedelta(days=days),
                    J.campaign_id.in_(list(journeys)),
                )
                .limit(500)
            )
        ).all()
    sent = 0
    for member_id, campaign_id in rows:
        campaign, journey = journeys[campaign_id]
        if not await _set_once(ctx.db, member_id, campaign_id, "escalated_at", now):
            continue
        member = await get_member(ctx.db, member_id)
        if member is None:
            continue
        sent += await _escalate(ctx, campaign, journey, member, days)
    return sent


async def _escalate(
    ctx: BotContext, campaign: Campaign, journey: Journey, member: Member, days: int
) -> int:
    assert member.id is not None
    done = (await _snapshot(ctx.db, member.id, journey)).done
    lang = ctx.settings.locale  # for the community managers: the bot's language
    left = [
        pick_locale(task.label, lang, campaign.spec.locale)[1]
        for task in journey.tasks
        if task.id not in done
    ]
    name = f"{_name(member)} ({_mention(member.platform_user_id)})"
    if member.opted_out:
        # Translators: appended to a newcomer's name in an alert to the community managers.
        name += i18n.gettext(lang, " (reminders turned off)")
    # Translators: to the community managers; {tasks} lists the checklist items left.
    text = i18n.ngettext(
        lang,
        "{name} joined {days} day ago and has not finished onboarding ({campaign}). "
        "Still to do: {tasks}.",
        "{name} joined {days} days ago and has not finished onboarding ({campaign}). "
        "Still to do: {tasks}.",
        days,
    ).format(name=name, days=days, campaign=campaign.spec.title, tasks=", ".join(left))
    message = Message(text=text, metadata={"campaign": campaign.id, "step": "journey-escalation"})
    channel = ctx.settings.onboarding_escalation_channel
    if channel:
        target = _resolve(ctx, campaign, channel)
        return await _queue(
            ctx, campaign, "journey-escalation", str(member.id), message, channel=target
        )
    queued = 0
    for admin in ctx.settings.admins:
        platform, _, user_id = admin.rpartition(":")
        if platform and platform != member.platform:
            continue
        manager = await upsert_member(ctx.db, member.platform, user_id, ctx.clock.now())
        queued += await _queue(
            ctx, campaign, "journey-escalation", str(member.id), message, member=manager
        )
    return queued


async def next_event_time(ctx: BotContext, horizon: datetime) -> datetime | None:
    """When the next escalation falls due (simulated clocks jump there)."""
    days = ctx.settings.onboarding_escalate_after_days
    journeys = [campaign.id for campaign, _ in _campaigns(ctx)]
    if not days or not journeys:
        return None
    async with ctx.db.session() as session:
        first = (
            await session.execute(
                sa.select(sa.func.min(J.started_at)).where(
                    J.completed_at.is_(None),
                    J.escalated_at.is_(None),
                    J.campaign_id.in_(journeys),
                )
            )
        ).scalar()
    if first is None:
        return None
    assert isinstance(first, datetime)
    due = first.replace(tzinfo=first.tzinfo or ctx.clock.now().tzinfo) + timedelta(days=days)
    return due if due <= horizon else None


# ---------------------------------------------------------------------------- events


async def _member(ctx: BotContext, platform: str, user_id: str) -> Member | None:
    member = await get_member_by_platform_id(ctx.db, platform, user_id)
    if member is None or member.is_bot or member.id is None:
        return None
    return member


async def on_member_joined(event: MemberJoined, ctx: BotContext) -> None:
    """A newcomer (workspace, server or community channel) starts their journey; joining a
    channel may complete a "joined channels" task."""
    if event.user.is_bot or not _campaigns(ctx):
        return
    member = await _member(ctx, event.platform, event.user.id)
    if member is None:
        return
    for campaign, journey in _campaigns(ctx):
        await refresh(ctx, campaign, journey, member)


async def on_profile_changed(event: ProfileChanged, ctx: BotContext) -> None:
    """A profile just completed on the platform (stored by the members handler, which runs
    first) completes the "profile complete" task at once: its nudges stop."""
    if event.user.is_bot or not event.profile.profile_complete or not _campaigns(ctx):
        return
    member = await _member(ctx, event.platform, event.user.id)
    if member is None or not member.profile_complete:
        return
    for campaign, journey in _campaigns(ctx):
        if any(task.kind == "profile_complete" for task in journey.tasks):
            await refresh(ctx, campaign, journey, member)


def _first_post_channels(
    ctx: BotContext, campaign: Campaign, journey: Journey, task: Task
) -> set[str]:
    name = task.channel or journey.community or ctx.settings.community_channel
    if name is None:
        return set()  # any channel counts
    return {name, _resolve(ctx, campaign, name)}


async def on_message_posted(event: MessagePosted, ctx: BotContext) -> None:
    """A first post in the community channel completes the "first post" task; a message in
    direct conversation may be a quiz answer."""
    if event.user.is_bot or not _campaigns(ctx):
        return
    member = await _member(ctx, event.platform, event.user.id)
    if member is None:
        return
    assert member.id is not None
    for campaign, journey in _campaigns(ctx):
        done = await refresh(ctx, campaign, journey, member)
        if done is None or event.channel.is_direct:
            continue
        recorded = False
        for task in journey.tasks:
            if task.kind != "first_post" or task.id in done:
                continue
            where = _first_post_channels(ctx, campaign, journey, task)
            if where and event.channel.id not in where and event.channel.name not in where:
                continue
            recorded |= await _record(ctx, campaign, member, task, event.occurred_at, "detected")
        if recorded:
            await refresh(ctx, campaign, journey, member)


async def on_button_clicked(event: ButtonClicked, ctx: BotContext) -> None:
    """The charter's "I accept" and a self-declared task's button; other buttons may have
    answered a quiz."""
    if event.user.is_bot or not _campaigns(ctx):
        return
    member = await _member(ctx, event.platform, event.user.id)
    if member is None:
        return
    assert member.id is not None
    if event.action_id not in {ACCEPT_ACTION, DONE_ACTION}:
        for loaded, loaded_journey in _campaigns(ctx):
            if any(task.kind == "quiz_answered" for task in loaded_journey.tasks):
                await refresh(ctx, loaded, loaded_journey, member)
        return
    campaign_id, _, step_id = event.value.partition("/")
    campaigns: Mapping[str, Campaign] = ctx.campaigns
    campaign = campaigns.get(campaign_id)
    journey = journey_of(campaign) if campaign is not None else None
    task_id = journey.step_task.get(step_id) if journey is not None else None
    task = journey.task(task_id) if journey is not None and task_id else None
    if campaign is None or journey is None or task is None:
        log.info("ignored onboarding button %r: no such task", event.value)
        return
    wanted = ACCEPT_ACTION if task.kind == "charter_accepted" else DONE_ACTION
    if event.action_id != wanted:
        return
    if await refresh(ctx, campaign, journey, member) is None:
        return
    at = event.occurred_at
    lang = locale_for(ctx, member, campaign)
    # The task, and its acknowledgement (an outbox row, once per member and task: a click
    # handled again after a crash, or the same button again, adds none), together.
    async with ctx.db.shared():
        await _acknowledge(ctx, campaign, journey, member, task, at, lang)


async def _acknowledge(
    ctx: BotContext,
    campaign: Campaign,
    journey: Journey,
    member: Member,
    task: Task,
    at: datetime,
    lang: str,
) -> None:
    """Record a task done with its button, and queue the member's acknowledgement."""
    assert member.id is not None
    recorded = await _record(ctx, campaign, member, task, at, "button")
    if task.kind == "charter_accepted":
        await _set_once(ctx.db, member.id, campaign.id, "charter_accepted_at", at)
        state = await _state(ctx.db, member.id, campaign.id)
        accepted = state.charter_accepted_at if state and state.charter_accepted_at else at
        zone = zone_of(member.timezone, ctx.settings.timezone)
        # Translators: keep "{when:" and "}"; between them is a date and time format
        # (Python's strftime: %Y year, %m month, %d day, %H:%M hour) to write the local way.
        text = i18n.gettext(
            lang, "Thank you: you accepted the charter on {when:%Y-%m-%d at %H:%M}."
        ).format(when=accepted.astimezone(zone))
    else:
        # Translators: {task} is a checklist item's label, from the campaign.
        text = i18n.gettext(
            lang, "Noted: “{task}” is done. /rallybot onboarding shows your checklist."
        ).format(task=pick_locale(task.label, lang, campaign.spec.locale)[1])
    # First: the member reads it before what the task leads to (the journey's end).
    step_id = task_done_step_id(task.id)
    await _queue(ctx, campaign, step_id, "once", Message(text=text), member=member, service=True)
    if recorded:
        await refresh(ctx, campaign, journey, member)


# ---------------------------------------------------------------------------- commands


async def checklist(ctx: BotContext, member: Member) -> str:
    """The member's checklists, one per journey they are on, as text."""
    lang = locale_for(ctx, member)
    parts: list[str] = []
    for campaign, journey in _campaigns(ctx):
        done = await refresh(ctx, campaign, journey, member, fetch_profile=True)
        if done is None:
            continue
        state = await _state(ctx.db, member.id or 0, campaign.id)
        count = sum(1 for task in journey.tasks if task.id in done)
        # Translators: {done} of the {total} checklist items are done.
        title = i18n.ngettext(
            lang,
            "Your onboarding checklist — {campaign}: {done}/{total} done",
            "Your onboarding checklist — {campaign}: {done}/{total} done",
            count,
        )
        lines = [title.format(campaign=campaign.spec.title, done=count, total=len(journey.tasks))]
        for task in journey.tasks:
            mark = "✅" if task.id in done else "⬜"
            lines.append(f"{mark} {pick_locale(task.label, lang, campaign.spec.locale)[1]}")
        if state is not None and state.completed_at is not None:
            lines.append(i18n.gettext(lang, "All done, well played!"))
        if state is not None and state.buddy_user_id:
            lines.append(
                i18n.gettext(lang, "Your buddy: {buddy}").format(
                    buddy=_mention(state.buddy_user_id)
                )
            )
        parts.append("\n".join(lines))
    if not parts:
        return _no_checklist(lang)
    if member.opted_out:
        parts.append(
            i18n.gettext(lang, "Reminders are off (/rallybot start to turn them back on).")
        )
    return "\n\n".join(parts)


def _no_checklist(locale: str) -> str:
    return i18n.gettext(locale, "You have no onboarding checklist.")


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot onboarding``, ``/rallybot stop`` and ``/rallybot start``."""
    name = event.name.lower()
    if name not in COMMANDS:
        return
    member = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    if name == "onboarding":
        if member is None:
            await ctx.answer(event, _no_checklist(locale_for(ctx)))
            return
        await ctx.answer(event, await checklist(ctx, member))
        return
    stopping = name == "stop"
    member = await upsert_member(
        ctx.db,
        event.platform,
        event.user.id,
        ctx.clock.now(),
        opted_out=stopping,
        **({} if member is not None else {"display_name": event.user.name or event.user.id}),
    )
    log.info("member %s turned reminders %s", member.id, "off" if stopping else "on")
    ctx.request_plan()
    lang = locale_for(ctx, member)
    if stopping:
        text = i18n.gettext(
            lang,
            "Done: no more reminders from Rallybot. Announcements in the channels go on. "
            "/rallybot start turns the reminders back on.",
        )
    else:
        text = i18n.gettext(
            lang, "Reminders are back on. /rallybot onboarding shows your checklist."
        )
    await ctx.answer(event, text)


# ---------------------------------------------------------------------------- roster matching


@dataclass
class RosterMatch:
    """Roster rows matched to platform accounts (by email, or by their ``discord`` cell), and
    those that were not, each with its reason (``reasons``, in the order of ``unmatched``)."""

    entries: list[RosterEntry] = field(default_factory=list)
    unmatched: list[RosterEntry] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def report(self, source: str, locale: str | None = None) -> list[str]:
        """One line per row that did not match, ``file:line: email or name: reason``, the
        reason in ``locale``'s language."""
        return [
            f"{source}:{entry.line}: {entry.discord or entry.email}: "
            + i18n.gettext(locale, reason)
            for entry, reason in zip(self.unmatched, self.reasons, strict=True)
        ]


async def match_roster(
    adapter: Adapter, entries: Sequence[RosterEntry], *, concurrency: int = 4
) -> RosterMatch:
    """Give every row without an ``id`` the platform account it names: its ``discord`` cell
    (an id, a mention or a username) through ``adapter.lookup_member`` when the platform has
    it (Discord), else its email through ``adapter.lookup_by_email`` (Slack). Rows with an
    ``id`` are kept as they are; the others are listed with the reason.

    Raises TypeError when the platform can look members up neither way.
    """
    by_email = getattr(adapter, "lookup_by_email", None)
    by_name = getattr(adapter, "lookup_member", None)
    if by_email is None and by_name is None:
        raise TypeError(f'the "{adapter.platform}" platform cannot look members up by email')
    semaphore = asyncio.Semaphore(concurrency)

    async def one(entry: RosterEntry) -> tuple[str | None, str]:
        if entry.id:
            return entry.id, ""
        if entry.discord and by_name is not None:
            async with semaphore:
                found: str | None = await by_name(entry.discord)
            return found, i18n.N_("no member of the server has this id or username (or several do)")
        if entry.email and by_email is not None:
            async with semaphore:
                found = await by_email(entry.email)
            return found, i18n.N_("no account with this email on the platform")
        if entry.discord:
            return None, i18n.N_("this platform cannot look members up by their Discord name")
        return None, i18n.N_(
            "this platform cannot look members up by email: give the row its account in a "
            '"discord" column (an id or a username)'
        )

    found = await asyncio.gather(*(one(entry) for entry in entries))
    result = RosterMatch()
    for entry, (user_id, reason) in zip(entries, found, strict=True):
        if user_id is None:
            result.unmatched.append(entry)
            result.reasons.append(reason)
        else:
            result.entries.append(replace(entry, id=user_id))
    return result


class OnboardingFeature(Feature):
    """Onboarding journeys: checklists, nudges and stuck newcomers."""

    name = "onboarding"
    after = ("members", "points", "quiz")
    commands = COMMAND_SPECS
    personal_data = ("onboarding_journey", "onboarding_task")

    def gates(self, ctx: BotContext) -> Sequence[Gate]:
        """Journey nudges: ``unless: task_done(...)``, a finished checklist, the daily cap."""
        return (make_gate(ctx),)

    def ticks(self) -> Sequence[Tick]:
        """Newcomers stuck for too long: tell the managers."""
        return (tick,)

    async def next_event_time(self, ctx: BotContext, horizon: datetime) -> datetime | None:
        """The next newcomer to be found stuck."""
        return await next_event_time(ctx, horizon)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers (after the members, points and quiz ones)."""
        return (
            Subscription(MemberJoined, on_member_joined),
            Subscription(ProfileChanged, on_profile_changed),
            Subscription(MessagePosted, on_message_posted),
            Subscription(ButtonClicked, on_button_clicked),
            Subscription(CommandInvoked, on_command),
        )
