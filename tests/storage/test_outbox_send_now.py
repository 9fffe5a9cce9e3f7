"""A step sent now and a dispatcher claiming the same step's waiting row: whatever the order,
exactly one of them sends it (the claim and the cancel are both guarded by the status)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, table_of

D = table_of(Delivery).c
NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)


def _row(occurrence: str, status: str = "pending") -> dict[str, Any]:
    return {
        "campaign_id": "launch",
        "step_id": "invite",
        "recipient": "member:7",
        "occurrence": occurrence,
        "due_at": NOW - timedelta(seconds=1),
        "grace_until": NOW + timedelta(hours=1),
        "status": status,
        "payload": {"message": {"text": "Welcome"}, "member_id": 7},
        "created_at": NOW,
        "updated_at": NOW,
    }


async def _planned(db: Database) -> None:
    async with db.session() as session:
        assert await outbox.insert_deliveries(session, [_row("once")]) == 1


async def _statuses(db: Database) -> dict[str, str]:
    async with db.read() as session:
        rows = await session.execute(sa.select(D.occurrence, D.status))
        return {str(o): str(s) for o, s in rows.all()}


async def _send_now(db: Database) -> outbox.SendNow:
    async with db.session() as session:
        return await outbox.send_now_rows(session, [_row("now-1")], "replaced: sent now", NOW)


async def test_a_claimed_row_is_not_sent_again_now(db: Database) -> None:
    await _planned(db)
    assert len(await outbox.claim_due(db, NOW, "worker-a", timedelta(minutes=5), 10)) == 1
    done = await _send_now(db)
    assert (done.queued, done.replaced, done.already) == (0, 0, ["member:7"])
    assert await _statuses(db) == {"once": "claimed"}


async def test_a_row_replaced_by_a_send_now_cannot_be_claimed(db: Database) -> None:
    await _planned(db)
    done = await _send_now(db)
    assert (done.queued, done.replaced, done.already) == (1, 1, [])
    claimed = await outbox.claim_due(db, NOW, "worker-a", timedelta(minutes=5), 10)
    assert [row.occurrence for row in claimed] == ["now-1"]  # the new row only
    assert await _statuses(db) == {"once": "cancelled", "now-1": "claimed"}


async def test_a_sent_row_is_not_sent_again_and_the_key_acts_once(db: Database) -> None:
    async with db.session() as session:
        await outbox.insert_deliveries(session, [_row("once", "sent")])
    assert (await _send_now(db)).queued == 0
    assert await _statuses(db) == {"once": "sent"}
    async with db.session() as session:
        await session.execute(sa.delete(table_of(Delivery)))
    assert (await _send_now(db)).queued == 1
    again = await _send_now(db)  # the same send (same occurrence) a second time
    assert (again.queued, again.already) == (0, [])


@pytest.mark.parametrize("rounds", [20])
async def test_send_now_racing_claims_sends_once(db: Database, rounds: int) -> None:
    for attempt in range(rounds):
        async with db.session() as session:
            await session.execute(sa.delete(table_of(Delivery)))
        await _planned(db)

        async def claim_all(worker: str) -> list[Delivery]:
            return await outbox.claim_due(db, NOW, worker, timedelta(minutes=5), 10)

        first, _, second = await asyncio.gather(
            claim_all(f"a{attempt}"), _send_now(db), claim_all(f"b{attempt}")
        )
        statuses = await _statuses(db)
        going = [o for o, s in statuses.items() if s in {"claimed", "pending"}]
        assert len(going) == 1, (attempt, statuses)
        assert len(first) + len(second) <= 1
