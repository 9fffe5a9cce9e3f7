"""Recovery after ``kill -9``: a fan-out of N DMs through a real ``rallybot run`` against the
local fake Slack (limits scaled by ``--scale`` on both sides), uninterrupted, then killed with
SIGKILL part of the way and restarted at once (the same worker id: the host's first slot).

Figures, per database: the uninterrupted time, the killed-and-restarted time, and their ratio
(aim: at most 1.5), both counted from the moment each process is ready (``/readyz``), and the
same on the wall clock with the processes' start-up included; lost and duplicated messages
(aim: 0 and 0).

    python -m bench.recovery_bench --dms 1000 --scale 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from rallybot.storage.database import create_database
from rallybot.storage.migrate import upgrade_async
from tests.platform_slack.fake_slack import FakeSlack
from tests.reliability.processes import (
    count_claimed,
    count_sent,
    keys_seen,
    seed_fanout,
    slack_bot,
    slack_env,
    stop,
    wait_sent,
)


async def run(db_url: str, dms: int, scale: float, work: Path) -> dict[str, Any]:
    """One uninterrupted fan-out, then one killed and restarted, on ``db_url``."""
    await upgrade_async(db_url)
    db = create_database(db_url)
    campaigns = work / "campaigns"
    campaigns.mkdir(exist_ok=True)
    try:
        async with FakeSlack(scale=scale) as fake:
            env = slack_env(fake, db_url, campaigns)
            await seed_fanout(db, fake, dms, "calm")
            began = time.monotonic()
            with slack_bot(env, work / "calm.log") as bot:
                ready = await bot.wait_ready()
                done = await wait_sent(db, "calm", dms, bot, work / "calm.log", within=600)
                stop(bot)
            calm, calm_wall = done - ready, done - began

            await seed_fanout(db, fake, dms, "killed")
            began = time.monotonic()
            with slack_bot(env, work / "first.log") as first:
                ready = await first.wait_ready()
                kill_at = min(dms * 2 // 5 + 37, dms - 1)  # not at a claim boundary
                await wait_sent(db, "killed", kill_at, first, work / "first.log", 600)
                first.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                first.wait(timeout=30)
            in_hand = await count_claimed(db, "killed")
            sent_at_kill = await count_sent(db, "killed")
            with slack_bot(env, work / "second.log") as second:
                ready_again = await second.wait_ready()
                done = await wait_sent(db, "killed", dms, second, work / "second.log", 600)
                stop(second)
            interrupted = (killed - ready) + (done - ready_again)
            keys = keys_seen(fake, "killed")
    finally:
        await db.dispose()
    return {
        "bench": "recovery",
        "backend": db_url.split(":", 1)[0],
        "dms": dms,
        "scale": scale,
        "uninterrupted_s": round(calm, 2),
        "killed_and_restarted_s": round(interrupted, 2),
        "ratio": round(interrupted / calm, 3),
        "wall_ratio_with_startups": round((done - began) / calm_wall, 3),
        "sent_at_kill": sent_at_kill,
        "claims_in_hand_at_kill": in_hand,
        "lost": dms - len(keys),
        "duplicated": sum(n - 1 for n in keys.values()),
    }


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run on SQLite, then on PostgreSQL when it is reachable."""
    results = []
    with tempfile.TemporaryDirectory(prefix="rallybot-recovery-") as tmp:
        work = Path(tmp)
        (work / "sqlite").mkdir()
        results.append(
            await run(
                f"sqlite:///{work / 'sqlite' / 'r.db'}", args.dms, args.scale, work / "sqlite"
            )
        )
        name = f"rallybot_bench_{uuid.uuid4().hex[:8]}"
        try:
            admin = await asyncpg.connect(args.pg_url, timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
            return results
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            base = args.pg_url.rsplit("/", 1)[0]
            (work / "pg").mkdir()
            results.append(await run(f"{base}/{name}", args.dms, args.scale, work / "pg"))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    return results


def main() -> None:
    """Print one JSON line per database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dms", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for result in asyncio.run(main_async(args)):
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
