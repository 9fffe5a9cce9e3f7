"""Claims, leases and heartbeats: a restarted worker takes its own claims back at once, a live
one never loses a slow batch to its own reaper, claims follow the rate, and "another replica
owns it" is said only when one does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.base import Capabilities, SentMessage
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.clock import SimulatedClock, SystemClock
from rallybot.bot.messages import Message
from rallybot.bot.outbox import Dispatcher
from rallybot.bot.runner import keep_worker_id
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, table_of
from rallybot.storage.worker_lock import (
    WORKER_LOCK_KEY,
    WorkerIdInUse,
    WorkerLock,
    acquire_worker_id,
)

D = table_of(Delivery).c
NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
PARALLEL = Capabilities(confirms_sends=True)


class CountingAdapter(MemoryAdapter):
    """A memory platform that counts the "was it sent?" checks and can be slow."""

    def __init__(self, *, delay: float = 0.0, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.checks = 0
        self.delay = delay

    async def find_sent(self, channel_or_user_id: str, idempotency_key: str) -> SentMessage | None:
        self.checks += 1
        return await super().find_sent(channel_or_user_id, idempotency_key)

    async def post(
        self, channel_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().post(channel_id, message, idempotency_key=idempotency_key)


async def seed(db: Database, n: int, due: datetime) -> None:
    """``n`` due posts, each to its own channel (so that they may go in parallel)."""
    message = Message(text="Connect opens on Tuesday.").to_dict()
    rows = [
        {
            "campaign_id": "launch",
            "step_id": "teaser",
            "recipient": f"channel:c{i}",
            "occurrence": "once",
            "due_at": due - timedelta(seconds=1),
            "grace_until": due + timedelta(days=1),
            "status": "pending",
            "payload": {"message": message, "channel": f"C{i:03d}"},
            "content_hash": "x",
            "attempts": 0,
            "created_at": due,
            "updated_at": due,
        }
        for i in range(n)
    ]
    async with db.session() as session:
        await outbox.insert_deliveries(session, rows)


async def statuses(db: Database) -> dict[str, int]:
    async with db.session() as session:
        result = await session.execute(sa.select(D.status, sa.func.count()).group_by(D.status))
        return {str(s): int(n) for s, n in result.all()}


def delivered_keys(adapter: MemoryAdapter) -> list[str]:
    return [d.idempotency_key for d in adapter.delivered if d.idempotency_key is not None]


async def test_a_restarted_worker_takes_back_its_own_claims_at_once(db: Database) -> None:
    await seed(db, 20, NOW)
    clock = SimulatedClock(NOW)
    # The first run claims 20 rows, begins two sends (one reaches the platform), then dies.
    claimed = await outbox.claim_due(db, NOW, "host-1", timedelta(minutes=2), 20)
    first, second = claimed[0], claimed[1]
    assert first.id is not None and second.id is not None
    assert await outbox.begin_attempts(db, [first.id, second.id], "host-1", NOW) == {
        first.id,
        second.id,
    }
    platform = CountingAdapter(capabilities=PARALLEL)
    await platform.post(str(first.payload["channel"]), Message(text="x"), idempotency_key=first.key)

    # The restarted process (same worker id) does not wait for the two-minute lease.
    restarted = Dispatcher(db, platform, clock, worker_id="host-1")
    assert await restarted.take_back() == 20
    stats = await restarted.run_once()
    assert stats.claimed == 20
    assert stats.recovered == 1 and stats.sent == 19
    # Only the two rows whose send had begun were checked with the platform.
    assert platform.checks == 2
    keys = delivered_keys(platform)
    assert len(keys) == len(set(keys)) == 20
    assert await statuses(db) == {"sent": 20}


async def test_another_worker_id_does_not_take_back_live_claims(db: Database) -> None:
    await seed(db, 5, NOW)
    await outbox.claim_due(db, NOW, "host-1", timedelta(minutes=2), 5)
    other = Dispatcher(db, CountingAdapter(), SimulatedClock(NOW), worker_id="host-2")
    assert await other.take_back() == 0
    assert (await other.run_once()).claimed == 0
    assert await statuses(db) == {"claimed": 5}


async def test_the_heartbeat_keeps_a_slow_batch_from_expiring(db: Database) -> None:
    """Sends slower than the lease (recovery checks, rate limits) while the reaper runs as
    often as it can: the live worker's claims never expire, nothing is lost or checked."""
    now = datetime.now(UTC)
    await seed(db, 12, now)
    platform = CountingAdapter(delay=0.15)  # one at a time: 12 x 0.15 s = 1.8 s
    dispatcher = Dispatcher(
        db, platform, SystemClock(), worker_id="slow", lease=timedelta(seconds=0.6)
    )
    reaped = 0
    done = asyncio.Event()

    async def reaper() -> None:
        nonlocal reaped
        while not done.is_set():
            reaped += await outbox.reap_expired(db, datetime.now(UTC))
            await asyncio.sleep(0.05)

    task = asyncio.create_task(reaper())
    try:
        stats = await dispatcher.run_once()
    finally:
        done.set()
        await task
    assert reaped == 0
    assert stats.sent == 12 and stats.lost_claims == 0
    assert platform.checks == 0
    assert await statuses(db) == {"sent": 12}


async def test_claims_are_sized_to_what_the_rate_sends_within_a_lease(db: Database) -> None:
    now = datetime.now(UTC)
    await seed(db, 40, now)
    platform = CountingAdapter(delay=0.05)  # about 20 a second, one at a time
    dispatcher = Dispatcher(
        db, platform, SystemClock(), worker_id="w", lease=timedelta(seconds=1), batch=40
    )
    dispatcher.concurrency = 2
    assert dispatcher.claim_size() == 40  # nothing measured yet
    await dispatcher.run_once()
    # About 20 rows a second and a one-second lease: claim about 10 (half a lease's worth).
    assert 2 <= dispatcher.claim_size() <= 15


async def _lapse(db: Database, delivery_id: int) -> None:
    """The claim's lease runs out and a reaper hands the row back (the process was slow)."""
    async with db.session() as session:
        await session.execute(
            sa.update(table_of(Delivery))
            .where(D.id == delivery_id)
            .values(lease_until=NOW - timedelta(minutes=5))
        )
    assert await outbox.reap_expired(db, NOW) == 1


async def test_a_send_whose_claim_lapsed_is_recorded_when_nobody_took_the_row(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(db, 1, NOW)

    async def lapse_during_send(key: str | None) -> None:
        async with db.session() as session:
            ids = list((await session.execute(sa.select(D.id))).scalars())
        await _lapse(db, ids[0])

    platform = CountingAdapter(after_send=lapse_during_send)
    dispatcher = Dispatcher(db, platform, SimulatedClock(NOW), worker_id="w1")
    with caplog.at_level(logging.INFO, logger="rallybot.outbox"):
        stats = await dispatcher.run_once()
    assert stats.sent == 1 and stats.lost_claims == 0
    assert await statuses(db) == {"sent": 1}
    assert "another replica" not in caplog.text
    # Nothing left to send again later.
    platform.after_send = None
    assert (await dispatcher.run_once()).claimed == 0
    assert len(platform.delivered) == 1


async def test_another_replica_is_named_only_when_it_really_took_the_row(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(db, 1, NOW)
    clock = SimulatedClock(NOW)

    async def taken_over(key: str | None) -> None:
        async with db.session() as session:
            ids = list((await session.execute(sa.select(D.id))).scalars())
        await _lapse(db, ids[0])
        assert len(await outbox.claim_due(db, NOW, "w2", timedelta(minutes=2), 10)) == 1

    platform = CountingAdapter(after_send=taken_over)
    with caplog.at_level(logging.INFO, logger="rallybot.outbox"):
        stats = await Dispatcher(db, platform, clock, worker_id="w1").run_once()
    assert stats.lost_claims == 1
    assert "another replica (w2) owns it now" in caplog.text
    # The other replica checks with the platform first: the message does not go twice.
    platform.after_send = None
    replica = Dispatcher(db, platform, clock, worker_id="w2")
    assert await replica.take_back() == 1
    stats = await replica.run_once()
    assert stats.recovered == 1 and stats.sent == 0
    assert len(platform.delivered) == 1
    assert await statuses(db) == {"sent": 1}


async def test_one_live_process_per_worker_id(db: Database) -> None:
    first = await acquire_worker_id(db, "replica-a")
    try:
        with pytest.raises(WorkerIdInUse):
            await acquire_worker_id(db, "replica-a")
        # Without an explicit id, each process gets its own slot of the host.
        one = await acquire_worker_id(db)
        two = await acquire_worker_id(db)
        assert one.worker_id != two.worker_id
        assert one.worker_id.endswith("-1") and two.worker_id.endswith("-2")
        await one.release()
        again = await acquire_worker_id(db)  # a restarted process gets its old slot back
        assert again.worker_id == one.worker_id
        await again.release()
        await two.release()
    finally:
        await first.release()
    reused = await acquire_worker_id(db, "replica-a")
    await reused.release()


async def _cut(db: Database, lock: WorkerLock) -> None:
    """Drop the connection that holds ``lock``, as a network cut would (PostgreSQL)."""
    async with db.engine.connect() as other:
        await other.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = :k1 AND pid <> pg_backend_pid() AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"k1": WORKER_LOCK_KEY},
        )
        await other.commit()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_lost_connection_gives_the_worker_id_back_or_says_it_is_taken(
    db: Database,
) -> None:
    """PostgreSQL drops a session's advisory lock with its connection: after a cut, the process
    takes its id again if it is still free, and knows when another process took it."""
    lock = await acquire_worker_id(db, "replica-a")
    assert await lock.keep(db)  # held: nothing to do
    await _cut(db, lock)
    assert await lock.keep(db)  # the id was free: taken again at once
    with pytest.raises(WorkerIdInUse):  # ...so a newcomer cannot use it
        await acquire_worker_id(db, "replica-a")
    await _cut(db, lock)
    newcomer = await acquire_worker_id(db, "replica-a")  # started during the cut
    try:
        assert not await lock.keep(db)  # the first process must stop
    finally:
        await lock.release()  # the lock is gone with its connection: no error
        await newcomer.release()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_process_whose_worker_id_was_taken_stops(db: Database) -> None:
    lock = await acquire_worker_id(db, "replica-a")
    stopped = asyncio.Event()
    keeper = asyncio.create_task(keep_worker_id(lock, db, interval=0.05, on_taken=stopped.set))
    try:
        await asyncio.sleep(0.2)
        assert not stopped.is_set()
        await _cut(db, lock)
        newcomer = await acquire_worker_id(db, "replica-a")
        await asyncio.wait_for(stopped.wait(), 5)
        await newcomer.release()
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        await lock.release()
