"""The points ledger: the only code that writes points.

Every award is one append-only :class:`~storage.models.PointEntry` with a unique idempotency key,
and the member's totals (the current season's and the all-time one) change in the same
transaction, so a total is always the sum of its entries. A repeated key awards nothing; a
revocation is a new negative entry (key ``revoke:<key>``) that can exist only once.

Limits (daily cap, cooldown, per-pair limit, giver's allowance) are checked inside the awarding
transaction while the member (and the giver) are locked: on PostgreSQL with
``SELECT ... FOR NO KEY UPDATE`` on their ``member`` rows (taken in id order, so two awards
cannot deadlock), on SQLite by ``BEGIN IMMEDIATE`` (one writer at a time, see
:mod:`storage.database`). Concurrent awards therefore never exceed a limit. An award with no
limit to check takes no lock: its key and the totals' in-place additions are enough.

Every entry also adds to the member's :class:`~storage.models.PointDay` row of the entry's UTC
day, in the same transaction: the 7- and 30-day leaderboards sum at most 7 or 30 of those rows
per member instead of the raw entries.

Leaderboard order: the higher total first; among equal totals, whoever reached that total first
(the earlier ``reached_at``: the time of the member's latest change), then the lower member id.
For the windows, "the last 7 days" are the 7 UTC days ending with today (UTC), today included
(30 days likewise): totals are the sums of those days' entries and the tie-break is the time of
each member's latest entry in them. Ranks are positions in that order (1, 2, 3...), so they are
unique. Members that replaced a forgotten person (``member.forgotten``) are on no leaderboard
and ahead of no one; their points still count in totals and indicators.

A reaction taken back before its award arrived leaves a *tombstone* (:func:`take_back`): an
entry of 0 points under the award's key, so the late award finds its key spent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from rallybot.storage.database import Database
from rallybot.storage.inserts import dialect_of, insert_for
from rallybot.storage.models import (
    ALL_TIME,
    BadgeAward,
    Member,
    PointDay,
    PointEntry,
    PointTotal,
    Season,
    UTCDateTime,
    table_of,
)
from rallybot.storage.onboarding_models import JourneyState
from rallybot.storage.outbox import affected, insert_deliveries

__all__ = [
    "SOURCES",
    "Limits",
    "Period",
    "PointCounts",
    "Standing",
    "adjust",
    "award",
    "award_badge",
    "badges_of",
    "counts",
    "current_season",
    "get_entry",
    "leaderboard",
    "onboarding_done_key",
    "rank_of",
    "recent_entries",
    "revert",
    "revoke",
    "start_season",
    "take_back",
    "totals_of",
    "window_days",
]

E = table_of(PointEntry).c
T = table_of(PointTotal).c
M = table_of(Member).c
S = table_of(Season).c
B = table_of(BadgeAward).c
PD = table_of(PointDay).c

SOURCES = frozenset(
    {"reaction", "first_post", "quiz", "challenge", "kudos", "onboarding", "help", "admin", "badge"}
)
"""Where points come from."""

Period = Literal["all", "season", "7d", "30d"]
_WINDOWS = {"7d": 7, "30d": 30}
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Standing:
    """A member's place on a leaderboard."""

    member_id: int
    display_name: str | None
    total: int
    rank: int


@dataclass(frozen=True, slots=True)
class Limits:
    """What an award must respect; every limit counts the awards of one day (``day_start``
    to ``day_start`` + 24 h) that were not revoked.

    - ``daily_cap``: most points of this source per member and day;
    - ``cooldown``: no second award of the same action to the member within this time;
    - ``pair_limit``: most awards of this source from the actor to the member per day;
    - ``actor_allowance``: most awards of this source the actor may give per day.
    """

    daily_cap: int | None = None
    cooldown: timedelta | None = None
    pair_limit: int | None = None
    actor_allowance: int | None = None
    day_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class PointCounts:
    """What badge conditions look at: totals and how many (unrevoked) awards per source."""

    total: int
    season_total: int
    by_source: dict[str, int]
    kudos_given: int
    onboarding_tasks: int = 0  # onboarding tasks' awards (the completion bonus left out)
    onboarding_done: bool = False  # an onboarding checklist completed (with points or not)


_ONBOARDING_DONE_PATTERN = "onboarding:%:done:%"


def onboarding_done_key(campaign_id: str, member_id: int) -> str:
    """The idempotency key of the onboarding completion bonus (task ids may not be ``done``,
    so it never meets a task's key ``onboarding:<campaign>:<task>:<member>``)."""
    return f"onboarding:{campaign_id}:done:{member_id}"


Conn = AsyncSession | AsyncConnection


def _live_awards() -> list[sa.ColumnElement[bool]]:
    """Positive entries that were not revoked."""
    reversal = table_of(PointEntry).alias("reversal")
    revoked = sa.exists().where(reversal.c.reverts_id == E.id)
    return [E.amount > 0, E.reverts_id.is_(None), ~revoked]


# The award path runs these on every event: plain SQL, built once (typed parameters keep the
# UTC conversion), so an award costs little more than its statements.
_UTC = UTCDateTime()
_LIVE = (
    "amount > 0 AND reverts_id IS NULL AND NOT EXISTS "
    "(SELECT 1 FROM point_entry r WHERE r.reverts_id = e.id)"
)
_DAY_SQL = "source = :source AND created_at >= :start AND created_at < :end"
_LOCK = sa.text("SELECT id FROM member WHERE id = :member FOR NO KEY UPDATE")
_SEEN = sa.text("SELECT id FROM point_entry WHERE idempotency_key = :key")
_CAP = sa.text(
    f"SELECT COALESCE(SUM(amount), 0) FROM point_entry e "
    f"WHERE member_id = :member AND {_DAY_SQL} AND {_LIVE}"
).bindparams(sa.bindparam("start", type_=_UTC), sa.bindparam("end", type_=_UTC))
_COOLDOWN = sa.text(
    "SELECT COUNT(*) FROM point_entry e WHERE member_id = :member AND action = :action "
    f"AND created_at > :low AND created_at < :high AND {_LIVE}"
).bindparams(sa.bindparam("low", type_=_UTC), sa.bindparam("high", type_=_UTC))
_PAIR = sa.text(
    "SELECT COUNT(*) FROM point_entry e WHERE member_id = :member AND actor_id = :actor "
    f"AND {_DAY_SQL} AND {_LIVE}"
).bindparams(sa.bindparam("start", type_=_UTC), sa.bindparam("end", type_=_UTC))
_ALLOWANCE = sa.text(
    f"SELECT COUNT(*) FROM point_entry e WHERE actor_id = :actor AND {_DAY_SQL} AND {_LIVE}"
).bindparams(sa.bindparam("start", type_=_UTC), sa.bindparam("end", type_=_UTC))
_SEASON = sa.text(
    "SELECT id FROM season WHERE ended_at IS NULL ORDER BY started_at DESC, id LIMIT 1"
)
_INSERT_ENTRY = sa.text(
    "INSERT INTO point_entry (member_id, amount, source, action, reason, season, campaign_id, "
    "idempotency_key, reverts_id, actor_id, created_at) VALUES (:member, :amount, :source, "
    ":action, :reason, :season, :campaign, :key, :reverts, :actor, :at) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
).bindparams(sa.bindparam("at", type_=_UTC))
_ADD_TOTAL = sa.text(
    "INSERT INTO point_total (member_id, season, total, reached_at) "
    "VALUES (:member, :season, :amount, :at) ON CONFLICT (member_id, season) DO UPDATE SET "
    "total = point_total.total + excluded.total, reached_at = excluded.reached_at"
).bindparams(sa.bindparam("at", type_=_UTC))
_ADD_DAY = sa.text(
    "INSERT INTO point_day (member_id, day, points, last_at) "
    "VALUES (:member, :day, :amount, :at) ON CONFLICT (member_id, day) DO UPDATE SET "
    "points = point_day.points + excluded.points, last_at = CASE "
    "WHEN excluded.last_at > point_day.last_at THEN excluded.last_at ELSE point_day.last_at END"
).bindparams(sa.bindparam("at", type_=_UTC), sa.bindparam("day", type_=sa.Date()))


async def _lock(session: Conn, member_ids: Sequence[int]) -> None:
    """Serialise awards touching these members (PostgreSQL; SQLite already holds the lock)."""
    if dialect_of(session) != "postgresql":
        return
    for member_id in sorted(set(member_ids)):
        await session.execute(_LOCK, {"member": member_id})


async def _current_season_id(session: Conn) -> str | None:
    value = await session.scalar(_SEASON)
    return None if value is None else str(value)


async def _season_in(db: Database, session: Conn) -> str | None:
    """The current season, read once per shared transaction (only an administrator's command
    starts a season, never the events a shared transaction handles)."""
    shared = db.shared_transaction()
    if shared is None:
        return await _current_season_id(session)
    if "ledger.season" not in shared.memo:
        shared.memo["ledger.season"] = await _current_season_id(session)
    season: str | None = shared.memo["ledger.season"]
    return season


async def _flush_totals(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Add a shared transaction's deferred awards to the totals and day roll-ups: one row per
    member and season, and per member and day, each written once, in key order (two
    transactions locking the same rows take them in the same order)."""
    totals: dict[tuple[int, str], dict[str, Any]] = {}
    days: dict[tuple[int, date], dict[str, Any]] = {}
    for row in rows:
        member, amount, at = row["member"], row["amount"], row["at"]
        for key in (ALL_TIME, row["season"]) if row["season"] is not None else (ALL_TIME,):
            total = totals.setdefault((member, key), {"member": member, "season": key, "amount": 0})
            total["amount"] += amount
            total["at"] = at  # the last award's time, as when added one by one
        day = at.astimezone(UTC).date()
        kept = days.setdefault((member, day), {"member": member, "day": day, "amount": 0, "at": at})
        kept["amount"] += amount
        kept["at"] = max(kept["at"], at)
    await session.execute(_ADD_TOTAL, [totals[key] for key in sorted(totals)])
    await session.execute(_ADD_DAY, [days[key] for key in sorted(days)])


async def _add_to_totals(
    session: Conn,
    member_id: int,
    season: str | None,
    amount: int,
    at: datetime,
    *,
    db: Database,
) -> None:
    """Add an entry's amount to the member's totals and to its day's roll-up (every write to
    the ledger goes through here, in the entry's transaction; in a shared transaction, at its
    end, with the other events' in one statement)."""
    if amount == 0:  # a tombstone changes no total, and no tie-break time
        return
    shared = db.shared_transaction()
    if shared is not None:  # a group of events' awards: added together at its end
        shared.defer(
            _flush_totals, {"member": member_id, "season": season, "amount": amount, "at": at}
        )
        return
    for key in (ALL_TIME, season) if season is not None else (ALL_TIME,):
        await session.execute(
            _ADD_TOTAL, {"member": member_id, "season": key, "amount": amount, "at": at}
        )
    day = at.astimezone(UTC).date()
    await session.execute(_ADD_DAY, {"member": member_id, "day": day, "amount": amount, "at": at})


async def _within_limits(
    session: Conn,
    *,
    member_id: int,
    amount: int,
    source: str,
    action: str | None,
    actor_id: int | None,
    at: datetime,
    limits: Limits,
) -> bool:
    start = limits.day_start or datetime.combine(at.date(), time(0), tzinfo=at.tzinfo)
    day = {"source": source, "start": start, "end": start + _DAY}
    if limits.daily_cap is not None:
        used = await session.scalar(_CAP, {"member": member_id, **day})
        if int(used or 0) + amount > limits.daily_cap:
            return False
    if limits.cooldown is not None and action is not None:
        recent = await session.scalar(
            _COOLDOWN,
            {
                "member": member_id,
                "action": action,
                "low": at - limits.cooldown,
                "high": at + limits.cooldown,
            },
        )
        if recent:
            return False
    if limits.pair_limit is not None and actor_id is not None:
        given = await session.scalar(_PAIR, {"member": member_id, "actor": actor_id, **day})
        if int(given or 0) >= limits.pair_limit:
            return False
    if limits.actor_allowance is not None and actor_id is not None:
        given = await session.scalar(_ALLOWANCE, {"actor": actor_id, **day})
        if int(given or 0) >= limits.actor_allowance:
            return False
    return True


async def _insert_entry(session: Conn, **values: Any) -> int | None:
    entry_id = await session.scalar(_INSERT_ENTRY, values)
    return None if entry_id is None else int(entry_id)


Then = Callable[[], Awaitable[None]]
"""What an award's caller does once the award has landed (its badge checks)."""

DEFERRED = 0
"""The entry id :func:`_award` gives for an award left to its group's end (ids start at 1)."""

_ENTRY_COLUMNS = {
    "member": "member_id",
    "amount": "amount",
    "source": "source",
    "action": "action",
    "reason": "reason",
    "season": "season",
    "campaign": "campaign_id",
    "key": "idempotency_key",
    "reverts": "reverts_id",
    "actor": "actor_id",
    "at": "created_at",
}


async def _flush_entries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write a group's deferred awards in one statement; a used key is skipped, as one by one.
    The awards that landed add to the totals (deferred again: written with the group's other
    totals) and then run their ``then``, in the order they came."""
    firsts: dict[str, dict[str, Any]] = {}
    for row in rows:  # the first award of a key wins, as it would one by one
        firsts.setdefault(row["key"], row)
    # In key order: two replicas' groups holding the same keys take them in the same order.
    values = [
        {column: firsts[key][name] for name, column in _ENTRY_COLUMNS.items()}
        for key in sorted(firsts)
    ]
    table = table_of(PointEntry)
    statement = (
        insert_for(session, table)
        .values(values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.idempotency_key)
    )
    landed = set((await session.execute(statement)).scalars())
    for key, row in firsts.items():
        if key not in landed:
            continue
        await _add_to_totals(
            session, row["member"], row["season"], row["amount"], row["at"], db=row["db"]
        )
        if row["then"] is not None:
            await row["then"]()


_flush_entries.flush_order = -1  # type: ignore[attr-defined]


async def _award(
    db: Database,
    *,
    member_id: int,
    amount: int,
    source: str,
    reason: str,
    key: str,
    at: datetime,
    season: str | None,
    campaign_id: str | None,
    actor_id: int | None,
    action: str | None,
    limits: Limits,
    announce: Sequence[dict[str, Any]] = (),
    then: Then | None = None,
    may_wait: bool = False,
) -> int | None:
    if source not in SOURCES:
        raise ValueError(f"unknown points source {source!r}")
    async with db.session() as orm:
        session = await orm.connection()
        locked = [member_id]
        if actor_id is not None and (
            limits.actor_allowance is not None or limits.pair_limit is not None
        ):
            locked.append(actor_id)
        # Without a limit to check, nothing needs the members locked (the totals are added
        # to in place) and the INSERT below finds a used key by itself: a burst of reactions
        # pays three statements an award.
        limited = limits != Limits(day_start=limits.day_start)
        if limited:
            await _lock(session, locked)
            if await session.scalar(_SEEN, {"key": key}) is not None:
                return None
        if not await _within_limits(
            session,
            member_id=member_id,
            amount=amount,
            source=source,
            action=action,
            actor_id=actor_id,
            at=at,
            limits=limits,
        ):
            return None
        if season is None:
            season = await _season_in(db, session)
        values: dict[str, Any] = {
            "member": member_id,
            "amount": amount,
            "source": source,
            "action": action,
            "reason": reason[:500],
            "season": season,
            "campaign": campaign_id,
            "key": key,
            "reverts": None,
            "actor": actor_id,
            "at": at,
        }
        shared = db.shared_transaction()
        if may_wait and shared is not None and shared.grouped and not limited and not announce:
            # A group of events' plain awards (a burst of reactions) go in one statement at
            # its end: nothing in the group reads them before (each member has one event in
            # a group), and a used key is skipped there as here.
            shared.defer(_flush_entries, {**values, "db": db, "then": then})
            return DEFERRED
        entry_id = await _insert_entry(session, **values)
        if entry_id is None:
            return None
        await _add_to_totals(session, member_id, season, amount, at, db=db)
        if announce:
            await insert_deliveries(orm, announce)
    if then is not None:
        await then()
    return entry_id


async def award(
    db: Database,
    *,
    member_id: int,
    amount: int,
    source: str,
    reason: str,
    key: str,
    at: datetime,
    season: str | None = None,
    campaign_id: str | None = None,
    actor_id: int | None = None,
    daily_cap: int | None = None,
    action: str | None = None,
    limits: Limits | None = None,
    announce: Sequence[dict[str, Any]] = (),
    then: Then | None = None,
    may_wait: bool = False,
) -> bool:
    """Record ``amount`` points for a member, once per ``key``; False when the key was already
    used or a limit (``daily_cap``, or those of ``limits``) would be exceeded.

    ``season`` defaults to the current season (None when no season was ever started).
    ``announce``: outbox rows written in the award's own transaction (a kudos notice to its
    receiver), so the message goes out exactly when the points were given.
    ``then`` runs once the award has landed, in its transaction (never for a refused one).

    ``may_wait``: in a group's shared transaction (:attr:`SharedTransaction.grouped`), an
    award with no limit and no announcement may be written at the transaction's end with the
    group's others (one statement for a burst): True then says it was accepted, and ``then``
    runs at that end only if its key was free. For callers that need no more than that.
    """
    if daily_cap is not None:
        base = limits or Limits()
        limits = Limits(
            daily_cap=daily_cap,
            cooldown=base.cooldown,
            pair_limit=base.pair_limit,
            actor_allowance=base.actor_allowance,
            day_start=base.day_start,
        )
    entry_id = await _award(
        db,
        member_id=member_id,
        amount=amount,
        source=source,
        reason=reason,
        key=key,
        at=at,
        season=season,
        campaign_id=campaign_id,
        actor_id=actor_id,
        action=action,
        limits=limits or Limits(),
        announce=announce,
        then=then,
        may_wait=may_wait,
    )
    return entry_id is not None


async def adjust(
    db: Database,
    *,
    member_id: int,
    amount: int,
    reason: str,
    actor_id: int | None,
    key: str,
    at: datetime,
) -> int | None:
    """An admin adding (or, negative, removing) points; returns the entry id (None: the key
    was already used). The reason is required and stays in the ledger with the actor."""
    if not reason.strip():
        raise ValueError("a reason is required")
    if amount == 0:
        raise ValueError("the amount cannot be 0")
    return await _award(
        db,
        member_id=member_id,
        amount=amount,
        source="admin",
        reason=reason,
        key=key,
        at=at,
        season=None,
        campaign_id=None,
        actor_id=actor_id,
        action="admin",
        limits=Limits(),
    )


async def _reverse(
    session: Conn,
    entry: PointEntry,
    *,
    at: datetime,
    reason: str,
    actor_id: int | None,
    db: Database,
) -> int | None:
    if entry.reverts_id is not None or entry.id is None or entry.amount == 0:
        return None  # a revocation (or a tombstone) is never reversed itself
    new_id = await _insert_entry(
        session,
        member=entry.member_id,
        amount=-entry.amount,
        source=entry.source,
        action=entry.action,
        reason=reason[:500],
        season=entry.season,
        campaign=entry.campaign_id,
        key=f"revoke:{entry.idempotency_key}"[:200],
        reverts=entry.id,
        actor=actor_id,
        at=at,
    )
    if new_id is None:
        return None
    await _add_to_totals(session, entry.member_id, entry.season, -entry.amount, at, db=db)
    return int(new_id)


async def revoke(db: Database, *, key: str, at: datetime, reason: str) -> bool:
    """Cancel the entry recorded with ``key`` (once): a new negative entry with key
    ``revoke:<key>``. False if there is no such entry or it was already revoked."""
    async with db.session() as session:
        entry = (
            await session.execute(sa.select(PointEntry).where(E.idempotency_key == key))
        ).scalar_one_or_none()
        if entry is None:
            return False
        conn = await session.connection()
        reversed_id = await _reverse(conn, entry, at=at, reason=reason, actor_id=None, db=db)
        return reversed_id is not None


async def revert(
    db: Database, entry_id: int, *, at: datetime, reason: str, actor_id: int | None = None
) -> int | None:
    """Cancel the entry ``entry_id`` (an admin undoing an adjustment or any award); returns
    the new entry's id, None if unknown, already reverted, or itself a revocation."""
    async with db.session() as session:
        entry = await session.get(PointEntry, entry_id)
        if entry is None:
            return None
        return await _reverse(
            await session.connection(), entry, at=at, reason=reason, actor_id=actor_id, db=db
        )


async def take_back(
    db: Database,
    *,
    key: str,
    member_id: int,
    source: str,
    at: datetime,
    reason: str,
    award_reason: str | None = None,
) -> Literal["revoked", "blocked", "kept"]:
    """Cancel the award recorded with ``key`` for ``member_id``, arriving in any order.

    If the award exists (and, when ``award_reason`` is given, has that reason), it is revoked
    once ("revoked"; "kept" when it was already revoked or its reason differs). If it does not
    exist yet, a tombstone is recorded in its place, an entry of 0 points under ``key``, so an
    award arriving later with that key gives nothing ("blocked"). The member is locked (as
    :func:`award` does), so an award and its removal racing each other end with no points.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown points source {source!r}")
    async with db.session() as orm:
        conn = await orm.connection()
        await _lock(conn, [member_id])
        query = sa.select(PointEntry).where(E.idempotency_key == key)
        entry = (await orm.execute(query)).scalar_one_or_none()
        if entry is None:
            tombstone = await _insert_entry(
                conn,
                member=member_id,
                amount=0,
                source=source,
                action=None,
                reason=reason[:500],
                season=None,
                campaign=None,
                key=key,
                reverts=None,
                actor=None,
                at=at,
            )
            if tombstone is not None:
                return "blocked"
            entry = (await orm.execute(query)).scalar_one()
        if award_reason is not None and entry.reason != award_reason:
            return "kept"
        reversed_id = await _reverse(conn, entry, at=at, reason=reason, actor_id=None, db=db)
        return "kept" if reversed_id is None else "revoked"


async def get_entry(db: Database, key: str) -> PointEntry | None:
    """The entry recorded with ``key``."""
    async with db.session() as session:
        result = await session.execute(sa.select(PointEntry).where(E.idempotency_key == key))
        return result.scalar_one_or_none()


async def recent_entries(db: Database, member_id: int, limit: int = 5) -> list[PointEntry]:
    """A member's latest entries, newest first (tombstones, of 0 points, left out)."""
    async with db.session() as session:
        result = await session.execute(
            sa.select(PointEntry)
            .where(E.member_id == member_id, E.amount != 0)
            .order_by(E.created_at.desc(), E.id.desc())
            .limit(limit)
        )
        return list(result.scalars())


async def current_season(db: Database) -> Season | None:
    """The season in progress, if one was started."""
    async with db.session() as session:
        season_id = await _current_season_id(session)
        return None if season_id is None else await session.get(Season, season_id)


async def start_season(db: Database, season_id: str, at: datetime) -> bool:
    """End the current season and start ``season_id`` (totals restart; entries are kept).
    False if that season id was already used."""
    async with db.session() as session:
        if await session.get(Season, season_id) is not None:
            return False
        await session.execute(sa.update(Season).where(S.ended_at.is_(None)).values(ended_at=at))
        session.add(Season(id=season_id, started_at=at))
        return True


async def totals_of(db: Database, member_id: int) -> dict[str, int]:
    """A member's totals by season (``"*"``: all time)."""
    async with db.session() as session:
        rows = await session.execute(sa.select(T.season, T.total).where(T.member_id == member_id))
        return {season: int(total) for season, total in rows.all()}


async def counts(db: Database, member_id: int) -> PointCounts:
    """Totals and unrevoked awards per source, for badge conditions."""
    async with db.session() as session:
        season = await _current_season_id(session)
        rows = await session.execute(sa.select(T.season, T.total).where(T.member_id == member_id))
        totals = {s: int(t) for s, t in rows.all()}
        live = _live_awards()
        by_source = await session.execute(
            sa.select(E.source, sa.func.count())
            .where(E.member_id == member_id, *live)
            .group_by(E.source)
        )
        given = await session.scalar(
            sa.select(sa.func.count()).where(E.actor_id == member_id, E.source == "kudos", *live)
        )
        tasks = await session.scalar(
            sa.select(sa.func.count()).where(
                E.member_id == member_id,
                E.source == "onboarding",
                E.idempotency_key.not_like(_ONBOARDING_DONE_PATTERN),
                *live,
            )
        )
        journey = table_of(JourneyState).c
        completed = await session.scalar(
            sa.select(journey.campaign_id)
            .where(journey.member_id == member_id, journey.completed_at.is_not(None))
            .limit(1)
        )
    return PointCounts(
        total=totals.get(ALL_TIME, 0),
        season_total=totals.get(season, 0) if season is not None else totals.get(ALL_TIME, 0),
        by_source={source: int(n) for source, n in by_source.all()},
        kudos_given=int(given or 0),
        onboarding_tasks=int(tasks or 0),
        onboarding_done=completed is not None,
    )


async def award_badge(
    db: Database,
    member_id: int,
    badge_id: str,
    at: datetime,
    *,
    announce: Sequence[dict[str, Any]] = (),
) -> bool:
    """Record a badge; False if the member already had it (so it is announced once).

    ``announce``: outbox rows (:func:`storage.outbox.insert_deliveries`) written in the same
    transaction as a new badge, so its announcement is neither lost nor doubled.
    """
    async with db.session() as session:
        stmt = (
            insert_for(session, BadgeAward)
            .values(member_id=member_id, badge_id=badge_id, awarded_at=at)
            .on_conflict_do_nothing(index_elements=["member_id", "badge_id"])
        )
        new = bool(affected(await session.execute(stmt)))
        if new and announce:
            await insert_deliveries(session, announce)
        return new


async def badges_of(db: Database, member_id: int) -> list[BadgeAward]:
    """A member's badges, in the order earned."""
    async with db.session() as session:
        result = await session.execute(
            sa.select(BadgeAward).where(B.member_id == member_id).order_by(B.awarded_at, B.badge_id)
        )
        return list(result.scalars())


# ---------------------------------------------------------------------------- leaderboards


def window_days(period: Period, now: datetime) -> tuple[date, date]:
    """The first and last UTC day of a window: "7d" is the 7 UTC days ending with ``now``'s
    UTC day, that day included (so from 00:00 UTC six days before); "30d" likewise."""
    last = now.astimezone(UTC).date()
    return last - timedelta(days=_WINDOWS[period] - 1), last


def _ghosts() -> sa.Select[tuple[int]]:
    """The members that replaced a forgotten person: few, so filtering them out of a ranking
    is a hashed anti-join beside the index scan."""
    return sa.select(M.id).where(M.forgotten == sa.true())


def _window(period: Period, now: datetime, team: str | None) -> sa.Subquery:
    """Each member's total and latest entry time over the window's days (ghosts left out)."""
    first, last = window_days(period, now)
    query = (
        sa.select(
            PD.member_id.label("member_id"),
            sa.func.sum(PD.points).label("total"),
            sa.func.max(PD.last_at).label("reached_at"),
        )
        .where(PD.day >= first, PD.day <= last, PD.member_id.not_in(_ghosts()))
        .group_by(PD.member_id)
    )
    if team is not None:
        query = query.where(PD.member_id.in_(sa.select(M.id).where(M.team == team)))
    return query.subquery("window")


async def _season_key(session: Conn, period: Period, season: str | None) -> str:
    if period == "all":
        return ALL_TIME
    return season or await _current_season_id(session) or ALL_TIME


async def leaderboard(
    db: Database,
    *,
    period: Period,
    now: datetime,
    season: str | None = None,
    team: str | None = None,
    limit: int = 10,
) -> list[Standing]:
    """The top ``limit`` members with points for ``period`` (optionally of one ``team``);
    members that replaced a forgotten person are never listed."""
    async with db.read() as orm:  # no write lock: leaderboards never wait for awards
        session = await orm.connection()
        if period in _WINDOWS:
            window = _window(period, now, team)
            order = (window.c.total.desc(), window.c.reached_at, window.c.member_id)
            top = (
                sa.select(window.c.member_id, window.c.total, window.c.reached_at)
                .where(window.c.total > 0)
                .order_by(*order)
                .limit(limit)
                .subquery("top")
            )
            query = (
                sa.select(top.c.member_id, M.display_name, top.c.total)
                .join_from(top, table_of(Member), M.id == top.c.member_id)
                .order_by(top.c.total.desc(), top.c.reached_at, top.c.member_id)
            )
        else:
            key = await _season_key(session, period, season)
            where = [T.season == key, T.total > 0, M.forgotten == sa.false()]
            if team is not None:
                where.append(M.team == team)
            query = (
                sa.select(T.member_id, M.display_name, T.total)
                .join_from(table_of(PointTotal), table_of(Member), M.id == T.member_id)
                .where(*where)
                .order_by(T.total.desc(), T.reached_at, T.member_id)
                .limit(limit)
            )
        rows = (await session.execute(query)).all()
    return [
        Standing(member_id=int(m), display_name=name, total=int(total), rank=position)
        for position, (m, name, total) in enumerate(rows, start=1)
    ]


async def rank_of(
    db: Database,
    member_id: int,
    *,
    period: Period = "all",
    now: datetime,
    season: str | None = None,
    team: str | None = None,
) -> Standing | None:
    """A member's standing for ``period`` (None if they have no points in it, are not of
    ``team``, or replaced a forgotten person); forgotten people are ahead of no one."""
    async with db.read() as orm:  # no write lock: leaderboards never wait for awards
        session = await orm.connection()
        who = (
            await session.execute(
                sa.select(M.display_name, M.team, M.forgotten).where(M.id == member_id)
            )
        ).one_or_none()
        if who is None or who.forgotten or (team is not None and who.team != team):
            return None
        if period in _WINDOWS:
            first, last = window_days(period, now)
            total, reached_at = (
                await session.execute(
                    sa.select(sa.func.sum(PD.points), sa.func.max(PD.last_at)).where(
                        PD.member_id == member_id, PD.day >= first, PD.day <= last
                    )
                )
            ).one()
            if total is None:
                return None
            window = _window(period, now, team)
            w = window.c
            query = (
                sa.select(sa.func.count())
                .select_from(window)
                .where(
                    sa.or_(
                        w.total > total,
                        sa.and_(w.total == total, w.reached_at < reached_at),
                        sa.and_(
                            w.total == total, w.reached_at == reached_at, w.member_id < member_id
                        ),
                    )
                )
            )
        else:
            key = await _season_key(session, period, season)
            mine = (
                await session.execute(
                    sa.select(T.total, T.reached_at).where(
                        T.member_id == member_id, T.season == key
                    )
                )
            ).one_or_none()
            if mine is None:
                return None
            total, reached_at = mine

            conditions = (
                (T.total > total,),
                (T.total == total, T.reached_at < reached_at),
                (T.total == total, T.reached_at == reached_at, T.member_id < member_id),
            )

            # Three index ranges (higher total; same total reached earlier; same total and
            # time, lower id) counted separately: each is a range scan of ix_point_total_rank.
            def ahead(*condition: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
                counted = (
                    sa.select(sa.func.count())
                    .select_from(table_of(PointTotal))
                    .where(T.season == key, *condition)
                )
                if team is not None:
                    counted = counted.join(table_of(Member), M.id == T.member_id).where(
                        M.team == team, M.forgotten == sa.false()
                    )
                return counted.scalar_subquery()

            higher, earlier, lower_id = (ahead(*c) for c in conditions)
            query = sa.select(higher + earlier + lower_id)
            ghost_ids = [] if team is not None else list(await session.scalars(_ghosts()))
            if ghost_ids:  # the ghosts ahead, looked up by their (few) ids, are taken off
                ghosts = (
                    sa.select(sa.func.count())
                    .select_from(table_of(PointTotal))
                    .where(
                        T.member_id.in_(ghost_ids),
                        T.season == key,
                        sa.or_(*(sa.and_(*c) for c in conditions)),
                    )
                )
                query = sa.select(query.scalar_subquery() - ghosts.scalar_subquery())
        count = await session.scalar(query)
    return Standing(
        member_id=member_id,
        display_name=who.display_name,
        total=int(total),
        rank=int(count or 0) + 1,
    )
