"""Points ledger: leaderboard reads over a large ledger, and awards per second, on SQLite and
PostgreSQL.

Reads: 100,000 members and 1,000,000 ledger entries over 90 days (bulk-loaded, not through
``award``), their totals and daily roll-up computed in SQL; then the mean time of a top-10
(``ledger.leaderboard``: all time, last 7 days, last 30 days) and of a member's rank
(``ledger.rank_of``, random members; all time and last 7 days) against a primary-key lookup of
one total in the same run (aims: top-10 all time under 1 ms, rank under 10 ms). Writes:
``ledger.award`` (idempotent, with a daily cap: key check, cap sum, entry insert, totals and
day upserts, in one transaction) against the same statements as raw SQL; the ratio is raw
time / ``award`` time (aim >= 0.7).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa

from rallybot.storage import ledger
from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import upgrade_async

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SOURCES = ["reaction", "quiz", "kudos", "first_post", "challenge", "help"]


def _naive(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None)


def _members(n: int) -> list[tuple[Any, ...]]:
    now = _naive(NOW)
    return [(i, "bench", f"u{i}", f"User {i}", f"team{i % 20}", now) for i in range(1, n + 1)]


def _entries(members: int, n: int, seed: int = 7) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    start = _naive(NOW - timedelta(days=90))
    span = 90 * 86400
    return [
        (
            i,
            rng.randint(1, members),
            rng.choice((1, 1, 2, 5, 10)),
            rng.choice(SOURCES),
            "bench",
            f"b{i}",
            start + timedelta(seconds=rng.randrange(span)),
        )
        for i in range(1, n + 1)
    ]


_MEMBER_COLS = ["id", "platform", "platform_user_id", "display_name", "team", "created_at"]
_ENTRY_COLS = ["id", "member_id", "amount", "source", "reason", "idempotency_key", "created_at"]
_TOTALS_SQL = (
    "INSERT INTO point_total (member_id, season, total, reached_at) "
    "SELECT member_id, '*', SUM(amount), MAX(created_at) FROM point_entry GROUP BY member_id"
)


def _days_sql(dialect: str) -> str:
    """The daily roll-up of the loaded entries (as migration 0009 back-fills it)."""
    day = "CAST(created_at AS DATE)" if dialect == "postgresql" else "date(created_at)"
    return (
        "INSERT INTO point_day (member_id, day, points, last_at) "
        f"SELECT member_id, {day}, SUM(amount), MAX(created_at) FROM point_entry "
        f"GROUP BY member_id, {day}"
    )


async def _load_sqlite(db: Database, members: int, entries: int) -> None:
    rows = _members(members)
    async with db.engine.begin() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.executemany(
            "INSERT INTO member (id, platform, platform_user_id, display_name, team, created_at, "
            "updated_at, groups, is_bot, profile_complete, opted_out) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, '[]', 0, 0, 0)",
            [(*r, r[-1]) for r in rows],
        )
        await driver.executemany(
            f"INSERT INTO point_entry ({', '.join(_ENTRY_COLS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            _entries(members, entries),
        )
        await conn.exec_driver_sql(_TOTALS_SQL)
        await conn.exec_driver_sql(_days_sql("sqlite"))
    async with db.engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")


async def _load_pg(url: str, members: int, entries: int) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        rows = _members(members)
        await conn.copy_records_to_table(
            "member",
            records=[(*r, r[-1], "[]", False, False, False) for r in rows],
            columns=[
                *_MEMBER_COLS,
                "updated_at",
                "groups",
                "is_bot",
                "profile_complete",
                "opted_out",
            ],
        )
        await conn.copy_records_to_table(
            "point_entry", records=_entries(members, entries), columns=_ENTRY_COLS
        )
        await conn.execute(_TOTALS_SQL)
        await conn.execute(_days_sql("postgresql"))
        for table in ("member", "point_entry"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def _mean_ms(fn: Callable[[], Awaitable[object]], repeat: int) -> float:
    await fn()  # warm up
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - began)
    return statistics.mean(times) * 1000


async def _reads(db: Database, members: int, repeat: int) -> dict[str, Any]:
    rng = random.Random(11)

    async def pk() -> None:
        async with db.session() as s:
            await s.execute(
                sa.text("SELECT total FROM point_total WHERE member_id = :m AND season = '*'"),
                {"m": rng.randint(1, members)},
            )

    async def top10() -> None:
        top = await ledger.leaderboard(db, period="all", now=NOW, limit=10)
        assert len(top) == 10

    async def my_rank() -> None:
        await ledger.rank_of(db, rng.randint(1, members), period="all", now=NOW)

    async def top10_7d() -> None:
        top = await ledger.leaderboard(db, period="7d", now=NOW, limit=10)
        assert len(top) == 10

    async def top10_30d() -> None:
        top = await ledger.leaderboard(db, period="30d", now=NOW, limit=10)
        assert len(top) == 10

    async def my_rank_7d() -> None:
        await ledger.rank_of(db, rng.randint(1, members), period="7d", now=NOW)

    pk_ms = await _mean_ms(pk, repeat)
    top_ms = await _mean_ms(top10, repeat)
    rank_ms = await _mean_ms(my_rank, repeat)
    window_repeat = max(repeat // 10, 5)
    week_ms = await _mean_ms(top10_7d, window_repeat)
    month_ms = await _mean_ms(top10_30d, window_repeat)
    week_rank_ms = await _mean_ms(my_rank_7d, window_repeat)
    return {
        "pk_lookup_ms": round(pk_ms, 3),
        "top10_ms": round(top_ms, 3),
        "top10_vs_pk": round(top_ms / pk_ms, 2),
        "my_rank_ms": round(rank_ms, 3),
        "my_rank_vs_pk": round(rank_ms / pk_ms, 2),
        "top10_7d_ms": round(week_ms, 2),
        "top10_7d_vs_pk": round(week_ms / pk_ms, 1),
        "top10_30d_ms": round(month_ms, 2),
        "top10_30d_vs_pk": round(month_ms / pk_ms, 1),
        "my_rank_7d_ms": round(week_rank_ms, 2),
        "my_rank_7d_vs_pk": round(week_rank_ms / pk_ms, 1),
    }


async def _raw_award(db: Database, member_id: int, key: str, at: datetime) -> bool:
    """The statements ``award`` runs, written by hand."""
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    naive_at, naive_day = _naive(at), _naive(day)
    async with db.session() as s:
        if db.dialect == "postgresql":
            await s.execute(
                sa.text("SELECT id FROM member WHERE id = :m FOR NO KEY UPDATE"), {"m": member_id}
            )
        seen = await s.scalar(
            sa.text("SELECT id FROM point_entry WHERE idempotency_key = :k"), {"k": key}
        )
        if seen is not None:
            return False
        used = await s.scalar(
            sa.text(
                "SELECT COALESCE(SUM(amount), 0) FROM point_entry e WHERE member_id = :m "
                "AND source = 'quiz' AND created_at >= :d AND created_at < :e AND amount > 0 "
                "AND reverts_id IS NULL AND NOT EXISTS "
                "(SELECT 1 FROM point_entry r WHERE r.reverts_id = e.id)"
            ),
            {"m": member_id, "d": naive_day, "e": naive_day + timedelta(days=1)},
        )
        if int(used or 0) + 1 > 1_000_000:
            return False
        season = await s.scalar(
            sa.text("SELECT id FROM season WHERE ended_at IS NULL ORDER BY started_at DESC LIMIT 1")
        )
        entry = await s.scalar(
            sa.text(
                "INSERT INTO point_entry (member_id, amount, source, action, reason, season, "
                "idempotency_key, created_at) VALUES (:m, 1, 'quiz', 'quiz_correct', 'bench', "
                ":season, :k, :at) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
            ),
            {"m": member_id, "season": season, "k": key, "at": naive_at},
        )
        if entry is None:
            return False
        await s.execute(
            sa.text(
                "INSERT INTO point_total (member_id, season, total, reached_at) "
                "VALUES (:m, '*', 1, :at) ON CONFLICT (member_id, season) DO UPDATE SET "
                "total = point_total.total + excluded.total, reached_at = excluded.reached_at"
            ),
            {"m": member_id, "at": naive_at},
        )
        await s.execute(
            sa.text(
                "INSERT INTO point_day (member_id, day, points, last_at) "
                "VALUES (:m, :d, 1, :at) ON CONFLICT (member_id, day) DO UPDATE SET "
                "points = point_day.points + excluded.points, last_at = CASE "
                "WHEN excluded.last_at > point_day.last_at THEN excluded.last_at "
                "ELSE point_day.last_at END"
            ).bindparams(sa.bindparam("d", type_=sa.Date())),
            {"m": member_id, "d": at.date(), "at": naive_at},
        )
        return True


async def _writes(db: Database, members: int, n: int) -> dict[str, Any]:
    rng = random.Random(3)
    targets = [rng.randint(1, members) for _ in range(n)]
    raw_times, ours = [], []

    async def raw(round_: int) -> None:
        began = time.perf_counter()
        for i, m in enumerate(targets):
            assert await _raw_award(db, m, f"raw{round_}:{i}", NOW)
        raw_times.append(time.perf_counter() - began)

    async def award(round_: int) -> None:
        began = time.perf_counter()
        for i, m in enumerate(targets):
            assert await ledger.award(
                db,
                member_id=m,
                amount=1,
                source="quiz",
                reason="bench",
                key=f"award{round_}:{i}",
                at=NOW,
                action="quiz_correct",
                daily_cap=1_000_000,
            )
        ours.append(time.perf_counter() - began)

    for round_ in range(4):  # alternating which goes first; best of four
        first, second = (raw, award) if round_ % 2 == 0 else (award, raw)
        await first(round_)
        await second(round_)
    began = time.perf_counter()  # replays of used keys: refused
    for i, m in enumerate(targets[: n // 4]):
        assert not await ledger.award(
            db,
            member_id=m,
            amount=1,
            source="quiz",
            reason="bench",
            key=f"award0:{i}",
            at=NOW,
            daily_cap=1_000_000,
        )
    replay = time.perf_counter() - began
    base, mine = min(raw_times), min(ours)
    return {
        "raw_awards_per_s": round(n / base),
        "awards_per_s": round(n / mine),
        "award_ratio": round(base / mine, 2),
        "replays_per_s": round((n // 4) / replay),
    }


async def run(url: str, members: int, entries: int, repeat: int, awards: int) -> dict[str, Any]:
    """Load, then measure reads and writes on one database."""
    await upgrade_async(url)
    db = create_database(url)
    try:
        began = time.perf_counter()
        if db.dialect == "postgresql":
            await _load_pg(url.replace("postgresql+asyncpg://", "postgresql://"), members, entries)
        else:
            await _load_sqlite(db, members, entries)
        result: dict[str, Any] = {
            "backend": db.dialect,
            "members": members,
            "entries": entries,
            "load_s": round(time.perf_counter() - began, 1),
        }
        result.update(await _reads(db, members, repeat))
        result.update(await _writes(db, members, awards))
        return result
    finally:
        await db.dispose()


async def main_async(
    members: int, entries: int, repeat: int, awards: int, pg_url: str
) -> list[dict[str, Any]]:
    """Run on a temporary SQLite file and on a temporary PostgreSQL database."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        results.append(await run(url, members, entries, repeat, awards))
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
        results.append(await run(f"{base}/{name}", members, entries, repeat, awards))
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
    return results


def main() -> None:
    """Print one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--awards", type=int, default=1000)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = asyncio.run(
        main_async(args.members, args.entries, args.repeat, args.awards, args.pg_url)
    )
    for result in results:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
