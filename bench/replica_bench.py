"""Replicas sharing one send budget: N bots fan out DMs against the fake Slack, Slack's limits.

One JSON line: the achieved ``chat.postMessage`` rate over the workspace allowance (``ratio``;
aim >= 0.9), the answers of 429 (aim 0), lost and duplicated messages (aim 0). With ``--kill``
one replica is killed halfway (its tasks stop; its heartbeat row and claims stay behind) and
the others take its share and its messages. The fake Slack runs in its own process, so it
sees each call when it arrives.

``--loop tight`` (the default) runs each replica's dispatcher back to back; ``--loop ticks``
drives it as ``rallybot run`` does: the scheduler's ticks (``dispatch_tick`` every
``RALLYBOT_DISPATCH_INTERVAL``, one run at a time: a run that overlaps the next tick skips it;
``reap_tick`` and the others beside it). ``--kill`` goes with the tight loop only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from bench.slack_bench import _database
from rallybot.bot.adapters.slack.adapter import SlackAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.scheduler import build_scheduler
from rallybot.storage.database import Database, create_database
from tests.platform_slack.fake_slack_process import FakeSlackProcess, stamping_session
from tests.reliability.test_shared_budget import _seed, _unsent, _work, member_ids

NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)


def _settings(fake: FakeSlackProcess, url: str, heartbeat: float) -> Settings:
    return Settings(
        database_url=url,
        slack_bot_token=fake.bot_token,
        slack_app_token=fake.app_token,
        slack_signing_secret="bench-signing-secret",
        slack_api_url=fake.api_url,
        heartbeat_seconds=heartbeat,
        lease_seconds=5,
    )


async def _ticks(bot: Rallybot, db: Database) -> None:
    """What ``rallybot run`` does: the scheduler's dispatch and reap ticks (APScheduler, one
    run of a job at a time), until everything is sent."""
    scheduler = build_scheduler(bot)
    scheduler.start()
    try:
        while await _unsent(db):  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    finally:
        scheduler.shutdown(wait=False)


async def fanout(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    """``args.dms`` DMs through ``args.replicas`` bots sharing the allowance."""
    with FakeSlackProcess(scale=args.scale, users=member_ids(args.dms)) as fake:
        await _seed(db, fake.dms)
        dbs = [create_database(db.url) for _ in range(args.replicas)]
        bots = []
        for i, own_db in enumerate(dbs):
            settings = _settings(fake, db.url, args.heartbeat)
            adapter = SlackAdapter(
                settings=settings,
                db=own_db,
                clock=SimulatedClock(NOW, speed=1.0),
                limiter_scale=args.scale,
                http_port=0,
                host="127.0.0.1",
            )
            adapter.web.session = stamping_session()  # the fake judges calls when sent
            bots.append(
                Rallybot(
                    settings,
                    own_db,
                    adapter,
                    SimulatedClock(NOW, speed=1.0),
                    campaign_paths=[],
                    worker_id=f"replica-{i}",
                )
            )
        for bot in bots:
            await bot.start_replica()
        await asyncio.sleep(args.heartbeat * 3)  # every share settled, every replica seen
        work = _ticks if args.loop == "ticks" else _work
        workers = [asyncio.create_task(work(bot, db)) for bot in bots]
        killed_at: float | None = None
        if args.kill:
            while await _unsent(db) > args.dms // 2:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            victim = bots[-1]
            assert victim.budget.limiter is not None and victim._replica_task is not None
            victim.budget.limiter.penalize("*", 3600)
            killed_at = time.monotonic()  # the fake's clock too: CLOCK_MONOTONIC
            await asyncio.sleep(0.5)
            workers[-1].cancel()
            victim._replica_task.cancel()
            await asyncio.gather(workers[-1], victim._replica_task, return_exceptions=True)
            workers = workers[:-1]
        await asyncio.gather(*workers)
        survivors = bots[:-1] if args.kill else bots
        for bot in survivors:
            await bot.stop_replica()
        for bot in bots:
            await bot.adapter.stop()
        for own_db in dbs:
            await own_db.dispose()
        fake.collect()
        sent = Counter(
            m["metadata"]["event_payload"]["key"] for _, m in fake.all_messages() if "metadata" in m
        )
        posts = fake.calls_to("chat.postMessage", status=200)
        refused = [c for c in fake.calls if c.status == 429]
        allowed = fake.limits["chat.postMessage"].per_minute * args.scale / 60.0
    first = min(c.time for c in posts)
    seconds = max(c.time for c in posts) - first
    return {
        "bench": "replica_fanout",
        "backend": db.dialect,
        "replicas": args.replicas,
        "killed_halfway": bool(args.kill),
        "loop": args.loop,
        "dms": args.dms,
        "seconds": round(seconds, 2),
        "achieved_per_s": round(args.dms / seconds, 2),
        "allowed_per_s": allowed,
        "ratio": round(args.dms / seconds / allowed, 3),
        "429s": len(refused),
        # when they came, in seconds after the first post (and the kill's moment, if any)
        "429_at": sorted((round(c.time - first, 2), c.method) for c in refused),
        "killed_at": round(killed_at - first, 2) if killed_at is not None else None,
        "lost": args.dms - len(sent),
        "duplicated": sum(c - 1 for c in sent.values() if c > 1),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """The fan-out on a fresh database."""
    async with _database(args.backend, args.pg_url) as db:
        began = time.perf_counter()
        result = await fanout(db, args)
        result["wall_s"] = round(time.perf_counter() - began, 1)
        return result


def main() -> None:
    """Print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--dms", type=int, default=3000)
    parser.add_argument("--scale", type=float, default=5.0, help="multiplies every limit")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="seconds")
    parser.add_argument("--kill", action="store_true", help="kill one replica halfway")
    parser.add_argument("--loop", choices=["tight", "ticks"], default="tight")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.kill and args.loop == "ticks":
        parser.error("--kill goes with --loop tight")
    json.dump(asyncio.run(main_async(args)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
