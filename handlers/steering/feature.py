"""Steering from chat, for community managers: preview a step, send it now, skip it, see what
waits and what goes out next.

``/rallybot preview STEP [locale]`` sends the step's message to me as a member would see it
(rendered, with its buttons, in that language). ``/rallybot send STEP [to @member|AUDIENCE]``
sends it now, once, even if it was skipped or cancelled. ``/rallybot skip STEP`` skips what it
has not sent yet. ``/rallybot pending`` lists evidence waiting for approval, unanswered help
questions and failed deliveries. ``/rallybot timeline [days]`` shows what goes out next. Each
action is recorded in the audit log (who, what, when). ``STEP`` may be ``CAMPAIGN/STEP`` when
two campaigns share a step id.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from rallybot.bot import formats, i18n, notices
from rallybot.bot.clock import utcnow
from rallybot.bot.context import member_for, user_locale
from rallybot.bot.events import ButtonClicked, CommandInvoked, UserRef
from rallybot.bot.feature import Feature, Subscription
from rallybot.bot.messages import Button, Message
from rallybot.bot.messages import member as member_text
from rallybot.bot.views import member_view
from rallybot.campaigns.planner import (
    MemberView,
    PlannedDelivery,
    after_quiet,
    build_message,
    members_of,
    plan,
    zone_of,
)
from rallybot.campaigns.schema import Campaign, Step
from rallybot.campaigns.timeline import default_window, timeline
from rallybot.handlers.challenges.service import APPROVE_ACTION, REJECT_ACTION
from rallybot.handlers.helpdesk.service import ACTION_SOLVED, ACTION_TAKE
from rallybot.handlers.steering.commands import COMMAND_SPECS
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.challenge_models import ChallengeSubmission, SubmissionState
from rallybot.storage.database import Database
from rallybot.storage.helpdesk_models import HelpTicket, TicketState
from rallybot.storage.models import Delivery, DeliveryStatus, table_of
from rallybot.storage.outbox import affected, have_step, insert_deliveries, send_now_rows
from rallybot.storage.repositories import get_member_by_platform_id, list_members

if TYPE_CHECKING:
    from rallybot.bot.clock import Clock
    from rallybot.bot.config import Settings
    from rallybot.bot.context import BotContext

__all__ = [
    "COMMANDS",
    "PREVIEW_ACTION",
    "RETRY_ACTION",
    "SentNow",
    "Steering",
    "SteeringFeature",
    "find_step",
    "occurrence_for",
    "on_button",
    "on_command",
    "preview_message",
    "recipients",
    "retry_failed",
    "send_now",
    "send_now_outlook",
    "sent_now_text",
    "skip_step",
]

log = logging.getLogger("rallybot.steering")

OUTBOX_CAMPAIGN = ".steering"
"""The outbox campaign id of the steering commands' confirmations (no campaign file can take
it)."""

COMMANDS = frozenset({"preview", "send", "skip", "pending", "timeline"})
SKIP_HORIZON = timedelta(days=400)
"""How far ahead ``skip`` marks a step's messages: every one a campaign can plan."""
LIST_LIMIT = 15
BUTTONS_SHOWN = 5
"""How many submissions and failed steps ``pending`` sends with buttons."""
RETRY_ACTION = "steer-retry"
PREVIEW_ACTION = "steer-preview"
"""The action of every button of a preview: a click is answered "this is a preview" and
records nothing (a quiz not started, a survey not answered, a task not done)."""

D = table_of(Delivery).c


def _managers_only(locale: str, name: str) -> str:
    return i18n.gettext(locale, '"/rallybot {name}" is for community managers only.').format(
        name=name
    )


def _usage(locale: str, name: str) -> str:
    # Translators: in the usage lines, the words in capitals (STEP, AUDIENCE) stand for what the
    # manager types; "locale" and "days" are optional values.
    if name == "preview":
        return i18n.gettext(locale, "Usage: /rallybot preview STEP [locale]")
    if name == "send":
        return i18n.gettext(locale, "Usage: /rallybot send STEP [to @member | to AUDIENCE]")
    if name == "skip":
        return i18n.gettext(locale, "Usage: /rallybot skip STEP")
    return i18n.gettext(locale, "Usage: /rallybot timeline [days]")


class Steering(Protocol):
    """What sending a step now and skipping it use: the running bot (a ``BotContext``), or a
    console alone on the bot's database (the bot sends what it writes into the outbox)."""

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

    def request_plan(self) -> None:
        """Ask for a planning pass soon."""
        ...

    def delivery_row(self, delivery: PlannedDelivery, now: datetime) -> dict[str, Any]:
        """The outbox row of a planned delivery, as the planner writes it."""
        ...


def find_step(
    campaigns: Mapping[str, Campaign], text: str, locale: str | None = None
) -> tuple[Campaign, Step] | str:
    """The step ``STEP`` or ``CAMPAIGN/STEP`` names among ``campaigns``, or the answer to
    give in ``locale`` (no such step, or several campaigns have it)."""
    wanted_campaign, _, wanted_step = text.rpartition("/")
    found = [
        (campaign, step)
        for campaign in campaigns.values()
        for step in campaign.steps
        if step.id == wanted_step and wanted_campaign in {"", campaign.id}
    ]
    if len(found) == 1:
        return found[0]
    if found:
        # Translators: {choices} lists the possible CAMPAIGN/STEP, separated by commas.
        text = i18n.gettext(
            locale, 'Several campaigns have a step "{step}": write one of {choices}.'
        )
        return text.format(step=wanted_step, choices=", ".join(f"{c.id}/{s.id}" for c, s in found))
    known = sorted({s.id for c in campaigns.values() for s in c.spec.steps})
    if not known:
        text = i18n.gettext(locale, 'No step "{step}" in the campaigns loaded: they have none.')
        return text.format(step=member_text(wanted_step, 80))
    text = i18n.gettext(locale, 'No step "{step}" in the campaigns loaded. Steps: {known}.')
    return text.format(step=member_text(wanted_step, 80), known=", ".join(known))


async def _step_named(
    event: CommandInvoked, ctx: BotContext, name: str, locale: str
) -> tuple[Campaign, Step] | None:
    """The step the command's first word names; None once the manager was told why not
    (no word: the usage; an unknown or ambiguous step: the known ones)."""
    if not event.args:
        await ctx.answer(event, _usage(locale, name))
        return None
    found = find_step(ctx.campaigns, event.args[0], locale)
    if isinstance(found, str):
        await ctx.answer(event, found)
        return None
    return found


async def _audit(ctx: BotContext, user: UserRef, action: str, target: str) -> None:
    async with ctx.db.session() as session:
        # Real time, as the console records its own entries: on a simulated clock, the log
        # still says when a manager did something.
        session.add(AuditEntry(at=utcnow(), actor=user.key, action=action, target=target))
    log.info("audit: %s %s", action, target)


def preview_message(
    campaign: Campaign, step: Step, view: MemberView, now: datetime, locale: str | None = None
) -> tuple[Message, str]:
    """The step's message as ``view`` would see it at ``now``, in ``locale`` (default:
    theirs, else the campaign's), and the locale used; never pinned, and its action buttons
    inert (:data:`PREVIEW_ACTION`)."""
    chosen = locale or view.locale or campaign.spec.locale
    view = replace(view, locale=chosen)
    message = build_message(campaign, step, now.astimezone(campaign.zone), view)
    # Its action buttons look the same but act as the preview's: the real ones would start
    # the quiz, open the survey or tick the task for whoever previews it. Links stay links.
    buttons = tuple(
        button
        if button.action_id is None
        else replace(button, action_id=PREVIEW_ACTION, value=str(index), opens_form=False)
        for index, button in enumerate(message.buttons)
    )
    # Pinning is for the step's audience: a preview pinned in the manager's own messages
    # would stay there, above their conversation, long after they read it.
    return replace(message, pin=False, buttons=buttons), chosen


async def _preview(event: CommandInvoked, ctx: BotContext, mine: str) -> None:
    found = await _step_named(event, ctx, "preview", mine)
    if found is None:
        return
    campaign, step = found
    me = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    view = (
        member_view(me)
        if me is not None
        else MemberView(key="preview", name=event.user.name, first_name=event.user.name)
    )
    message, locale = preview_message(
        campaign, step, view, ctx.clock.now(), event.args[1] if len(event.args) > 1 else None
    )
    # Translators: {locale} is a language code such as "fr" or "es_MX".
    head = i18n.gettext(
        mine, 'Preview of "{step}" ({campaign}) in {locale}, as a member would see it:'
    ).format(step=step.id, campaign=campaign.id, locale=locale)
    await ctx.answer(event, head)
    # A preview changes nothing: sent directly (asked again if lost).
    await ctx.adapter.send_direct(event.user.id, message)
    await _audit(ctx, event.user, "preview", f"{campaign.id}/{step.id} {locale}")


async def recipients(
    db: Database,
    campaign: Campaign,
    step: Step,
    target: str | None = None,
    *,
    platform: str | None = None,
    locale: str | None = None,
) -> list[MemberView] | str:
    """The members a direct-message step sent now reaches, or the answer to give in
    ``locale`` (an unknown member). ``target``: None for the step's own audiences, an audience
    name, or ``@name`` / ``<@id>`` for one member (of ``platform`` when given)."""
    rows = await list_members(db)
    members = [member_view(row) for row in rows]
    if not target:
        return members_of(campaign, step.audiences, members)
    if target.startswith(("<@", "@")):
        ident = target.strip("<>@!").split("|")[0].casefold()
        chosen = [
            view
            for view, row in zip(members, rows, strict=True)
            if platform in {None, row.platform}
            and not row.forgotten
            and ident in {row.platform_user_id.casefold(), (row.display_name or "").casefold()}
        ]
        unknown = i18n.gettext(locale, "I don't know {who}.")
        return chosen or unknown.format(who=member_text(target, 80))
    return members_of(campaign, [target], members)


def occurrence_for(key: str, prefix: str = "now") -> str:
    """The outbox occurrence of a send made once for ``key`` (a command's event id, a console
    form's token): the same key again writes nothing new."""
    return f"{prefix}-" + hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class SentNow:
    """What sending a step now did, or would do (:func:`send_now`, :func:`send_now_outlook`)."""

    queued: int
    """Messages queued (0 when the key was used already, or everyone has the step)."""
    replaced: int = 0
    """Of them, how many took the place of the same step still waiting to go to them."""
    already: int = 0
    """Recipients left out: they have the step already, or it is being sent to them."""
    quiet: int = 0
    """Of the queued, how many wait for the end of their recipient's quiet hours."""


def _planned_now(
    ctx: Steering,
    campaign: Campaign,
    step: Step,
    chosen: Sequence[MemberView],
    occurrence: str,
    now: datetime,
) -> list[PlannedDelivery]:
    """The deliveries of a send now: due ``now``, except a direct message that respects quiet
    hours, which waits for the end of its recipient's quiet hours like every planned one."""
    if not step.is_dm:
        recipient = f"channel:{step.spec.post}"
        return [PlannedDelivery(campaign, step, recipient, occurrence, now, None, campaign.zone)]
    quiet = campaign.quiet_hours if step.spec.quiet_hours else None
    planned = []
    for member in chosen:
        zone = zone_of(member.timezone, ctx.settings.timezone)
        due = now if quiet is None else after_quiet(now, zone, quiet)
        planned.append(
            PlannedDelivery(campaign, step, f"member:{member.key}", occurrence, due, member, zone)
        )
    return planned


REPLACED_BY = "replaced: sent now by "
"""The start of the reason kept with a message a send now replaced (the manager's key
follows): the console words it in the reader's language."""
SKIPPED_BY = "skipped by a community manager"
"""The reason kept with a message a manager skipped."""


async def send_now_outlook(
    ctx: Steering, campaign: Campaign, step: Step, chosen: Sequence[MemberView]
) -> SentNow:
    """What :func:`send_now` would do now, for a confirmation: how many would receive the
    step, how many have it already, how many of the first are in their quiet hours."""
    # One instant for the due times and the comparison: a clock read twice has moved on, and
    # every message due "now" would then look as if it waited for quiet hours.
    now = ctx.clock.now()
    planned = _planned_now(ctx, campaign, step, chosen, "outlook", now)
    have = await have_step(
        ctx.db,
        campaign.id,
        step.id,
        [d.recipient for d in planned],
        repeats=step.every is not None,
    )
    going = [d for d in planned if d.recipient not in have]
    return SentNow(
        queued=len(going),
        already=len(planned) - len(going),
        quiet=sum(d.due_at > now for d in going),
    )


async def send_now(
    ctx: Steering,
    campaign: Campaign,
    step: Step,
    chosen: Sequence[MemberView],
    key: str,
    by: str,
) -> SentNow:
    """Send ``step`` now, once per ``key`` and once per recipient: its post, or its direct
    message to each of ``chosen``. Whoever has the step already (sent, or being sent) is left
    out; the same step still waiting to go to someone is cancelled, in the same transaction,
    so they get this one only. A direct message respecting quiet hours waits for their end.
    ``by``: the manager, named in the reason of what is cancelled."""
    now = ctx.clock.now()
    planned = _planned_now(ctx, campaign, step, chosen, occurrence_for(key), now)
    rows = [ctx.delivery_row(d, now) for d in planned]
    ahead: list[dict[str, Any]] = []
    if step.every is None:
        # What the planner has not written yet for them, written cancelled with this send:
        # otherwise it would plan the step for them again later (as skip_step does).
        members = list(chosen)  # a channel post is planned without members
        _, end = default_window(campaign, members)
        ahead = [
            ctx.delivery_row(d, now)
            for d in plan(
                campaign,
                members,
                now - ctx.settings.grace,  # late but still sendable: the planner may write it
                max(end, now + timedelta(days=1)),
                default_timezone=ctx.settings.timezone,
                steps=[step],
            )
            if d.due_at <= now + SKIP_HORIZON
        ]
    async with ctx.db.session() as session:
        done = await send_now_rows(
            session,
            rows,
            REPLACED_BY + by,
            now,
            repeats=step.every is not None,
            planned=ahead,
        )
    ctx.request_plan()
    return SentNow(
        queued=done.queued,
        replaced=done.replaced,
        already=len(done.already),
        quiet=done.later if step.is_dm else 0,  # a channel has no quiet hours
    )


async def _send(event: CommandInvoked, ctx: BotContext, mine: str) -> None:
    found = await _step_named(event, ctx, "send", mine)
    if found is None:
        return
    campaign, step = found
    chosen: list[MemberView] = []
    if step.is_dm:
        target = list(event.args[1:])
        if target[:1] == ["to"]:
            target = target[1:]
        found_members = await recipients(
            ctx.db,
            campaign,
            step,
            target[0] if target else None,
            platform=event.platform,
            locale=mine,
        )
        if isinstance(found_members, str):
            await ctx.answer(event, found_members)
            return
        if not found_members:
            # Translators: {audience} is the audience (or audiences) the step was sent to.
            text = i18n.gettext(mine, 'Nobody to send "{step}" to: no member is in {audience}.')
            audience = " ".join(event.args[1:]) or ", ".join(step.audiences)
            await ctx.answer(event, text.format(step=step.id, audience=audience))
            return
        chosen = found_members
    # One send per command: a platform retry of the same command does not send twice.
    done = await send_now(
        ctx, campaign, step, chosen, event.event_id, event.user.name or event.user.id
    )
    await ctx.answer(event, sent_now_text(mine, step, done))
    # The audit target holds counts and names, no words: the console's audit page tells them
    # in its reader's language (handlers/console/pages/audit.py, describe()).
    if step.is_dm:
        reached = f"members={done.queued} had={done.already}"
    else:
        reached = f"channel=#{step.spec.post} had={1 if done.already else 0}"
    await _audit(ctx, event.user, "send", f"{campaign.id}/{step.id} {reached}")


def sent_now_text(locale: str | None, step: Step, done: SentNow) -> str:
    """What a manager reads after sending ``step`` now (``/rallybot send``)."""
    n = functools.partial(formats.number, locale)
    if not step.is_dm:
        if done.already:
            text = i18n.gettext(locale, '"{step}" is posted in {channel} already: not again.')
        else:
            text = i18n.gettext(locale, 'Sending "{step}" now to {channel}.')
        return text.format(step=step.id, channel=f"#{step.spec.post}")
    lines = [
        i18n.ngettext(
            locale,
            'Sending "{step}" now to {n} member.',
            'Sending "{step}" now to {n} members.',
            done.queued,
        ).format(step=step.id, n=n(done.queued))
    ]
    if done.already:
        lines.append(
            i18n.ngettext(
                locale,
                "{n} member has it already (or is being sent it): not again.",
                "{n} members have it already (or are being sent it): not again.",
                done.already,
            ).format(n=n(done.already))
        )
    if done.replaced:
        lines.append(
            i18n.ngettext(
                locale,
                "{n} of them was still to get it later as planned: this message replaces that one.",
                "{n} of them were still to get it later as planned: this message replaces that "
                "one.",
                done.replaced,
            ).format(n=n(done.replaced))
        )
    if done.quiet:
        lines.append(
            i18n.ngettext(
                locale,
                "{n} of them is in their quiet hours: they get it when their quiet hours end.",
                "{n} of them are in their quiet hours: they get it when their quiet hours end.",
                done.quiet,
            ).format(n=n(done.quiet))
        )
    return "\n".join(lines)


async def _skip_ahead(
    ctx: Steering, campaign: Campaign, step: Step, now: datetime
) -> list[PlannedDelivery]:
    """The messages of ``step`` the planner has not written yet, that a skip writes skipped."""
    members = [member_view(m) for m in await list_members(ctx.db)]
    _, end = default_window(campaign, members)
    return [
        d
        for d in plan(
            campaign,
            members,
            now,
            max(end, now + timedelta(days=1)),
            default_timezone=ctx.settings.timezone,
            steps=[step],
        )
        if d.due_at <= now + SKIP_HORIZON
    ]


async def skip_outlook(ctx: Steering, campaign: Campaign, step: Step) -> int:
    """How many messages skipping ``step`` now would stop: the waiting ones and the planned
    ones not written yet (the number :func:`skip_step` then returns)."""
    now = ctx.clock.now()
    async with ctx.db.read() as session:
        rows = await session.execute(
            sa.select(D.recipient, D.occurrence, D.status).where(
                D.campaign_id == campaign.id, D.step_id == step.id
            )
        )
        written = {(r, o): status for r, o, status in rows}
    pending = sum(1 for status in written.values() if status == DeliveryStatus.pending.value)
    ahead = await _skip_ahead(ctx, campaign, step, now)
    # Planned messages already in the outbox are not written again (one row per key).
    return pending + len({(d.recipient, d.occurrence) for d in ahead} - written.keys())


async def skip_step(ctx: Steering, campaign: Campaign, step: Step) -> int:
    """Skip what ``step`` has not sent yet, and what it would send later (written already
    skipped, so it cannot be planned again). Returns how many messages will not go."""
    now = ctx.clock.now()
    reason = SKIPPED_BY
    async with ctx.db.session() as session:
        result = await session.execute(
            sa.update(table_of(Delivery))
            .where(
                D.campaign_id == campaign.id,
                D.step_id == step.id,
                D.status == DeliveryStatus.pending.value,
            )
            .values(status=DeliveryStatus.skipped.value, reason=reason, updated_at=now)
        )
        skipped = affected(result)
    # What the planner has not written yet is written now, already skipped: the outbox keeps
    # one row per key, so the step's later messages can no longer be planned as pending.
    ahead = [ctx.delivery_row(d, now) for d in await _skip_ahead(ctx, campaign, step, now)]
    for row in ahead:
        row.update(status=DeliveryStatus.skipped.value, reason=reason)
    if ahead:
        async with ctx.db.session() as session:
            skipped += await insert_deliveries(session, ahead)
    return skipped


async def _skip(event: CommandInvoked, ctx: BotContext, mine: str) -> None:
    found = await _step_named(event, ctx, "skip", mine)
    if found is None:
        return
    campaign, step = found
    skipped = await skip_step(ctx, campaign, step)
    text = i18n.ngettext(
        mine,
        'Skipped "{step}": {n} message that was not sent yet will not go.',
        'Skipped "{step}": {n} messages that were not sent yet will not go.',
        skipped,
    )
    await ctx.answer(event, text.format(step=step.id, n=formats.number(mine, skipped)))
    await _audit(ctx, event.user, "skip", f"{campaign.id}/{step.id}")


def _items(values: list[str]) -> str:
    shown = ", ".join(values[:LIST_LIMIT])
    return shown + (f" (+{len(values) - LIST_LIMIT})" if len(values) > LIST_LIMIT else "")


async def _pending(event: CommandInvoked, ctx: BotContext, mine: str) -> None:
    S, T = table_of(ChallengeSubmission).c, table_of(HelpTicket).c
    async with ctx.db.read() as session:
        evidence = (
            await session.execute(
                sa.select(S.id, S.challenge)
                .where(S.state == SubmissionState.pending.value)
                .order_by(S.id)
            )
        ).all()
        questions = (
            await session.execute(
                sa.select(T.id).where(T.state == TicketState.open.value).order_by(T.id)
            )
        ).all()
        failed = (
            await session.execute(
                sa.select(D.campaign_id, D.step_id, sa.func.count())
                .where(D.status == DeliveryStatus.failed.value)
                .group_by(D.campaign_id, D.step_id)
                .order_by(D.campaign_id, D.step_id)
            )
        ).all()
    failures = sum(n for *_, n in failed)
    # (the line's words for its count, the count, the items it lists)
    counted = [
        (
            i18n.ngettext(
                mine,
                "• {n} challenge submission to approve: {items}",
                "• {n} challenge submissions to approve: {items}",
                len(evidence),
            ),
            len(evidence),
            [f"#{row.id} ({row.challenge})" for row in evidence],
        ),
        (
            i18n.ngettext(
                mine,
                "• {n} help question without an answer: {items}",
                "• {n} help questions without an answer: {items}",
                len(questions),
            ),
            len(questions),
            [f"#{r.id}" for r in questions],
        ),
        (
            i18n.ngettext(
                mine,
                "• {n} failed delivery: {items} (/rallybot send STEP sends again)",
                "• {n} failed deliveries: {items} (/rallybot send STEP sends again)",
                failures,
            ),
            failures,
            [f"{c}/{s} ×{n}" for c, s, n in failed],
        ),
    ]
    lines = [
        text.format(n=formats.number(mine, n), items=_items(items))
        for text, n, items in counted
        if n
    ]
    if lines:
        text = i18n.gettext(mine, "Waiting for you:") + "\n" + "\n".join(lines)
    else:
        text = i18n.gettext(
            mine,
            "Nothing waits for you: no evidence to judge, no unanswered question, no failed "
            "delivery.",
        )
    await ctx.answer(event, text)
    # Something to act on right there: Approve or Reject each submission (the challenges
    # feature's own buttons), Retry each step's failed deliveries. A list changes nothing: sent
    # directly (a lost one is asked for again).
    approve = i18n.pgettext(mine, "evidence button", "Approve")
    reject = i18n.pgettext(mine, "evidence button", "Reject")
    for row in evidence[:BUTTONS_SHOWN]:
        buttons = (
            Button(approve, action_id=APPROVE_ACTION, value=str(row.id), style="primary"),
            Button(reject, action_id=REJECT_ACTION, value=str(row.id), style="danger"),
        )
        text = i18n.gettext(mine, "Submission #{id} ({challenge}): approve or reject it.")
        message = Message(text=text.format(id=row.id, challenge=row.challenge), buttons=buttons)
        await ctx.adapter.send_direct(event.user.id, message)
    # Translators: buttons under a help question: take it on, or mark it solved.
    take = i18n.pgettext(mine, "help button", "I'm on it")
    solved = i18n.pgettext(mine, "help button", "Solved")
    for row in questions[:BUTTONS_SHOWN]:
        buttons = (
            Button(take, action_id=ACTION_TAKE, value=str(row.id), style="primary"),
            Button(solved, action_id=ACTION_SOLVED, value=str(row.id)),
        )
        text = i18n.gettext(mine, "Help question #{id} waits for an answer.")
        message = Message(text=text.format(id=row.id), buttons=buttons)
        await ctx.adapter.send_direct(event.user.id, message)
    # Translators: a button that sends a step's failed messages again.
    retry = i18n.pgettext(mine, "delivery button", "Retry")
    for campaign_id, step_id, count in failed[:BUTTONS_SHOWN]:
        target = f"{campaign_id}/{step_id}"
        text = i18n.ngettext(
            mine, "{target}: {n} failed delivery.", "{target}: {n} failed deliveries.", count
        )
        message = Message(
            text=text.format(target=target, n=formats.number(mine, count)),
            buttons=(Button(retry, action_id=RETRY_ACTION, value=target, style="primary"),),
        )
        await ctx.adapter.send_direct(event.user.id, message)


async def on_button(event: ButtonClicked, ctx: BotContext) -> None:
    """Retry a step's failed deliveries (the button of ``/rallybot pending``); say that a
    preview's button does nothing."""
    if event.action_id == PREVIEW_ACTION:
        mine = await user_locale(ctx, event.user)
        text = i18n.gettext(
            mine, "This is a preview: its buttons do nothing here and nothing is recorded."
        )
        await ctx.adapter.send_direct(event.user.id, Message(text))
        return
    if event.action_id != RETRY_ACTION:
        return
    mine = await user_locale(ctx, event.user)
    if not ctx.is_admin(event.user):
        await ctx.adapter.send_direct(event.user.id, Message(_managers_only(mine, "pending")))
        return
    campaign_id, _, step_id = event.value.partition("/")
    now = ctx.clock.now()
    # The retry, its audit and its confirmation (an outbox row keyed by the click) together:
    # the click handled again after a crash neither loses nor repeats the confirmation.
    async with ctx.db.shared():
        count = await retry_failed(ctx.db, campaign_id, step_id, now, ctx.settings.grace)
        text = i18n.ngettext(
            mine,
            "{target}: {n} failed delivery queued again.",
            "{target}: {n} failed deliveries queued again.",
            count,
        )
        text = text.format(target=event.value, n=formats.number(mine, count))
        me = await member_for(ctx, event.user)
        assert me.id is not None
        step = f"retry-{hashlib.sha256(event.value.encode()).hexdigest()[:24]}"
        occurrence = occurrence_for(event.event_id)
        row = notices.direct_row(
            OUTBOX_CAMPAIGN, step, me.id, Message(text), now, occurrence=occurrence
        )
        async with ctx.db.session() as session:
            await notices.queue(session, [row])
        await _audit(ctx, event.user, "retry", event.value)
    ctx.request_plan()


async def retry_failed(
    db: Database, campaign_id: str, step_id: str, now: datetime, grace: timedelta
) -> int:
    """Queue a step's failed deliveries again, due ``now`` (sent within ``grace``); how
    many."""
    async with db.session() as session:
        result = await session.execute(
            sa.update(table_of(Delivery))
            .where(
                D.campaign_id == campaign_id,
                D.step_id == step_id,
                D.status == DeliveryStatus.failed.value,
            )
            .values(
                status=DeliveryStatus.pending.value,
                reason=None,
                attempts=0,
                due_at=now,
                grace_until=now + grace,
                updated_at=now,
            )
        )
        return affected(result)


async def _timeline(event: CommandInvoked, ctx: BotContext, mine: str) -> None:
    args = list(event.args)
    if args and not args[0].isdigit():
        await ctx.answer(event, _usage(mine, "timeline"))
        return
    days = min(int(args[0]), 90) if args else 7
    now = ctx.clock.now()
    members = [member_view(m) for m in await list_members(ctx.db)]
    rows: list[Any] = []
    for campaign in ctx.campaigns.values():
        rows.extend(
            timeline(
                campaign,
                members,
                now,
                now + timedelta(days=days),
                default_timezone=ctx.settings.timezone,
            )
        )
    if not rows:
        text = i18n.ngettext(
            mine,
            "Nothing goes out in the next {days} day.",
            "Nothing goes out in the next {days} days.",
            days,
        )
        await ctx.answer(event, text.format(days=days))
        return
    rows.sort(key=lambda r: r.due_utc)
    lines = [
        f"• {formats.moment(mine, r.due_utc, 'MMMEd')} {r.step} → " + _reach(mine, r)
        for r in rows[: LIST_LIMIT * 2]
    ]
    head = i18n.ngettext(mine, "Next {days} day (UTC):", "Next {days} days (UTC):", days)
    text = head.format(days=days) + "\n" + "\n".join(lines)
    hidden = len(rows) - LIST_LIMIT * 2
    if hidden > 0:
        more = i18n.ngettext(mine, "… and {n} more", "… and {n} more", hidden)
        text += "\n" + more.format(n=formats.number(mine, hidden))
    await ctx.answer(event, text)


def _reach(locale: str, row: Any) -> str:
    """Who a timeline row reaches: its channel, or how many members in which language."""
    if row.kind != "dm":
        return str(row.target)
    # Translators: {locale} is the language code the members get the message in.
    text = i18n.ngettext(locale, "{n} member, {locale}", "{n} members, {locale}", row.count)
    return text.format(n=formats.number(locale, row.count), locale=row.locale)


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """Answer the steering commands, for community managers only."""
    name = event.name.lower()
    if name not in COMMANDS:
        return
    mine = await user_locale(ctx, event.user)
    if not ctx.is_admin(event.user):
        await ctx.answer(event, _managers_only(mine, name))
        return
    handler = {
        "preview": _preview,
        "send": _send,
        "skip": _skip,
        "pending": _pending,
        "timeline": _timeline,
    }[name]
    await handler(event, ctx, mine)


class SteeringFeature(Feature):
    """The managers' chat controls: preview, send, skip, pending, timeline."""

    name = "steering"
    commands = COMMAND_SPECS
    personal_data = ("audit_entry",)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (
            Subscription(CommandInvoked, on_command),
            Subscription(ButtonClicked, on_button),
        )
