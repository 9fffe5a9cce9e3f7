"""The daily roll-up behind the 7- and 30-day leaderboards, forgotten members off every
leaderboard, badge announcements through the outbox, and reaction removals that arrive before
their reaction (tombstones); on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.events import MessagePosted
from rallybot.bot.outbox import Dispatcher
from rallybot.handlers.points.feature import BADGE_OUTBOX, on_message_posted
from rallybot.handlers.privacy.personal_data import forget_member
from rallybot.storage import ledger
from rallybot.storage.database import Database, create_database
from rallybot.storage.ledger import Period
from rallybot.storage.migrate import downgrade, run_blocking, upgrade
from rallybot.storage.models import (
    ALL_TIME,
    Delivery,
    PointDay,
    PointEntry,
    PointTotal,
    UTCDateTime,
    table_of,
)
from tests.engagement.test_ledger import check_days, check_totals, make_members
from tests.engagement.test_points_scenarios import GENERAL, eid, make_world, user

E = table_of(PointEntry).c
PD = table_of(PointDay).c
TT = table_of(PointTotal).c
D = table_of(Delivery).c
NOW = datetime(2026, 11, 10, 0, 30, tzinfo=UTC)  # "today" is 10 November (UTC)
KW = {"source": "quiz", "reason": "q"}


async def _give(db: Database, member: int, amount: int, key: str, at: datetime) -> None:
    assert await ledger.award(db, member_id=member, amount=amount, key=key, at=at, **KW)


# ---------------------------------------------------------------------------- the roll-up


async def test_roll_up_follows_awards_revocations_and_adjustments(db: Database) -> None:
    alice, bob, admin = await make_members(db, 3)
    day1 = datetime(2026, 11, 3, 23, 59, 59, tzinfo=UTC)
    day2 = day1 + timedelta(seconds=1)  # the next UTC day
    await _give(db, alice, 5, "a1", day1)
    await _give(db, alice, 3, "a2", day2)
    await _give(db, alice, 2, "a3", day2 + timedelta(hours=5))
    await _give(db, bob, 7, "b1", day2)
    assert await ledger.revoke(db, key="a1", at=day2 + timedelta(hours=1), reason="x")
    entry = await ledger.adjust(
        db, member_id=bob, amount=-4, reason="spam", actor_id=admin, key="adj", at=day1
    )
    assert entry is not None
    assert await ledger.revert(db, entry, at=day2 + timedelta(days=2), reason="oops") is not None
    # a tombstone (a removal before its award) changes no day
    tombstone = await ledger.take_back(
        db, key="late", member_id=alice, source="reaction", at=day2, reason="r"
    )
    assert tombstone == "blocked"
    await check_days(db, [alice, bob, admin])
    await check_totals(db, [alice, bob, admin])
    async with db.session() as s:
        rows = (
            await s.execute(
                sa.select(PD.member_id, PD.day, PD.points).order_by(PD.member_id, PD.day)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (alice, day1.date(), 5),
        (alice, day2.date(), 3 + 2 - 5),  # the revocation counts on the day it was made
        (bob, day1.date(), -4),
        (bob, day2.date(), 7),
        (bob, (day2 + timedelta(days=2)).date(), 4),
    ]


async def test_windows_are_whole_utc_days_ending_today(db: Database) -> None:
    a, b, c, d = await make_members(db, 4, team="sales")
    (e,) = await make_members(db, 1, team="tech")
    assert ledger.window_days("7d", NOW) == (datetime(2026, 11, 4).date(), NOW.date())
    assert ledger.window_days("30d", NOW) == (datetime(2026, 10, 12).date(), NOW.date())
    first_7d = datetime(2026, 11, 4, tzinfo=UTC)
    first_30d = datetime(2026, 10, 12, tzinfo=UTC)
    await _give(db, a, 10, "a-in", first_7d)  # the first instant of the 7-day window
    await _give(db, b, 50, "b-out", first_7d - timedelta(microseconds=1))  # just before it
    await _give(db, c, 4, "c-in", NOW + timedelta(hours=20))  # later today still counts
    await _give(db, d, 30, "d-in", first_30d)
    await _give(db, d, 99, "d-out", first_30d - timedelta(seconds=1))
    await _give(db, e, 10, "e-in", first_7d + timedelta(hours=1))  # ties with a, later

    async def board(period: Period, team: str | None = None) -> list[tuple[int, int, int]]:
        top = await ledger.leaderboard(db, period=period, now=NOW, team=team)
        for s in top:
            assert await ledger.rank_of(db, s.member_id, period=period, now=NOW, team=team) == s
        return [(s.member_id, s.total, s.rank) for s in top]

    assert await board("7d") == [(a, 10, 1), (e, 10, 2), (c, 4, 3)]
    assert await board("7d", "sales") == [(a, 10, 1), (c, 4, 2)]
    assert await board("30d") == [(b, 50, 1), (d, 30, 2), (a, 10, 3), (e, 10, 4), (c, 4, 5)]
    assert await ledger.rank_of(db, b, period="7d", now=NOW) is None
    assert await ledger.rank_of(db, e, period="7d", now=NOW, team="sales") is None
    # a day later, the window moves: a's points of 4 November leave it
    tomorrow = NOW + timedelta(days=1)
    top = await ledger.leaderboard(db, period="7d", now=tomorrow)
    assert [(s.member_id, s.total) for s in top] == [(c, 4)]
    # an award revoked inside the window: the day nets to 0 and the member is not listed
    assert await ledger.revoke(db, key="c-in", at=NOW, reason="x")
    assert [s.member_id for s in await ledger.leaderboard(db, period="7d", now=NOW)] == [a, e]
    await check_days(db, [a, b, c, d, e])


def test_migration_back_fills_the_roll_up_and_the_forgotten_flag(db_url: str) -> None:
    downgrade(db_url, "0008")
    at = sa.bindparam("at", type_=UTCDateTime())
    t0 = datetime(2026, 11, 2, 22, 0, tzinfo=UTC)

    async def seed() -> None:
        db = create_database(db_url)
        try:
            async with db.session() as s:
                for member_id, user_id in ((1, "u1"), (2, "forgotten-abc")):
                    await s.execute(
                        sa.text(
                            "INSERT INTO member (id, platform, platform_user_id, groups, is_bot, "
                            "profile_complete, opted_out, created_at, updated_at) VALUES "
                            "(:id, 'memory', :user, '[]', :no, :no, :no, :at, :at)"
                        ).bindparams(at),
                        {"id": member_id, "user": user_id, "no": False, "at": t0},
                    )
                entries = [
                    (1, 5, t0),
                    (1, 3, t0 + timedelta(hours=1)),
                    (1, -5, t0 + timedelta(hours=3)),
                ]
                entries.append((2, 4, t0))
                for n, (member_id, amount, when) in enumerate(entries):
                    await s.execute(
                        sa.text(
                            "INSERT INTO point_entry (member_id, amount, source, reason, "
                            "idempotency_key, created_at) VALUES (:m, :a, 'quiz', '', :k, :at)"
                        ).bindparams(at),
                        {"m": member_id, "a": amount, "k": f"k{n}", "at": when},
                    )
        finally:
            await db.dispose()

    run_blocking(seed())
    upgrade(db_url)

    async def check() -> None:
        db = create_database(db_url)
        try:
            await check_days(db, [1, 2])
            async with db.session() as s:
                rows = (await s.execute(sa.select(PD.member_id, PD.day, PD.points))).all()
                flags = dict((await s.execute(sa.text("SELECT id, forgotten FROM member"))).all())
            assert sorted(tuple(r) for r in rows) == [
                (1, t0.date(), 8),
                (1, t0.date() + timedelta(days=1), -5),
                (2, t0.date(), 4),
            ]
            assert {k: bool(v) for k, v in flags.items()} == {1: False, 2: True}
        finally:
            await db.dispose()

    run_blocking(check())


# ---------------------------------------------------------------------------- forgotten members


async def test_forgotten_members_are_on_no_leaderboard_but_their_points_count(
    db: Database,
) -> None:
    top, second, third = await make_members(db, 3, team="sales")
    await _give(db, top, 30, "t", NOW - timedelta(days=1))
    await _give(db, second, 20, "s", NOW - timedelta(days=2))
    await _give(db, third, 10, "h", NOW - timedelta(days=3))
    assert await ledger.start_season(db, "s1", NOW - timedelta(days=5))  # after the awards
    await _give(db, top, 5, "t2", NOW)
    await _give(db, second, 4, "s2", NOW)
    before = await ledger.rank_of(db, third, period="all", now=NOW)
    assert before is not None and before.rank == 3
    report = await forget_member(db, top, NOW)
    assert report is not None
    ghost = report.ghost_id
    for period in ("all", "season", "7d", "30d"):
        for team in (None, "sales"):
            board = await ledger.leaderboard(db, period=period, now=NOW, team=team)
            assert ghost not in [s.member_id for s in board], (period, team)
            assert board and board[0].member_id == second and board[0].rank == 1, (period, team)
            assert await ledger.rank_of(db, ghost, period=period, now=NOW, team=team) is None
    mine = await ledger.rank_of(db, third, period="all", now=NOW)
    assert mine is not None and mine.rank == 2  # the ghost is ahead of no one
    mine = await ledger.rank_of(db, third, period="30d", now=NOW, team="sales")
    assert mine is not None and mine.rank == 2
    for period in ("7d", "season"):
        mine = await ledger.rank_of(db, second, period=period, now=NOW)
        assert mine is not None and mine.rank == 1, period
    mine = await ledger.rank_of(db, third, period="all", now=NOW, team="sales")
    assert mine is not None and mine.rank == 2
    # the ledger and the totals keep the ghost's points: aggregates do not change
    async with db.session() as s:
        ledger_sum = await s.scalar(sa.select(sa.func.sum(E.amount)))
        totals_sum = await s.scalar(sa.select(sa.func.sum(TT.total)).where(TT.season == ALL_TIME))
        day_sum = await s.scalar(sa.select(sa.func.sum(PD.points)))
    assert ledger_sum == totals_sum == day_sum == 69
    assert await ledger.totals_of(db, ghost) == {ALL_TIME: 35, "s1": 5}
    await check_days(db, [ghost, second, third])


# ---------------------------------------------------------------------------- badges


async def test_badge_announcement_is_one_outbox_row_even_if_the_handler_runs_twice(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    alice = user("alice")
    event = MessagePosted(
        event_id=eid(),
        platform="memory",
        user=alice,
        occurred_at=w.clock.now(),
        channel=GENERAL,
        message_id=eid(),
        text="hello",
    )
    before = len(w.adapter.directs)
    # the handler itself, twice (as after a crash between the award and the event's record)
    await on_message_posted(event, w.bot)
    await on_message_posted(event, w.bot)
    assert len(w.adapter.directs) == before  # nothing sent from the handler: it is queued
    async with db.session() as s:
        rows = (
            await s.execute(
                sa.select(D.step_id, D.recipient, D.status).where(D.campaign_id == BADGE_OUTBOX)
            )
        ).all()
    alice_id = await w.member_id("alice")
    assert [tuple(r) for r in rows] == [("badge-first-step", f"member:{alice_id}", "pending")]
    assert await w.badge_dms("alice") == ["🏅 New badge: First step! Well done ALICE."]
    await on_message_posted(event, w.bot)
    assert await w.badge_dms("alice") == ["🏅 New badge: First step! Well done ALICE."]
    async with db.session() as s:
        statuses = (
            (await s.execute(sa.select(D.status).where(D.campaign_id == BADGE_OUTBOX)))
            .scalars()
            .all()
        )
    assert list(statuses) == ["sent"]


async def test_a_badge_announcement_survives_a_crash_before_it_was_sent(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    await w.post(user("alice"))  # the badge is earned; this bot "crashes" before dispatching
    async with db.session() as s:
        pending = await s.scalar(
            sa.select(sa.func.count()).where(D.campaign_id == BADGE_OUTBOX, D.status == "pending")
        )
    assert pending == 1
    restarted = MemoryAdapter()  # the next process sends it
    stats = await Dispatcher(db, restarted, w.clock).run_once()
    assert stats.sent == 1
    assert [(d.target, d.message.text) for d in restarted.directs] == [
        ("alice", "🏅 New badge: First step! Well done ALICE.")
    ]
    assert await w.badge_dms("alice") == []  # and nobody sends it again


# ---------------------------------------------------------------------------- tombstones


async def test_take_back_before_the_award_leaves_a_tombstone(db: Database) -> None:
    (alice,) = await make_members(db, 1)
    args = {"member_id": alice, "amount": 2, "source": "reaction", "reason": "r", "at": NOW}
    out = await ledger.take_back(
        db, key="k", member_id=alice, source="reaction", at=NOW, reason="gone", award_reason="r"
    )
    assert out == "blocked"
    assert not await ledger.award(db, key="k", **args)  # the late award
    again = await ledger.take_back(
        db, key="k", member_id=alice, source="reaction", at=NOW, reason="gone", award_reason="r"
    )
    assert again == "kept"
    assert await ledger.totals_of(db, alice) == {}
    assert await ledger.recent_entries(db, alice) == []  # the tombstone is not shown
    assert await ledger.leaderboard(db, period="7d", now=NOW) == []
    # in the usual order: the award, then its removal, once
    assert await ledger.award(db, key="k2", **args)
    other = await ledger.take_back(
        db, key="k2", member_id=alice, source="reaction", at=NOW, reason="x", award_reason="zz"
    )
    assert other == "kept"  # not the reaction that earned the points
    taken = await ledger.take_back(
        db, key="k2", member_id=alice, source="reaction", at=NOW, reason="x", award_reason="r"
    )
    assert taken == "revoked"
    assert await ledger.totals_of(db, alice) == {ALL_TIME: 0}
    async with db.session() as s:
        tombstone = (
            await s.execute(sa.select(PointEntry).where(E.idempotency_key == "k"))
        ).scalar_one()
    assert tombstone.amount == 0
    assert await ledger.revert(db, tombstone.id or 0, at=NOW, reason="x") is None
    await check_days(db, [alice])
    await check_totals(db, [alice])


async def test_a_reaction_removed_before_it_arrives_earns_nothing(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    alice, bob = user("alice"), user("bob")
    await w.react(alice, "One", removed=True)  # delivered first
    await w.react(alice, "One")  # the reaction itself, late
    assert await w.total("alice") == 0
    await w.react(bob, "carol-msg", "clap", author=user("carol"), removed=True)
    await w.react(bob, "carol-msg", "clap", author=user("carol"))
    assert await w.total("carol") == 0
    # a removal of an emoji that never counted, on a message that is no announcement,
    # leaves nothing behind
    await w.react(alice, "some-member-message", "heart", author=bob, removed=True)
    async with db.session() as s:
        keys = (await s.execute(sa.select(E.idempotency_key, E.amount).order_by(E.id))).all()
    assert [amount for _, amount in keys] == [0, 0]
    # other messages still earn
    await w.react(alice, "Two")
    assert await w.total("alice") == 1
    # a removal that does not name the message's author (Discord) still revokes kudos
    await w.react(bob, "carol-msg-2", "clap", author=user("carol"))
    assert await w.total("carol") == 5
    await w.react(bob, "carol-msg-2", "clap", removed=True)
    assert await w.total("carol") == 0
