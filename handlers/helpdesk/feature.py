"""The help channel: every question becomes a ticket that someone answers.

A new top-level message in the help channel (``RALLYBOT_HELP_CHANNEL``), or ``/rallybot help
QUESTION`` from anywhere, opens a ticket (:class:`~storage.helpdesk_models.HelpTicket`). The bot
replies in the question's thread with up to three FAQ entries (:mod:`campaigns.faq`) and
mentions the helpers on duty (``RALLYBOT_HELPERS``, read in their time zone), with the buttons
"Solved" and "The FAQ answered me". ``/rallybot help --private QUESTION`` goes to the helpers
in direct messages instead of the channel.

States: open -> answered (the first reply in the thread by someone other than the asker) ->
solved (a ✅ reaction or the Solved button, by the asker or a helper; or "the FAQ answered me"
by the asker). A ticket left open is reminded to the helpers on duty after
``RALLYBOT_HELP_REMIND_MINUTES``, escalated to the community managers after
``RALLYBOT_HELP_ESCALATE_MINUTES``, and closed as stale after ``RALLYBOT_HELP_STALE_HOURS``
without activity. An edited question gets new suggestions; a deleted one closes its ticket.

Credit: when a ticket is solved (not through the FAQ), the last person other than the asker
who replied in its thread earns the ``help_answer_accepted`` points, once per ticket (ledger key
``helpdesk:<ticket id>``); a helper who presses Solved without having replied earns nothing.
Every change of state is a compare-and-set on the ticket row, so two replicas, a repeated event
or a double click never solve, remind or credit twice.

Reminders, escalations and stale notices go through the outbox (campaign id
:data:`OUTBOX_CAMPAIGN`, one step per ticket and stage): the rows are written in the same
transaction as the ticket's change of state, so a crash neither loses nor doubles them, and
the dispatcher retries a failed send. When the ticket closes, its messages not yet sent are
cancelled and the question's excerpt is blanked in those already sent.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from rallybot.bot import i18n, notices
from rallybot.bot.context import locale_for, member_for
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    UserRef,
)
from rallybot.bot.feature import Feature, FileKind, Subscription, Tick
from rallybot.bot.messages import Button, Message
from rallybot.bot.messages import member as member_text
from rallybot.bot.rota import Rota
from rallybot.campaigns.faq import Faq, FaqIndex, Match, is_faq_file, load_faq
from rallybot.campaigns.loader import CampaignLoadError, LoadError
from rallybot.campaigns.quiz import sanitize_answer
from rallybot.handlers.helpdesk.commands import COMMAND_SPECS
from rallybot.handlers.points.service import grant
from rallybot.storage import outbox
from rallybot.storage.helpdesk_models import HelpTicket, TicketState
from rallybot.storage.inserts import insert_for
from rallybot.storage.models import Delivery, DeliveryStatus, Member, table_of
from rallybot.storage.repositories import (
    get_member,
    get_or_create_member,
)

if TYPE_CHECKING:
    from rallybot.bot.config import Settings
    from rallybot.bot.context import BotContext

__all__ = [
    "ACTION_FAQ",
    "ACTION_SOLVED",
    "ACTION_TAKE",
    "COMMANDS",
    "OUTBOX_CAMPAIGN",
    "SOLVED_EMOJIS",
    "HelpdeskFeature",
    "next_event_time",
    "on_button",
    "on_command",
    "on_message",
    "on_message_deleted",
    "on_message_edited",
    "on_reaction",
    "open_ticket",
    "reminder_due",
    "tick",
]

log = logging.getLogger("rallybot.helpdesk")

COMMANDS = frozenset({"help", "helpdesk"})
SOLVED_EMOJIS = frozenset({"white_check_mark", "✅", "heavy_check_mark", "✔️", "✔"})
ACTION_SOLVED = "helpdesk.solved"
ACTION_FAQ = "helpdesk.faq"
ACTION_TAKE = "helpdesk.take"
SUGGESTIONS = 3
EXCERPT = 100
QUESTION_LIMIT = 1500
LIVE = (TicketState.open.value, TicketState.answered.value)
OUTBOX_CAMPAIGN = ".helpdesk"
"""The outbox campaign id of the help desk's messages: no campaign file can take it (ids start
with a letter or a digit), so no reload ever cancels them."""
WELCOME, EDIT, QUESTION = "welcome", "edit", "question"
"""Outbox stages of the bot's reply to a question, of its edits, and of a question that
``/rallybot help QUESTION`` posts in the help channel for its asker."""
POSTED = "posted:"
"""The ``message_id`` prefix of a ticket whose question the bot posts (through the outbox):
its platform id is not known when the ticket opens, so messages in its thread name the
question's outbox row (``thread_of``) and events in the thread find the ticket through it."""
QUEUED_GRACE = timedelta(days=1)
"""How long a queued reminder may wait for a platform that is down before it is skipped."""

_T = table_of(HelpTicket)
_D = table_of(Delivery)


def _solved_button(locale: str | None) -> str:
    # Translators: a button; pressing it closes the help ticket.
    return i18n.pgettext(locale, "help button", "Solved")


def _stale(locale: str | None) -> str:
    return i18n.gettext(
        locale, "💤 Ticket closed for lack of activity. Ask again if you still need help."
    )


def _waiting(locale: str | None, minutes: int) -> str:
    # Translators: in the question's thread; "min" abbreviates minutes.
    return i18n.gettext(
        locale, "⏰ This question has been waiting {minutes} min for an answer."
    ).format(minutes=minutes)


def _mention(user_id: str) -> str:
    return f"<@{user_id}>"


# ---------------------------------------------------------------------------- the FAQ


FAQ_FILES = "FAQ"
"""The file kind of the help channel's FAQ (files with a top-level ``faq:``)."""


def _index(ctx: BotContext) -> FaqIndex:
    return ctx.feature(HelpdeskFeature).faq_index


# ---------------------------------------------------------------------------- people


def _rota(ctx: BotContext) -> Rota:
    return ctx.settings.rota


def _platform_ids(names: Sequence[str], platform: str) -> list[str]:
    """Rota or admin names (``U1`` or ``slack:U1``) as user ids of ``platform``."""
    found: list[str] = []
    for name in names:
        prefix, sep, rest = name.partition(":")
        user_id = rest if sep else name
        if (not sep or prefix == platform) and user_id not in found:
            found.append(user_id)
    return found


def _on_duty(ctx: BotContext, platform: str) -> list[str]:
    return _platform_ids(_rota(ctx).on_duty(ctx.clock.now()), platform)


def _is_helper(ctx: BotContext, user: UserRef) -> bool:
    return _rota(ctx).is_helper(user.id, user.key) or ctx.is_admin(user)


async def _user_id(ctx: BotContext, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    member = await get_member(ctx.db, member_id)
    return member.platform_user_id if member is not None else None


def _help_channel(ctx: BotContext) -> str | None:
    name = ctx.settings.help_channel
    if not name:
        return None
    return ctx.settings.channel_map.get(name, name)


# ---------------------------------------------------------------------------- storage


async def _ticket(ctx: BotContext, ticket_id: int) -> HelpTicket | None:
    async with ctx.db.session() as session:
        return await session.get(HelpTicket, ticket_id)


async def _ticket_of(
    ctx: BotContext, platform: str, channel_id: str, message_id: str
) -> HelpTicket | None:
    """The ticket whose question is that message."""
    async with ctx.db.session() as session:
        row = await session.execute(
            sa.select(HelpTicket).where(
                _T.c.platform == platform,
                _T.c.channel_id == channel_id,
                _T.c.message_id == message_id,
            )
        )
        return row.scalars().first()


async def _ticket_around(
    ctx: BotContext, platform: str, channel: ChannelRef, message_id: str
) -> HelpTicket | None:
    """The live ticket whose question, bot reply or latest answer is that message. The bot's
    reply is found through the outbox row that sent it, in the help channel or a direct
    conversation (a private ticket's); ``reply_id`` names the replies sent before they went
    through the outbox."""
    channel_id = channel.id
    async with ctx.db.session() as session:
        row = await session.execute(
            sa.select(HelpTicket)
            .where(
                _T.c.platform == platform,
                _T.c.channel_id == channel_id,
                sa.or_(
                    _T.c.message_id == message_id,
                    _T.c.reply_id == message_id,
                    _T.c.last_reply_id == message_id,
                ),
            )
            .order_by(_T.c.id.desc())
        )
        found = row.scalars().first()
        if found is not None or not (channel.is_direct or channel_id == _help_channel(ctx)):
            return found
        steps = await session.execute(
            sa.select(_D.c.step_id).where(
                _D.c.platform_message_id == message_id,
                _D.c.platform_channel_id == channel_id,
                _D.c.campaign_id == OUTBOX_CAMPAIGN,
            )
        )
        for (step,) in steps:
            for stage in (WELCOME, QUESTION):  # the bot's reply, or the question it posted
                number = step.removeprefix("ticket-").removesuffix("-" + stage)
                if step.endswith("-" + stage) and number.isdigit():
                    ticket = await session.get(HelpTicket, int(number))
                    if ticket is not None and ticket.platform == platform:
                        return ticket
        return None


async def _set(
    ctx: BotContext,
    ticket_id: int,
    where: Any = None,
    *,
    queue: Sequence[dict[str, Any]] = (),
    **values: Any,
) -> bool:
    """Update a ticket; with ``where``, only when it holds (compare-and-set). When it changed,
    the outbox rows of ``queue`` are written in the same transaction (nothing lost, nothing
    twice), and a close (``closed_at``) retires the ticket's earlier messages."""
    query = sa.update(_T).where(_T.c.id == ticket_id)
    if where is not None:
        query = query.where(where)
    async with ctx.db.session() as session:
        result = await session.execute(query.values(**values))
        if int(getattr(result, "rowcount", 0) or 0) != 1:
            return False
        if "closed_at" in values:
            await _retire(session, ctx, ticket_id, values["closed_at"])
        await outbox.insert_deliveries(session, queue)
        return True


def _step(ticket_id: int, stage: str) -> str:
    return f"ticket-{ticket_id}-{stage}"


async def _retire(session: Any, ctx: BotContext, ticket_id: int, now: datetime) -> None:
    """A ticket closes: its reminders not yet sent are pointless now, and those sent keep no
    copy of the question (the ticket's excerpt is blanked at close for the same reason)."""
    mine = sa.and_(_D.c.campaign_id == OUTBOX_CAMPAIGN, _D.c.step_id.like(_step(ticket_id, "%")))
    # The bot's reply and its edits stay: the reply changes to its closed form. (A question
    # the bot has not posted yet is cancelled: its reply is then skipped, having no thread.)
    reply = [_step(ticket_id, WELCOME), _step(ticket_id, EDIT)]
    await session.execute(
        sa.update(_D)
        .where(mine, _D.c.step_id.not_in(reply), _D.c.status == DeliveryStatus.pending.value)
        .values(
            status=DeliveryStatus.cancelled.value, reason="the ticket was closed", updated_at=now
        )
    )
    rows = await session.execute(
        sa.select(_D.c.id, _D.c.payload).where(
            mine,
            _D.c.status != DeliveryStatus.claimed.value,  # a send under way keeps its text
        )
    )
    # Translators: replaces a help question in messages kept after its ticket closed.
    kept_note = i18n.gettext(
        ctx.settings.locale, "(help ticket #{id} closed: its question is no longer kept)"
    )
    blank = Message(text=kept_note.format(id=ticket_id)).to_dict()
    for row_id, payload in rows:
        if payload.get("excerpt"):
            kept = {k: v for k, v in payload.items() if k not in ("message", "excerpt")}
            await session.execute(
                sa.update(_D).where(_D.c.id == row_id).values(payload={**kept, "message": blank})
            )


# ---------------------------------------------------------------------------- outbox rows


def _row(
    ticket: HelpTicket,
    stage: str,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    occurrence: str = "once",
) -> dict[str, Any]:
    """One outbox row of a ticket's ``stage``: its key (ticket, stage, recipient) makes it
    once per question and stage, whichever replica or retry writes it. ``service`` lets it
    through the wave gate: it answers something a person did, it is no campaign news."""
    assert ticket.id is not None
    return {
        "campaign_id": OUTBOX_CAMPAIGN,
        "step_id": _step(ticket.id, stage),
        "recipient": recipient,
        "occurrence": occurrence,
        "due_at": now,
        "grace_until": now + QUEUED_GRACE,
        "status": DeliveryStatus.pending.value,
        "reason": None,
        "payload": {**payload, "service": True},
        "content_hash": "",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


async def _direct_rows(
    ctx: BotContext,
    ticket: HelpTicket,
    stage: str,
    user_ids: Sequence[str],
    message: Message,
    now: datetime,
    *,
    excerpt: bool = False,
) -> list[dict[str, Any]]:
    """Direct messages to helpers or managers (the outbox writes to members: one the bot never
    saw gets a member row)."""
    rows = []
    for user_id in user_ids:
        member = await get_or_create_member(ctx.db, ticket.platform, user_id, now)
        assert member.id is not None
        payload = {"message": message.to_dict(), "member_id": member.id, "excerpt": excerpt}
        rows.append(_row(ticket, stage, f"member:{member.id}", payload, now))
    return rows


def _thread_row(
    ticket: HelpTicket, stage: str, text: str, now: datetime, *, excerpt: bool = False
) -> dict[str, Any]:
    """A line in the ticket's thread (a private ticket: a direct message to the asker)."""
    message = Message(text=text).to_dict()
    if ticket.private:
        assert ticket.asker_id is not None
        payload = {"message": message, "member_id": ticket.asker_id, "excerpt": excerpt}
        return _row(ticket, stage, f"member:{ticket.asker_id}", payload, now)
    payload = {"message": message, "channel": ticket.channel_id, "excerpt": excerpt}
    payload.update(_in_thread(ticket))
    return _row(ticket, stage, f"channel:{ticket.channel_id}", payload, now, occurrence="thread")


def _in_thread(ticket: HelpTicket) -> dict[str, Any]:
    """Where a post about ``ticket`` goes: in its question's thread, named by platform id, or
    by the outbox row that posts the question (a question asked with ``/rallybot help``)."""
    assert ticket.id is not None
    if ticket.message_id.startswith(POSTED):
        key = [OUTBOX_CAMPAIGN, _step(ticket.id, QUESTION), f"channel:{ticket.channel_id}", "once"]
        return {"thread_of": key}
    return {"thread": ticket.message_id}


def _managers_channel_row(
    ctx: BotContext, ticket: HelpTicket, stage: str, message: Message, now: datetime
) -> list[dict[str, Any]]:
    """A post in the managers' channel (RALLYBOT_MANAGERS_CHANNEL); none without one."""
    channel = ctx.settings.managers_channel
    if channel is None:
        log.warning(
            "help ticket %s: nobody to tell (no helper on duty, no community manager, no "
            "RALLYBOT_MANAGERS_CHANNEL)",
            ticket.id,
        )
        return []
    channel_id = ctx.settings.channel_map.get(channel, channel)
    payload = {"message": message.to_dict(), "channel": channel_id, "excerpt": True}
    return [_row(ticket, stage, f"channel:{channel_id}", payload, now)]


# ---------------------------------------------------------------------------- messages


def _suggestions(matches: Sequence[Match], locale: str | None) -> tuple[str, list[Button]]:
    lines: list[str] = []
    links: list[Button] = []
    for number, match in enumerate(matches, 1):
        entry = match.entry
        lines.append(f"*{number}. {entry.question(locale)}*\n{entry.answer(locale)}")
        for label, url in entry.links(locale)[:1]:
            links.append(Button(label=label, url=url))
    return "\n\n".join(lines), links


def _welcome(
    ticket: HelpTicket, matches: Sequence[Match], helpers: Sequence[str], *, private: bool
) -> Message:
    locale = ticket.locale
    if private:
        welcome = i18n.gettext(
            locale, "Your question went privately to the helpers: they will write to you directly."
        )
    else:
        welcome = i18n.gettext(
            locale, "Thanks for your question! Someone will answer in this thread."
        )
    parts = [welcome]
    text, links = _suggestions(matches, locale)
    if text:
        parts.append(i18n.gettext(locale, "Meanwhile, these FAQ answers may help:") + "\n\n" + text)
    if not private:
        if helpers:
            # Translators: {who} is a list of mentions of the helpers on duty.
            on_duty = i18n.gettext(locale, "Helpers on duty: {who}")
            parts.append(on_duty.format(who=" ".join(_mention(h) for h in helpers)))
        else:
            parts.append(
                i18n.gettext(
                    locale,
                    "No helper is on duty right now: we will come back to you as soon as we can.",
                )
            )
    value = str(ticket.id)
    buttons = [
        Button(_solved_button(locale), action_id=ACTION_SOLVED, value=value, style="primary")
    ]
    if matches:
        # Translators: a button the person who asked presses when an FAQ answer was enough.
        faq = i18n.gettext(locale, "The FAQ answered me")
        buttons.append(Button(faq, action_id=ACTION_FAQ, value=value))
    return Message(
        text="\n\n".join(parts),
        buttons=(*buttons, *links),
        metadata={"helpdesk_ticket": value},
    )


def _closed(ctx: BotContext, ticket: HelpTicket, note: str) -> Message:
    """The bot's reply once the ticket is closed: its FAQ suggestions stay, its buttons go."""
    index = _index(ctx)
    matches = [
        Match(entry, 0.0)
        for entry in (index.get(key) for key in ticket.suggestions or [])
        if entry is not None
    ]
    text, links = _suggestions(matches, ticket.locale)
    return Message(
        text=f"{note}\n\n{text}" if text else note,
        buttons=tuple(links),
        metadata={"helpdesk_ticket": str(ticket.id)},
    )


async def _queue(ctx: BotContext, rows: Sequence[dict[str, Any]]) -> None:
    async with ctx.db.session() as session:
        await outbox.insert_deliveries(session, rows)


async def _update_reply(ctx: BotContext, ticket: HelpTicket, message: Message) -> None:
    """Change the bot's reply to the question, through the outbox: a reply not sent yet goes
    out changed; a sent one gets an edit row, sent once the reply is out and retried like any
    message (earlier edits still waiting give way to it)."""
    assert ticket.id is not None
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        reply = (
            await session.execute(
                sa.select(_D.c.id, _D.c.status, _D.c.recipient, _D.c.payload).where(
                    _D.c.campaign_id == OUTBOX_CAMPAIGN,
                    _D.c.step_id == _step(ticket.id, WELCOME),
                )
            )
        ).first()
        edit: int | dict[str, str]
        if reply is not None:
            if reply.status == DeliveryStatus.pending.value:
                payload = {**reply.payload, "message": message.to_dict()}
                await session.execute(
                    sa.update(_D)
                    .where(_D.c.id == reply.id, _D.c.status == DeliveryStatus.pending.value)
                    .values(payload=payload, updated_at=now)
                )
                return
            edit, recipient = int(reply.id), str(reply.recipient)
        elif ticket.reply_id is not None:  # a reply sent before replies went through the outbox
            edit = {"channel": ticket.channel_id, "message": ticket.reply_id}
            recipient = f"channel:{ticket.channel_id}"
        else:
            return
        mine = _D.c.step_id == _step(ticket.id, EDIT)
        await session.execute(
            sa.update(_D)
            .where(_D.c.campaign_id == OUTBOX_CAMPAIGN, mine)
            .where(_D.c.status == DeliveryStatus.pending.value)
            .values(
                status=DeliveryStatus.skipped.value,
                reason="superseded: a later edit",
                updated_at=now,
            )
        )
        payload = {"message": message.to_dict(), "edit": edit}
        occurrence = uuid.uuid4().hex[:16]  # one row per edit
        row = _row(ticket, EDIT, recipient, payload, now, occurrence=occurrence)
        await outbox.insert_deliveries(session, [row])


# ---------------------------------------------------------------------------- opening


async def open_ticket(
    ctx: BotContext,
    *,
    asker: UserRef,
    channel_id: str,
    message_id: str,
    text: str,
    private: bool = False,
    post: Message | None = None,
) -> HelpTicket | None:
    """Open a ticket for a question (None when that message already has one) and answer it
    with FAQ suggestions and the helpers on duty; ``post``: the question as the bot posts it
    in the help channel for its asker (``message_id`` then starts with :data:`POSTED`)."""
    now = ctx.clock.now()
    member = await member_for(ctx, asker)
    matches = _index(ctx).search(text, SUGGESTIONS)
    values: dict[str, Any] = {
        "platform": asker.platform,
        "channel_id": channel_id,
        "message_id": message_id,
        "private": private,
        "asker_id": member.id,
        "locale": member.locale or ctx.settings.locale,
        "excerpt": sanitize_answer(text, EXCERPT),  # stored clean, shown as member text
        "state": TicketState.open.value,
        "suggestions": [m.entry.key for m in matches],
        "opened_at": now,
        "last_activity_at": now,
    }
    helpers = _on_duty(ctx, asker.platform)
    # The ticket and the bot's reply (an outbox row: retried if the platform fails, never
    # sent twice) are written together.
    async with ctx.db.session() as session:
        result = await session.execute(
            insert_for(session, _T)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["platform", "channel_id", "message_id"])
            .returning(_T.c.id)
        )
        new_id = result.scalar()
        if new_id is None:
            return None
        ticket = HelpTicket(id=int(new_id), **values)
        welcome = _welcome(ticket, matches, helpers, private=private).to_dict()
        if private:
            payload: dict[str, Any] = {"message": welcome, "member_id": member.id}
            recipient = f"member:{member.id}"
        else:
            payload = {"message": welcome, "channel": channel_id, **_in_thread(ticket)}
            recipient = f"channel:{channel_id}"
        rows = [_row(ticket, WELCOME, recipient, payload, now, occurrence="thread")]
        if post is not None:  # the question itself, first (the reply goes in its thread)
            # Its words leave the outbox once it is posted ("scrub"), and with the ticket
            # ("excerpt", see _retire) if it closes first.
            question: dict[str, Any] = {"message": post.to_dict(), "channel": channel_id}
            question.update(excerpt=True, scrub=True)
            row = _row(ticket, QUESTION, recipient, question, now)
            rows.insert(0, row)
        await notices.queue(session, rows)
    log.info("help ticket %s opened; suggestions: %d", ticket.id, len(matches))
    return ticket


async def on_message(event: MessagePosted, ctx: BotContext) -> None:
    """A question in the help channel opens a ticket; a reply in its thread answers it."""
    if event.user.is_bot or event.channel.is_direct:
        return
    if event.thread_id is not None and event.thread_id != event.message_id:
        await _on_reply(event, ctx)
        return
    if event.channel.id != _help_channel(ctx) or not event.text.strip():
        return
    await open_ticket(
        ctx,
        asker=event.user,
        channel_id=event.channel.id,
        message_id=event.message_id,
        text=event.text,
    )


async def _on_reply(event: MessagePosted, ctx: BotContext) -> None:
    assert event.thread_id is not None
    # The thread root is the question; a platform that reports replies to a message (a Discord
    # reply) may name the bot's reply or the latest answer instead.
    ticket = await _ticket_around(ctx, event.platform, event.channel, event.thread_id)
    if ticket is None or ticket.id is None or ticket.state not in LIVE:
        return
    now = ctx.clock.now()
    member = await member_for(ctx, event.user)
    if member.id == ticket.asker_id:  # the asker adding details: not an answer
        await _set(ctx, ticket.id, last_activity_at=now)
        return
    await _set(
        ctx,
        ticket.id,
        _T.c.state == TicketState.open.value,
        state=TicketState.answered.value,
        first_response_at=now,
        first_responder_id=member.id,
    )
    await _set(
        ctx,
        ticket.id,
        _T.c.state.in_(LIVE),
        last_replier_id=member.id,
        last_reply_id=event.message_id,
        last_activity_at=now,
    )


# ---------------------------------------------------------------------------- edits and deletions


async def on_message_edited(event: MessageEdited, ctx: BotContext) -> None:
    """An edited question gets new FAQ suggestions in the bot's reply."""
    ticket = await _ticket_of(ctx, event.platform, event.channel.id, event.message_id)
    if ticket is None or ticket.id is None or ticket.state not in LIVE or ticket.private:
        return
    matches = _index(ctx).search(event.text, SUGGESTIONS)
    keys = [m.entry.key for m in matches]
    now = ctx.clock.now()
    await _set(
        ctx,
        ticket.id,
        _T.c.state.in_(LIVE),
        suggestions=keys,
        excerpt=sanitize_answer(event.text, EXCERPT),
        last_activity_at=now,
    )
    if keys != list(ticket.suggestions or []):
        helpers = _on_duty(ctx, ticket.platform)
        await _update_reply(ctx, ticket, _welcome(ticket, matches, helpers, private=False))


async def on_message_deleted(event: MessageDeleted, ctx: BotContext) -> None:
    """A deleted question closes its ticket."""
    ticket = await _ticket_of(ctx, event.platform, event.channel.id, event.message_id)
    if ticket is None or ticket.id is None:
        return
    now = ctx.clock.now()
    if await _set(
        ctx,
        ticket.id,
        _T.c.state.in_(LIVE),
        state=TicketState.closed.value,
        resolution="deleted",
        excerpt="",
        closed_at=now,
        last_activity_at=now,
    ):
        deleted = i18n.gettext(ticket.locale, "🗑️ The question was deleted: ticket closed.")
        await _update_reply(ctx, ticket, _closed(ctx, ticket, deleted))


# ---------------------------------------------------------------------------- solving


async def solve(
    ctx: BotContext, ticket: HelpTicket, by: UserRef, *, through_faq: bool = False
) -> bool:
    """Mark a ticket solved (once) and credit the last replier; False if it was not live."""
    assert ticket.id is not None
    now = ctx.clock.now()
    solver = await member_for(ctx, by)
    fresh = await _ticket(ctx, ticket.id)
    if fresh is None:
        return False
    credited = None if through_faq else fresh.last_replier_id
    if not await _set(
        ctx,
        ticket.id,
        _T.c.state.in_(LIVE),
        state=TicketState.solved.value,
        resolution="faq" if through_faq else "solved",
        solved_at=now,
        solved_by_id=solver.id,
        credited_id=credited,
        excerpt="",
        closed_at=now,
        last_activity_at=now,
    ):
        return False
    locale = fresh.locale
    if through_faq:
        note = i18n.gettext(locale, "✅ Solved by the FAQ.")
    else:
        note = i18n.gettext(locale, "✅ Solved.")
    if credited is not None:
        points = 0
        try:
            points = await grant(
                ctx,
                member_id=credited,
                action="help_answer_accepted",
                key=f"helpdesk:{ticket.id}",
                at=now,
                actor_id=fresh.asker_id,
            )
        except Exception:
            log.exception("help ticket %s: could not grant the helper's points", ticket.id)
        helper = await _user_id(ctx, credited)
        if helper is not None:
            if points:
                # Translators: {who} is a mention of the helper whose answer solved it.
                thanks = i18n.ngettext(
                    locale,
                    "Thanks {who} (+{points} point)!",
                    "Thanks {who} (+{points} points)!",
                    points,
                )
            else:
                thanks = i18n.gettext(locale, "Thanks {who}!")
            note += " " + thanks.format(who=_mention(helper), points=points)
    await _update_reply(ctx, fresh, _closed(ctx, fresh, note))
    await _queue(ctx, [_thread_row(fresh, "solved", note, now)])
    log.info("help ticket %s solved (credited member %s)", ticket.id, credited)
    return True


def _may_close(ctx: BotContext, ticket: HelpTicket, user: UserRef, member: Member) -> bool:
    return member.id == ticket.asker_id or _is_helper(ctx, user)


async def on_reaction(event: ReactionAdded, ctx: BotContext) -> None:
    """A ✅ on the question (or on the bot's reply, or on the latest answer) by the asker or a
    helper solves the ticket; anyone else's is ignored."""
    if event.emoji not in SOLVED_EMOJIS or event.user.is_bot:
        return
    ticket = await _ticket_around(ctx, event.platform, event.channel, event.message_id)
    if ticket is None or ticket.state not in LIVE:
        return
    member = await member_for(ctx, event.user)
    if not _may_close(ctx, ticket, event.user, member):
        log.info("help ticket %s: ✅ by someone neither asker nor helper, ignored", ticket.id)
        return
    await solve(ctx, ticket, event.user)


async def _note(ctx: BotContext, ticket: HelpTicket, user: UserRef, text: str) -> None:
    """A word to whoever pressed a button, in a direct message through the outbox."""
    member = await member_for(ctx, user)
    payload = {"message": Message(text=text).to_dict(), "member_id": member.id}
    occurrence = uuid.uuid4().hex[:16]  # one per click
    now = ctx.clock.now()
    await _queue(
        ctx, [_row(ticket, "note", f"member:{member.id}", payload, now, occurrence=occurrence)]
    )


async def on_button(event: ButtonClicked, ctx: BotContext) -> None:
    """Solved, The FAQ answered me, and I'm on it (private tickets)."""
    if event.action_id not in {ACTION_SOLVED, ACTION_FAQ, ACTION_TAKE}:
        return
    try:
        ticket = await _ticket(ctx, int(event.value))
    except ValueError:
        return
    if ticket is None or ticket.id is None:
        return
    member = await member_for(ctx, event.user)
    locale = member.locale or ticket.locale  # the clicker's language, else the ticket's
    if ticket.state not in LIVE:
        await _note(ctx, ticket, event.user, i18n.gettext(locale, "This ticket is closed."))
        return
    if event.action_id == ACTION_FAQ:
        if member.id != ticket.asker_id:
            await _note(
                ctx,
                ticket,
                event.user,
                i18n.gettext(locale, "Only the person who asked can say the FAQ answered them."),
            )
            return
        await solve(ctx, ticket, event.user, through_faq=True)
    elif event.action_id == ACTION_SOLVED:
        if not _may_close(ctx, ticket, event.user, member):
            await _note(
                ctx,
                ticket,
                event.user,
                i18n.gettext(
                    locale, "Only the person who asked and the helpers can close this ticket."
                ),
            )
            return
        await solve(ctx, ticket, event.user)
    else:  # I'm on it: a helper takes a private question
        if not _is_helper(ctx, event.user) or member.id == ticket.asker_id:
            return
        now = ctx.clock.now()
        await _set(
            ctx,
            ticket.id,
            _T.c.state == TicketState.open.value,
            state=TicketState.answered.value,
            first_response_at=now,
            first_responder_id=member.id,
        )
        await _set(
            ctx, ticket.id, _T.c.state.in_(LIVE), last_replier_id=member.id, last_activity_at=now
        )


# ---------------------------------------------------------------------------- reminders


def reminder_due(settings: Settings, ticket: HelpTicket) -> datetime:
    """When an unanswered question's helpers are reminded: its reply is overdue from then.
    The clock runs only while helpers are on duty (see ``Rota.after_duty_time``): a question
    asked out of hours waits for the next on-duty window."""
    remind = timedelta(minutes=settings.help_remind_minutes)
    return settings.rota.after_duty_time(ticket.opened_at, remind)


def _due(ctx: BotContext, ticket: HelpTicket) -> list[tuple[str, datetime]]:
    settings = ctx.settings
    due: list[tuple[str, datetime]] = []
    rota = _rota(ctx)
    if ticket.state == TicketState.open.value:
        if ticket.reminded_at is None:
            due.append(("remind", reminder_due(settings, ticket)))
        if ticket.escalated_at is None:
            escalate = timedelta(minutes=settings.help_escalate_minutes)
            due.append(("escalate", rota.after_duty_time(ticket.opened_at, escalate)))
    # A ticket goes stale after that many hours counted from when someone is on duty: a
    # weekend question is not closed before a helper could see it.
    quiet_since = rota.after_duty_time(ticket.last_activity_at, timedelta(0))
    due.append(("stale", quiet_since + timedelta(hours=settings.help_stale_hours)))
    return due


def _open_and(marker: Any) -> Any:
    return sa.and_(_T.c.state == TicketState.open.value, marker.is_(None))


async def _live(ctx: BotContext) -> list[HelpTicket]:
    async with ctx.db.session() as session:
        rows = await session.execute(
            sa.select(HelpTicket).where(_T.c.state.in_(LIVE)).order_by(_T.c.opened_at, _T.c.id)
        )
        return list(rows.scalars())


async def tick(ctx: BotContext) -> int:
    """Remind, escalate and close stale tickets that are due; returns how many actions ran.

    Never raises: a failure is logged.
    """
    try:
        return await _tick(ctx)
    except Exception:
        log.exception("help desk tick failed")
        return 0


async def _tick(ctx: BotContext) -> int:
    now = ctx.clock.now()
    done = 0
    for ticket in await _live(ctx):
        assert ticket.id is not None
        for action, when in _due(ctx, ticket):
            if when > now:
                continue
            if action == "remind":
                rows = await _remind(ctx, ticket, now)
                if await _set(
                    ctx, ticket.id, _open_and(_T.c.reminded_at), queue=rows, reminded_at=now
                ):
                    done += 1
            elif action == "escalate":
                rows = await _escalate(ctx, ticket, now)
                if await _set(
                    ctx, ticket.id, _open_and(_T.c.escalated_at), queue=rows, escalated_at=now
                ):
                    done += 1
            elif await _close_stale(ctx, ticket, now):
                done += 1
                break
    return done


async def _close_stale(ctx: BotContext, ticket: HelpTicket, now: datetime) -> bool:
    """Close a ticket nobody touched for too long: its state, the notice in its thread and the
    closed form of the bot's reply in one transaction."""
    assert ticket.id is not None
    async with ctx.db.shared():
        closed = await _set(
            ctx,
            ticket.id,
            sa.and_(_T.c.state.in_(LIVE), _T.c.last_activity_at == ticket.last_activity_at),
            queue=[_thread_row(ticket, "stale", _stale(ticket.locale), now)],
            state=TicketState.stale.value,
            resolution="stale",
            excerpt="",
            closed_at=now,
        )
        if closed:
            await _update_reply(ctx, ticket, _closed(ctx, ticket, _stale(ticket.locale)))
    return closed


async def _staff_text(ctx: BotContext, ticket: HelpTicket, template: str, minutes: int) -> str:
    """``template`` (in the bot's language: for the helpers and managers) filled in."""
    asker = await _user_id(ctx, ticket.asker_id)
    # Translators: where a help question was asked, when it was not in a channel.
    private = i18n.pgettext(ctx.settings.locale, "help ticket place", "private")
    return template.format(
        id=ticket.id,
        where=private if ticket.private else f"<#{ticket.channel_id}>",
        asker=_mention(asker) if asker else "?",
        minutes=minutes,
        excerpt=member_text(ticket.excerpt, EXCERPT),
    )


async def _remind(ctx: BotContext, ticket: HelpTicket, now: datetime) -> list[dict[str, Any]]:
    """The reminder's outbox rows. It names someone: the helpers on duty, else the community
    managers; with neither, it goes to the managers' channel."""
    minutes = ctx.settings.help_remind_minutes
    helpers = _on_duty(ctx, ticket.platform) or _platform_ids(ctx.settings.admins, ticket.platform)
    rows: list[dict[str, Any]] = []
    if not helpers:
        unstaffed = i18n.gettext(
            ctx.settings.locale,
            "⏰ Help ticket #{id} ({where}) from {asker} has waited {minutes} min and nobody is "
            "on duty: {excerpt}",
        )
        text = await _staff_text(ctx, ticket, unstaffed, minutes)
        rows += _managers_channel_row(ctx, ticket, "remind", Message(text=text), now)
    if ticket.private:
        asker = await _user_id(ctx, ticket.asker_id)
        text = _waiting(ctx.settings.locale, minutes)  # to the helpers
        text += f" {_mention(asker) if asker else ''}: {member_text(ticket.excerpt, EXCERPT)}"
        message = Message(text=text)
        return rows + await _direct_rows(ctx, ticket, "remind", helpers, message, now, excerpt=True)
    if helpers:
        who = " ".join(_mention(h) for h in helpers)
        text = _waiting(ticket.locale, minutes) + f" {who}"
    else:
        text = _waiting(ticket.locale, minutes)
    return [*rows, _thread_row(ticket, "remind", text, now)]


async def _escalate(ctx: BotContext, ticket: HelpTicket, now: datetime) -> list[dict[str, Any]]:
    """The escalation's outbox rows: the community managers by direct message, else the
    managers' channel; the asker hears of it in the thread when someone was told."""
    managers = _platform_ids(ctx.settings.admins, ticket.platform)
    escalate = i18n.gettext(
        ctx.settings.locale,
        "📣 Help ticket #{id} ({where}) from {asker} has had no answer for {minutes} min: "
        "{excerpt}",
    )
    text = await _staff_text(ctx, ticket, escalate, ctx.settings.help_escalate_minutes)
    message = Message(text=text, metadata={"helpdesk_ticket": str(ticket.id)})
    rows = await _direct_rows(ctx, ticket, "escalate", managers, message, now, excerpt=True)
    if not rows:  # nobody to write to: the managers' channel, where someone will see it
        rows = _managers_channel_row(ctx, ticket, "escalate", message, now)
    if rows and not ticket.private:
        told = i18n.gettext(ticket.locale, "📣 The community managers have been told.")
        rows.append(_thread_row(ticket, "escalate", told, now))
    return rows


async def next_event_time(ctx: BotContext, horizon: datetime) -> datetime | None:
    """The next instant a reminder, an escalation or a stale ticket is due (before
    ``horizon``), for a simulated clock."""
    times = [when for ticket in await _live(ctx) for _, when in _due(ctx, ticket)]
    upcoming = [when for when in times if when <= horizon]
    return min(upcoming) if upcoming else None


# ---------------------------------------------------------------------------- commands


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot help [--private] QUESTION`` and ``/rallybot helpdesk``."""
    name = event.name.lower()
    if name == "help" and event.args:
        await _command_help(event, ctx)
    elif name == "helpdesk":
        await _command_helpdesk(event, ctx)


async def _command_help(event: CommandInvoked, ctx: BotContext) -> None:
    args = list(event.args)
    private = args[0].lower() in {"--private", "-p", "--prive", "--privé"}
    question = " ".join(args[1:] if private else args).strip()
    locale = locale_for(ctx, await member_for(ctx, event.user))
    if not question:
        # Translators: QUESTION names the command's argument.
        usage = i18n.gettext(locale, "Usage: /rallybot help [--private] QUESTION")
        await ctx.answer(event, usage)
        return
    channel = _help_channel(ctx)
    if private or channel is None:
        async with ctx.db.shared():  # the ticket, its answer and the helpers' messages together
            await _open_private(event, ctx, question)
        return
    text = f"❓ {_mention(event.user.id)}: {member_text(question, QUESTION_LIMIT)}"
    # The ticket, the question's post and the bot's reply in its thread are written together
    # (outbox rows: retried if the platform fails); the event's id makes the ticket's, so the
    # command handled again after a crash opens nothing twice.
    await open_ticket(
        ctx,
        asker=event.user,
        channel_id=channel,
        message_id=POSTED + hashlib.sha256(event.event_id.encode()).hexdigest()[:40],
        text=question,
        post=Message(text=text),
    )
    # Translators: {channel} is a link to the help channel.
    posted = i18n.gettext(locale, "Your question is in {channel}: answers will come in its thread.")
    await ctx.answer(event, posted.format(channel=f"<#{channel}>"))


async def _open_private(event: CommandInvoked, ctx: BotContext, question: str) -> None:
    ticket = await open_ticket(
        ctx,
        asker=event.user,
        channel_id=f"private:{event.user.id}",
        message_id=event.event_id,
        text=question,
        private=True,
    )
    if ticket is None or ticket.id is None:
        return
    helpers = _on_duty(ctx, event.platform) or _platform_ids(
        sorted(_rota(ctx).helpers), event.platform
    )
    if not helpers:
        helpers = _platform_ids(ctx.settings.admins, event.platform)
    value = str(ticket.id)
    locale = ctx.settings.locale
    # Translators: to the helpers; "Solved" is the label of the button of that name.
    text = i18n.gettext(
        locale,
        "🔒 Private help question #{id} from {asker}: {question}\n"
        "Write to them directly, then press Solved.",
    ).format(
        id=ticket.id, asker=_mention(event.user.id), question=member_text(question, QUESTION_LIMIT)
    )
    # Translators: a button: a helper takes a private question.
    take = i18n.gettext(locale, "I'm on it")
    message = Message(
        text=text,
        buttons=(
            Button(take, action_id=ACTION_TAKE, value=value, style="primary"),
            Button(_solved_button(locale), action_id=ACTION_SOLVED, value=value),
        ),
        metadata={"helpdesk_ticket": value},
    )
    # Through the outbox: a send the platform refuses is retried, not lost.
    now = ctx.clock.now()
    rows = await _direct_rows(ctx, ticket, "new", helpers, message, now, excerpt=True)
    if not rows:
        log.warning("help ticket %s: no helper or community manager to tell", ticket.id)
        return
    async with ctx.db.session() as session:
        await outbox.insert_deliveries(session, rows)


def _age(since: datetime, now: datetime, locale: str) -> str:
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 60:
        return i18n.pgettext(locale, "duration", "{n} min").format(n=minutes)
    if minutes < 48 * 60:
        return i18n.pgettext(locale, "duration", "{n} h").format(n=minutes // 60)
    # Translators: a duration in days, abbreviated ("3 d").
    return i18n.pgettext(locale, "duration", "{n} d").format(n=minutes // 1440)


def _state_word(locale: str, state: str) -> str:
    """A ticket's state for the helpers."""
    if state == TicketState.answered.value:
        return i18n.pgettext(locale, "help ticket state", "answered")
    return i18n.pgettext(locale, "help ticket state", "open")


async def _command_helpdesk(event: CommandInvoked, ctx: BotContext) -> None:
    locale = locale_for(ctx, await member_for(ctx, event.user))
    if not _is_helper(ctx, event.user):
        refused = i18n.gettext(
            locale, '"/rallybot helpdesk" is for helpers and community managers.'
        )
        await ctx.answer(event, refused)
        return
    now = ctx.clock.now()
    tickets = await _live(ctx)
    if not tickets:
        await ctx.answer(event, i18n.gettext(locale, "No open help ticket. 🎉"))
        return
    private = i18n.pgettext(locale, "help ticket place", "private")
    lines = [
        i18n.ngettext(
            locale, "Open help tickets ({n}):", "Open help tickets ({n}):", len(tickets)
        ).format(n=len(tickets))
    ]
    for ticket in tickets[:30]:
        asker = await _user_id(ctx, ticket.asker_id)
        where = private if ticket.private else f"<#{ticket.channel_id}>"
        lines.append(
            f"• #{ticket.id} {_state_word(locale, ticket.state)} · "
            f"{_age(ticket.opened_at, now, locale)} · {where} · "
            f"{_mention(asker) if asker else '?'} · {member_text(ticket.excerpt, EXCERPT)}"
        )
    if len(tickets) > 30:
        more = len(tickets) - 30
        lines.append(i18n.ngettext(locale, "…and {n} more.", "…and {n} more.", more).format(n=more))
    await ctx.answer(event, "\n".join(lines))


class HelpdeskFeature(Feature):
    """The help channel: tickets, the FAQ, reminders and escalations."""

    name = "helpdesk"
    commands = COMMAND_SPECS
    personal_data = ("help_ticket",)
    file_kinds = (FileKind(FAQ_FILES, is_faq_file),)

    def __init__(self) -> None:
        self.faqs: list[Faq] = []
        self.faq_index = FaqIndex(())  # the help channel's FAQ: files with a top-level "faq:"

    async def reload(self, ctx: BotContext, files: Mapping[str, Sequence[Path]]) -> list[LoadError]:
        """Load the FAQ files (those among the campaign files and ``RALLYBOT_FAQ``)."""
        return self.load_faq_files(files.get(FAQ_FILES, ()), ctx.settings.faq_file)

    def load_faq_files(self, paths: Sequence[Path], extra: Path | None = None) -> list[LoadError]:
        """Load the FAQ files ``paths`` and ``extra`` into :attr:`faq_index`.

        A broken file keeps its last good version; a FAQ id used twice is an error.
        """
        files = list(paths)
        if extra is not None and all(extra.resolve() != p.resolve() for p in files):
            files.append(extra)
        previous: dict[str, Faq] = {faq.source: faq for faq in self.faqs}
        faqs: list[Faq] = []
        errors: list[LoadError] = []
        for path in files:
            faq: Faq | None
            try:
                faq = load_faq(path)
            except CampaignLoadError as exc:
                errors.extend(exc.errors)
                for error in exc.errors:
                    log.error("FAQ file error: %s", error)
                faq = previous.get(str(path))
                if faq is None:
                    continue
            clash = next((f for f in faqs if f.id == faq.id), None)
            if clash is not None:
                errors.append(
                    LoadError(
                        str(path), 1, 1, "faq", f'FAQ id "{faq.id}" is also used by {clash.source}'
                    )
                )
                continue
            faqs.append(faq)
        self.faqs = faqs
        self.faq_index = FaqIndex([e for faq in faqs for e in faq.entries])
        return errors

    def ticks(self) -> Sequence[Tick]:
        """Help tickets: reminders, escalations, stale ones."""
        return (tick,)

    async def next_event_time(self, ctx: BotContext, horizon: datetime) -> datetime | None:
        """The next reminder or escalation due."""
        return await next_event_time(ctx, horizon)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (
            # What they send are outbox rows: they run in the transaction that closes
            # their event's journal row.
            Subscription(MessagePosted, on_message, transactional=True),
            Subscription(MessageEdited, on_message_edited, transactional=True),
            Subscription(MessageDeleted, on_message_deleted, transactional=True),
            Subscription(ReactionAdded, on_reaction, transactional=True),
            Subscription(ButtonClicked, on_button, transactional=True),
            Subscription(CommandInvoked, on_command),
        )
