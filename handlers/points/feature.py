"""Points, kudos, badges and leaderboards: events that earn points and the commands around them.

Every award goes through :func:`grant`, which applies the rules file (points per action, daily
caps, cooldowns, exclusions, kudos allowance and per-pair limit) and records the award in the
ledger (:mod:`storage.ledger`) under an idempotency key, so a replayed event never counts twice.

Commands: ``/rallybot points`` (mine), ``/rallybot top [all|season|7d|30d] [team]``,
``/rallybot kudos @member reason``; for community managers ``/rallybot points add|remove
@member N reason``, ``/rallybot points revert ENTRY_ID [reason]`` and ``/rallybot season start
NAME``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime, time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from rallybot.bot import i18n
from rallybot.bot.context import locale_for, member_for
from rallybot.bot.events import (
    CommandInvoked,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from rallybot.bot.feature import Feature, Subscription, Tick
from rallybot.bot.i18n import N_
from rallybot.bot.messages import Message
from rallybot.bot.messages import member as member_text
from rallybot.campaigns.loader import LoadError
from rallybot.campaigns.quiz import sanitize_answer
from rallybot.campaigns.rules import (
    ACTION_SOURCES,
    DEFAULT_RULES,
    BadgeSpec,
    Rules,
    RulesLoadError,
    load_rules,
    localized,
)
from rallybot.handlers.points.commands import COMMAND_SPECS
from rallybot.storage import ledger
from rallybot.storage.database import Database
from rallybot.storage.ledger import Limits, Period, PointCounts
from rallybot.storage.models import Delivery, DeliveryStatus, Member, PointEntry, table_of
from rallybot.storage.outbox import insert_deliveries
from rallybot.storage.repositories import get_member, get_member_by_platform_id

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "BADGE_OUTBOX",
    "COMMANDS",
    "PointsFeature",
    "check_badges",
    "find_member",
    "grant",
    "on_command",
    "on_message_posted",
    "on_reaction_added",
    "on_reaction_removed",
    "recognition_tick",
    "rules_of",
    "summary",
]

log = logging.getLogger("rallybot.points")

COMMANDS = frozenset({"points", "top", "kudos", "season"})
"""The ``/rallybot`` commands this module answers."""

BADGE_OUTBOX = "points.badges"
"""The outbox ``campaign_id`` of badge announcements (step ``badge-<id>``, occurrence the
member's id): written with the badge, in one transaction, so each goes out exactly once."""

PERIODS: dict[str, Period] = {"all": "all", "season": "season", "7d": "7d", "30d": "30d"}

# The reasons written in the ledger are English (its rows are read by managers' tools and
# exports); a member reads them through the catalogs (:func:`reason_text`).
_REASONS = {
    "reaction_on_announcement": N_("reaction on an announcement"),
    "first_post": N_("first post"),
    "quiz_correct": N_("correct quiz answer"),
    "quiz_speed_bonus": N_("quiz speed bonus"),
    "challenge_done": N_("challenge done"),
    # Translators: points a member got from a colleague's thanks.
    "kudos_received": N_("kudos"),
    "onboarding_task": N_("onboarding task"),
    "help_answer_accepted": N_("accepted help answer"),
}
_FIXED_REASONS = frozenset({*_REASONS.values(), N_("onboarding checklist complete")})
# A reason the code wrote with a value in it, as stored, and its message id: the value (a
# challenge's title, a kudos' words, an emoji) is shown as it is.
_SHAPED_REASONS = (
    (re.compile(r"^challenge done: (?P<value>.+)$", re.S), N_("challenge done: {value}")),
    # Translators: {value} is the words a colleague wrote with their thanks.
    (re.compile(r"^kudos: (?P<value>.+)$", re.S), N_("kudos: {value}")),
    (
        re.compile(r"^reacted :(?P<value>[^:\s]+): to an announcement$"),
        N_("reacted :{value}: to an announcement"),
    ),
    (re.compile(r"^kudos by :(?P<value>[^:\s]+): reaction$"), N_("kudos by :{value}: reaction")),
)
_TAKEN_BACK = " (taken back)"


def reason_text(locale: str | None, reason: str) -> str:
    """A ledger entry's reason for a member to read: the reasons the code writes (old rows
    included: they are stored as these English texts) in ``locale``'s language; a manager's
    own words as member text, untouched."""
    if reason.endswith(_TAKEN_BACK):
        inner = reason_text(locale, reason.removesuffix(_TAKEN_BACK))
        # Translators: points withdrawn (a reaction or a kudos removed); {reason} the original.
        return i18n.gettext(locale, "{reason} (taken back)").format(reason=inner)
    if reason in _FIXED_REASONS:
        return i18n.gettext(locale, reason)
    for pattern, message in _SHAPED_REASONS:
        if (found := pattern.match(reason)) is not None:
            value = member_text(found["value"], 200)
            return i18n.gettext(locale, message).format(value=value)
    return member_text(reason, 200)


D = table_of(Delivery).c
M = table_of(Member).c


def rules_of(ctx: BotContext) -> Rules:
    """The rules in force (the points feature's: the rules file, else the defaults)."""
    return ctx.feature(PointsFeature).rules


def _day_start(ctx: BotContext, at: datetime) -> datetime:
    """Midnight of ``at``'s day in the bot's time zone: daily limits reset then."""
    zone = ZoneInfo(ctx.settings.timezone)
    local = at.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def _excluded(ctx: BotContext, rules: Rules, member: Member) -> bool:
    if member.is_bot:
        return True
    user = UserRef(member.platform, member.platform_user_id)
    if user.id in rules.exclude.members or user.key in rules.exclude.members:
        return True
    return rules.exclude.community_managers and ctx.is_admin(user)


async def grant(
    ctx: BotContext,
    *,
    member_id: int,
    action: str,
    key: str,
    at: datetime | None = None,
    campaign_id: str | None = None,
    actor_id: int | None = None,
    reason: str | None = None,
    amount: int | None = None,
    kudos_note: str | None = None,
    may_wait: bool = False,
) -> int:
    """Award the points the rules give for ``action`` to a member, once per ``key``
    (``amount``, when given, replaces the rules' figure: a quiz question's own points).

    Kudos (``kudos_received`` with an ``actor_id``) are told to their receiver by a direct
    message in their language, written with the award so it goes out once; ``kudos_note`` is
    the giver's words (or the emoji), shown in it.

    Returns the points granted: 0 when the action earns nothing, the member is excluded (a bot,
    a listed member, a community manager when the rules say so), it would be a self-award
    (``actor_id`` is the member), the key was already used, or a cap, cooldown, per-pair limit
    or allowance refuses it. New badges are then awarded and announced (once).

    ``may_wait``: the award may land at the end of its group of events (see
    :func:`storage.ledger.award`); the figure returned is then the one it will grant unless
    its key was used, and the badges are checked once it has landed.
    """
    rules = rules_of(ctx)
    amount = rules.amount(action) if amount is None else amount  # KeyError: unknown action
    if amount <= 0 or actor_id == member_id:
        return 0
    member = await get_member(ctx.db, member_id)
    if member is None or _excluded(ctx, rules, member):
        return 0
    at = at or ctx.clock.now()
    source = ACTION_SOURCES[action]
    kudos = source == "kudos" and actor_id is not None
    notice: list[dict[str, Any]] = []
    if kudos and actor_id is not None:
        giver = await get_member(ctx.db, actor_id)
        if giver is not None:
            notice.append(_kudos_notice(ctx, member, giver, amount, key, kudos_note))
            if ctx.settings.recognition_channel and ctx.settings.recognition_feed == "live":
                notice.append(_recognition_post(ctx, member, giver, key, kudos_note))
    limits = Limits(
        daily_cap=rules.daily_caps.get(source),  # type: ignore[call-overload]
        cooldown=rules.cooldown(action),
        pair_limit=rules.kudos.per_pair_daily if kudos else None,
        actor_allowance=rules.kudos.daily_allowance if kudos else None,
        day_start=_day_start(ctx, at),
    )
    awarded = await ledger.award(
        ctx.db,
        member_id=member_id,
        amount=amount,
        source=source,
        reason=reason or _REASONS[action],
        key=key,
        at=at,
        campaign_id=campaign_id,
        actor_id=actor_id,
        action=action,
        limits=limits,
        announce=notice,
        then=partial(_badges_after, ctx, member, actor_id if kudos else None, at),
        may_wait=may_wait,
    )
    return amount if awarded else 0


async def _badges_after(
    ctx: BotContext, member: Member, actor_id: int | None, at: datetime
) -> None:
    """An award's badge checks: its receiver's, and a kudos giver's."""
    await check_badges(ctx, member, at=at)
    if actor_id is not None:
        actor = await get_member(ctx.db, actor_id)
        if actor is not None and not _excluded(ctx, rules_of(ctx), actor):
            await check_badges(ctx, actor, at=at)


# ---------------------------------------------------------------------------- badges


def _holds(badge: BadgeSpec, counts: PointCounts) -> bool:
    when = badge.when
    by = counts.by_source
    checks = [
        (when.points, counts.total),
        (when.quizzes, by.get("quiz", 0)),
        (when.challenges, by.get("challenge", 0)),
        (when.kudos_given, counts.kudos_given),
        (when.kudos_received, by.get("kudos", 0)),
        (when.onboarding_tasks, counts.onboarding_tasks),
        (when.help_answers, by.get("help", 0)),
        (when.reactions, by.get("reaction", 0)),
    ]
    if when.first_post is not None and (by.get("first_post", 0) > 0) != when.first_post:
        return False
    if when.onboarding_done and not counts.onboarding_done:
        return False
    return all(have >= need for need, have in checks if need is not None)


def _name(member: Member) -> str:
    """The member's name as member text (the renderers escape it for their platform)."""
    return member_text(member.display_name or member.first_name or member.platform_user_id, 80)


async def check_badges(ctx: BotContext, member: Member, *, at: datetime | None = None) -> list[str]:
    """Award the badges whose conditions the member now meets; each is announced once.
    Returns the new badge ids."""
    rules = rules_of(ctx)
    if not rules.badges or member.id is None:
        return []
    owned = {award.badge_id for award in await ledger.badges_of(ctx.db, member.id)}
    pending = [badge for badge in rules.badges if badge.id not in owned]
    if not pending:
        return []
    counts = await ledger.counts(ctx.db, member.id)
    at = at or ctx.clock.now()
    new: list[str] = []
    for badge in pending:
        if not _holds(badge, counts):
            continue
        announce = _badge_announcement(ctx, rules, member, badge, at)
        if await ledger.award_badge(ctx.db, member.id, badge.id, at, announce=[announce]):
            new.append(badge.id)
            log.info("member %s earned badge %s", member.id, badge.id)
    return new


KUDOS_OUTBOX = "points.kudos"
"""The outbox ``campaign_id`` of kudos notices (step ``kudos-received``, occurrence a digest
of the award's key): written with the award, so each kudos is told once."""


def _kudos_notice(
    ctx: BotContext, receiver: Member, giver: Member, points: int, key: str, why: str | None
) -> dict[str, Any]:
    """The outbox row telling ``receiver`` of their kudos, in their language."""
    assert receiver.id is not None
    locale = locale_for(ctx, receiver)
    if why:
        # Translators: {giver} is a colleague's name; {why} the reason they gave.
        template = i18n.ngettext(
            locale,
            "🙌 {giver} gave you kudos: {why} (+{points} point).",
            "🙌 {giver} gave you kudos: {why} (+{points} points).",
            points,
        )
    else:
        template = i18n.ngettext(
            locale,
            "🙌 {giver} gave you kudos (+{points} point).",
            "🙌 {giver} gave you kudos (+{points} points).",
            points,
        )
    text = template.format(giver=_name(giver), why=member_text(why, 200), points=points)
    message = Message(text=text, metadata={"campaign": KUDOS_OUTBOX, "step": "kudos-received"})
    now = ctx.clock.now()
    return {
        "campaign_id": KUDOS_OUTBOX,
        "step_id": "kudos-received",
        "recipient": f"member:{receiver.id}",
        "occurrence": hashlib.sha256(key.encode()).hexdigest()[:32],
        "due_at": now,
        "grace_until": now + ctx.settings.grace,
        "status": DeliveryStatus.pending.value,
        "reason": None,
        "payload": {"message": message.to_dict(), "member_id": receiver.id},
        "content_hash": "",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _recognition_post(
    ctx: BotContext, receiver: Member, giver: Member, key: str, why: str | None
) -> dict[str, Any]:
    """The outbox row celebrating a kudos in the recognition channel, in the bot's language."""
    if why:
        # Translators: a kudos in the recognition channel: giver → receiver: reason.
        template = i18n.gettext(ctx.settings.locale, "🙌 {giver} → {receiver}: {why}")
    else:
        template = "🙌 {giver} → {receiver}"  # names only: no word to translate
    text = template.format(giver=_name(giver), receiver=_name(receiver), why=member_text(why, 200))
    message = Message(text=text, metadata={"campaign": KUDOS_OUTBOX, "step": "recognition"})
    channel = _channel_of(ctx, ctx.settings.recognition_channel or "")
    now = ctx.clock.now()
    return {
        "campaign_id": KUDOS_OUTBOX,
        "step_id": "recognition",
        "recipient": f"channel:{channel}",
        "occurrence": hashlib.sha256(key.encode()).hexdigest()[:32],
        "due_at": now,
        "grace_until": now + ctx.settings.grace,
        "status": DeliveryStatus.pending.value,
        "reason": None,
        "payload": {"message": message.to_dict(), "channel": channel},
        "content_hash": "",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


_DAILY_POSTED: WeakKeyDictionary[Database, str] = WeakKeyDictionary()
E = table_of(PointEntry).c


def _channel_of(ctx: BotContext, logical: str) -> str:
    channels: dict[str, str] = {}
    for campaign in ctx.campaigns.values():
        channels.update(campaign.spec.channels)
    channels.update(ctx.settings.channel_map)
    return channels.get(logical, logical)


async def recognition_tick(ctx: BotContext) -> int:
    """With ``recognition.feed: daily``: once a day at ``recognition.at`` (the bot's time
    zone), the day's kudos in one post in the recognition channel (none on a day without
    kudos). The outbox key (the local date) makes it once, whatever the replicas."""
    settings = ctx.settings
    if not settings.recognition_channel or settings.recognition_feed != "daily":
        return 0
    zone = ZoneInfo(settings.timezone)
    now = ctx.clock.now()
    local = now.astimezone(zone)
    due = datetime.combine(local.date(), time.fromisoformat(settings.recognition_at), zone)
    day = local.date().isoformat()
    if now < due or _DAILY_POSTED.get(ctx.db) == day:
        return 0
    start = datetime.combine(local.date(), time(0, 0), zone)
    async with ctx.db.read() as session:
        rows = (
            await session.execute(
                sa.select(E.member_id, E.actor_id, E.reason)
                .where(
                    E.source == "kudos",
                    E.amount > 0,
                    E.actor_id.is_not(None),
                    E.created_at >= start,
                    E.created_at < due,
                )
                .order_by(E.id)
            )
        ).all()
    _DAILY_POSTED[ctx.db] = day
    if not rows:
        return 0
    lines: list[str] = []
    for receiver_id, giver_id, reason in rows[:50]:
        receiver, giver = await get_member(ctx.db, receiver_id), await get_member(ctx.db, giver_id)
        if receiver is None or giver is None:
            continue
        why = reason.removeprefix("kudos: ") if reason.startswith("kudos: ") else None
        lines.append(
            f"• {_name(giver)} → {_name(receiver)}" + (f": {member_text(why, 200)}" if why else "")
        )
    title = i18n.gettext(settings.locale, "🙌 Kudos of the day")
    text = title + "\n" + "\n".join(lines)
    channel = _channel_of(ctx, settings.recognition_channel)
    message = Message(text=text, metadata={"campaign": KUDOS_OUTBOX, "step": "recognition-daily"})
    row = {
        "campaign_id": KUDOS_OUTBOX,
        "step_id": "recognition-daily",
        "recipient": f"channel:{channel}",
        "occurrence": day,
        "due_at": now,
        "grace_until": now + settings.grace,
        "status": DeliveryStatus.pending.value,
        "reason": None,
        "payload": {"message": message.to_dict(), "channel": channel},
        "content_hash": "",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    async with ctx.db.session() as session:
        return await insert_deliveries(session, [row])


def _badge_announcement(
    ctx: BotContext, rules: Rules, member: Member, badge: BadgeSpec, at: datetime
) -> dict[str, Any]:
    """The outbox row announcing a badge (a direct message, or a post in the rules' channel);
    the dispatcher sends it, retried like any message, once per member and badge."""
    assert member.id is not None
    locale = locale_for(ctx, member)
    where = "dm" if rules.announce == "dm" else "channel"
    if where == "dm":
        # Translators: {badge} is a badge's name from the rules file; {name} the member's.
        template = i18n.gettext(locale, "🏅 New badge: {badge}! Well done {name}.")
    else:
        template = i18n.gettext(locale, "🏅 {name} earned the {badge} badge!")
    text = template.format(badge=localized(badge.name, locale), name=_name(member))
    message = Message(text=text, metadata={"campaign": BADGE_OUTBOX, "step": f"badge-{badge.id}"})
    payload: dict[str, Any] = {"message": message.to_dict()}
    if where == "dm":
        recipient = f"member:{member.id}"
        payload["member_id"] = member.id
    else:
        channel = _channel_of(ctx, rules.announce)
        recipient = f"channel:{channel}"
        payload["channel"] = channel
    now = ctx.clock.now()
    return {
        "campaign_id": BADGE_OUTBOX,
        "step_id": f"badge-{badge.id}"[:100],
        "recipient": recipient,
        "occurrence": f"member-{member.id}",
        "due_at": now,
        "grace_until": now + ctx.settings.grace,
        "status": DeliveryStatus.pending.value,
        "reason": None,
        "payload": payload,
        "content_hash": "",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


# ---------------------------------------------------------------------------- events


_ANNOUNCEMENTS: WeakKeyDictionary[Database, OrderedDict[tuple[str, str], str]] = WeakKeyDictionary()
_ANNOUNCEMENTS_KEPT = 4096


async def _is_announcement(ctx: BotContext, channel_id: str, message_id: str) -> str | None:
    """The campaign id if the message is one the bot posted in a channel for a campaign.

    A burst of reactions goes to a handful of announcements: the ones found are remembered
    (a sent post stays one); a message that is not one yet is looked up again next time."""
    known = _ANNOUNCEMENTS.get(ctx.db)
    if known is None:
        known = _ANNOUNCEMENTS[ctx.db] = OrderedDict()
    campaign_id = known.get((channel_id, message_id))
    if campaign_id is not None:
        known.move_to_end((channel_id, message_id))
        return campaign_id
    async with ctx.db.read() as session:
        result = await session.execute(
            sa.select(D.campaign_id)
            .where(
                D.platform_message_id == message_id,
                D.platform_channel_id == channel_id,
                D.status == DeliveryStatus.sent.value,
                D.recipient.startswith("channel:"),
            )
            .limit(1)
        )
        campaign_id = result.scalar_one_or_none()
    if campaign_id is not None:
        known[(channel_id, message_id)] = campaign_id
        while len(known) > _ANNOUNCEMENTS_KEPT:
            known.popitem(last=False)
    return campaign_id


def _emoji(name: str) -> str:
    return name.strip().strip(":")


def _reaction_key(event: ReactionAdded | ReactionRemoved) -> str:
    return f"reaction:{event.platform}:{event.channel.id}:{event.message_id}:{event.user.id}"


def _kudos_key(event: ReactionAdded | ReactionRemoved) -> str:
    return f"kudos:{event.platform}:{event.channel.id}:{event.message_id}:{event.user.id}"


def _reaction_reason(emoji: str) -> str:
    return f"reacted :{_emoji(emoji)}: to an announcement"


def _kudos_reason(emoji: str) -> str:
    return f"kudos by :{_emoji(emoji)}: reaction"


async def on_reaction_added(event: ReactionAdded, ctx: BotContext) -> None:
    """A reaction on a campaign announcement earns points; a kudos emoji on a member's message
    gives kudos to its author. Bots and reactions on one's own message earn nothing."""
    if event.user.is_bot:
        return
    own_message = event.author is not None and event.author.id == event.user.id
    if own_message:
        return
    rules = rules_of(ctx)
    reactor = await member_for(ctx, event.user)
    assert reactor.id is not None
    campaign_id = await _is_announcement(ctx, event.channel.id, event.message_id)
    if campaign_id is not None:
        await grant(
            ctx,
            member_id=reactor.id,
            action="reaction_on_announcement",
            key=_reaction_key(event),
            at=event.occurred_at,
            campaign_id=campaign_id,
            reason=_reaction_reason(event.emoji),
            may_wait=True,  # nothing here reads it back: a burst's awards go in one statement
        )
    author = event.author
    if _emoji(event.emoji) in rules.kudos_emojis and author is not None and not author.is_bot:
        receiver = await member_for(ctx, author)
        assert receiver.id is not None
        await grant(
            ctx,
            member_id=receiver.id,
            action="kudos_received",
            key=_kudos_key(event),
            at=event.occurred_at,
            actor_id=reactor.id,
            reason=_kudos_reason(event.emoji),
            kudos_note=f":{_emoji(event.emoji)}:",
        )


async def on_reaction_removed(event: ReactionRemoved, ctx: BotContext) -> None:
    """Taking a reaction back revokes the points it earned, exactly once. A removal delivered
    before its reaction (platforms do not guarantee the order) leaves a tombstone, so the late
    reaction earns nothing either (for kudos, only when the removal names the message's
    author: without it, an existing award is revoked and nothing more)."""
    if event.user.is_bot:
        return
    if event.author is not None and event.author.id == event.user.id:
        return  # one's own message: the reaction earned nothing
    now = ctx.clock.now()
    takes: list[tuple[str, str, str, UserRef]] = []
    if await _is_announcement(ctx, event.channel.id, event.message_id) is not None:
        takes.append((_reaction_key(event), _reaction_reason(event.emoji), "reaction", event.user))
    author = event.author
    if _emoji(event.emoji) in rules_of(ctx).kudos_emojis:
        if author is None:  # some platforms (Discord) do not name the author of a removal
            key, reason = _kudos_key(event), _kudos_reason(event.emoji)
            entry = await ledger.get_entry(ctx.db, key)
            if entry is not None and entry.reason == reason:
                await ledger.revoke(ctx.db, key=key, at=now, reason=f"{reason} (taken back)")
        elif not author.is_bot:
            takes.append((_kudos_key(event), _kudos_reason(event.emoji), "kudos", author))
    for key, reason, source, owner in takes:
        member = await member_for(ctx, owner)  # the one the reaction earned points for
        assert member.id is not None
        await ledger.take_back(
            ctx.db,
            key=key,
            member_id=member.id,
            source=source,
            at=now,
            reason=f"{reason} (taken back)",
            award_reason=reason,
        )


async def on_message_posted(event: MessagePosted, ctx: BotContext) -> None:
    """A member's first message in a channel earns the first-post points (once)."""
    if event.user.is_bot or event.channel.is_direct:
        return
    member = await member_for(ctx, event.user)
    assert member.id is not None
    await grant(
        ctx,
        member_id=member.id,
        action="first_post",
        key=f"first_post:{member.id}",
        at=event.occurred_at,
    )


# ---------------------------------------------------------------------------- commands

_MENTION = re.compile(r"<@!?([A-Za-z0-9._-]+)(?:\|[^>]*)?>")


async def find_member(ctx: BotContext, platform: str, text: str) -> Member | None:
    """A member from a mention (``<@U1>``, ``<@!1>``, ``<@U1|name>``), ``@id`` or ``@name``."""
    match = _MENTION.fullmatch(text.strip())
    user_id = match.group(1) if match else text.strip().removeprefix("@")
    if not user_id:
        return None
    member = await get_member_by_platform_id(ctx.db, platform, user_id)
    if member is not None:
        return member
    async with ctx.db.session() as session:
        rows = await session.execute(
            sa.select(Member)
            .where(M.platform == platform, sa.func.lower(M.display_name) == user_id.lower())
            .order_by(M.id)
            .limit(2)
        )
        found = list(rows.scalars())
    return found[0] if len(found) == 1 else None


def _signed(amount: int) -> str:
    return f"+{amount}" if amount > 0 else str(amount)


async def _my_points(event: CommandInvoked, ctx: BotContext) -> None:
    member = await member_for(ctx, event.user)
    await ctx.answer(event, "\n".join(await summary(ctx, member)))


async def summary(ctx: BotContext, member: Member, *, entries: int = 5) -> list[str]:
    """A member's points, rank, level, badges and last ``entries`` ledger lines, as text
    lines (``/rallybot points``, ``/rallybot me``)."""
    rules = rules_of(ctx)
    assert member.id is not None
    locale = member.locale or ctx.settings.locale
    now = ctx.clock.now()
    counts = await ledger.counts(ctx.db, member.id)
    season = await ledger.current_season(ctx.db)
    total = counts.total
    if season is None:
        first = i18n.ngettext(locale, "You have {total} point.", "You have {total} points.", total)
    else:
        # Translators: the second number is the points earned in the current season only.
        first = i18n.ngettext(
            locale,
            "You have {total} point ({season} this season).",
            "You have {total} points ({season} this season).",
            total,
        )
    lines = [first.format(total=total, season=counts.season_total)]
    standing = await ledger.rank_of(ctx.db, member.id, period="all", now=now)
    if standing is not None and total > 0:
        # Translators: the member's place in the all-time leaderboard, e.g. "#3".
        lines.append(
            i18n.gettext(locale, "Your rank: #{rank} of all time.").format(rank=standing.rank)
        )
    level = rules.level(total)
    following = rules.next_level(total)
    if level is not None or following is not None:
        if level is not None:
            # Translators: {level} is a level name from the community's rules file.
            text = i18n.pgettext(locale, "points level", "Level: {level}").format(
                level=localized(level.name, locale)
            )
        else:
            text = i18n.pgettext(locale, "points level", "Level: none yet")
        if following is not None:
            missing = following.points - total
            # Translators: appended to the level line; {level} is the next level's name.
            text += i18n.ngettext(
                locale, " ({n} point to {level})", " ({n} points to {level})", missing
            ).format(n=missing, level=localized(following.name, locale))
        lines.append(text + ".")
    owned = {award.badge_id for award in await ledger.badges_of(ctx.db, member.id)}
    if owned:  # in the rules file's order; badges since removed from it are not shown
        shown = [localized(b.name, locale) for b in rules.badges if b.id in owned]
        if shown:
            # Translators: {badges} is a comma-separated list of badge names.
            lines.append(i18n.gettext(locale, "Badges: {badges}.").format(badges=", ".join(shown)))
    upcoming = [badge for badge in rules.badges if badge.id not in owned]
    if upcoming:
        nearest = min(
            upcoming,
            key=lambda b: (b.when.points or 0) - total if b.when.points else 10**9,
        )
        text = i18n.gettext(locale, "Next badge: {badge}").format(
            badge=localized(nearest.name, locale)
        )
        if nearest.when.points:
            missing = max(nearest.when.points - total, 0)
            # Translators: appended to the next badge line.
            text += i18n.ngettext(
                locale, " ({n} point to go)", " ({n} points to go)", missing
            ).format(n=missing)
        lines.append(text + ".")
    recent = await ledger.recent_entries(ctx.db, member.id, entries) if entries else []
    if recent:
        lines.append(i18n.gettext(locale, "Last entries:"))
        lines.extend(
            f"  #{e.id} {_signed(e.amount)} {reason_text(locale, e.reason)} "
            f"({e.created_at:%Y-%m-%d})"
            for e in recent
        )
    return lines


def _unknown_member(locale: str, typed: str) -> str:
    return i18n.gettext(locale, "I don't know {who}.").format(who=member_text(typed, 80))


async def _top_title(ctx: BotContext, locale: str, period: Period, team: str | None) -> str:
    """The leaderboard's first line: its period, and its team when there is one."""
    if period == "season" and await ledger.current_season(ctx.db) is None:
        words = i18n.gettext(locale, "all time (no season started)")
    elif period == "season":
        words = i18n.gettext(locale, "this season")
    elif period == "7d":
        words = i18n.gettext(locale, "the last 7 days")
    elif period == "30d":
        words = i18n.gettext(locale, "the last 30 days")
    else:
        words = i18n.gettext(locale, "all time")
    if team:
        # Translators: {period} is "all time", "this season", "the last 7 days"...
        title = i18n.gettext(locale, "Leaderboard, {period}, team {team}:")
        return title.format(period=words, team=member_text(team, 80))
    return i18n.gettext(locale, "Leaderboard, {period}:").format(period=words)


async def _top(event: CommandInvoked, ctx: BotContext) -> None:
    rules = rules_of(ctx)
    args = list(event.args)
    period: Period = "all"
    if args and args[0].lower() in PERIODS:
        period = PERIODS[args.pop(0).lower()]
    team = " ".join(args) or None
    now = ctx.clock.now()
    private = rules.leaderboard.private and not ctx.is_admin(event.user)
    limit = rules.leaderboard.top if private else 10
    member = await get_member_by_platform_id(ctx.db, event.user.platform, event.user.id)
    locale = locale_for(ctx, member)
    title = await _top_title(ctx, locale, period, team)
    standings = (
        await ledger.leaderboard(ctx.db, period=period, now=now, team=team, limit=limit)
        if limit
        else []
    )
    lines = [title]
    lines.extend(
        f"{s.rank}. {member_text(s.display_name or str(s.member_id), 80)} — {s.total}"
        for s in standings
    )
    if not standings and limit:
        lines.append(i18n.gettext(locale, "No points yet."))
    if member is not None and member.id is not None:
        mine = await ledger.rank_of(ctx.db, member.id, period=period, now=now, team=team)
        if mine is not None and mine.total > 0:
            you = i18n.ngettext(
                locale,
                "You: #{rank} with {total} point.",
                "You: #{rank} with {total} points.",
                mine.total,
            )
            lines.append(you.format(rank=mine.rank, total=mine.total))
    await ctx.answer(event, "\n".join(lines))


async def _kudos(event: CommandInvoked, ctx: BotContext) -> None:
    giver = await member_for(ctx, event.user)
    locale = locale_for(ctx, giver)
    if not event.args:
        # Translators: "@member" and "reason" name the command's arguments.
        await ctx.answer(event, i18n.gettext(locale, "Usage: /rallybot kudos @member reason"))
        return
    receiver = await find_member(ctx, event.platform, event.args[0])
    if receiver is None or receiver.id is None:
        await ctx.answer(event, _unknown_member(locale, event.args[0]))
        return
    if giver.id == receiver.id:
        await ctx.answer(
            event,
            i18n.gettext(locale, "Kudos go to someone else: you cannot give them to yourself."),
        )
        return
    rules = rules_of(ctx)
    if _excluded(ctx, rules, receiver):
        await ctx.answer(
            event,
            i18n.gettext(locale, "{name} does not take part in points.").format(
                name=_name(receiver)
            ),
        )
        return
    reason = sanitize_answer(" ".join(event.args[1:]), 300)
    granted = await grant(
        ctx,
        member_id=receiver.id,
        action="kudos_received",
        key=f"kudos:cmd:{event.platform}:{event.event_id}",
        at=event.occurred_at,
        actor_id=giver.id,
        reason=f"kudos: {reason}"[:500] if reason else "kudos",
        kudos_note=reason or None,
    )
    if granted:
        sent = i18n.gettext(locale, "Kudos sent to {name} (+{points}).")
        await ctx.answer(event, sent.format(name=_name(receiver), points=granted))
        return
    allowance = rules.kudos.daily_allowance
    if rules.kudos.per_pair_daily:
        # Translators: {n} kudos a day in all, {pair} of them to the same person.
        refused = i18n.ngettext(
            locale,
            "No kudos sent: you may give {n} a day, {pair} to the same person.",
            "No kudos sent: you may give {n} a day, {pair} to the same person.",
            allowance,
        ).format(n=allowance, pair=rules.kudos.per_pair_daily)
    else:
        refused = i18n.ngettext(
            locale,
            "No kudos sent: you may give {n} a day.",
            "No kudos sent: you may give {n} a day.",
            allowance,
        ).format(n=allowance)
    await ctx.answer(event, refused)


async def _adjust(event: CommandInvoked, ctx: BotContext, args: list[str]) -> None:
    verb = args[0].lower()
    locale = locale_for(ctx, await member_for(ctx, event.user))
    if len(args) < 4 or not args[2].isdigit() or int(args[2]) == 0:
        # Translators: {verb} is "add" or "remove", the command's own word: keep as is.
        usage = i18n.gettext(
            locale,
            "Usage: /rallybot points {verb} @member N reason "
            "(N a positive number; the reason is required)",
        )
        await ctx.answer(event, usage.format(verb=verb))
        return
    member = await find_member(ctx, event.platform, args[1])
    if member is None or member.id is None:
        await ctx.answer(event, _unknown_member(locale, args[1]))
        return
    amount = int(args[2]) * (1 if verb == "add" else -1)
    reason = sanitize_answer(" ".join(args[3:]), 300)
    actor = await member_for(ctx, event.user)
    entry_id = await ledger.adjust(
        ctx.db,
        member_id=member.id,
        amount=amount,
        reason=reason,
        actor_id=actor.id,
        key=f"admin:{event.platform}:{event.event_id}",
        at=ctx.clock.now(),
    )
    log.info(
        "points %s by %s: %s %s (%s), entry %s",
        verb,
        event.user.key,
        member.id,
        _signed(amount),
        reason,
        entry_id,
    )
    if entry_id is None:
        await ctx.answer(event, i18n.gettext(locale, "Already done."))
        return
    await check_badges(ctx, member)
    # Translators: {amount} is signed ("+5", "-3"); {reason} is the manager's reason.
    done = i18n.gettext(
        locale,
        "Entry #{id}: {amount} for {name} ({reason}). Undo with /rallybot points revert {id}",
    )
    await ctx.answer(
        event,
        done.format(
            id=entry_id, amount=_signed(amount), name=_name(member), reason=member_text(reason, 300)
        ),
    )


async def _revert(event: CommandInvoked, ctx: BotContext, args: list[str]) -> None:
    actor = await member_for(ctx, event.user)
    locale = locale_for(ctx, actor)
    if len(args) < 2 or not args[1].lstrip("#").isdigit():
        await ctx.answer(
            event, i18n.gettext(locale, "Usage: /rallybot points revert ENTRY_ID [reason]")
        )
        return
    entry_id = int(args[1].lstrip("#"))
    note = " ".join(args[2:]).strip()
    reason = f"reverted entry #{entry_id} by {event.user.name or event.user.id}"
    new_id = await ledger.revert(
        ctx.db,
        entry_id,
        at=ctx.clock.now(),
        reason=f"{reason}: {note}" if note else reason,
        actor_id=actor.id,
    )
    log.info("points revert by %s: entry %s -> %s", event.user.key, entry_id, new_id)
    if new_id is None:
        missing = i18n.gettext(
            locale, "Entry #{id} does not exist, was already reverted, or is a reversal."
        )
        await ctx.answer(event, missing.format(id=entry_id))
    else:
        reverted = i18n.gettext(locale, "Entry #{id} reverted (entry #{new}).")
        await ctx.answer(event, reverted.format(id=entry_id, new=new_id))


async def _season(event: CommandInvoked, ctx: BotContext) -> None:
    args = list(event.args)
    locale = locale_for(ctx, await member_for(ctx, event.user))
    if len(args) != 2 or args[0].lower() != "start":
        await ctx.answer(event, i18n.gettext(locale, "Usage: /rallybot season start NAME"))
        return
    name = args[1][:64]
    if await ledger.start_season(ctx.db, name, ctx.clock.now()):
        log.info("season %s started by %s", name, event.user.key)
        started = i18n.gettext(locale, 'Season "{name}" started: season totals restart from 0.')
        await ctx.answer(event, started.format(name=member_text(name, 64)))
    else:
        exists = i18n.gettext(locale, 'A season named "{name}" already exists.')
        await ctx.answer(event, exists.format(name=member_text(name, 64)))


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """Answer the points commands (other commands are left to their modules)."""
    name = event.name.lower()
    if name not in COMMANDS:
        return
    args = list(event.args)
    admin_only = name == "season" or (
        name == "points" and bool(args) and args[0].lower() in {"add", "remove", "revert"}
    )
    if admin_only and not ctx.is_admin(event.user):
        what = f"/rallybot {name} {args[0].lower()}" if name == "points" else f"/rallybot {name}"
        locale = locale_for(ctx, await member_for(ctx, event.user))
        refused = i18n.gettext(locale, '"{command}" is for community managers only.')
        await ctx.answer(event, refused.format(command=what))
        return
    if name == "points":
        if not args:
            await _my_points(event, ctx)
        elif args[0].lower() in {"add", "remove"}:
            await _adjust(event, ctx, args)
        elif args[0].lower() == "revert":
            await _revert(event, ctx, args)
        else:
            locale = locale_for(ctx, await member_for(ctx, event.user))
            await ctx.answer(
                event, i18n.gettext(locale, "Usage: /rallybot points [add|remove|revert ...]")
            )
    elif name == "top":
        await _top(event, ctx)
    elif name == "kudos":
        await _kudos(event, ctx)
    else:
        await _season(event, ctx)


class PointsFeature(Feature):
    """Points, kudos, badges, seasons and the leaderboard commands."""

    name = "points"
    commands = COMMAND_SPECS
    personal_data = ("point_entry", "point_total", "point_day", "badge_award")

    def __init__(self) -> None:
        # The rules file (RALLYBOT_RULES) in force; a broken file keeps the last good rules.
        self.rules: Rules = DEFAULT_RULES

    async def reload(self, ctx: BotContext, files: Mapping[str, Sequence[Path]]) -> list[LoadError]:
        """Read the rules file again (when one is set)."""
        if ctx.settings.rules_file is None:
            return []
        try:
            self.rules = load_rules(ctx.settings.rules_file)
        except RulesLoadError as exc:
            return list(exc.errors)
        return []

    def ticks(self) -> Sequence[Tick]:
        """The day's kudos, when the recognition feed is daily."""
        return (recognition_tick,)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (
            Subscription(ReactionAdded, on_reaction_added, transactional=True),
            Subscription(ReactionRemoved, on_reaction_removed, transactional=True),
            Subscription(MessagePosted, on_message_posted),
            Subscription(CommandInvoked, on_command),
        )
