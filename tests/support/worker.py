"""A bot process for tests that start real processes: plan and send at a simulated instant.

    python -m tests.support.worker DB_URL CAMPAIGN SENDS_FILE NOW_ISO
        [--crash-after-claim | --crash-after-send N] [--no-remember] [--worker NAME]
        [--lease SECONDS]

``--crash-after-claim`` kills the process (``os._exit``) when the first send is about to
reach the platform, after the rows were claimed; ``--crash-after-send N`` kills it right
after the platform accepted the Nth message, before the outbox records it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import datetime
from pathlib import Path

from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.storage.database import create_database
from tests.support.file_adapter import FileAdapter


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db_url")
    parser.add_argument("campaign", type=Path)
    parser.add_argument("sends", type=Path)
    parser.add_argument("now")
    parser.add_argument("--crash-after-claim", action="store_true")
    parser.add_argument("--crash-after-send", type=int, default=0)
    parser.add_argument("--no-remember", action="store_true")
    parser.add_argument("--worker", default=f"w{os.getpid()}")
    parser.add_argument("--lease", type=int, default=60)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()

    settings = Settings(
        database_url=args.db_url,
        lease_seconds=args.lease,
        dispatch_batch=args.batch,
        quiet_hours="off",
    )
    db = create_database(args.db_url)
    clock = SimulatedClock(datetime.fromisoformat(args.now))
    adapter = FileAdapter(args.sends, remembers_keys=not args.no_remember, worker=args.worker)
    sends = 0

    async def before(key: str | None) -> None:
        if args.crash_after_claim:
            os._exit(137)

    async def after(key: str | None) -> None:
        nonlocal sends
        sends += 1
        if args.crash_after_send and sends >= args.crash_after_send:
            os._exit(137)

    adapter.before_send = before
    adapter.after_send = after
    bot = Rallybot(
        settings, db, adapter, clock, campaign_paths=[args.campaign], worker_id=args.worker
    )
    await bot.reload()
    await bot.reap_tick()
    await bot.plan_tick()
    await bot.dispatch_tick(drain=True)
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
