"""The points ledger on SQLite and PostgreSQL: idempotency, limits, revocations, seasons,
leaderboards; and property tests (hypothesis) over random sequences of awards."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rallybot.storage import ledger
from rallybot.storage.database import Database, create_database
from rallybot.storage.ledger import Limits
from rallybot.storage.migrate import run_blocking
from rallybot.storage.models import ALL_TIME, PointDay, PointEntry, PointTotal, table_of
from rallybot.storage.repositories import upsert_member

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
E = table_of(PointEntry).c
TT = table_of(PointTotal).c
PD = table_of(PointDay).c
_names = itertools.count()


async def make_members(db: Database, count: int, team: str | None = None) -> list[int]:
    ids = []
    for _ in range(count):
        n = next(_names)
        member = await upsert_member(db, "memory", f"p{n}", T0, display_name=f"P{n}", team=team)
        assert member.id is not None
        ids.append(member.id)
    return ids


async def check_totals(db: Database, member_ids: list[int]) -> None:
    """Every total (all-time and per season) equals the sum of its ledger entries (tombstones,
    of 0 points, make no total)."""
    async with db.session() as s:
        for member_id in member_ids:
            entries = (
                await s.execute(
                    sa.select(E.season, E.amount).where(E.member_id == member_id, E.amount != 0)
                )
            ).all()
            rows = await s.execute(sa.select(TT.season, TT.total).where(TT.member_id == member_id))
            totals = {season: total for season, total in rows.all()}
            by_season: dict[str, int] = defaultdict(int)
            for season, amount in entries:
                by_season[ALL_TIME] += amount
                if season is not None:
                    by_season[season] += amount
            assert {k: v for k, v in totals.items()} == {k: by_season[k] for k in totals}, member_id
            assert set(by_season) <= set(totals)


async def check_days(db: Database, member_ids: list[int]) -> None:
    """Every member's daily roll-up equals the sums (and latest times) of the ledger entries of
    each UTC day; days with only tombstones (0 points) have no row."""
    async with db.session() as s:
        for member_id in member_ids:
            entries = (
                await s.execute(
                    sa.select(E.created_at, E.amount).where(E.member_id == member_id, E.amount != 0)
                )
            ).all()
            expected: dict[object, tuple[int, datetime]] = {}
            for at, amount in entries:
                day = at.astimezone(UTC).date()
                points, last = expected.get(day, (0, at))
                expected[day] = (points + amount, max(last, at))
            rows = await s.execute(
                sa.select(PD.day, PD.points, PD.last_at).where(PD.member_id == member_id)
            )
            assert {day: (p, last) for day, p, last in rows.all()} == expected, member_id


async def test_award_once_per_key_and_totals_follow(db: Database) -> None:
    (alice,) = await make_members(db, 1)
    args = {"member_id": alice, "amount": 3, "source": "reaction", "reason": "r", "at": T0}
    assert await ledger.award(db, key="k1", **args)
    assert not await ledger.award(db, key="k1", **args)  # a replay
    assert await ledger.award(db, key="k2", **args)
    assert await ledger.totals_of(db, alice) == {ALL_TIME: 6}
    with pytest.raises(ValueError, match="unknown points source"):
        await ledger.award(db, key="k3", **{**args, "source": "magic"})


async def test_revoke_exactly_once_and_never_a_revocation(db: Database) -> None:
    (alice,) = await make_members(db, 1)
    await ledger.award(db, member_id=alice, amount=4, source="reaction", reason="r", key="k", at=T0)
    assert await ledger.revoke(db, key="k", at=T0, reason="taken back")
    assert not await ledger.revoke(db, key="k", at=T0, reason="taken back")
    assert not await ledger.revoke(db, key="revoke:k", at=T0, reason="again")
    assert not await ledger.revoke(db, key="missing", at=T0, reason="x")
    assert await ledger.totals_of(db, alice) == {ALL_TIME: 0}
    # Re-adding the same reaction does not earn again: its key is spent.
    assert not await ledger.award(
        db, member_id=alice, amount=4, source="reaction", reason="r", key="k", at=T0
    )
    await check_totals(db, [alice])


async def test_daily_cap_counts_the_day_and_ignores_revoked_awards(db: Database) -> None:
    (alice,) = await make_members(db, 1)

    async def give(key: str, amount: int, at: datetime = T0) -> bool:
        return await ledger.award(
            db,
            member_id=alice,
            amount=amount,
            source="reaction",
            reason="r",
            key=key,
            at=at,
            daily_cap=5,
        )

    assert await give("a", 3)
    assert not await give("b", 3)  # 6 > 5
    assert await give("c", 2)  # exactly 5
    assert not await give("d", 1)
    assert await give("e", 1, T0 + timedelta(days=1))  # a new day
    assert await ledger.revoke(db, key="c", at=T0, reason="x")
    assert await give("f", 2)  # the revoked award no longer counts
    assert (await ledger.totals_of(db, alice))[ALL_TIME] == 6


async def test_cooldown_pair_limit_and_allowance(db: Database) -> None:
    alice, bob, carol = await make_members(db, 3)
    cool = Limits(cooldown=timedelta(minutes=10))
    kw = {"amount": 1, "source": "reaction", "reason": "r", "action": "reaction_on_announcement"}
    assert await ledger.award(db, member_id=alice, key="c1", at=T0, limits=cool, **kw)
    assert not await ledger.award(
        db, member_id=alice, key="c2", at=T0 + timedelta(minutes=9), limits=cool, **kw
    )
    # an earlier event arriving late is inside the cooldown too
    assert not await ledger.award(
        db, member_id=alice, key="c3", at=T0 - timedelta(minutes=5), limits=cool, **kw
    )
    assert await ledger.award(
        db, member_id=alice, key="c4", at=T0 + timedelta(minutes=10), limits=cool, **kw
    )

    kudos = Limits(pair_limit=1, actor_allowance=2)
    kk = {"amount": 5, "source": "kudos", "reason": "k", "at": T0, "limits": kudos}
    assert await ledger.award(db, member_id=bob, actor_id=alice, key="k1", **kk)
    assert not await ledger.award(db, member_id=bob, actor_id=alice, key="k2", **kk)  # pair
    assert await ledger.award(db, member_id=carol, actor_id=alice, key="k3", **kk)
    assert await ledger.award(db, member_id=alice, actor_id=bob, key="k4", **kk)
    assert not await ledger.award(db, member_id=bob, actor_id=alice, key="k5", **kk)
    (extra,) = await make_members(db, 1)
    assert not await ledger.award(db, member_id=extra, actor_id=alice, key="k6", **kk)  # allowance
    counts = await ledger.counts(db, alice)
    assert counts.kudos_given == 2
    assert counts.by_source == {"reaction": 2, "kudos": 1}


async def test_adjust_requires_a_reason_and_revert_undoes_it_once(db: Database) -> None:
    alice, admin = await make_members(db, 2)
    with pytest.raises(ValueError, match="reason"):
        await ledger.adjust(
            db, member_id=alice, amount=5, reason=" ", actor_id=admin, key="a0", at=T0
        )
    entry_id = await ledger.adjust(
        db, member_id=alice, amount=-7, reason="spam", actor_id=admin, key="a1", at=T0
    )
    assert entry_id is not None
    assert await ledger.totals_of(db, alice) == {ALL_TIME: -7}
    undo = await ledger.revert(db, entry_id, at=T0, reason="oops", actor_id=admin)
    assert undo is not None
    assert await ledger.revert(db, entry_id, at=T0, reason="oops") is None
    assert await ledger.revert(db, undo, at=T0, reason="undo the undo") is None
    assert await ledger.revert(db, 999_999, at=T0, reason="x") is None
    assert await ledger.totals_of(db, alice) == {ALL_TIME: 0}
    entries = await ledger.recent_entries(db, alice, 10)
    assert [(e.amount, e.actor_id, e.reverts_id) for e in entries] == [
        (7, admin, entry_id),
        (-7, admin, None),
    ]


async def test_seasons_restart_totals_and_keep_history(db: Database) -> None:
    (alice, bob) = await make_members(db, 2)
    kw = {"source": "quiz", "reason": "q"}
    await ledger.award(db, member_id=alice, amount=10, key="s0", at=T0, **kw)
    assert await ledger.start_season(db, "s1", T0 + timedelta(days=1))
    assert not await ledger.start_season(db, "s1", T0 + timedelta(days=2))
    await ledger.award(db, member_id=bob, amount=3, key="s1a", at=T0 + timedelta(days=1), **kw)
    season = await ledger.current_season(db)
    assert season is not None and season.id == "s1"
    now = T0 + timedelta(days=2)
    top_all = await ledger.leaderboard(db, period="all", now=now)
    top_season = await ledger.leaderboard(db, period="season", now=now)
    assert [(s.member_id, s.total) for s in top_all] == [(alice, 10), (bob, 3)]
    assert [(s.member_id, s.total) for s in top_season] == [(bob, 3)]
    assert await ledger.rank_of(db, alice, period="season", now=now) is None
    # a later revocation of an old-season award corrects that season's total, not this one
    assert await ledger.revoke(db, key="s0", at=now, reason="x")
    assert await ledger.totals_of(db, alice) == {ALL_TIME: 0}
    assert await ledger.start_season(db, "s2", now)
    assert await ledger.leaderboard(db, period="season", now=now) == []
    assert len(await ledger.recent_entries(db, alice, 10)) == 2  # history kept
    await check_totals(db, [alice, bob])


async def test_leaderboard_ties_periods_and_teams(db: Database) -> None:
    a, b, c = await make_members(db, 3, team="sales")
    (d,) = await make_members(db, 1, team="tech")
    kw = {"source": "quiz", "reason": "q"}
    # b reaches 10 first, then c, then a: equal totals rank by who got there first.
    await ledger.award(db, member_id=b, amount=10, key="b", at=T0, **kw)
    await ledger.award(db, member_id=c, amount=10, key="c", at=T0 + timedelta(hours=1), **kw)
    await ledger.award(db, member_id=a, amount=10, key="a", at=T0 + timedelta(hours=2), **kw)
    await ledger.award(db, member_id=d, amount=4, key="d", at=T0 - timedelta(days=20), **kw)
    await ledger.award(db, member_id=d, amount=30, key="d2", at=T0 - timedelta(days=10), **kw)
    now = T0 + timedelta(days=1)
    top = await ledger.leaderboard(db, period="all", now=now)
    assert [(s.member_id, s.rank, s.total) for s in top] == [
        (d, 1, 34),
        (b, 2, 10),
        (c, 3, 10),
        (a, 4, 10),
    ]
    for standing in top:
        assert await ledger.rank_of(db, standing.member_id, period="all", now=now) == standing
    assert [s.member_id for s in await ledger.leaderboard(db, period="7d", now=now)] == [b, c, a]
    month = await ledger.leaderboard(db, period="30d", now=now)
    assert [(s.member_id, s.total) for s in month] == [(d, 34), (b, 10), (c, 10), (a, 10)]
    sales = await ledger.leaderboard(db, period="all", now=now, team="sales", limit=2)
    assert [(s.member_id, s.rank) for s in sales] == [(b, 1), (c, 2)]
    mine = await ledger.rank_of(db, a, period="all", now=now, team="sales")
    assert mine is not None and mine.rank == 3
    assert await ledger.rank_of(db, d, period="all", now=now, team="sales") is None
    week_rank = await ledger.rank_of(db, a, period="7d", now=now)
    assert week_rank is not None and (week_rank.rank, week_rank.total) == (3, 10)
    assert await ledger.rank_of(db, d, period="7d", now=now) is None


async def test_concurrent_awards_never_exceed_a_cap(db: Database) -> None:
    alice, bob = await make_members(db, 2)
    results = await asyncio.gather(
        *(
            ledger.award(
                db,
                member_id=alice,
                amount=2,
                source="reaction",
                reason="r",
                key=f"c{i % 12}",  # duplicates too
                at=T0,
                daily_cap=9,
            )
            for i in range(24)
        ),
        *(
            ledger.award(
                db,
                member_id=m,
                amount=1,
                source="kudos",
                reason="k",
                key=f"k{i}",
                at=T0,
                actor_id=bob if m == alice else alice,
                limits=Limits(actor_allowance=3),
            )
            for i, m in enumerate([alice, bob] * 5)
        ),
    )
    assert sum(results[:24]) == 4  # 4 x 2 = 8 <= 9
    assert sum(results[24:]) == 6  # 3 given by each
    await check_totals(db, [alice, bob])


# ---------------------------------------------------------------------------- properties


@dataclass
class Model:
    """What the ledger should answer, computed the simple way."""

    cap: int
    allowance: int
    entries: dict[str, tuple[int, int, str, datetime, int | None]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)

    def live(self) -> list[tuple[int, int, str, datetime, int | None]]:
        return [e for k, e in self.entries.items() if k not in self.revoked]

    def award(
        self, key: str, member: int, amount: int, source: str, at: datetime, actor: int | None
    ) -> bool:
        if key in self.entries:
            return False
        day = at.date()
        used = sum(
            a for m, a, s, when, _ in self.live() if (m, s, when.date()) == (member, source, day)
        )
        if used + amount > self.cap:
            return False
        if actor is not None:
            given = sum(
                1
                for _, _, s, when, act in self.live()
                if (act, s, when.date()) == (actor, source, day)
            )
            if given >= self.allowance:
                return False
        self.entries[key] = (member, amount, source, at, actor)
        return True

    def revoke(self, key: str) -> bool:
        if key not in self.entries or key in self.revoked:
            return False
        self.revoked.add(key)
        return True

    def take_back(self, key: str, member: int) -> str:
        if key not in self.entries:  # a tombstone: the key is spent, worth nothing
            self.entries[key] = (member, 0, "reaction", T0, None)
            self.revoked.add(key)
            return "blocked"
        return "revoked" if self.revoke(key) else "kept"


award_op = st.tuples(
    st.just("award"),
    st.integers(0, 2),  # member
    st.integers(1, 4),  # amount
    st.integers(0, 7),  # key
    st.sampled_from(["reaction", "kudos"]),
    st.integers(0, 40),  # hours after T0: several days, in any order
)
op = st.one_of(
    award_op,
    st.tuples(st.just("revoke"), st.integers(0, 7)),
    st.tuples(st.just("take_back"), st.integers(0, 7), st.integers(0, 2)),
    st.tuples(st.just("season"), st.integers(0, 3)),
    st.tuples(st.just("together"), st.lists(award_op, min_size=2, max_size=6)),
)


async def _run(url: str, ops: list[tuple[object, ...]], run: int) -> None:
    db = create_database(url)
    try:
        members = await make_members(db, 3)
        model = Model(cap=7, allowance=2)
        limits_kudos = Limits(actor_allowance=2, daily_cap=7)
        prefix = f"run{run}:"

        def call(o: tuple[object, ...]) -> tuple[str, int, int, str, datetime, int | None]:
            _, m, amount, k, source, hours = o
            assert isinstance(m, int) and isinstance(amount, int) and isinstance(hours, int)
            member = members[m]
            actor = members[(m + 1) % 3] if source == "kudos" else None
            return f"{prefix}{k}", member, amount, str(source), T0 + timedelta(hours=hours), actor

        async def award(o: tuple[object, ...]) -> bool:
            key, member, amount, source, at, actor = call(o)
            return await ledger.award(
                db,
                member_id=member,
                amount=amount,
                source=source,
                reason="p",
                key=key,
                at=at,
                actor_id=actor,
                limits=limits_kudos if actor is not None else Limits(daily_cap=7),
            )

        for index, o in enumerate(ops):
            if o[0] == "award":
                expected = model.award(*call(o))
                assert await award(o) == expected, (index, o)
            elif o[0] == "revoke":
                key = f"{prefix}{o[1]}"
                expected = model.revoke(key)
                assert await ledger.revoke(db, key=key, at=T0, reason="x") == expected
            elif o[0] == "take_back":  # a removal, possibly before its award
                key, m = f"{prefix}{o[1]}", o[2]
                assert isinstance(m, int)
                owner = model.entries[key][0] if key in model.entries else members[m]
                expected_take = model.take_back(key, owner)
                taken = await ledger.take_back(
                    db,
                    key=key,
                    member_id=owner,
                    source="reaction",
                    at=T0 + timedelta(hours=index),
                    reason="x",
                )
                assert taken == expected_take, (index, o)
            elif o[0] == "season":
                await ledger.start_season(db, f"{prefix}s{o[1]}", T0 + timedelta(hours=index))
            else:
                batch = o[1]
                assert isinstance(batch, list)
                results = await asyncio.gather(*(award(b) for b in batch))
                for b, ok in zip(batch, results, strict=True):
                    if ok:  # record what the database accepted; limits are checked below
                        key, member, amount, source, at, actor = call(b)
                        model.entries[key] = (member, amount, source, at, actor)
        await check_totals(db, members)
        await check_days(db, members)
        # no cap or allowance is ever exceeded, whatever ran concurrently
        per_day: dict[tuple[int, str, object], int] = defaultdict(int)
        given: dict[tuple[int | None, object], int] = defaultdict(int)
        async with db.session() as s:
            rows = (
                await s.execute(
                    sa.select(E.id, E.member_id, E.amount, E.source, E.created_at, E.actor_id)
                    .where(E.member_id.in_(members), E.reverts_id.is_(None))
                    .where(~E.id.in_(sa.select(E.reverts_id).where(E.reverts_id.is_not(None))))
                )
            ).all()
        for _, member, amount, source, at, actor in rows:
            per_day[(member, source, at.date())] += amount
            if actor is not None:
                given[(actor, at.date())] += 1
        assert max(per_day.values(), default=0) <= 7
        assert max(given.values(), default=0) <= 2
    finally:
        await db.dispose()


_runs = itertools.count()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_random_sequences_keep_totals_and_caps(db_url: str, ops: list[tuple[object, ...]]) -> None:
    """Duplicates, revocations, removals before their award (tombstones), out-of-order times,
    seasons and concurrent batches: every total and every day of the roll-up equals the sum of
    its entries, answers match a simple model, and no cap is exceeded."""
    run_blocking(_run(db_url, ops, next(_runs)))
