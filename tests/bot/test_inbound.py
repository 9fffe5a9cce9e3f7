"""The bot's inbound path: bursts recorded together, duplicates dropped, handlers bounded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.app import HANDLER_CONCURRENCY
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ChannelRef,
    CommandInvoked,
    Event,
    MessageDeleted,
    ReactionAdded,
    UserRef,
)
from rallybot.bot.inbox import Inbox
from rallybot.storage.database import Database
from rallybot.storage.models import InboundEvent
from rallybot.storage.report_models import Activity

NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)


def _bot(db: Database) -> Rallybot:
    return Rallybot(
        Settings(database_url="sqlite://"),
        db,
        MemoryAdapter(),
        SimulatedClock(NOW),
        campaign_paths=[],
    )


def _reaction(event_id: str, user: str) -> ReactionAdded:
    return ReactionAdded(
        platform="memory",
        event_id=event_id,
        user=UserRef(platform="memory", id=user),
        occurred_at=NOW,
        channel=ChannelRef(platform="memory", id="C1"),
        message_id="m1",
        emoji="tada",
        author=UserRef(platform="memory", id="author"),
    )


async def _count(db: Database, table: type[object]) -> int:
    async with db.read() as session:
        return int(
            (await session.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        )


async def test_a_burst_is_recorded_in_few_transactions_and_each_event_handled_once(
    db: Database,
) -> None:
    bot = _bot(db)
    handled: list[str] = []

    async def note(event: ReactionAdded, ctx: object) -> None:
        handled.append(event.event_id)

    bot.router.add(ReactionAdded, note)
    events = [_reaction(f"Ev{i}", f"U{i % 40}") for i in range(120)]
    retries = [_reaction(f"Ev{i}", f"U{i % 40}") for i in range(0, 120, 3)]  # the same ids again
    await asyncio.gather(*(bot.handle(e) for e in [*events, *retries]))
    assert sorted(handled) == sorted(f"Ev{i}" for i in range(120))
    assert await _count(db, InboundEvent) == 120
    assert bot._claims.batches < 20  # recorded together, not one transaction per event
    assert await _count(db, Activity) == 120  # every reaction's activity row, once


def _deleted(event_id: str, user: str) -> MessageDeleted:
    return MessageDeleted(
        platform="memory",
        event_id=event_id,
        user=UserRef(platform="memory", id=user),
        occurred_at=NOW,
        channel=ChannelRef(platform="memory", id="C1"),
        message_id=event_id,
    )


async def test_handlers_run_a_bounded_number_at_a_time(db: Database) -> None:
    bot = _bot(db)
    running = 0
    peak = 0

    async def slow(event: MessageDeleted, ctx: object) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.005)
        running -= 1

    # Events handled one by one (reactions go a group at a time, in one transaction).
    bot.router.add(MessageDeleted, slow)
    await asyncio.gather(*(bot.handle(_deleted(f"Ev{i}", f"U{i}")) for i in range(60)))
    assert 2 <= peak <= HANDLER_CONCURRENCY  # side by side, never more than the bound


async def test_a_hostile_event_id_fails_alone(db: Database) -> None:
    bot = _bot(db)
    handled: list[str] = []

    async def note(event: ReactionAdded, ctx: object) -> None:
        handled.append(event.event_id)

    bot.router.add(ReactionAdded, note)
    long_id = "E" * 300  # kept as a keyed hash: it fits like any other
    long_user = "U" * 300  # longer than the journal's member column: PostgreSQL refuses it
    results = await asyncio.gather(
        bot.handle(_reaction("ok-1", "U1")),
        bot.handle(_reaction(long_id, long_user)),
        bot.handle(_reaction("ok-2", "U3")),
        return_exceptions=True,
    )
    assert {"ok-1", "ok-2"} <= set(handled)  # recorded in the same burst, not lost with it
    if db.dialect == "postgresql":
        assert isinstance(results[1], Exception) and long_id not in handled
    await bot.handle(_reaction("ok-3", "U4"))  # the recorder goes on
    assert "ok-3" in handled


def _command(event_id: str, user: str) -> CommandInvoked:
    return CommandInvoked(
        platform="memory",
        event_id=event_id,
        user=UserRef(platform="memory", id=user),
        occurred_at=NOW,
        name="points",
    )


async def test_accept_records_then_returns_and_keeps_each_members_order(db: Database) -> None:
    bot = _bot(db)
    order: list[str] = []
    release = asyncio.Event()

    async def slow_first(event: ReactionAdded, ctx: object) -> None:
        if event.event_id == "a1":
            await release.wait()
        order.append(event.event_id)

    bot.router.add(ReactionAdded, slow_first)
    for event in (_reaction("a1", "alice"), _reaction("a2", "alice"), _reaction("b1", "bob")):
        await asyncio.wait_for(bot.accept(event), timeout=2)  # recorded, not waited for
    assert await _count(db, InboundEvent) == 3
    for _ in range(50):
        if order:
            break
        await asyncio.sleep(0.01)
    assert order == ["b1"]  # bob is not held up by alice's slow event; alice's second waits
    await bot.accept(_reaction("a1", "alice"))  # a retry of a recorded event: dropped
    release.set()
    await bot.idle()
    assert order == ["b1", "a1", "a2"]


async def test_accept_waits_for_a_command_to_be_answered(db: Database) -> None:
    bot = _bot(db)
    answered: list[str] = []

    async def answer(event: CommandInvoked, ctx: object) -> None:
        await asyncio.sleep(0.01)
        answered.append(event.event_id)

    bot.router.add(CommandInvoked, answer)
    await bot.accept(_command("c1", "alice"))
    assert answered == ["c1"]  # the adapter may now close the interaction


async def test_shutdown_finishes_the_accepted_events(db: Database) -> None:
    bot = _bot(db)
    handled: list[str] = []

    async def slow(event: ReactionAdded, ctx: object) -> None:
        await asyncio.sleep(0.01)
        handled.append(event.event_id)

    bot.router.add(ReactionAdded, slow)
    await bot.start_adapter()
    for i in range(20):
        await bot.accept(_reaction(f"s{i}", f"U{i % 3}"))
    assert len(handled) < 20
    await bot.shutdown()
    assert sorted(handled) == sorted(f"s{i}" for i in range(20))


async def test_the_inbox_runs_at_most_its_workers_and_survives_a_failing_handler() -> None:
    running = 0
    peak = 0
    seen: list[str] = []

    async def handle(event: Event) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.002)
        running -= 1
        seen.append(event.event_id)
        if event.event_id == "U3-0":
            raise RuntimeError("a feature broke")

    inbox = Inbox(handle, workers=3)
    futures = [
        inbox.put(_reaction(f"U{user}-{n}", f"U{user}")) for n in range(4) for user in range(10)
    ]
    assert len(inbox) == 40
    await asyncio.wait_for(asyncio.gather(*futures), timeout=5)  # all done, none raised
    await inbox.idle()
    assert peak == 3 and len(inbox) == 0
    assert sorted(seen) == sorted(f"U{u}-{n}" for u in range(10) for n in range(4))
    for user in range(10):  # each member's events in the order they were put
        mine = [e for e in seen if e.startswith(f"U{user}-")]
        assert mine == [f"U{user}-{n}" for n in range(4)]
    with pytest.raises(ValueError):
        Inbox(handle, workers=0)
