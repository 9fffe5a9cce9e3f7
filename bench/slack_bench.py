"""Slack against the local fake Slack, with Slack's limits scaled by one constant (``--scale``).

Three figures (one JSON line each):

- ``fanout``: 5,000 DMs through the outbox dispatcher and the Slack adapter; the achieved
  rate over the allowed rate (the fake's ``chat.postMessage`` workspace allowance, aim
  >= 0.9), the 429s received per message (aim < 1 %), lost and duplicated messages (aim 0).
  DM channel ids are already known (kept in the database by an earlier campaign), so the
  Tier 3 ``conversations.open`` is not what is measured.
- ``inbound``: signed ``reaction_added`` events per second through the full HTTP path (Bolt,
  the adapter, the bot, the recorded ``inbound_event`` row), over a bare ``AsyncApp`` with a
  no-op listener on the same server stack in the same run (aim >= 0.6): ``ratio`` with
  nothing else running, ``recorded_while_handling_ratio`` while the bot's features handle
  the same burst (a thousand members react to a campaign announcement: points for each first
  reaction per member, activity rows), and ``handled_ratio`` until they have handled all.
- ``button_ack``: acknowledgement latency of button clicks (p50, p99) while a fan-out is
  being held back by the rate limits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import sqlalchemy as sa
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from rallybot.bot.adapters.slack.adapter import SlackAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import Event
from rallybot.bot.messages import Message
from rallybot.bot.router import Router
from rallybot.storage.batching import GroupCommit
from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import upgrade_async
from rallybot.storage.models import Delivery, InboundEvent, Member, PointEntry, table_of
from rallybot.storage.outbox import insert_deliveries
from tests.platform_slack import payloads as p
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import eventually
from tests.platform_slack.signing import sign

NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
SECRET = "bench-signing-secret"
_M = table_of(Member).c
_D = table_of(Delivery).c


RULES: Path | None = None
"""The points rules the bot runs with (``--rules``); None: the built-in defaults (no cap)."""


def _settings(fake: FakeSlack) -> Settings:
    return Settings(
        database_url="sqlite://",
        slack_bot_token=fake.bot_token,
        slack_app_token=fake.app_token,
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        rules_file=RULES,
    )


def _adapter(fake: FakeSlack, db: Database, scale: float, **kwargs: Any) -> SlackAdapter:
    return SlackAdapter(
        settings=_settings(fake),
        db=db,
        clock=SimulatedClock(NOW),
        limiter_scale=scale,
        host="127.0.0.1",
        **kwargs,
    )


async def _seed_fanout(db: Database, fake: FakeSlack, n: int, tag: str) -> None:
    """``n`` members with a known DM channel, and one due DM delivery for each."""
    members = []
    for i in range(n):
        user_id = f"U{tag.upper()}{i:05d}"
        fake.add_user(user_id, f"Member {i}")
        members.append(
            {
                "platform": "slack",
                "platform_user_id": user_id,
                "display_name": f"Member {i}",
                "dm_channel_id": fake._open_dm(user_id),
                "groups": [],
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    async with db.session() as session:
        await session.execute(sa.insert(Member), members)
        rows = (
            await session.execute(
                sa.select(_M.id).where(_M.platform_user_id.startswith(f"U{tag.upper()}"))
            )
        ).scalars()
        ids = list(rows)
        message = Message(text="Welcome to Connect! Three minutes to complete your profile?")
        deliveries = [
            {
                "campaign_id": "bench",
                "step_id": tag,
                "recipient": f"member:{member_id}",
                "occurrence": "once",
                "due_at": NOW - timedelta(seconds=1),
                "grace_until": NOW + timedelta(days=1),
                "status": "pending",
                "payload": {"message": message.to_dict(), "member_id": member_id},
                "content_hash": "x",
                "attempts": 0,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for member_id in ids
        ]
        await insert_deliveries(session, deliveries)


async def _drain(bot: Rallybot) -> None:
    while (await bot.dispatcher.run_once()).claimed:
        pass


async def fanout(db: Database, n: int, scale: float) -> dict[str, Any]:
    """5,000 DMs through the dispatcher at Slack's (scaled) limits."""
    async with FakeSlack(scale=scale) as fake:
        await _seed_fanout(db, fake, n, "f")
        adapter = _adapter(fake, db, scale)
        bot = Rallybot(_settings(fake), db, adapter, SimulatedClock(NOW), campaign_paths=[])
        began = time.perf_counter()
        await _drain(bot)
        elapsed = time.perf_counter() - began
        await adapter.stop()
        allowed = fake.limits["chat.postMessage"].per_minute * scale / 60.0
        keys = Counter(
            m["metadata"]["event_payload"]["key"] for _, m in fake.all_messages() if "metadata" in m
        )
        async with db.session() as session:
            wanted = (
                (await session.execute(sa.select(Delivery).where(_D.step_id == "f")))
                .scalars()
                .all()
            )
        wanted_keys = {d.key for d in wanted}
        refused = len(fake.calls_to("chat.postMessage", status=429))
        direct = await _direct_fanout(db, n, scale)
        return {
            "bench": "fanout",
            "backend": db.dialect,
            "dms": n,
            "scale": scale,
            "seconds": round(elapsed, 2),
            "achieved_per_s": round(n / elapsed, 2),
            "allowed_per_s": allowed,
            "ratio": round(n / elapsed / allowed, 3),
            "429s": refused,
            "429_per_message": round(refused / n, 4),
            "lost": len(wanted_keys - set(keys)),
            "duplicated": sum(c - 1 for c in keys.values() if c > 1),
            **direct,
        }


async def _direct_fanout(db: Database, n: int, scale: float) -> dict[str, Any]:
    """The same fan-out straight through the adapter (8 senders, no outbox): what the
    Slack side allows once the database work is out of the picture."""
    async with FakeSlack(scale=scale) as fake:
        dms = {f"UG{i:05d}": fake._open_dm(fake.add_user(f"UG{i:05d}")["id"]) for i in range(n)}
        adapter = _adapter(fake, db, scale, dm_channels=dms)
        queue = list(dms)
        message = Message(text="Welcome to Connect!")

        async def sender() -> None:
            while queue:
                user_id = queue.pop()
                await adapter.send_direct(user_id, message, idempotency_key=f"direct/{user_id}")

        began = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(8)))
        elapsed = time.perf_counter() - began
        await adapter.stop()
        allowed = fake.limits["chat.postMessage"].per_minute * scale / 60.0
        delivered = Counter(
            m["metadata"]["event_payload"]["key"] for _, m in fake.all_messages() if "metadata" in m
        )
        return {
            "adapter_only_per_s": round(n / elapsed, 2),
            "adapter_only_ratio": round(n / elapsed / allowed, 3),
            "adapter_only_429s": len(fake.calls_to("chat.postMessage", status=429)),
            "adapter_only_lost": n - len(delivered),
            "adapter_only_duplicated": sum(c - 1 for c in delivered.values() if c > 1),
        }


def _signed(body: bytes, content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, **sign(SECRET, body, int(time.time()))}


ANNOUNCEMENT_TS = "1789459200.000100"
"""The campaign announcement everybody reacts to in the inbound benchmark."""


def _reaction_bodies(n: int, tag: str, members: int) -> list[bytes]:
    """``n`` signed-ready ``reaction_added`` envelopes: ``members`` people, each reacting with
    several emojis to the announcement in ``C1`` (as after a launch post)."""
    t0 = int(time.time())
    emojis = ("tada", "rocket", "heart", "clap", "fire", "eyes", "star", "100")
    return [
        json.dumps(
            p.event_callback(
                p.reaction_added_event(
                    user=f"UM{i % members:05d}",
                    reaction=emojis[(i // members) % len(emojis)],
                    channel="C1",
                    ts=ANNOUNCEMENT_TS,
                    event_ts=p.ts_at(t0, i),
                ),
                event_id=f"Ev{tag}{i:07d}",
                event_time=t0,
            )
        ).encode()
        for i in range(n)
    ]


async def _seed_announcement(db: Database, members: int) -> None:
    """The members (known from an earlier ``users.list``) and the sent announcement."""
    async with db.session() as session:
        if (await session.execute(sa.select(sa.func.count()).select_from(Member))).scalar_one():
            return
        await session.execute(
            sa.insert(Member),
            [
                {
                    "platform": "slack",
                    "platform_user_id": f"UM{i:05d}",
                    "display_name": f"Member {i}",
                    "groups": [],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(members)
            ],
        )
        await insert_deliveries(
            session,
            [
                {
                    "campaign_id": "launch",
                    "step_id": "announcement",
                    "recipient": "channel:C1",
                    "occurrence": "once",
                    "due_at": NOW,
                    "grace_until": NOW + timedelta(days=1),
                    "status": "sent",
                    "payload": {"message": Message(text="Connect is open!").to_dict()},
                    "content_hash": "x",
                    "attempts": 1,
                    "platform_channel_id": "C1",
                    "platform_message_id": ANNOUNCEMENT_TS,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )


async def _blast(url: str, bodies: list[bytes], concurrency: int) -> float:
    """Post every body (signed), ``concurrency`` at a time; seconds taken."""
    queue = list(reversed(bodies))
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                async with session.post(
                    url, data=body, headers=_signed(body, "application/json")
                ) as response:
                    assert response.status == 200, response.status
                    await response.read()

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - began


async def _serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_post("/slack/events", handler)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server: Any = site._server
    return runner, int(server.sockets[0].getsockname()[1])


async def _bare_app(fake: FakeSlack, bodies: list[bytes], concurrency: int) -> float:
    session = aiohttp.ClientSession()
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url, session=session)
    app = AsyncApp(client=client, signing_secret=SECRET)

    async def noop(ack: Any) -> None:
        await ack()

    app.event("reaction_added")(noop)

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    runner, port = await _serve(handle)
    try:
        return await _blast(f"http://127.0.0.1:{port}/slack/events", bodies, concurrency)
    finally:
        await runner.cleanup()
        await session.close()


async def _rallybot_inbound(
    db: Database,
    fake: FakeSlack,
    bodies: list[bytes],
    concurrency: int,
    *,
    bare_sink: bool = False,
    features: bool = True,
) -> tuple[float, float]:
    """Seconds until every event is recorded, and until every event is handled."""
    adapter = _adapter(fake, db, fake.scale, http_port=0)
    recorded_at: list[float] = []
    bot: Rallybot | None = None
    if bare_sink:

        async def noop(event: Event) -> None:
            recorded_at.append(time.perf_counter())

        await adapter.start(noop)
    else:
        bot = Rallybot(_settings(fake), db, adapter, SimulatedClock(NOW), campaign_paths=[])
        if RULES is not None:
            await bot.reload()  # reads the rules file
        if not features:  # the path to the recorded event alone: nothing handles it after
            bot.router = Router()

        record_batch = bot._record_batch

        async def claim(events: Sequence[Event]) -> list[int | None]:
            ids = await record_batch(events)
            committed = time.perf_counter()
            recorded_at.extend(committed for journal_id in ids if journal_id is not None)
            return ids

        bot._claims = GroupCommit(claim)  # the same recorder, with a stopwatch
        await bot.start_adapter()
    try:
        began = time.perf_counter()
        await _blast(f"http://127.0.0.1:{adapter.port}/slack/events", bodies, concurrency)
        await adapter.idle()  # every event acknowledged and handed over
        if bot is not None:
            await bot.idle()  # every event handled
        handled = time.perf_counter() - began
        assert len(recorded_at) == len(bodies), f"{len(recorded_at)} of {len(bodies)} recorded"
        return max(recorded_at) - began, handled
    finally:
        if bot is not None:
            await bot.shutdown()  # its replica heartbeat too, before the database is dropped
        else:
            await adapter.stop()


async def inbound(db: Database, n: int, concurrency: int, members: int) -> dict[str, Any]:
    """Events per second through the whole path, against a bare AsyncApp; best of two."""
    await _seed_announcement(db, members)
    async with FakeSlack(scale=1000) as fake:
        bare_times, recorded, handled, adapter_only, record_only = [], [], [], [], []
        for attempt in range(2):
            bare_times.append(
                await _bare_app(fake, _reaction_bodies(n, f"b{attempt}", members), concurrency)
            )
            rec, _ = await _rallybot_inbound(
                db, fake, _reaction_bodies(n, f"o{attempt}", members), concurrency, features=False
            )
            record_only.append(rec)
            rec, done = await _rallybot_inbound(
                db, fake, _reaction_bodies(n, f"r{attempt}", members), concurrency
            )
            recorded.append(rec)
            handled.append(done)
            adapter_only.append(
                (
                    await _rallybot_inbound(
                        db,
                        fake,
                        _reaction_bodies(n, f"a{attempt}", members),
                        concurrency,
                        bare_sink=True,
                    )
                )[1]
            )
        async with db.session() as session:
            count = (
                await session.execute(sa.select(sa.func.count()).select_from(InboundEvent))
            ).scalar_one()
            awards = (
                await session.execute(
                    sa.select(sa.func.count())
                    .select_from(PointEntry)
                    .where(table_of(PointEntry).c.source == "reaction")
                )
            ).scalar_one()
        assert count == 4 * n, f"recorded {count} of {4 * n}"  # two runs of two kinds
        bare, rec, done, translate, alone = (
            min(bare_times),
            min(recorded),
            min(handled),
            min(adapter_only),
            min(record_only),
        )
        return {
            "bench": "inbound",
            "backend": db.dialect,
            "events": n,
            "members": members,
            "rules": RULES.name if RULES is not None else "built-in",
            "bare_asyncapp_per_s": round(n / bare),
            "recorded_per_s": round(n / alone),
            "ratio": round(bare / alone, 2),
            "recorded_while_handling_per_s": round(n / rec),
            "recorded_while_handling_ratio": round(bare / rec, 2),
            "handled_per_s": round(n / done),
            "handled_ratio": round(bare / done, 2),
            "adapter_no_op_sink_per_s": round(n / translate),
            "adapter_ratio": round(bare / translate, 2),
            "reaction_points_awarded": awards,
        }


async def button_ack(db: Database, n: int, clicks: int, scale: float) -> dict[str, Any]:
    """Click latency while the dispatcher works through a rate-limited fan-out."""
    async with FakeSlack(scale=scale) as fake:
        await _seed_fanout(db, fake, n, "a")
        adapter = _adapter(fake, db, scale, http_port=0)
        bot = Rallybot(_settings(fake), db, adapter, SimulatedClock(NOW), campaign_paths=[])
        handled: list[Event] = []

        async def record(event: Event, ctx: object) -> None:
            handled.append(event)

        from rallybot.bot.events import ButtonClicked

        bot.router.add(ButtonClicked, record)
        await bot.start_adapter()
        sending = asyncio.create_task(_drain(bot))
        await eventually(lambda: adapter.limiter.waiting > 0)  # the fan-out is held back
        url = f"http://127.0.0.1:{adapter.port}/slack/events"
        latencies: list[float] = []
        t0 = time.time()
        async with aiohttp.ClientSession() as session:
            for i in range(clicks):
                payload = p.block_actions(
                    user_id="U1",
                    channel_id="C1",
                    message_ts=p.ts_at(t0),
                    action_id="rsvp",
                    action_ts=p.ts_at(t0 + i, i),
                )
                from urllib.parse import urlencode

                body = urlencode({"payload": json.dumps(payload)}).encode()
                headers = _signed(body, "application/x-www-form-urlencoded")
                began = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200
                latencies.append(time.perf_counter() - began)
                await asyncio.sleep(0.02)
        waiting = adapter.limiter.waiting
        bot.dispatcher.stop()
        await sending
        await adapter.idle()
        await adapter.stop()
        latencies.sort()
        return {
            "bench": "button_ack",
            "backend": db.dialect,
            "clicks": clicks,
            "handled": len(handled),
            "sends_waiting_on_limits": waiting,
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "max_ms": round(latencies[-1] * 1000, 1),
        }


def _print(result: dict[str, Any]) -> None:
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each benchmark on a fresh temporary SQLite database; prints each result."""
    results = []
    benches: list[Callable[[Database], Awaitable[dict[str, Any]]]] = [
        lambda db: fanout(db, args.dms, args.scale),
        lambda db: inbound(db, args.events, args.concurrency, args.members),
        lambda db: button_ack(db, args.dms, args.clicks, args.ack_scale),
    ]
    chosen = [
        b
        for name, b in zip(("fanout", "inbound", "button_ack"), benches, strict=True)
        if not args.only or name in args.only
    ]
    for bench in chosen:
        async with _database(args.backend, args.pg_url) as db:
            results.append(await bench(db))
            _print(results[-1])
    return results


@asynccontextmanager
async def _database(backend: str, pg_url: str) -> AsyncIterator[Database]:
    """A fresh migrated database: a temporary SQLite file or a temporary PostgreSQL database."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            await upgrade_async(url)
            db = create_database(url)
            try:
                yield db
            finally:
                await db.dispose()
        return
    name = f"rallybot_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(pg_url, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{pg_url.rsplit('/', 1)[0]}/{name}"
        await upgrade_async(url)
        db = create_database(url)
        try:
            yield db
        finally:
            await db.dispose()
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def _observability_off() -> None:
    """Metrics off and the context log fields replaced by a no-op, as before they existed."""
    import rallybot.bot.app
    import rallybot.bot.inbox
    import rallybot.bot.outbox
    from rallybot.bot.metrics import METRICS

    class _NoContext:
        def __init__(self, **fields: object) -> None:
            pass

        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: object) -> None:
            return None

    METRICS.enabled = False
    rallybot.bot.app.log_context = _NoContext  # type: ignore[assignment,misc]
    rallybot.bot.outbox.log_context = _NoContext  # type: ignore[assignment,misc]
    rallybot.bot.inbox.log_context = _NoContext  # type: ignore[assignment,misc]


def main() -> None:
    """Print one JSON line per benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=10.0, help="multiplies every limit")
    parser.add_argument("--dms", type=int, default=5000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--members", type=int, default=1000, help="people reacting (inbound)")
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument(
        "--ack-scale", type=float, default=1.0, help="limits during the click benchmark"
    )
    parser.add_argument("--only", nargs="*", help="fanout, inbound, button_ack")
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        help="points rules file (for example the shipped one: its caps, cooldown and badges "
        "cost each reaction a few more statements); default: the built-in rules",
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--no-observability",
        action="store_true",
        help="turn metrics and context log fields off (to measure what they cost)",
    )
    args = parser.parse_args()
    global RULES
    RULES = args.rules
    if args.no_observability:
        _observability_off()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
