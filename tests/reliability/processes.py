"""Helpers of the real-process tests: start ``rallybot run`` against the local fake Slack, seed a
fan-out, count what went out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from rallybot.bot.messages import Message
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, Member, table_of
from rallybot.storage.outbox import insert_deliveries
from tests.platform_slack.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
SECRET = "reliability-test-signing-secret"
_M = table_of(Member).c
_D = table_of(Delivery).c


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def slack_env(fake: FakeSlack, db_url: str, campaigns: Path, **extra: str) -> dict[str, str]:
    """The environment of a bot process that talks to ``fake`` with the fake's scale."""
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "RALLYBOT_CAMPAIGNS_DIR": str(campaigns),
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "FAKE_SLACK_SCALE": str(fake.scale),
        "RALLYBOT_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


class BotProcess(subprocess.Popen[bytes]):
    """A bot process and the port of its HTTP server (probes, ``/slack/events``)."""

    port: int
    log: Path

    async def wait_ready(self, within: float = 90) -> float:
        """Wait until ``/readyz`` answers 200 (started, schema at head); the monotonic time."""
        url = f"http://127.0.0.1:{self.port}/readyz"
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline and self.poll() is None:
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(url) as response:
                        if response.status == 200:
                            return time.monotonic()
                await asyncio.sleep(0.05)
        tail = (await asyncio.to_thread(self.log.read_text, errors="replace"))[-3000:]
        raise AssertionError(f"the bot never got ready (exit {self.poll()}):\n{tail}")


@contextmanager
def slack_bot(env: dict[str, str], log: Path, *args: str) -> Iterator[BotProcess]:
    """``rallybot run --platform slack --http`` (its limiter scaled like the fake); killed with
    SIGKILL if still running when the block ends."""
    port = free_port()
    command = [
        sys.executable, "-m", "tests.reliability.scaled_rallybot", "run", "--platform", "slack",
        "--http", "--port", str(port), "--no-watch", *args,
    ]  # fmt: skip
    with log.open("ab") as out:
        proc = BotProcess(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    proc.port, proc.log = port, log
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, within: float = 60) -> int:
    """Send ``sig`` and wait for the exit code."""
    proc.send_signal(sig)
    return proc.wait(timeout=within)


async def seed_members(db: Database, fake: FakeSlack, n: int) -> list[int]:
    """``n`` members on the fake Slack with a direct-message channel (created once); their ids."""
    now = datetime.now(UTC)
    async with db.session() as session:
        known = set(
            (
                await session.execute(
                    sa.select(_M.platform_user_id).where(_M.platform_user_id.startswith("UF"))
                )
            ).scalars()
        )
        fresh = []
        for i in range(n):
            user_id = f"UF{i:05d}"
            if user_id not in fake.users:
                fake.add_user(user_id, f"Member {i}")
            if user_id in known:
                continue
            fresh.append(
                {
                    "platform": "slack",
                    "platform_user_id": user_id,
                    "display_name": f"Member {i}",
                    "dm_channel_id": fake._open_dm(user_id),
                    "groups": [],
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if fresh:
            await session.execute(sa.insert(Member), fresh)
        return list(
            (
                await session.execute(
                    sa.select(_M.id).where(_M.platform_user_id.startswith("UF")).order_by(_M.id)
                )
            ).scalars()
        )


async def seed_fanout(db: Database, fake: FakeSlack, n: int, step: str) -> None:
    """``n`` members (see :func:`seed_members`) and one DM due now to each for ``step``."""
    ids = await seed_members(db, fake, n)
    now = datetime.now(UTC)
    async with db.session() as session:
        message = Message(text="Welcome to Connect! Three minutes to complete your profile?")
        await insert_deliveries(
            session,
            [
                {
                    "campaign_id": "fanout",
                    "step_id": step,
                    "recipient": f"member:{member_id}",
                    "occurrence": "once",
                    "due_at": now - timedelta(seconds=1),
                    "grace_until": now + timedelta(days=1),
                    "status": "pending",
                    "payload": {"message": message.to_dict(), "member_id": member_id},
                    "content_hash": "x",
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for member_id in ids
            ],
        )


async def count_sent(db: Database, step: str) -> int:
    """Deliveries of ``step`` recorded as sent."""
    async with db.read() as session:
        result = await session.execute(
            sa.select(sa.func.count()).where(_D.step_id == step, _D.status == "sent")
        )
        return int(result.scalar_one())


async def count_claimed(db: Database, step: str) -> int:
    """Deliveries of ``step`` claimed by some process now."""
    async with db.read() as session:
        result = await session.execute(
            sa.select(sa.func.count()).where(_D.step_id == step, _D.status == "claimed")
        )
        return int(result.scalar_one())


async def wait_sent(
    db: Database, step: str, at_least: int, proc: subprocess.Popen[bytes], log: Path, within: float
) -> float:
    """Wait until ``at_least`` deliveries of ``step`` are sent; returns the monotonic time."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await count_sent(db, step) >= at_least:
            return time.monotonic()
        if proc.poll() is not None:
            break
        await asyncio.sleep(0.1)
    tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-4000:]
    raise AssertionError(
        f"{await count_sent(db, step)} of {at_least} sent for {step} (exit {proc.poll()}):\n{tail}"
    )


def keys_seen(fake: FakeSlack, step: str) -> Counter[str]:
    """How many times the fake received each outbox key of ``step``."""
    keys: Counter[str] = Counter()
    for _, message in fake.all_messages():
        key = (message.get("metadata") or {}).get("event_payload", {}).get("key", "")
        if f"/{step}/" in key:
            keys[key] += 1
    return keys
