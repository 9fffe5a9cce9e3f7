"""The polls feature: campaign poll steps and ``/rallybot poll``, clicks, close and results.

A poll step's message (planned and sent by the outbox like any post) gets one button per
choice from :meth:`PollsFeature.prepare`, each carrying the poll's key (the server secret's
HMAC of its id) and the choice. A click is checked (a known key, the poll open, the member in
its channel) and answered privately; only then is anything stored. When the poll closes, a
tick posts the results in its channel. Managers see live counts with
``/rallybot poll results NAME`` and start a poll in the current channel with
``/rallybot poll "Question?" "A" "B"``.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from rallybot.bot import notices
from rallybot.bot.context import locale_for, member_for
from rallybot.bot.events import ButtonClicked, CommandInvoked, UserRef
from rallybot.bot.feature import Feature, Subscription, Tick
from rallybot.bot.i18n import gettext, pgettext
from rallybot.bot.messages import Message
from rallybot.campaigns.loader import LoadError
from rallybot.campaigns.timeexpr import TimeExprError, parse_duration
from rallybot.handlers.polls import store
from rallybot.handlers.polls.messages import ACTIONS, CAST, buttons, hint, results_message
from rallybot.handlers.polls.messages import results_text as format_results
from rallybot.handlers.polls.spec import MAX_CHOICES, MIN_CHOICES, POLL_COMMAND
from rallybot.storage.anonymity import MIN_GROUP
from rallybot.storage.models import table_of
from rallybot.storage.poll_models import Poll
from rallybot.storage.secret import cached_secret, server_secret

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = ["DEFAULT_OPEN", "PollsFeature", "close_due", "on_button", "on_command"]

log = logging.getLogger("rallybot.polls")

_P = table_of(Poll)

DEFAULT_OPEN = timedelta(hours=24)
"""How long a poll started with ``/rallybot poll`` stays open unless ``closes=`` says."""
OUTBOX_CAMPAIGN = ".polls"
"""The outbox campaign id of the polls' results (no campaign file can take it)."""


async def _note(ctx: BotContext, user: UserRef, text: str) -> None:
    """A private answer to a click (a direct message: no platform shows a click's answer
    to its author only in every case). Direct, not through the outbox, on purpose: an outbox
    row would keep the member's id beside their choice, which an anonymous poll never stores
    (a lost answer is asked for again with one more click; the vote itself is kept)."""
    try:
        await ctx.adapter.send_direct(user.id, Message(text=text))
    except Exception:
        log.exception("could not answer a poll click")


def _zone(ctx: BotContext, poll: Poll) -> ZoneInfo:
    campaign = ctx.campaigns.get(poll.campaign_id)
    return campaign.zone if campaign is not None else ZoneInfo(ctx.settings.timezone)


def _parse(value: str) -> tuple[str, int | None] | None:
    """``KEY:INDEX`` -> (key, index); ``KEY:cast`` -> (key, None); None when malformed."""
    key, _, choice = value.partition(":")
    if not key or not choice:
        return None
    if choice == CAST:
        return key, None
    if not choice.isdigit() or len(choice) > 2:
        return None
    return key, int(choice)


def is_closed(poll: Poll, now: datetime) -> bool:
    """Whether the poll takes no more votes."""
    return poll.closed_at is not None or (poll.closes_at is not None and now >= poll.closes_at)


async def on_button(event: ButtonClicked, ctx: BotContext) -> None:
    """A click on a poll's button: checked, then recorded, then answered privately."""
    if event.action_id not in ACTIONS or event.user.is_bot:
        return
    parsed = _parse(event.value)
    poll = await store.poll_by_key(ctx.db, parsed[0]) if parsed is not None else None
    if poll is None and parsed is not None and ctx.campaigns:
        await store.sync_polls(ctx)  # a step loaded before this process wrote its poll
        poll = await store.poll_by_key(ctx.db, parsed[0])
    member = await member_for(ctx, event.user)
    assert member.id is not None
    locale = locale_for(ctx, member, ctx.campaigns.get(poll.campaign_id) if poll else None)
    if poll is None or parsed is None:
        log.info("a poll click with an unknown key was refused")
        await _note(
            ctx,
            event.user,
            gettext(locale, "This button is not a poll of ours; nothing was recorded."),
        )
        return
    index = parsed[1]
    if (index is not None and index >= len(poll.choices)) or (
        index is None and not (poll.anonymous and poll.multiple)
    ):
        log.info("poll %s: a click with an unknown choice was refused", poll.id)
        await _note(
            ctx,
            event.user,
            gettext(locale, "This button is not a poll of ours; nothing was recorded."),
        )
        return
    now = ctx.clock.now()
    if is_closed(poll, now):
        await _note(
            ctx, event.user, gettext(locale, "This poll is closed; your click was not counted.")
        )
        return
    if not await store.may_vote(ctx.db, poll, member.id):
        log.info("poll %s: a click from outside its audience was refused", poll.id)
        await _note(
            ctx, event.user, gettext(locale, "This poll is not for you; nothing was recorded.")
        )
        return
    if not poll.anonymous:
        assert index is not None
        chosen = await store.vote_named(ctx.db, poll, member.id, index)
        await _note(ctx, event.user, _your_choices(poll, chosen, locale))
        return
    if poll.multiple and index is not None:
        toggled = await store.toggle_draft(ctx.db, poll, member.id, index)
        if toggled is None:
            await _note(ctx, event.user, _already(locale))
            return
        picked = _your_choices(poll, toggled, locale)
        await _note(
            ctx, event.user, picked + " " + gettext(locale, "Cast your vote when you are done.")
        )
        return
    cast = await store.cast_anonymous(
        ctx.db, poll, member.id, None if index is None else [index], now
    )
    if cast is None:
        await _note(ctx, event.user, _already(locale))
    elif not cast:
        await _note(
            ctx, event.user, gettext(locale, "Pick at least one choice before you cast your vote.")
        )
    else:
        await _note(
            ctx,
            event.user,
            gettext(
                locale,
                "Your anonymous vote is in. Nothing links it to you, so it cannot be changed. "
                "It is counted in a batch of at least {k} votes; if fewer than {k} are still "
                "waiting for a batch when the poll closes, they are deleted without being "
                "counted.",
            ).format(k=MIN_GROUP),
        )


def _already(locale: str | None) -> str:
    return gettext(
        locale,
        "You have already voted in this anonymous poll: nothing links your vote to you, "
        "so it cannot be changed.",
    )


def _your_choices(poll: Poll, chosen: Sequence[int], locale: str | None) -> str:
    if not chosen:
        return gettext(locale, "You have no choice selected in this poll.")
    names = ", ".join(store.choice_label(poll, i, locale) for i in chosen)
    return gettext(locale, "Your choice: {choices}.").format(choices=names)


async def close_due(ctx: BotContext) -> int:
    """Close the polls whose time is up and post their results in their channel; how many
    were closed. A poll is closed (``closed_at`` set, a compare-and-set: two replicas never
    close it twice) in the transaction that queues its results in the outbox (keyed by the
    poll): a crash loses neither, the dispatcher retries a post that fails. The results row
    holds the counts only, never who chose what."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        due = (
            (
                await session.execute(
                    sa.select(Poll).where(_P.c.closed_at.is_(None), _P.c.closes_at <= now)
                )
            )
            .scalars()
            .all()
        )
    closed = 0
    for poll in due:
        async with ctx.db.shared() as shared:
            claimed = await shared.session.execute(
                sa.update(_P)
                .where(_P.c.id == poll.id, _P.c.closed_at.is_(None))
                .values(closed_at=now)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                continue
            if poll.anonymous:
                await store.release(ctx.db, poll.id, now, closing=True)
            counts = await store.counts(ctx.db, poll)
            locale = poll.locale  # the campaign's, or the manager's who started it
            if poll.channel_id:
                message = results_message(poll, counts, locale)
                row = notices.channel_row(
                    OUTBOX_CAMPAIGN, f"poll-{poll.key}-results", poll.channel_id, message, now
                )
                await notices.queue(shared.session, [row])
        closed += 1
        log.info("poll %s closed", poll.id)
    return closed


USAGE = (
    'Usage: /rallybot poll "Question?" "Choice A" "Choice B" ... [--multiple] [--anonymous] '
    "[closes=2h] | /rallybot poll results NAME | /rallybot poll list"
)


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot poll``: managers only."""
    if event.name != POLL_COMMAND.name:
        return
    member = await member_for(ctx, event.user)
    locale = locale_for(ctx, member)
    if not ctx.is_admin(event.user):
        await ctx.answer(event, gettext(locale, "Only community managers can run polls."))
        return
    text = " ".join(event.args).replace("“", '"').replace("”", '"').replace("„", '"')
    try:
        words = shlex.split(text)
    except ValueError:
        await ctx.answer(event, gettext(locale, "A quote is not closed.") + "\n" + USAGE)
        return
    if words[:1] == ["list"] and len(words) == 1:
        await _list(event, ctx, locale)
        return
    if words[:1] == ["results"] and len(words) == 2:
        poll = await store.find_poll(ctx.db, words[1])
        if poll is None:
            await ctx.answer(
                event,
                gettext(locale, 'Unknown poll "{name}". Try /rallybot poll list.').format(
                    name=words[1]
                ),
            )
            return
        counts = await store.counts(ctx.db, poll)
        head = store.question_text(poll, locale)
        state = _state(poll, ctx.clock.now(), locale)
        await ctx.answer(
            event, f"{head} ({poll.id}, {state})\n" + format_results(poll, counts, locale)
        )
        return
    await _start(event, ctx, words, locale)


def _state(poll: Poll, now: datetime, locale: str) -> str:
    if is_closed(poll, now):
        return pgettext(locale, "poll state", "closed")
    return pgettext(locale, "poll state", "open")


async def _list(event: CommandInvoked, ctx: BotContext, locale: str) -> None:
    async with ctx.db.session() as session:
        polls = (await session.execute(sa.select(Poll).order_by(_P.c.created_at))).scalars().all()
    if not polls:
        await ctx.answer(event, gettext(locale, "No poll yet."))
        return
    now = ctx.clock.now()
    lines = [
        f"• {p.id} — {store.question_text(p, locale)} ({_state(p, now, locale)})" for p in polls
    ]
    await ctx.answer(event, "\n".join(lines))


async def _start(event: CommandInvoked, ctx: BotContext, words: list[str], locale: str) -> None:
    """A poll posted now in the channel where the command was run."""
    multiple = "--multiple" in words
    anonymous = "--anonymous" in words
    closes = [w for w in words if w.startswith("closes=")]
    rest = [
        w for w in words if w not in {"--multiple", "--anonymous"} and not w.startswith("closes=")
    ]
    if event.channel is None or event.channel.is_direct:
        await ctx.answer(
            event, gettext(locale, "Run /rallybot poll in the channel where the poll should go.")
        )
        return
    if len(rest) < 1 + MIN_CHOICES or len(rest) > 1 + MAX_CHOICES:
        await ctx.answer(
            event,
            gettext(locale, "A poll needs a question and {low} to {high} choices.").format(
                low=MIN_CHOICES, high=MAX_CHOICES
            )
            + "\n"
            + USAGE,
        )
        return
    if any(len(choice) > 75 for choice in rest[1:]):
        await ctx.answer(
            event, gettext(locale, "A choice is at most 75 characters long (it goes on a button).")
        )
        return
    open_for = DEFAULT_OPEN
    if closes:
        try:
            days, seconds = parse_duration(closes[-1].partition("=")[2])
        except TimeExprError:
            await ctx.answer(
                event,
                gettext(locale, "closes= takes a duration, like closes=2h or closes=3d.")
                + "\n"
                + USAGE,
            )
            return
        open_for = timedelta(days=days, seconds=seconds)
        if open_for <= timedelta(0):
            await ctx.answer(
                event,
                gettext(locale, "closes= takes a duration, like closes=2h or closes=3d.")
                + "\n"
                + USAGE,
            )
            return
    now = ctx.clock.now()
    secret = await server_secret(ctx.db, ctx.settings.secret_key)
    poll_id = f"now/{secrets.token_hex(3)}"
    poll = Poll(
        id=poll_id,
        key=store.poll_key(secret, poll_id),
        step_id=poll_id.partition("/")[2],
        question={locale: rest[0]},
        choices=[{locale: c} for c in rest[1:]],
        multiple=multiple,
        anonymous=anonymous,
        locale=locale,
        channel_id=event.channel.id,
        created_at=now,
        closes_at=now + open_for,
    )
    async with ctx.db.session() as session:
        session.add(poll)
    message = Message(
        text=rest[0],
        buttons=buttons(poll, poll.key, locale),
        context=hint(poll, locale, _zone(ctx, poll)),
        metadata={"poll": poll.id},
    )
    try:
        await ctx.adapter.post(event.channel.id, message, idempotency_key=f"poll:{poll.id}")
    except Exception:
        log.exception("poll %s could not be posted", poll.id)
        async with ctx.db.session() as session:
            await session.execute(sa.delete(_P).where(_P.c.id == poll.id))
        await ctx.answer(
            event, gettext(locale, "The poll could not be posted here; nothing was kept.")
        )
        return
    await ctx.answer(
        event,
        gettext(locale, "Poll {name} posted. Live counts: /rallybot poll results {name}").format(
            name=poll.step_id
        ),
    )


class PollsFeature(Feature):
    """Polls: a campaign step or a manager's command; votes, anonymous ballots, results."""

    name = "polls"
    after = ("survey",)  # the server secret, read by the survey's reload, is shared
    commands = (POLL_COMMAND,)
    personal_data = ("poll_vote", "poll_voter", "poll_draft")

    async def reload(self, ctx: BotContext, files: Mapping[str, Sequence[Path]]) -> list[LoadError]:
        """The poll steps of the loaded campaigns, for clicks and results."""
        await store.sync_polls(ctx)
        return []

    def ticks(self) -> Sequence[Tick]:
        """Close the polls whose time is up and post their results."""
        return (close_due,)

    async def next_event_time(self, ctx: BotContext, horizon: datetime) -> datetime | None:
        """The next poll to close before ``horizon``."""
        async with ctx.db.session() as session:
            found = await session.scalar(
                sa.select(sa.func.min(_P.c.closes_at)).where(
                    _P.c.closed_at.is_(None), _P.c.closes_at < horizon
                )
            )
        return found if isinstance(found, datetime) else None

    def prepare(self, ctx: BotContext, message: Message, occurrence: str) -> Message:
        """A poll step's post gets its choice buttons, keyed with the server secret, and
        the line that says how to vote."""
        campaign = ctx.campaigns.get(str(message.metadata.get("campaign")))
        step = campaign.step(str(message.metadata.get("step"))) if campaign else None
        secret = cached_secret(ctx.db)
        if campaign is None or step is None or secret is None:
            return message
        rows = store.campaign_polls([campaign], secret, {})
        row = next((r for r in rows if r["step_id"] == step.id), None)
        if row is None:
            return message
        poll = Poll(**row)
        locale = str(message.metadata.get("locale") or campaign.spec.locale)
        return dataclasses.replace(
            message,
            buttons=(*message.buttons, *buttons(poll, poll.key, locale)),
            context=hint(poll, locale, campaign.zone),
            metadata={**message.metadata, "poll": poll.id},
        )

    def subscriptions(self) -> Sequence[Subscription]:
        """The clicks on poll buttons, and ``/rallybot poll``."""
        return (Subscription(ButtonClicked, on_button), Subscription(CommandInvoked, on_command))
