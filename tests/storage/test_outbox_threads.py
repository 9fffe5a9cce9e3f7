"""A reply in a thread through the outbox (the help desk's reminders): sent with its key, and
after an interruption between the send and its record, found in the thread instead of sent
again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.base import SentMessage
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.messages import Message
from rallybot.bot.outbox import Dispatcher
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, table_of

D = table_of(Delivery).c
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


class ThreadAdapter(MemoryAdapter):
    """Remembers in which thread the outbox looked for a send."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.looked_in: list[str | None] = []

    async def find_sent(
        self, channel_or_user_id: str, idempotency_key: str, *, thread_id: str | None = None
    ) -> SentMessage | None:
        self.looked_in.append(thread_id)
        return await super().find_sent(channel_or_user_id, idempotency_key, thread_id=thread_id)


async def test_an_interrupted_thread_reply_is_found_not_sent_again(db: Database) -> None:
    row = {
        "campaign_id": ".helpdesk",
        "step_id": "ticket-1-remind",
        "recipient": "channel:C1",
        "occurrence": "thread",
        "due_at": NOW - timedelta(seconds=1),
        "grace_until": NOW + timedelta(days=1),
        "status": "pending",
        "payload": {"message": Message(text="⏰").to_dict(), "channel": "C1", "thread": "q1"},
        "content_hash": "",
        "attempts": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    async with db.session() as session:
        await outbox.insert_deliveries(session, [row])

    async def killed(key: str | None) -> None:
        raise RuntimeError("the process died right after the platform took the reply")

    adapter = ThreadAdapter(after_send=killed)
    with pytest.raises(RuntimeError):
        await Dispatcher(db, adapter, SimulatedClock(NOW), worker_id="w").run_once()
    [reply] = adapter.replies
    assert (reply.target, reply.thread_id, reply.idempotency_key) == (
        "C1",
        "q1",
        ".helpdesk/ticket-1-remind/channel:C1/thread",
    )

    adapter.after_send = None  # the same worker, restarted
    again = Dispatcher(db, adapter, SimulatedClock(NOW), worker_id="w")
    assert await again.take_back() == 1
    stats = await again.run_once()
    assert (stats.recovered, stats.sent) == (1, 0)
    assert adapter.looked_in == ["q1"] and len(adapter.replies) == 1
    async with db.session() as session:
        assert (await session.execute(sa.select(D.status))).scalar_one() == "sent"


async def test_a_row_claimed_ahead_on_a_fast_clock_leaves_once_it_is_due(db: Database) -> None:
    """On a simulated clock running at a speed, the dispatch loop claims the rows due a moment
    ahead (its claim takes simulated minutes at such a speed); the send waits for their time."""
    due = NOW + timedelta(hours=1)  # a real second ahead, once the clock runs
    row = {
        "campaign_id": "c",
        "step_id": "s",
        "recipient": "channel:C1",
        "occurrence": "once",
        "due_at": due,
        "grace_until": due + timedelta(hours=1),
        "status": "pending",
        "payload": {"message": Message(text="on time").to_dict(), "channel": "C1"},
        "content_hash": "",
        "attempts": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    async with db.session() as session:
        await outbox.insert_deliveries(session, [row])
    clock = SimulatedClock(NOW, speed=3600)
    sent_at: list[datetime] = []

    async def stamp(key: str | None) -> None:
        sent_at.append(clock.now())

    dispatcher = Dispatcher(db, MemoryAdapter(after_send=stamp), clock, worker_id="w")
    assert (await dispatcher.run_once()).claimed == 0  # not due yet
    stats = await dispatcher.run_once(until=due)
    assert (stats.claimed, stats.sent) == (1, 1)
    assert sent_at[0] >= due
