"""Outbox claim-send-record with a no-op adapter, against a bare SQL loop, SQLite and PostgreSQL.

The baseline does the least a correct outbox must do with plain SQL on the same engine:
claim a batch (select + update in one transaction), then record each row as sent in its own
transaction. The ratio is baseline time / dispatcher time (1.0 = no overhead; aim >= 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa

from rallybot.bot.adapters.base import Capabilities, EventSink, MemberProfile, SentMessage
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.messages import Message
from rallybot.bot.outbox import Dispatcher
from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import upgrade_async
from rallybot.storage.outbox import insert_deliveries

NOW = datetime(2026, 9, 15, 7, 30, tzinfo=UTC)


class NoopAdapter:
    """Accepts every message instantly."""

    platform = "bench"
    capabilities = Capabilities(idempotent_send=True)

    def __init__(self) -> None:
        self.count = 0

    async def start(self, sink: EventSink) -> None: ...
    async def stop(self) -> None: ...

    async def post(
        self, channel_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        self.count += 1
        return SentMessage(channel_id, str(self.count))

    async def send_direct(
        self, user_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        return await self.post(user_id, message)

    async def reply(self, channel_id: str, thread_id: str, message: Message) -> SentMessage:
        return await self.post(channel_id, message)

    async def update(self, sent: SentMessage, message: Message) -> None: ...
    async def pin(self, sent: SentMessage) -> None: ...
    async def add_reaction(self, channel_id: str, message_id: str, emoji: str) -> None: ...

    async def fetch_profile(self, user_id: str) -> MemberProfile | None:
        return None

    async def channel_members(self, channel_id: str) -> list[str]:
        return []

    async def find_sent(self, channel_or_user_id: str, idempotency_key: str) -> SentMessage | None:
        return None


def _rows(n: int, tag: str) -> list[dict[str, Any]]:
    payload = {"message": Message(text="Bonjour !").to_dict(), "channel": "general"}
    return [
        {
            "campaign_id": "bench",
            "step_id": tag,
            "recipient": f"channel:c{i % 50}",
            "occurrence": str(i),
            "due_at": NOW - timedelta(seconds=n - i),
            "grace_until": NOW + timedelta(days=1),
            "status": "pending",
            "payload": payload,
            "content_hash": "x",
            "attempts": 0,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i in range(n)
    ]


async def _seed(db: Database, n: int, tag: str) -> None:
    async with db.session() as session:
        await insert_deliveries(session, _rows(n, tag))


async def _baseline(db: Database, n: int, batch: int) -> float:
    await _seed(db, n, "baseline")
    began = time.perf_counter()
    done = 0
    while done < n:
        async with db.session() as s:
            ids = list(
                (
                    await s.execute(
                        sa.text(
                            "SELECT id FROM delivery WHERE status = 'pending' "
                            "AND step_id = 'baseline' ORDER BY due_at, id LIMIT :n"
                            + (" FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else "")
                        ),
                        {"n": batch},
                    )
                ).scalars()
            )
            await s.execute(
                sa.text(
                    "UPDATE delivery SET status = 'claimed', claimed_by = 'b' WHERE id IN "
                    f"({','.join(str(i) for i in ids)})"
                )
            )
        for row_id in ids:
            async with db.session() as s:
                await s.execute(
                    sa.text(
                        "UPDATE delivery SET status = 'sent', platform_message_id = 'm' "
                        "WHERE id = :id AND claimed_by = 'b'"
                    ),
                    {"id": row_id},
                )
        done += len(ids)
    return time.perf_counter() - began


async def _dispatcher(db: Database, n: int, batch: int) -> tuple[float, int]:
    await _seed(db, n, "rallybot")
    adapter = NoopAdapter()
    dispatcher = Dispatcher(db, adapter, SimulatedClock(NOW), worker_id="bench", batch=batch)
    began = time.perf_counter()
    while (await dispatcher.run_once()).claimed:
        pass
    return time.perf_counter() - began, adapter.count


async def run(url: str, n: int, batch: int) -> dict[str, Any]:
    """Both loops on one database; alternating order, best of two."""
    await upgrade_async(url)
    db = create_database(url)
    try:
        base_times, ours = [], []
        for _ in range(2):
            base_times.append(await _baseline(db, n, batch))
            elapsed, sent = await _dispatcher(db, n, batch)
            assert sent == n, f"sent {sent} of {n}"
            ours.append(elapsed)
            async with db.session() as s:
                await s.execute(sa.text("DELETE FROM delivery"))
        base, mine = min(base_times), min(ours)
        return {
            "backend": db.dialect,
            "rows": n,
            "baseline_rows_per_s": round(n / base),
            "rallybot_rows_per_s": round(n / mine),
            "ratio": round(base / mine, 2),
        }
    finally:
        await db.dispose()


async def main_async(n: int, batch: int, pg_url: str) -> list[dict[str, Any]]:
    """Run on a temporary SQLite file and on a temporary PostgreSQL database."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(await run(f"sqlite:///{Path(tmp) / 'bench.db'}", n, batch))
    name = f"rallybot_bench_{uuid.uuid4().hex[:8]}"
    admin = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        results.append({"backend": "postgresql", "error": f"unreachable: {exc}"})
        return results
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        base = admin.rsplit("/", 1)[0]
        results.append(await run(f"{base}/{name}", n, batch))
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    return results


def main() -> None:
    """Print one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for result in asyncio.run(main_async(args.rows, args.batch, args.pg_url)):
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
