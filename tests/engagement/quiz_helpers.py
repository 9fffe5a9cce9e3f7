"""Shared set-up for the quiz scenarios: a real bot on the memory adapter and a simulated clock."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.adapters.memory import Delivered, MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ButtonClicked, ChannelRef, CommandInvoked, MessagePosted, UserRef
from rallybot.bot.messages import Message
from rallybot.storage.database import Database
from rallybot.storage.models import PointEntry, table_of
from rallybot.storage.repositories import upsert_member

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "campaigns" / "examples"
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # 10:00 in Paris
_ids = itertools.count(1)


def write_files(folder: Path, campaign: str, bank: str = "en") -> Path:
    """A campaign folder: ``campaign`` (a YAML text) and the shipped bank of ``bank``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "campaign.yaml").write_text(campaign)
    shutil.copyfile(EXAMPLES / bank / "quiz-connect.yaml", folder / "quiz.yaml")
    return folder


async def make_bot(
    db: Database, folder: Path, clock: SimulatedClock, adapter: MemoryAdapter | None = None
) -> tuple[Rallybot, MemoryAdapter]:
    """A started bot on ``folder`` (campaigns and banks loaded)."""
    adapter = adapter or MemoryAdapter()
    settings = Settings(database_url="sqlite://", quiet_hours="21:00-08:00", admins=["memory:cm"])
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[folder])
    report = await bot.reload()
    assert not report.errors, report.summary()
    await bot.start_adapter()
    return bot, adapter


async def add_members(db: Database, *names: str, locale: str = "en") -> dict[str, int]:
    """Members ``names`` (user id = the lowercased name); their member ids."""
    ids: dict[str, int] = {}
    for name in names:
        member = await upsert_member(
            db, "memory", name.lower(), T0 - timedelta(days=30), display_name=name, locale=locale
        )
        assert member.id is not None
        ids[name] = member.id
    return ids


def user(name: str) -> UserRef:
    return UserRef("memory", name.lower(), name)


def click(name: str, action_id: str, channel: str = "general", value: str = "") -> ButtonClicked:
    """A click by ``name``. ``click(name, "quiz:12:0:1")`` is what the platforms send for the
    answer button of run 12, question 0, choice 1: action ``quiz``, value ``12:0:1``."""
    if action_id.startswith("quiz:") and not value:
        action_id, value = action_id.split(":", 1)
    return ButtonClicked(
        event_id=f"click-{next(_ids)}",
        platform="memory",
        user=user(name),
        occurred_at=T0,
        channel=ChannelRef("memory", channel, is_direct=channel.startswith("dm-")),
        message_id="m0",
        action_id=action_id,
        value=value,
    )


def say(name: str, text: str, channel: str | None = None, at: datetime = T0) -> MessagePosted:
    """A message by ``name``: in their DM with the bot unless ``channel`` is given, written
    ``at`` (an answer counts only when written after its question was asked)."""
    return MessagePosted(
        event_id=f"msg-{next(_ids)}",
        platform="memory",
        user=user(name),
        occurred_at=at,
        channel=ChannelRef("memory", channel or f"dm-{name.lower()}", is_direct=channel is None),
        message_id=f"u{next(_ids)}",
        text=text,
    )


def command(name: str, *args: str, channel: str | None = None) -> CommandInvoked:
    return CommandInvoked(
        event_id=f"cmd-{next(_ids)}",
        platform="memory",
        user=user(name),
        occurred_at=T0,
        name="quiz",
        args=args,
        channel=ChannelRef("memory", channel) if channel else None,
    )


def quiz_posts(adapter: MemoryAdapter, target: str) -> list[Message]:
    """The quiz messages sent to a channel or a user, in order."""
    return [d.message for d in adapter.sent_to(target) if "quiz_run" in d.message.metadata]


def notes(adapter: MemoryAdapter, user_id: str) -> list[str]:
    """The private notes (plain DMs, not quiz questions) a member received."""
    return [
        d.message.text
        for d in adapter.directs
        if d.target == user_id
        and "quiz_run" not in d.message.metadata
        and "campaign" not in d.message.metadata
    ]


def delivered_questions(adapter: MemoryAdapter, target: str) -> list[Delivered]:
    return [
        d
        for d in adapter.sent_to(target)
        if "question" in d.message.metadata and "results" not in d.message.metadata
    ]


async def points(db: Database) -> dict[tuple[int, str], int]:
    """(member id, action) -> points in the ledger."""
    entries = table_of(PointEntry).c
    async with db.session() as session:
        rows = await session.execute(
            sa.select(entries.member_id, entries.action, sa.func.sum(entries.amount)).group_by(
                entries.member_id, entries.action
            )
        )
        return {(row[0], row[1]): int(row[2]) for row in rows}


async def ledger_keys(db: Database) -> list[str]:
    entries = table_of(PointEntry).c
    async with db.session() as session:
        rows = await session.execute(sa.select(entries.idempotency_key).order_by(entries.id))
        return [row[0] for row in rows]
