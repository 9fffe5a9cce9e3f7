"""``rallybot report`` over 100,000 members and 1 M to 10 M inbound events (activity rows).

The database is filled in bulk inside the database itself (a recursive CTE on SQLite,
``generate_series`` on PostgreSQL: no Python loop over the rows), growing from one size to the
next (1 M, 2 M, 5 M, 10 M events by default), then analyzed (and vacuumed on PostgreSQL) as a
live database's maintenance would.
At each size, ``rallybot report --format html`` runs in a fresh process, which reports its
wall time and its peak memory (max RSS). The growth factor is time(last) / time(first) against
events(last) / events(first): a linear cost gives the same ratio.

Besides the activity rows: 100 campaign posts (every member in their channel, kept as the
posts' one audience), 200,000 quiz answers, 20,000 survey answers, 5,000 help tickets and one
points total per member.

``--post-audience-members N`` measures what sending a channel post costs to keep its audience
(a channel of N members): a new audience, a shared one, a new one after a join.

``--url`` uses (and keeps) one database: the first run fills it, later runs only migrate it and
time the report, to compare two versions of the code on the same data (``--events 10`` for
100,000 members and 10 M events).

``--channel-sync-members N`` measures instead the channel membership sync (:mod:`bot.channels`)
of one channel of N members against the fake Slack, at Slack's real pace: the time, the
``conversations.members`` calls and their rate against Tier 4 (100+ a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa

from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import upgrade_async

START = datetime(2026, 9, 1, tzinfo=UTC)
SPAN_SECONDS = 12 * 7 * 86400  # twelve weeks of activity
START_SECONDS = int((START - datetime(1970, 1, 5, tzinfo=UTC)).total_seconds())
"""START in seconds since Monday 1970-01-05: the stored week is (this + offset) // 604800."""
POSTS = 100
KINDS = ("message", "reply", "reaction", "reaction", "reaction", "reaction", "button", "command")
"""Kinds by number: 1 to 5 (a reply, reactions) have a target message."""


def _sqlite_time(offset_sql: str) -> str:
    """A SQLite expression giving the stored text of START + offset seconds."""
    epoch = int(START.timestamp())
    return f"strftime('%Y-%m-%d %H:%M:%S.000000', {epoch} + ({offset_sql}), 'unixepoch')"


def _pg_time(offset_sql: str) -> str:
    return f"(TIMESTAMP '{START:%Y-%m-%d %H:%M:%S}' + ({offset_sql}) * INTERVAL '1 second')"


def _series(db: Database, n: int) -> tuple[str, str]:
    """(prefix, FROM clause) producing i = 1..n."""
    if db.dialect == "postgresql":
        return "", f"generate_series(1, {n}) AS seq(i)"
    prefix = f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n}) "
    return prefix, "seq"


def _rand(db: Database, modulo: int) -> str:
    """A random integer in [0, modulo)."""
    if db.dialect == "postgresql":
        return f"floor(random() * {modulo})::int"
    return f"(abs(random()) % {modulo})"


async def _exec(db: Database, *statements: str) -> None:
    async with db.engine.begin() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)


async def load_base(db: Database, members: int) -> None:
    """Members, campaign posts, channel members, quizzes, surveys, tickets and points."""
    t = _pg_time if db.dialect == "postgresql" else _sqlite_time

    def r(modulo: int) -> str:
        return _rand(db, modulo)

    true, false = ("TRUE", "FALSE") if db.dialect == "postgresql" else ("1", "0")
    prefix, series = _series(db, members)
    await _exec(
        db,
        f"{prefix}INSERT INTO member (id, platform, platform_user_id, display_name, team, cohort,"
        " groups, is_bot, profile_complete, opted_out, joined_at, created_at, updated_at) "
        f"SELECT i, 'bench', 'U' || i, 'Member ' || i, 'team' || (i % 20), "
        f"CASE WHEN i % 10 = 0 THEN 'pilot' WHEN i % 2 = 0 THEN 'wave2' ELSE 'wave3' END, "
        f"'[]', {false}, CASE WHEN i % 5 < 3 THEN {true} ELSE {false} END, {false}, "
        f"CASE WHEN i % 5 = 4 THEN NULL ELSE {t(r(SPAN_SECONDS))} END, "
        f"{t('-86400')}, {t('-86400')} FROM {series}",
    )
    prefix, series = _series(db, POSTS)
    await _exec(
        db,
        f"{prefix}INSERT INTO delivery (campaign_id, step_id, recipient, occurrence, due_at,"
        " grace_until, status, payload, content_hash, attempts, sent_at, platform_channel_id,"
        " platform_message_id, created_at, updated_at) "
        f"SELECT 'launch', 'post' || i, 'channel:annonces', 'once', {t('i * 7200')}, "
        f"{t('i * 7200')}, 'sent', '{{}}', '', 1, {t('i * 7200')}, 'C0', 'P' || i, "
        f"{t('0')}, {t('0')} FROM {series}",
        "INSERT INTO channel_member (platform, channel_id, member_id) "
        "SELECT 'bench', 'C0', id FROM member",
        # Who could see the posts when they were sent: the whole channel, unchanged meanwhile
        # (the posts share one audience, as the outbox would store it).
        f"INSERT INTO audience (id, platform, channel_id, size, created_at) "
        f"VALUES (1, 'bench', 'C0', {members}, {t('0')})",
        "INSERT INTO audience_member (audience_id, member_id) SELECT 1, id FROM member",
        "UPDATE delivery SET audience_id = 1",
        "INSERT INTO quiz_run (id, key, series, bank_id, mode, platform, campaign_id, locale,"
        ' questions, "current", state, window_seconds, messages, started_at) VALUES '
        f"(1, 'launch/quiz', 'launch/quiz', 'bank', 'live', 'bench', 'launch', 'en', '[]', 0,"
        f" 'finished', 30, '{{}}', {t('0')})",
    )
    prefix, series = _series(db, 200_000)
    await _exec(
        db,
        f"{prefix}INSERT INTO quiz_answer (run_id, question_id, member_id, answer, correct,"
        " final, answered_at, points) "
        f"SELECT 1, 'q' || (i / {members}), 1 + (i % {members}), '0', "
        f"CASE WHEN i % 3 = 0 THEN {false} ELSE {true} END, {true}, {t(r(SPAN_SECONDS))}, 10 "
        f"FROM {series}",
        "INSERT INTO survey (id, key, campaign_id, step_id, title, anonymous, locale, questions,"
        f" created_at, updated_at) VALUES ('launch/pulse', 'k1', 'launch', 'pulse', 'Pulse',"
        f" {true}, 'en', '[]', {t('0')}, {t('0')})",
    )
    day = (
        "CAST(" + t(r(SPAN_SECONDS)) + " AS DATE)"
        if db.dialect == "postgresql"
        else ("date(" + t(r(SPAN_SECONDS)) + ")")
    )
    prefix, series = _series(db, 20_000)
    await _exec(
        db,
        f"{prefix}INSERT INTO survey_answer (id, survey_id, response_id, question_id, kind, value,"
        " skipped, cohort, team, answered_on) "
        f"SELECT 'a' || i, 'launch/pulse', 'r' || (i / 2), "
        f"CASE WHEN i % 2 = 0 THEN 'rating' ELSE 'nps' END, "
        f"CASE WHEN i % 2 = 0 THEN 'rating' ELSE 'nps' END, "
        f"CASE WHEN i % 2 = 0 THEN 1 + {r(5)} ELSE {r(11)} END, {false}, "
        f"CASE WHEN i % 3 = 0 THEN 'pilot' ELSE 'wave2' END, 'team' || (i % 20), {day} "
        f"FROM {series}",
    )
    prefix, series = _series(db, 5_000)
    await _exec(
        db,
        f"{prefix}INSERT INTO help_ticket (platform, channel_id, message_id, private, asker_id,"
        " excerpt, state, suggestions, opened_at, last_activity_at, first_response_at,"
        " solved_at) "
        f"SELECT 'bench', 'HELP', 'T' || i, {false}, 1 + (i * 7) % {members}, '', 'solved', '[]',"
        f" {t('i * 1400')}, {t('i * 1400')}, {t('i * 1400 + 600 + ' + r(7200))},"
        f" {t('i * 1400 + 3600 + ' + r(86400))} FROM {series}",
        "INSERT INTO point_total (member_id, season, total, reached_at) "
        f"SELECT id, '*', (id * 37) % 400, {t('0')} FROM member",
    )


async def load_events(db: Database, first: int, count: int, members: int) -> None:
    """Append ``count`` activity rows (ids after ``first``); a quarter of the reactions and
    replies target a campaign post. Fields come from integer hashes of the row number
    (cheap, reproducible, the same on both backends)."""
    t = _pg_time if db.dialect == "postgresql" else _sqlite_time
    chunk = 1_000_000
    done = 0
    while done < count:
        n = min(chunk, count - done)
        prefix, series = _series(db, n)
        if db.dialect == "postgresql":
            series = series.replace("generate_series(1,", "generate_series(1::bigint,")
        g = f"({first + done} + i)"
        member = f"(1 + (({g} * 48271) % 2147483647) % {members})"
        kind_number = f"((({g} * 2654435761) % 4294967296) / 7 % {len(KINDS)})"
        kind = (
            "CASE "
            + " ".join(f"WHEN {kind_number} = {i} THEN '{k}'" for i, k in enumerate(KINDS))
            + " END"
        )
        seconds = f"((({g} * 40503 + 12345) * 69069 % 4294967296) % {SPAN_SECONDS})"
        to_post = f"((({g} * 1103515245 + 12345) % 2147483648) / 65536 % 4 = 0)"
        post = f"'P' || (1 + ({g} * 17) % {POSTS})"
        target = (
            f"CASE WHEN {kind_number} BETWEEN 1 AND 5 THEN "
            f"(CASE WHEN {to_post} THEN {post} ELSE 'M' || {g} END) ELSE NULL END"
        )
        channel = (
            f"CASE WHEN {kind_number} BETWEEN 1 AND 5 AND {to_post} THEN 'C0' "
            f"ELSE 'C' || ({g} % 5) END"
        )
        await _exec(
            db,
            f"{prefix}INSERT INTO activity (id, member_id, kind, channel_id, target_message_id,"
            f" occurred_at, week) SELECT {g}, {member}, {kind}, {channel}, {target}, "
            f"{t(seconds)}, ({START_SECONDS} + {seconds}) / 604800 FROM {series}",
        )
        done += n


async def analyze(db: Database) -> None:
    """Refresh the planner's statistics, as a live database's maintenance would."""
    if db.dialect == "postgresql":  # autovacuum's job on a live database (outside a transaction)
        async with db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM ANALYZE")
    else:
        await _exec(db, "ANALYZE")
    if db.dialect == "sqlite":  # fold the write-ahead log into the file, as idle time would
        await db.dispose()
        path = db.engine.url.database
        assert path is not None
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run_report(url: str, out: Path) -> dict[str, Any]:
    """Run ``rallybot report --format html`` in a fresh process: seconds and peak MB."""
    env = {**os.environ, "DATABASE_URL": url, "RALLYBOT_TIMEZONE": "UTC"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bench.report_bench", "--child", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    child = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "seconds": round(seconds, 2),
        "command_s": child.get("command_s"),
        "peak_mb": child["peak_mb"],
    }


def child(out: Path) -> None:
    """Inside the measured process: the real command line, then the peak memory."""
    from typer.testing import CliRunner

    from rallybot.bot.cli import app

    started = time.perf_counter()
    result = CliRunner().invoke(app, ["report", "--format", "html", "--out", str(out)])
    if result.exit_code != 0:
        sys.stderr.write(result.output)
        raise SystemExit(result.exit_code)
    seconds = time.perf_counter() - started  # without the interpreter start and imports
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_mb": round(peak_kb / 1024, 1), "command_s": round(seconds, 2)}))


async def _loaded(db: Database) -> int:
    """How many activity rows an earlier run left in the database (0: an empty one)."""
    async with db.engine.connect() as conn:
        members = (await conn.exec_driver_sql("SELECT count(*) FROM member")).scalar_one()
        if not members:
            return 0
        return int((await conn.exec_driver_sql("SELECT count(*) FROM activity")).scalar_one())


async def bench(url: str, backend: str, members: int, sizes: list[int]) -> list[dict[str, Any]]:
    """Grow one database through ``sizes`` and time the report at each. A database that an
    earlier run (``--url``) already filled is only migrated and reported on: the same data
    measured by two versions of the code."""
    await upgrade_async(url)
    db = create_database(url)
    results: list[dict[str, Any]] = []
    try:
        started = time.perf_counter()
        loaded = await _loaded(db)
        if loaded:
            await analyze(db)  # a migration may have added rows and indexes
            sizes = [loaded]
        else:
            await load_base(db, members)
        for size in sizes:
            if size > loaded:
                await load_events(db, loaded, size - loaded, members)
                loaded = size
                await analyze(db)
            load_seconds = time.perf_counter() - started
            with tempfile.TemporaryDirectory() as out:
                figures = run_report(url, Path(out))
                html_kb = (Path(out) / "report.html").stat().st_size // 1024
            results.append(
                {
                    "backend": backend,
                    "members": members,
                    "events": size,
                    "report_s": figures["seconds"],
                    "command_s": figures["command_s"],
                    "peak_mb": figures["peak_mb"],
                    "html_kb": html_kb,
                    "load_s": round(load_seconds, 1),
                }
            )
            print(json.dumps(results[-1]), flush=True)
            started = time.perf_counter()
    finally:
        await db.dispose()
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = {
            "backend": backend,
            "events_ratio": round(last["events"] / first["events"], 2),
            "time_ratio": round(last["report_s"] / first["report_s"], 2),
        }
        print(json.dumps(growth), flush=True)
        results.append(growth)
    return results


async def channel_sync(members: int, scale: float, tmp_dir: str | None) -> None:
    """Sync one channel of ``members`` from the fake Slack into an empty SQLite database
    that knows them all: seconds, calls, calls a minute (scaled back to real time)."""
    from rallybot.bot.channels import sync_channel_members
    from rallybot.storage.models import Member, table_of
    from tests.platform_slack.fake_slack import TIER_PER_MINUTE, FakeSlack
    from tests.platform_slack.harness import slack_adapter

    people = [f"U{i:07d}" for i in range(members)]
    with tempfile.TemporaryDirectory(dir=tmp_dir) as tmp:
        url = f"sqlite:///{Path(tmp) / 'sync.db'}"
        await upgrade_async(url)
        db = create_database(url)
        try:
            rows = [
                {
                    "platform": "slack",
                    "platform_user_id": uid,
                    "groups": [],
                    "created_at": START,
                    "updated_at": START,
                }
                for uid in people
            ]
            async with db.session() as session:
                for start in range(0, len(rows), 5000):
                    await session.execute(sa.insert(table_of(Member)), rows[start : start + 5000])
            async with FakeSlack(scale=scale) as fake:
                fake.add_channel("C1", "general", members=people)
                async with slack_adapter(fake, db) as adapter:
                    started = time.perf_counter()
                    result = await sync_channel_members(db, adapter, "slack", ["C1"])
                    seconds = time.perf_counter() - started
                calls = len(fake.calls_to("conversations.members"))
                limited = sum(1 for c in fake.calls if c.status == 429)
        finally:
            await db.dispose()
    # The fake runs ``scale`` times faster than Slack: its minute is 60 / scale seconds.
    per_minute = calls / seconds * 60 / scale if seconds else None
    print(
        json.dumps(
            {
                "channel_members": members,
                "added": result.added,
                "seconds": round(seconds, 2),
                "slack_scale": scale,
                "calls": calls,
                "calls_per_slack_minute": round(per_minute, 1) if per_minute else None,
                "tier4_per_minute": TIER_PER_MINUTE[4],
                "rate_limited": limited,
            }
        ),
        flush=True,
    )


async def post_audience(url: str, backend: str, members: int) -> None:
    """The cost, at send time, of keeping a channel post's audience (a channel of ``members``):
    the first post (a new audience), a second one with the same members (shared), and one
    after a join (a new audience again)."""
    from rallybot.storage.outbox import keep_audience

    await upgrade_async(url)
    db = create_database(url)
    prefix, series = _series(db, members)
    t = _pg_time if db.dialect == "postgresql" else _sqlite_time
    false = "FALSE" if db.dialect == "postgresql" else "0"
    try:
        await _exec(
            db,
            f"{prefix}INSERT INTO member (id, platform, platform_user_id, groups, is_bot,"
            " profile_complete, opted_out, forgotten, created_at, updated_at) "
            f"SELECT i, 'bench', 'U' || i, '[]', {false}, {false}, {false}, {false}, {t('0')},"
            f" {t('0')} FROM {series}",
            "INSERT INTO channel_member (platform, channel_id, member_id) "
            f"SELECT 'bench', 'C0', id FROM member WHERE id < {members}",
            "INSERT INTO delivery (id, campaign_id, step_id, recipient, occurrence, due_at,"
            " grace_until, status, payload, content_hash, attempts, created_at, updated_at) "
            f"SELECT i, 'launch', 'post' || i, 'channel:news', 'once', {t('0')}, {t('0')},"
            f" 'sent', '{{}}', '', 1, {t('0')}, {t('0')} FROM "
            + (
                "generate_series(1, 3) AS seq(i)"
                if db.dialect == "postgresql"
                else "(SELECT 1 AS i UNION SELECT 2 UNION SELECT 3)"
            ),
        )
        await analyze(db)
        figures: dict[str, Any] = {"backend": backend, "channel_members": members - 1}
        for delivery_id, case in ((1, "new_ms"), (2, "same_members_ms"), (3, "after_a_join_ms")):
            if delivery_id == 3:
                await _exec(
                    db,
                    "INSERT INTO channel_member (platform, channel_id, member_id) "
                    f"VALUES ('bench', 'C0', {members})",
                )
            started = time.perf_counter()
            async with db.session() as session:
                await keep_audience(session, delivery_id, "bench", "C0", START)
            figures[case] = round((time.perf_counter() - started) * 1000, 1)
        async with db.engine.connect() as conn:
            figures["audiences"] = (
                await conn.exec_driver_sql("SELECT count(*) FROM audience")
            ).scalar_one()
        print(json.dumps(figures), flush=True)
    finally:
        await db.dispose()


async def main_async(args: argparse.Namespace) -> None:
    """Run on a temporary SQLite file and, if reachable, a temporary PostgreSQL database."""
    sizes = sorted(int(float(s) * 1_000_000) for s in args.events.split(","))
    if args.post_audience_members:
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            url = f"sqlite:///{Path(tmp) / 'audience.db'}"
            await post_audience(url, "sqlite", args.post_audience_members)
        if "postgresql" in args.backends.split(","):
            conn = await asyncpg.connect(args.pg_url, timeout=5)
            name = f"rallybot_bench_{uuid.uuid4().hex[:8]}"
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
                base = args.pg_url.rsplit("/", 1)[0]
                await post_audience(f"{base}/{name}", "postgresql", args.post_audience_members)
            finally:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.close()
        return
    if args.url:  # one database, kept: fill it once, then measure any version on it
        backend = "postgresql" if args.url.startswith("postgresql") else "sqlite"
        await bench(args.url, backend, args.members, sizes)
        return
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            await bench(f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite", args.members, sizes)
    if "postgresql" in backends:
        admin = args.pg_url
        try:
            conn = await asyncpg.connect(admin, timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            print(json.dumps({"backend": "postgresql", "error": f"unreachable: {exc}"}))
            return
        name = f"rallybot_bench_{uuid.uuid4().hex[:8]}"
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
            base = admin.rsplit("/", 1)[0]
            await bench(f"{base}/{name}", "postgresql", args.members, sizes)
        finally:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


def main() -> None:
    """Print one JSON line per size and backend, then the growth factor."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument(
        "--events", default="1,2,5,10", help="Sizes in millions of events, comma-separated."
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--tmp", default=None, help="Folder for the SQLite file.")
    parser.add_argument(
        "--url",
        default=None,
        help="Use (and keep) this database instead of a temporary one; when an earlier run "
        "filled it, only migrate it and time the report (to compare two versions on the same "
        "data, e.g. --events 10 once, then again after a change).",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--channel-sync-members", type=int, default=0)
    parser.add_argument(
        "--post-audience-members",
        type=int,
        default=0,
        help="Measure instead the cost of keeping a channel post's audience at send time.",
    )
    parser.add_argument("--slack-scale", type=float, default=1.0, help="Fake Slack speed-up.")
    args = parser.parse_args()
    if args.child is not None:
        child(Path(args.child))
        return
    if args.channel_sync_members:
        asyncio.run(channel_sync(args.channel_sync_members, args.slack_scale, args.tmp))
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
