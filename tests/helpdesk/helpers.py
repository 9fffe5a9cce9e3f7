"""Shared set-up for the help desk scenarios: a real bot on the memory adapter, a simulated
clock, the shipped English FAQ, a help channel and a rota."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rallybot.bot.adapters.memory import Delivered, MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    UserRef,
)
from rallybot.handlers.helpdesk.feature import OUTBOX_CAMPAIGN
from rallybot.storage.database import Database
from rallybot.storage.helpdesk_models import HelpTicket
from rallybot.storage.models import Delivery, PointEntry, table_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "campaigns" / "examples"
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Paris
HELP = "help"
ROTA = "mon-fri 09:00-18:00 helper1; sat 10:00-12:00 weekend"
_ids = itertools.count(1)


def faq_folder(folder: Path) -> Path:
    """A campaigns folder holding the shipped English FAQ."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLES / "en" / "faq.yaml", folder / "faq.yaml")
    return folder


class SendingAdapter(MemoryAdapter):
    """The memory adapter whose pushed events are followed by a pass of the outbox, as the
    running bot's dispatch loop would do right after (the help desk answers through it)."""

    bot: Rallybot | None = None

    async def push(self, event: Event) -> None:
        """Hand ``event`` to the bot, then send what it queued."""
        await super().push(event)
        if self.bot is not None:
            await self.bot.dispatch_tick(drain=True)


async def make_bot(
    db: Database,
    folder: Path,
    clock: SimulatedClock,
    *,
    worker_id: str | None = None,
    **settings: Any,
) -> tuple[Rallybot, MemoryAdapter]:
    """A started bot with the English FAQ, the help channel ``help`` and the rota ``ROTA``;
    its outbox is sent after every pushed event."""
    faq_folder(folder)
    adapter = SendingAdapter()
    options: dict[str, Any] = {
        "database_url": "sqlite://",
        "admins": ["memory:cm"],
        "help_channel": HELP,
        "helpers": ROTA,
        "helpers_timezone": "Europe/Paris",
        "help_remind_minutes": 30,
        "help_escalate_minutes": 120,
        "help_stale_hours": 24,
        "locale": "en",
        **settings,
    }
    bot = Rallybot(
        Settings(**options), db, adapter, clock, campaign_paths=[folder], worker_id=worker_id
    )
    adapter.bot = bot
    report = await bot.reload()
    assert not report.errors, report.summary()
    await bot.start_adapter()
    return bot, adapter


def user(name: str) -> UserRef:
    return UserRef("memory", name, name.title())


def _common(name: str, clock: SimulatedClock) -> dict[str, Any]:
    return {
        "event_id": f"ev-{next(_ids)}",
        "platform": "memory",
        "user": user(name),
        "occurred_at": clock.now(),
    }


def post(
    name: str,
    text: str,
    clock: SimulatedClock,
    *,
    channel: str = HELP,
    thread: str | None = None,
    message_id: str | None = None,
) -> MessagePosted:
    """A message by ``name``: top-level, or in the thread of ``thread``."""
    return MessagePosted(
        **_common(name, clock),
        channel=ChannelRef("memory", channel),
        message_id=message_id or f"q{next(_ids)}",
        text=text,
        thread_id=thread,
    )


def react(
    name: str, message_id: str, clock: SimulatedClock, emoji: str = "white_check_mark"
) -> ReactionAdded:
    return ReactionAdded(
        **_common(name, clock),
        channel=ChannelRef("memory", HELP),
        message_id=message_id,
        emoji=emoji,
    )


def click(name: str, action_id: str, ticket_id: int, clock: SimulatedClock) -> ButtonClicked:
    return ButtonClicked(
        **_common(name, clock),
        channel=ChannelRef("memory", HELP),
        message_id="m0",
        action_id=action_id,
        value=str(ticket_id),
    )


def edit(name: str, message_id: str, text: str, clock: SimulatedClock) -> MessageEdited:
    return MessageEdited(
        **_common(name, clock),
        channel=ChannelRef("memory", HELP),
        message_id=message_id,
        text=text,
    )


def delete(name: str, message_id: str, clock: SimulatedClock) -> MessageDeleted:
    return MessageDeleted(
        **_common(name, clock), channel=ChannelRef("memory", HELP), message_id=message_id
    )


def command(
    name: str, args: str, clock: SimulatedClock, *, command: str = "help", channel: str = "random"
) -> CommandInvoked:
    return CommandInvoked(
        **_common(name, clock),
        name=command,
        args=tuple(args.split()),
        channel=ChannelRef("memory", channel),
    )


async def tickets(db: Database) -> list[HelpTicket]:
    async with db.session() as session:
        rows = await session.execute(sa.select(HelpTicket).order_by(table_of(HelpTicket).c.id))
        return list(rows.scalars())


async def ticket(db: Database) -> HelpTicket:
    found = await tickets(db)
    assert len(found) == 1, found
    return found[0]


async def points(db: Database) -> list[tuple[int, str, int, str]]:
    """(member id, action, amount, key) of every help desk ledger entry."""
    entries = table_of(PointEntry).c
    async with db.session() as session:
        rows = await session.execute(
            sa.select(entries.member_id, entries.action, entries.amount, entries.idempotency_key)
            .where(entries.action == "help_answer_accepted")
            .order_by(entries.id)
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


def thread_replies(adapter: MemoryAdapter, question_id: str) -> list[Delivered]:
    return [r for r in adapter.replies if r.thread_id == question_id]


async def helpdesk_rows(db: Database) -> list[Delivery]:
    """The help desk's outbox rows, oldest first."""
    deliveries = table_of(Delivery).c
    async with db.session() as session:
        rows = await session.execute(
            sa.select(Delivery)
            .where(deliveries.campaign_id == OUTBOX_CAMPAIGN)
            .order_by(deliveries.id)
        )
        return list(rows.scalars())
