"""Fan-out of 2,000 direct messages through the outbox and the Discord adapter, against the
fake Discord REST API with Discord's limits.

The fake enforces a global limit of 50 bot requests per second and Discord's per-route
buckets (its 429s carry real headers). By default these are Discord's own rates, so the
run takes about 90 seconds; ``--scale`` multiplies every rate by one constant (and the
adapter's pacing by the same), for a quicker run on an idle machine (the fake, discord.py
and the database share one process: on a busy one, CPU rather than pacing then limits).
The outbox dispatcher runs as in production (batches of 100, eight sends in parallel) on a
temporary SQLite database. Each direct message costs two requests the first time (opening
the DM channel, then the message). Figures:

- ``achieved_rps / allowed_rps`` (``ratio``, aim >= 0.9): bot requests per second over the
  fan-out, against the global allowance;
- ``lost`` (members without their message) and ``duplicated`` (extra copies): both must be 0;
- ``http_429``: rate-limit answers received (pacing aims at none).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import sqlalchemy as sa

from rallybot.bot.adapters.discord.adapter import (
    DEFAULT_REQUESTS_PER_SECOND,
    DiscordAdapter,
    build_client,
)
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.messages import Button, Message
from rallybot.bot.outbox import Dispatcher
from rallybot.storage.database import create_database
from rallybot.storage.migrate import upgrade_async
from rallybot.storage.models import Member
from rallybot.storage.outbox import insert_deliveries
from rallybot.storage.repositories import import_members
from tests.platform_discord import payloads
from tests.platform_discord.fake_discord import FakeDiscord

NOW = datetime(2026, 9, 8, 9, 0, tzinfo=UTC)
GUILD = 111_000_000_000_000_001
DISCORD_GLOBAL_LIMIT = 50.0  # requests per second per bot
FIRST_USER = 500_000_000_000_000_000


def _rows(member_ids: list[int]) -> list[dict[str, Any]]:
    message = Message(
        text="Hello, you are one of the pioneers of the Connect pilot!",
        buttons=(Button(label="Count me in", action_id="pilot-rsvp", style="primary"),),
    ).to_dict()
    return [
        {
            "campaign_id": "bench",
            "step_id": "pilot-invitation",
            "recipient": f"member:{member_id}",
            "occurrence": "once",
            "due_at": NOW - timedelta(seconds=1),
            "grace_until": NOW + timedelta(days=1),
            "status": "pending",
            "payload": {"message": message, "member_id": member_id},
            "content_hash": "x",
            "attempts": 0,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for member_id in member_ids
    ]


async def run(members: int, scale: float, tmp: Path) -> dict[str, Any]:
    """One fan-out; returns its figures."""
    url = f"sqlite:///{tmp / 'bench.db'}"
    await upgrade_async(url)
    db = create_database(url)
    original_base = discord.http.Route.BASE
    try:
        async with FakeDiscord(global_limit=DISCORD_GLOBAL_LIMIT, scale=scale) as fake:
            fake.add_guild(GUILD, "Acme")
            user_ids = [FIRST_USER + i for i in range(members)]
            for user_id in user_ids:
                fake.add_user(user_id, f"Member {user_id - FIRST_USER}")
            await import_members(
                db, "discord", [(str(u), {"display_name": "m"}) for u in user_ids], NOW
            )
            async with db.session() as session:
                ids = list((await session.execute(sa.select(Member.id))).scalars())
                await insert_deliveries(session, _rows([i for i in ids if i is not None]))

            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                discord_token=fake.token,
                discord_guild_ids=[GUILD],
                discord_api_url=fake.base_url,
            )
            client = build_client()
            await client._async_setup_hook()
            discord.http.Route.BASE = fake.base_url
            await client.http.static_login(fake.token)
            await payloads.prime(client, guilds=[payloads.guild_create(GUILD, "Acme")])
            adapter = DiscordAdapter(
                settings=settings,
                clock=SimulatedClock(NOW),
                client=client,
                requests_per_second=DEFAULT_REQUESTS_PER_SECOND * scale,
                sync_commands=False,
            )
            dispatcher = Dispatcher(db, adapter, SimulatedClock(NOW), worker_id="bench")
            first_call = len(fake.calls)
            began = time.perf_counter()
            while (await dispatcher.run_once()).claimed:
                pass
            elapsed = time.perf_counter() - began
            await client.close()

            calls = fake.calls[first_call:]
            bot_calls = [c for c in calls if fake._authorised(c.route)]
            span = max(c.time for c in bot_calls) - min(c.time for c in bot_calls)
            copies = [len(fake.dms_to(u)) for u in user_ids]
            async with db.session() as session:
                sent = (
                    await session.execute(
                        sa.text("SELECT count(*) FROM delivery WHERE status = 'sent'")
                    )
                ).scalar_one()
            allowed = DISCORD_GLOBAL_LIMIT * scale
            achieved = len(bot_calls) / span if span > 0 else float("inf")
            return {
                "dms": members,
                "scale": scale,
                "requests": len(bot_calls),
                "seconds": round(elapsed, 2),
                "allowed_rps": round(allowed, 1),
                "achieved_rps": round(achieved, 1),
                "ratio": round(achieved / allowed, 3),
                "dms_per_s": round(members / elapsed, 1),
                "sent_rows": sent,
                "lost": sum(1 for n in copies if n == 0),
                "duplicated": sum(n - 1 for n in copies if n > 1),
                "http_429": fake.count_429(),
            }
    finally:
        discord.http.Route.BASE = original_base
        await db.dispose()


async def main_async(members: int, scale: float) -> dict[str, Any]:
    """Run once on a temporary SQLite database."""
    with tempfile.TemporaryDirectory() as tmp:
        return await run(members, scale, Path(tmp))


def main() -> None:
    """Print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dms", type=int, default=2000)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies Discord's rates (and the pacing)"
    )
    args = parser.parse_args()
    json.dump(asyncio.run(main_async(args.dms, args.scale)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
