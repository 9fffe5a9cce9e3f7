"""Indicators in chat: activity recording, ``/rallybot stats`` and the weekly digest step.

- Every inbound post, reply, reaction, button press and command of a person is recorded as one
  :class:`~storage.report_models.Activity` row (no text), which the indicators read. Bots and
  members who opted out are not recorded.
- ``/rallybot stats [WEEKS] [cohort=NAME] [team=NAME] [campaign=ID]`` (community managers,
  routed here by :mod:`handlers.admin`) answers with a summary of the last WEEKS weeks (4 by
  default), then sends the charts of :func:`handlers.reporting.report.chart_pngs` as PNG files to
  the manager's direct messages where the platform takes files
  (:func:`~bot.adapters.base.file_sender`); elsewhere the answer says that ``rallybot report
  --format html`` gives them. The charts are drawn in a worker thread, one command at a time.
- A campaign step with ``digest: true`` and ``post: CHANNEL`` posts the same summary (last 4
  weeks) to that channel at each of its times. The summary is computed when the step is due
  (not when it is planned): :func:`digest_tick` writes it into the outbox then, under the
  step's usual delivery key, so a restart or a second replica never posts it twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from rallybot.bot import i18n
from rallybot.bot.adapters.base import FileSender, file_sender
from rallybot.bot.context import member_for, user_locale
from rallybot.bot.events import ButtonClicked, CommandInvoked, Event, MessagePosted, ReactionAdded
from rallybot.bot.extras import MissingExtraError
from rallybot.bot.feature import Feature, Subscription, Tick
from rallybot.bot.messages import Message
from rallybot.campaigns.planner import PlannedDelivery, plan
from rallybot.campaigns.schema import Campaign
from rallybot.handlers.reporting.service import (
    ReportData,
    Scope,
    chart_pngs,
    chart_title,
    compute,
    managers_left_out,
    summary_text,
    titles_of,
    week_start,
)
from rallybot.handlers.survey import service as survey
from rallybot.storage import outbox
from rallybot.storage.batching import appender
from rallybot.storage.models import CampaignStatus, Delivery, DeliveryStatus, table_of
from rallybot.storage.report_models import Activity, ActivityKind, week_of
from rallybot.storage.repositories import list_states

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "DIGEST_WEEKS",
    "PRIVATE_ACTION_PREFIX",
    "StatsFeature",
    "digest_tick",
    "next_digest_time",
    "record",
    "send_charts",
    "stats_command",
    "stats_scope",
]

log = logging.getLogger("rallybot.stats")

DIGEST_WEEKS = 4
"""How many weeks the digest and ``/rallybot stats`` look back by default."""

_ACTIVITY = table_of(Activity)
_D = table_of(Delivery).c


# ---------------------------------------------------------------------------- activity


async def record(
    ctx: BotContext,
    event: Event,
    kind: ActivityKind,
    *,
    channel_id: str | None = None,
    target: str | None = None,
) -> bool:
    """Record one activity of the event's author; False for bots and opted-out members."""
    if event.user.is_bot:
        return False
    member = await member_for(ctx, event.user)
    if member.opted_out or member.is_bot or member.id is None:
        return False
    if getattr(getattr(event, "channel", None), "is_direct", False):
        channel_id = None  # a DM conversation's id would lead back to its member
    row = {
        "member_id": member.id,
        "kind": kind.value,
        "channel_id": channel_id,
        "target_message_id": target,
        "occurred_at": event.occurred_at,
        "week": week_of(event.occurred_at),
    }
    await appender(ctx.db, _ACTIVITY).submit(row)  # with the other events' rows of the moment
    return True


async def on_message(event: MessagePosted, ctx: BotContext) -> None:
    """A post, a thread reply (its target is the thread's parent) or a message to the bot."""
    if event.channel.is_direct:  # no channel id: a DM conversation would name its member
        await record(ctx, event, ActivityKind.direct)
    elif event.thread_id and event.thread_id != event.message_id:
        await record(
            ctx, event, ActivityKind.reply, channel_id=event.channel.id, target=event.thread_id
        )
    else:
        await record(ctx, event, ActivityKind.message, channel_id=event.channel.id)


async def on_reaction(event: ReactionAdded, ctx: BotContext) -> None:
    """A reaction: its target is the message reacted to."""
    await record(
        ctx, event, ActivityKind.reaction, channel_id=event.channel.id, target=event.message_id
    )


PRIVATE_ACTION_PREFIX = "private-"
"""Buttons whose action id starts with this leave no activity row: a click that is an
anonymous answer (an anonymous poll's ballot), whose time and number would follow its member
to the answer. Any feature may mark its buttons so."""


async def on_button(event: ButtonClicked, ctx: BotContext) -> None:
    """A button pressed (not the buttons of an anonymous survey, nor buttons marked private
    by :data:`PRIVATE_ACTION_PREFIX`: the time of each press would follow its member through
    the answers)."""
    if event.action_id.startswith(PRIVATE_ACTION_PREFIX):
        return
    if await survey.is_anonymous_click(ctx.db, event.action_id, event.value):
        return
    await record(
        ctx, event, ActivityKind.button, channel_id=event.channel.id, target=event.message_id
    )


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """A ``/rallybot`` command (whichever feature answers it)."""
    channel = event.channel.id if event.channel is not None else None
    await record(ctx, event, ActivityKind.command, channel_id=channel)


# ---------------------------------------------------------------------------- /rallybot stats

REPORT_HINT = "rallybot report --format html"
"""The command that gives every chart and table (a command: not translated)."""

_drawing = threading.Lock()  # one chart rendering at a time (matplotlib is not thread-safe)


def stats_scope(
    now: datetime,
    weeks: int = DIGEST_WEEKS,
    exclude: frozenset[str] = frozenset(),
    **filters: str | None,
) -> Scope:
    """The last ``weeks`` weeks up to ``now``: from the Monday ``weeks - 1`` weeks back."""
    first = week_start(now) - timedelta(weeks=weeks - 1)
    return Scope(
        start=datetime.combine(first, time(), UTC),
        end=now,
        cohort=filters.get("cohort"),
        team=filters.get("team"),
        campaign_id=filters.get("campaign"),
        exclude=exclude,
    )


def _parse_args(args: tuple[str, ...]) -> tuple[int, dict[str, str | None]] | None:
    weeks = DIGEST_WEEKS
    filters: dict[str, str | None] = {}
    for arg in args:
        if arg.isdigit() and 1 <= int(arg) <= 104:
            weeks = int(arg)
            continue
        key, sep, value = arg.partition("=")
        if not sep or key not in {"cohort", "team", "campaign"} or not value:
            return None
        filters[key] = value
    return weeks, filters


async def stats_command(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot stats``: the indicators summary, privately (the caller is a manager)."""
    parsed = _parse_args(event.args)
    mine = await user_locale(ctx, event.user)
    if parsed is None:
        # Translators: the words in capitals stand for what the manager types; "cohort=",
        # "team=" and "campaign=" are typed as they are.
        usage = i18n.gettext(
            mine, "Usage: /rallybot stats [WEEKS] [cohort=NAME] [team=NAME] [campaign=ID]"
        )
        await ctx.answer(event, usage)
        return
    weeks, filters = parsed
    now = ctx.clock.now()
    left_out = managers_left_out(ctx.settings.admins, ctx.settings.count_managers)
    data = await compute(ctx.db, stats_scope(now, weeks, left_out, **filters), now)
    send_file = file_sender(ctx.adapter)
    if send_file is not None:
        # Translators: {command} is a command line, typed as it is.
        note = i18n.gettext(
            mine, "(Charts: sent to you as images in a direct message; full tables: {command})"
        )
    else:
        note = i18n.gettext(mine, "(Charts and full tables: {command})")
    summary = summary_text(data, mine, titles_of(ctx.campaigns))
    await ctx.answer(event, summary + "\n" + note.format(command=REPORT_HINT))
    if send_file is not None:
        await send_charts(ctx, event, data, send_file, mine)


async def send_charts(
    ctx: BotContext,
    event: CommandInvoked,
    data: ReportData,
    send_file: FileSender,
    locale: str | None = None,
) -> int:
    """Send each chart of ``data`` as a PNG file to the direct messages of the person who ran
    ``event``, with words in ``locale``; returns how many went. Never raises: a chart that
    cannot be drawn or sent is logged, the person is told so (with where to get the charts)
    and the rest are skipped."""
    try:  # drawn in a worker thread: the event loop keeps serving meanwhile
        charts = await asyncio.to_thread(_draw, data, locale)
    except MissingExtraError as exc:  # an install without matplotlib: one line, no traceback
        log.warning("no charts for /rallybot stats: %s", exc)
        text = i18n.gettext(locale, "The charts are not installed here ({problem}).")
        await _tell(ctx, event, text.format(problem=exc))
        return 0
    except Exception:
        log.exception("could not draw the charts of /rallybot stats")
        text = i18n.gettext(locale, "The charts could not be drawn; {command} makes them.")
        await _tell(ctx, event, text.format(command=REPORT_HINT))
        return 0
    label = data.scope.title(locale)
    sent = 0
    for name, png in charts.items():
        title = chart_title(name, locale)
        heading = i18n.gettext(locale, "📈 Charts — {period}").format(period=label)
        comment = Message(text=heading) if sent == 0 else None
        try:
            await send_file(
                event.user.id,
                f"{name}.png",
                png,
                comment,
                title=title,
                alt_text=f"{title}, {label}",
            )
        except Exception as exc:
            log.warning("could not send the chart %s.png to %s: %s", name, event.user.id, exc)
            # Translators: {problem} is the platform's error, {command} a command line.
            text = i18n.gettext(
                locale,
                "Could not send the chart {file} ({sent} of {total} sent): {problem}. "
                "{command} makes every chart.",
            ).format(
                file=f"{name}.png",
                sent=sent,
                total=len(charts),
                problem=exc,
                command=REPORT_HINT,
            )
            await _tell(ctx, event, text)
            return sent
        sent += 1
    return sent


def _draw(data: ReportData, locale: str | None) -> dict[str, bytes]:
    with _drawing:
        return chart_pngs(data, locale)


async def _tell(ctx: BotContext, event: CommandInvoked, text: str) -> None:
    try:
        await ctx.answer(event, text)
    except Exception:
        log.exception("could not tell %s that the charts failed", event.user.id)


# ---------------------------------------------------------------------------- weekly digest


async def _active_campaigns(ctx: BotContext) -> list[Campaign]:
    campaigns = ctx.campaigns
    paused = {s.id for s in await list_states(ctx.db) if s.status == CampaignStatus.paused.value}
    return [
        c
        for c in campaigns.values()
        if c.id not in paused and any(step.is_digest for step in c.steps)
    ]


async def _already_written(ctx: BotContext, delivery: PlannedDelivery) -> bool:
    async with ctx.db.session() as session:
        found = await session.execute(
            sa.select(_D.id).where(
                _D.campaign_id == delivery.campaign.id,
                _D.step_id == delivery.step.id,
                _D.recipient == delivery.recipient,
                _D.occurrence == delivery.occurrence,
            )
        )
        return found.first() is not None


def _row(ctx: BotContext, delivery: PlannedDelivery, text: str, now: datetime) -> dict[str, Any]:
    message = delivery.message()
    intro = message.text.strip()
    message = replace(message, text=f"{intro}\n\n{text}" if intro else text)
    grace = delivery.grace(ctx.settings.grace)
    logical = delivery.recipient.split(":", 1)[1]
    return {
        "campaign_id": delivery.campaign.id,
        "step_id": delivery.step.id,
        "recipient": delivery.recipient,
        "occurrence": delivery.occurrence,
        "due_at": delivery.due_at,
        "grace_until": delivery.due_at + grace,
        "status": DeliveryStatus.pending.value,
        "payload": {
            "message": message.to_dict(),
            "channel": ctx.channel_ids(delivery.campaign).get(logical, logical),
        },
        "content_hash": delivery.step.content_hash,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


async def digest_tick(ctx: BotContext) -> int:
    """Write the digests now due into the outbox (the dispatcher sends them); returns how many.

    Never raises: a failure is logged and the next tick tries again.
    """
    try:
        return await _digest_tick(ctx)
    except Exception:
        log.exception("digest tick failed")
        return 0


async def _digest_tick(ctx: BotContext) -> int:
    now = ctx.clock.now()
    written = 0
    for campaign in await _active_campaigns(ctx):
        grace = campaign.grace or ctx.settings.grace
        due = list(
            plan(
                campaign,
                [],
                now - grace,
                now + timedelta(microseconds=1),
                channel_ids=ctx.channel_ids(campaign),
                steps=[s for s in campaign.steps if s.is_digest],
                digests=True,
            )
        )
        for delivery in due:
            if await _already_written(ctx, delivery):
                continue
            left_out = managers_left_out(ctx.settings.admins, ctx.settings.count_managers)
            data = await compute(ctx.db, stats_scope(now, exclude=left_out), now)
            titles = titles_of(ctx.campaigns)
            async with ctx.db.session() as session:
                written += await outbox.insert_deliveries(
                    session,
                    [_row(ctx, delivery, summary_text(data, campaign.spec.locale, titles), now)],
                )
            log.info("digest %s/%s written for %s", campaign.id, delivery.step.id, now)
    return written


async def next_digest_time(ctx: BotContext, horizon: datetime) -> datetime | None:
    """The next instant a digest is due (for the simulated clock)."""
    now = ctx.clock.now()
    candidates = [
        delivery.due_at
        for campaign in await _active_campaigns(ctx)
        for delivery in plan(
            campaign,
            [],
            now + timedelta(microseconds=1),
            horizon,
            steps=[s for s in campaign.steps if s.is_digest],
            digests=True,
        )
    ]
    return min(candidates, default=None)


class StatsFeature(Feature):
    """Activity for the indicators, ``/rallybot stats`` and the weekly digests."""

    name = "stats"
    personal_data = ("activity",)

    def ticks(self) -> Sequence[Tick]:
        """The weekly digests now due: into the outbox."""
        return (digest_tick,)

    async def next_event_time(self, ctx: BotContext, horizon: datetime) -> datetime | None:
        """The next digest due."""
        return await next_digest_time(ctx, horizon)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach the activity recorders."""
        return (
            Subscription(MessagePosted, on_message),
            Subscription(ReactionAdded, on_reaction, transactional=True),
            Subscription(ButtonClicked, on_button),
            Subscription(CommandInvoked, on_command),
        )
