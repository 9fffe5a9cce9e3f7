"""The console's pages to see over a large community: timeline, indicators (and members when
the page exists: a name, a team and a name typed with an accent it lacks searched), p95 of
each, against the same figures through the command line.

The database is filled in bulk inside the database, with the generator of
:mod:`bench.report_bench` (members, activity rows, quizzes, surveys, tickets, points), plus
deliveries: ten direct-message steps to every member over twelve weeks (1,000,000 rows for
100,000 members), the first half sent, the rest waiting.

Each page is asked ``--repeat`` times through the console app in process (httpx over ASGI,
signed in as a community manager): p50 and p95 in milliseconds. The timeline's cases: the
first page, its API (first page, a page from the middle, waiting messages only, a time-zone
filter, a language every message has from the first page and from the middle, a language none
has), the waiting-only HTML page, and the month calendar (October 2026: 443,200 rows)
unfiltered, for one campaign, and waiting only. The baselines, in the same run on the same database:

- the timeline's own query (:meth:`TimelineSource.page`, no HTTP, no HTML): the page's p95
  over the query's shows what the web layer adds; for the calendar, the month's day counts
  (:meth:`TimelineSource.days`) with the same filters;
- ``rallybot campaign list`` (the command line's view of the deliveries) and
  ``rallybot report --format json`` (the indicators), each in a fresh process.

``--url`` uses (and keeps) one database: the first run fills it (the slow part at full size),
later runs only migrate it and time the pages, to compare two versions of the code.

The indicators page serves figures computed at most five minutes before (computed again in the
background): its first request, which computes them, is reported apart (``cold_s``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.report_bench import START, _exec, _series, analyze, load_base, load_events
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.handlers.console.app import PREFIX, create_app, standalone_app
from rallybot.handlers.console.kit import COOKIE, ConsoleState
from rallybot.handlers.console.sessions import create_session
from rallybot.handlers.console.timeline import Filters, TimelineSource, encode_cursor
from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import upgrade_async

MANAGER = "bench:UMANAGER"
STEPS = 10
NOW = START + timedelta(weeks=6)  # halfway: the first half sent, the rest waiting
PAYLOAD = json.dumps(
    {
        "message": {
            "text": "Hello {first_name}, here is this week's tip.",
            "title": None,
            "buttons": [],
            "images": [],
            "context": None,
            "sender": None,
            "pin": False,
            "metadata": {"campaign": "launch", "locale": "en"},
        }
    }
)
"""Every bench message is written in English (a campaign message always says its language)."""


async def load_deliveries(db: Database, count: int, members: int) -> None:
    """``count`` deliveries: step ``dm<k>`` to every member in turn, spread over twelve weeks
    (a step a week, each member at their own minute), sent before :data:`NOW`."""
    pg = db.dialect == "postgresql"

    def at(offset: str) -> str:
        if pg:
            return f"(TIMESTAMP '{START:%Y-%m-%d %H:%M:%S}' + ({offset}) * INTERVAL '1 second')"
        epoch = int(START.timestamp())
        return f"strftime('%Y-%m-%d %H:%M:%S.000000', {epoch} + ({offset}), 'unixepoch')"

    chunk = 500_000
    done = 0
    cutoff = int((NOW - START).total_seconds())
    while done < count:
        n = min(chunk, count - done)
        prefix, series = _series(db, n)
        g = f"({done} + i - 1)"
        step = f"({g} / {members})"
        offset = f"({step} * 604800 + ({g} % {members}) * 6)"
        payload = PAYLOAD.replace("'", "''")
        await _exec(
            db,
            f"{prefix}INSERT INTO delivery (campaign_id, step_id, recipient, occurrence, due_at,"
            " grace_until, status, payload, locale, content_hash, attempts, created_at,"
            " updated_at) "
            f"SELECT 'launch', 'dm' || {step}, 'member:' || (1 + {g} % {members}), 'once', "
            f"{at(offset)}, {at(offset + ' + 3600')}, "
            f"CASE WHEN {offset} < {cutoff} THEN 'sent' ELSE 'pending' END, "
            f"'{payload}', 'en', '', 0, {at('0')}, {at('0')} FROM {series}",
        )
        done += n


def _ms(values: list[float]) -> dict[str, float]:
    p95 = (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )
    return {"p50_ms": round(statistics.median(values) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


async def _times(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    await call()  # warm: imports, template compilation, the database's cache
    values = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        values.append(time.perf_counter() - started)
    return values


def _cli(url: str, *args: str) -> float:
    """Seconds of ``rallybot ARGS`` in a fresh process on ``url``."""
    env = {**os.environ, "DATABASE_URL": url, "RALLYBOT_TIMEZONE": "UTC"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "rallybot.bot", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return round(time.perf_counter() - started, 2)


async def _filled(db: Database) -> bool:
    """Whether an earlier run (``--url``) already filled this database: then it is reused."""
    async with db.engine.connect() as conn:
        return bool((await conn.exec_driver_sql("SELECT count(*) FROM delivery")).scalar_one())


async def bench(
    url: str, backend: str, members: int, events: int, deliveries: int, repeat: int
) -> None:
    """Fill one database, then time each page and its baseline."""
    await upgrade_async(url)
    db = create_database(url)
    started = time.perf_counter()
    try:
        if not await _filled(db):
            await load_base(db, members)
            await load_events(db, 0, events, members)
            await load_deliveries(db, deliveries, members)
            await analyze(db)
        load_s = round(time.perf_counter() - started, 1)
        settings = Settings(
            _env_file=None,
            database_url=url,
            admins=[MANAGER],
            timezone="UTC",
            console=True,
        )
        clock = SimulatedClock(NOW)
        state = ConsoleState(settings, db, clock, load_campaigns=dict)
        app = standalone_app(create_app(state))
        token = await create_session(db, MANAGER, NOW, timedelta(hours=8))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=f"https://bench{PREFIX}", cookies={COOKIE: token}
        ) as http:

            async def get(path: str, **params: str) -> None:
                response = await http.get(path, params=params)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")

            source = TimelineSource(db, {}, default_timezone="UTC")
            middle = START + timedelta(weeks=5)
            deep = encode_cursor(middle, "outbox", f"{deliveries // 2:012d}")
            common = {
                "backend": backend,
                "members": members,
                "events": events,
                "deliveries": deliveries,
                "load_s": load_s,
            }

            query = _ms(await _times(lambda: source.page(Filters(), NOW), repeat))
            # The calendar's own figures (TimelineSource.days, no HTTP, no HTML): what the
            # page adds over them is the web layer and the month grid's rendering.
            month = date(2026, 10, 1)

            async def days_of(filters: Filters) -> dict[str, float]:
                return _ms(await _times(lambda: source.days(filters, NOW, month, "UTC"), repeat))

            days_query = {
                name: await days_of(f)
                for name, f in (
                    ("timeline_calendar", Filters()),
                    ("timeline_calendar_campaign", Filters(campaign="launch")),
                    ("timeline_calendar_pending", Filters(status="pending")),
                )
            }
            cases: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                ("timeline_page", lambda: get("/timeline")),
                ("timeline_api_first", lambda: get("/api/timeline")),
                ("timeline_api_deep", lambda: get("/api/timeline", cursor=deep)),
                ("timeline_api_pending", lambda: get("/api/timeline", status="pending")),
                ("timeline_api_zone", lambda: get("/api/timeline", zone="UTC")),
                # The language kept with each message: every row's, and no row's.
                ("timeline_api_language", lambda: get("/api/timeline", locale="en")),
                (
                    "timeline_api_language_deep",
                    lambda: get("/api/timeline", locale="en", cursor=deep),
                ),
                ("timeline_api_language_none", lambda: get("/api/timeline", locale="fr")),
                ("timeline_page_pending", lambda: get("/timeline", status="pending")),
                ("timeline_calendar", lambda: get("/timeline", view="calendar", month="2026-10")),
                (
                    "timeline_calendar_campaign",
                    lambda: get("/timeline", view="calendar", month="2026-10", campaign="launch"),
                ),
                (
                    "timeline_calendar_pending",
                    lambda: get("/timeline", view="calendar", month="2026-10", status="pending"),
                ),
            ]
            campaign_list_s = _cli(url, "campaign", "list")
            for name, call in cases:
                figures = _ms(await _times(call, repeat))
                print(
                    json.dumps(
                        {
                            "bench": name,
                            **common,
                            **figures,
                            "query_p95_ms": (days_query.get(name) or query)["p95_ms"],
                            "cli_campaign_list_s": campaign_list_s,
                        }
                    ),
                    flush=True,
                )

            cold = time.perf_counter()
            await get("/indicators")
            cold_s = round(time.perf_counter() - cold, 2)
            figures = _ms(await _times(lambda: get("/indicators"), repeat))
            report_s = _cli(url, "report", "--format", "json")
            print(
                json.dumps(
                    {
                        "bench": "indicators_page",
                        **common,
                        **figures,
                        "cold_s": cold_s,
                        "cli_report_s": report_s,
                    }
                ),
                flush=True,
            )
            members_page = await http.get("/members")
            if members_page.status_code == 200:
                figures = _ms(await _times(lambda: get("/members"), repeat))
                search = _ms(await _times(lambda: get("/members", q="Member 4242"), repeat))
                # A team (5,000 of its members match: the first page and their count) and a
                # name typed with an accent it does not have.
                team = _ms(await _times(lambda: get("/members", q="TEAM7"), repeat))
                accent = _ms(await _times(lambda: get("/members", q="Mémber 4242"), repeat))
                print(
                    json.dumps(
                        {
                            "bench": "members_page",
                            **common,
                            **figures,
                            "search_p95_ms": search["p95_ms"],
                            "search_team_p95_ms": team["p95_ms"],
                            "search_accent_p95_ms": accent["p95_ms"],
                        }
                    ),
                    flush=True,
                )
            else:
                print(
                    json.dumps(
                        {
                            "bench": "members_page",
                            **common,
                            "p95_ms": None,
                            "note": f"no members page ({members_page.status_code})",
                        }
                    ),
                    flush=True,
                )
    finally:
        await db.dispose()


async def main_async(args: argparse.Namespace) -> None:
    """Run on a temporary SQLite file and, if reachable, a temporary PostgreSQL database."""
    backends = args.backends.split(",")
    sizes = (args.members, int(args.events * 1_000_000), int(args.deliveries * 1_000_000))
    if args.url:  # one database, kept: filled by the first run, only migrated by the next
        backend = "postgresql" if args.url.startswith("postgresql") else "sqlite"
        await bench(args.url, backend, *sizes, args.repeat)
        return
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            await bench(f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite", *sizes, args.repeat)
    if "postgresql" in backends:
        try:
            conn = await asyncpg.connect(args.pg_url, timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            print(json.dumps({"backend": "postgresql", "error": f"unreachable: {exc}"}))
            return
        name = f"rallybot_bench_{uuid.uuid4().hex[:8]}"
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
            base = args.pg_url.rsplit("/", 1)[0]
            await bench(f"{base}/{name}", "postgresql", *sizes, args.repeat)
        finally:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


def main() -> None:
    """Print one JSON line per page and backend."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=float, default=10, help="Activity rows, in millions.")
    parser.add_argument("--deliveries", type=float, default=1, help="Deliveries, in millions.")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--tmp", default=None, help="Folder for the SQLite file.")
    parser.add_argument(
        "--url",
        default=None,
        help="Use and keep this database: filled if empty, reused as it is otherwise.",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
