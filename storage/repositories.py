"""Repositories for members, campaign state, inbound-event deduplication and control flags."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rallybot.storage.database import Database, relax_commit
from rallybot.storage.erased import erased_digests, erasure_key, identity_digests
from rallybot.storage.inserts import insert_for
from rallybot.storage.models import (
    CampaignState,
    CampaignStatus,
    ChannelMember,
    ControlFlag,
    InboundEvent,
    Member,
    RosterImport,
    table_of,
)
from rallybot.storage.outbox import affected

M = table_of(Member).c
S = table_of(CampaignState).c
RI = table_of(RosterImport).c
CM = table_of(ChannelMember).c
IE = table_of(InboundEvent).c
_SQLITE = sqlite_dialect()
_RECEIVED_AT: Callable[[object], object] = IE.received_at.type.dialect_impl(_SQLITE).bind_processor(
    _SQLITE
) or (lambda value: value)
"""How SQLAlchemy stores ``received_at`` on SQLite (the same text, so comparisons hold)."""

__all__ = [
    "UPLOAD",
    "ImportCounts",
    "RosterSource",
    "add_channel_member",
    "claim_event",
    "claim_events",
    "get_flag",
    "get_member",
    "get_member_by_platform_id",
    "get_members",
    "get_or_create_member",
    "get_or_create_state",
    "import_members",
    "last_roster_import",
    "list_members",
    "list_states",
    "load_dm_channels",
    "member_memo",
    "prefetch_members",
    "roster_digest",
    "roster_file_source",
    "roster_imports_mark",
    "set_campaign_status",
    "set_dm_channel",
    "set_flag",
    "upsert_member",
]


def _hour(moment: datetime) -> datetime:
    """``moment`` truncated to the hour: a deduplication row dates its event no finer, so that
    it cannot time a member's clicks (issue 14; the same rule as ``storage.journal.hour_of``)."""
    return moment.replace(minute=0, second=0, microsecond=0)


async def claim_event(db: Database, platform: str, event_id: str, kind: str, now: datetime) -> bool:
    """Record an inbound event id; False if it was already seen (a retry or a duplicate).
    The time kept is ``now``'s hour (see :func:`_hour`)."""
    now = _hour(now)
    async with db.session() as session:
        stmt = (
            insert_for(session, InboundEvent)
            .values(platform=platform, event_id=event_id, kind=kind, received_at=now)
            .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        )
        result = await session.execute(stmt)
        return bool(affected(result))


async def claim_events(
    db: Database, events: Sequence[tuple[str, str, str]], now: datetime
) -> list[bool]:
    """Record many inbound events ``(platform, event_id, kind)`` in one transaction; for each,
    whether it is new. An id seen before, or earlier in ``events``, is not new."""
    if not events:
        return []
    now = _hour(now)
    first: dict[tuple[str, str], int] = {}
    rows = []
    for index, (platform, event_id, kind) in enumerate(events):
        if (platform, event_id) not in first:
            first[(platform, event_id)] = index
            rows.append(
                {"platform": platform, "event_id": event_id, "kind": kind, "received_at": now}
            )
    if db.dialect == "sqlite":
        fresh = await db.write_sqlite(partial(_claim_on_sqlite, rows), urgent=True)
    else:
        async with db.session(urgent=True) as session:
            await relax_commit(session)
            stmt = (
                insert_for(session, InboundEvent)
                .on_conflict_do_nothing(index_elements=["platform", "event_id"])
                .returning(IE.platform, IE.event_id)
            )
            # executemany: one cached statement whatever the batch size (SQLAlchemy sends it
            # as multi-row VALUES pages and gathers what each returned).
            fresh = {(row[0], row[1]) for row in await session.execute(stmt, rows)}
    return [
        first[(platform, event_id)] == index and (platform, event_id) in fresh
        for index, (platform, event_id, _kind) in enumerate(events)
    ]


_CLAIM_PAGE = 500  # rows per INSERT: 4 parameters each, well under SQLite's 32,766


def _claim_on_sqlite(rows: Sequence[dict[str, object]], connection: Any) -> set[tuple[str, str]]:
    """The inbound-event INSERT of :func:`claim_events`, on a plain ``sqlite3`` connection
    (one transaction for the whole batch); the ``(platform, event_id)`` that were new."""
    stamp = _RECEIVED_AT(rows[0]["received_at"]) if rows else None
    fresh: set[tuple[str, str]] = set()
    for offset in range(0, len(rows), _CLAIM_PAGE):
        page = rows[offset : offset + _CLAIM_PAGE]
        values = ", ".join(["(?, ?, ?, ?)"] * len(page))
        params = [v for r in page for v in (r["platform"], r["event_id"], r["kind"], stamp)]
        cursor = connection.execute(
            "INSERT INTO inbound_event (platform, event_id, kind, received_at) VALUES "
            f"{values} ON CONFLICT (platform, event_id) DO NOTHING "
            "RETURNING platform, event_id",
            params,
        )
        fresh.update((str(platform), str(event_id)) for platform, event_id in cursor)
    return fresh


async def upsert_member(
    db: Database,
    platform: str,
    platform_user_id: str,
    now: datetime,
    **fields: object,
) -> Member:
    """Create or update a member; only the given fields change. Returns the stored row.

    Two events about a new member handled at once may both try to create it: the loser of
    that race finds the row on its second try and updates it instead."""
    try:
        member = await _upsert_member_once(db, platform, platform_user_id, now, fields)
    except IntegrityError:
        member = await _upsert_member_once(db, platform, platform_user_id, now, fields)
    memo = _memo.get()
    if memo is not None:
        memo[(platform, platform_user_id)] = member
    return member


async def _upsert_member_once(
    db: Database, platform: str, platform_user_id: str, now: datetime, fields: dict[str, object]
) -> Member:
    async with db.session() as session:
        existing = (
            await session.execute(
                sa.select(Member).where(
                    M.platform == platform, M.platform_user_id == platform_user_id
                )
            )
        ).scalar_one_or_none()
        if existing is None:
            member = Member(
                platform=platform, platform_user_id=platform_user_id, created_at=now, updated_at=now
            )
            for name, value in fields.items():
                setattr(member, name, value)
            session.add(member)
            await session.flush()
            return member
        changed = False
        for name, value in fields.items():
            if getattr(existing, name) != value:
                setattr(existing, name, value)
                changed = True
        if changed:
            existing.updated_at = now
        await session.flush()
        return existing


@dataclass
class ImportCounts:
    """What :func:`import_members` did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    erased: int = 0
    """Rows naming a person erased on request: skipped, neither created nor updated."""


@dataclass(frozen=True, slots=True)
class RosterSource:
    """Where an imported roster's rows came from: ``name``, the file's absolute path (or
    ``upload`` for a roster uploaded in the console), and ``digest``, :func:`roster_digest` of
    its bytes. Kept in ``roster_import`` with the import."""

    name: str
    digest: str


UPLOAD = "upload"
"""The ``RosterSource.name`` of a roster uploaded in the console."""


def roster_digest(raw: bytes) -> str:
    """The digest of a roster file's bytes kept with its import (SHA-256, hex)."""
    return hashlib.sha256(raw).hexdigest()


def roster_file_source(path: Path) -> RosterSource:
    """The :class:`RosterSource` of the roster file at ``path`` (read in chunks; raises
    :class:`OSError` when it cannot be read)."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return RosterSource(str(path.resolve()), digest)


async def last_roster_import(db: Database, platform: str, name: str) -> RosterImport | None:
    """The last import of the roster ``name`` for ``platform``, if it was ever imported."""
    async with db.read() as session:
        return await session.get(RosterImport, (platform, name))


async def roster_imports_mark(db: Database) -> frozenset[tuple[str, str, datetime]]:
    """What tells one state of the imports from the next: each roster's platform, name and
    time of its last import (any process's; compared, never ordered: processes' clocks may
    differ, a simulated one among them)."""
    async with db.read() as session:
        rows = await session.execute(sa.select(RI.platform, RI.source, RI.imported_at))
    return frozenset((row[0], row[1], row[2]) for row in rows)


def _among(session: AsyncSession, ids: list[str]) -> sa.ColumnElement[bool]:
    """``platform_user_id IN ids``; on PostgreSQL as one array, which it hashes (a list of 1,000
    parameters is compared one by one with each row when the table is scanned)."""
    if session.get_bind().dialect.name == "postgresql":
        return M.platform_user_id == sa.any_(sa.literal(ids, ARRAY(sa.String())))
    return M.platform_user_id.in_(ids)


async def import_members(
    db: Database,
    platform: str,
    rows: Sequence[tuple[str, dict[str, object]]],
    now: datetime,
    *,
    chunk: int = 1000,
    progress: Callable[[int], None] | None = None,
    secret_key: object = None,
    source: RosterSource | None = None,
) -> ImportCounts:
    """Create or update many members (``(platform user id, fields)`` pairs) in ONE
    transaction: if anything fails, nothing is imported. ``progress`` gets each chunk's size.
    ``source``, the roster file they were read from, is kept in ``roster_import`` in the same
    transaction.

    A row whose id or e-mail is that of a person erased on request (:mod:`storage.erased`,
    keyed from ``secret_key``, the ``RALLYBOT_SECRET_KEY`` setting) is skipped and counted in
    ``erased``: an erasure holds whatever roster is imported again."""
    counts = ImportCounts()
    rows = await _without_erased(db, platform, rows, secret_key, counts)
    # Every column's default, validated once; each new row overrides what its fields set.
    template = Member(
        platform=platform, platform_user_id="", created_at=now, updated_at=now
    ).model_dump(exclude={"id"})
    async with db.session() as session:
        # Which ids exist, asked before anything is inserted: asking each chunk while the table
        # grows in this transaction makes PostgreSQL (its statistics still those of the table
        # before) scan the whole table per chunk, minutes on a 100,000-row roster.
        known: set[str] = set()
        if session.get_bind().dialect.name == "postgresql":
            # A plan made once for the connection's prepared statement (maybe when the table
            # was empty) would scan the whole table for each chunk.
            await session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
        for start in range(0, len(rows), chunk):
            ids = [user_id for user_id, _ in rows[start : start + chunk]]
            found_ids = await session.execute(
                sa.select(M.platform_user_id).where(M.platform == platform, _among(session, ids))
            )
            known.update(found_ids.scalars())
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            ids = [user_id for user_id, _ in part if user_id in known]
            existing: dict[str, Member] = {}
            if ids:
                found = await session.execute(
                    sa.select(Member).where(M.platform == platform, _among(session, ids))
                )
                existing = {member.platform_user_id: member for member in found.scalars()}
            new: dict[str, dict[str, object]] = {}
            for user_id, fields in part:
                member = existing.get(user_id)
                if member is None:
                    if user_id not in new:
                        counts.created += 1
                    new[user_id] = {**new.get(user_id, {}), **fields}
                    continue
                changed = False
                for name, value in fields.items():
                    if getattr(member, name) != value:
                        setattr(member, name, value)
                        changed = True
                if changed:
                    member.updated_at = now
                    counts.updated += 1
                else:
                    counts.unchanged += 1
            if new:
                # A Core INSERT of plain rows: several times faster than ORM objects.
                values = [
                    {**template, "platform_user_id": user_id, **fields}
                    for user_id, fields in new.items()
                ]
                await session.execute(sa.insert(table_of(Member)), values)
                known.update(new)  # a later chunk repeating one of these updates it
            await session.flush()
            session.expunge_all()  # keep memory flat on a 100,000-row roster
            if progress is not None:
                progress(len(part))
        if source is not None:
            await session.execute(
                insert_for(session, RosterImport)
                .values(
                    platform=platform, source=source.name, digest=source.digest, imported_at=now
                )
                .on_conflict_do_update(
                    index_elements=["platform", "source"],
                    set_={"digest": source.digest, "imported_at": now},
                )
            )
    return counts


async def _without_erased(
    db: Database,
    platform: str,
    rows: Sequence[tuple[str, dict[str, object]]],
    secret_key: object,
    counts: ImportCounts,
) -> Sequence[tuple[str, dict[str, object]]]:
    """``rows`` less those naming a person erased on request (counted in ``counts.erased``)."""
    async with db.read() as session:
        erased = await erased_digests(session)
    if not erased or not rows:
        return rows
    key = await erasure_key(db, secret_key)
    kept: list[tuple[str, dict[str, object]]] = []
    for user_id, fields in rows:
        email = fields.get("email")
        digests = identity_digests(
            key, platform, user_id, email if isinstance(email, str) else None
        )
        if digests & erased:
            counts.erased += 1
        else:
            kept.append((user_id, fields))
    return kept


async def get_member(db: Database, member_id: int) -> Member | None:
    """A member by database id (from the memo, inside :func:`member_memo`)."""
    memo = _memo.get()
    if memo is not None:
        for known in memo.values():
            if known.id == member_id:
                return known
    async with db.read() as session:
        member = await session.get(Member, member_id)
    if memo is not None and member is not None:
        memo[(member.platform, member.platform_user_id)] = member
    return member


async def get_members(db: Database, member_ids: Sequence[int]) -> dict[int, Member]:
    """Several members by database id, in one query (absent ids are left out)."""
    if not member_ids:
        return {}
    async with db.session() as session:
        result = await session.execute(sa.select(Member).where(M.id.in_(set(member_ids))))
        return {member.id: member for member in result.scalars() if member.id is not None}


_memo: ContextVar[dict[tuple[str, str], Member] | None] = ContextVar("member_memo", default=None)


@contextmanager
def member_memo() -> Iterator[None]:
    """Within the block, a member looked up by platform id is read from the database once.

    The bot opens one around the handling of each inbound event, whose features all look up
    the same person; :func:`upsert_member` keeps the memo current. A handler that changes a
    member otherwise (opting out, forgetting) acts last on the event or reads the row itself.
    Nested, it keeps the outer memo (a group of events handled in one transaction shares one,
    filled by :func:`prefetch_members`).
    """
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


async def prefetch_members(db: Database, platform: str, user_ids: Sequence[str]) -> None:
    """Read the members of ``user_ids`` into the current :func:`member_memo` in one query
    (nothing outside one)."""
    memo = _memo.get()
    if memo is None:
        return
    wanted = sorted({u for u in user_ids if (platform, u) not in memo})
    for offset in range(0, len(wanted), 500):
        page = wanted[offset : offset + 500]
        async with db.read() as session:
            result = await session.execute(
                sa.select(Member).where(M.platform == platform, M.platform_user_id.in_(page))
            )
            for member in result.scalars():
                memo[(platform, member.platform_user_id)] = member


async def get_or_create_member(
    db: Database, platform: str, user_id: str, now: datetime, **fields: object
) -> Member:
    """The member behind a platform user; created with ``fields`` on first sight (an existing
    member is returned as it is: its fields are not updated)."""
    member = await get_member_by_platform_id(db, platform, user_id)
    if member is None:
        member = await upsert_member(db, platform, user_id, now, **fields)
    return member


async def get_member_by_platform_id(db: Database, platform: str, user_id: str) -> Member | None:
    """A member by platform user id (from the memo, inside :func:`member_memo`)."""
    memo = _memo.get()
    if memo is not None and (platform, user_id) in memo:
        return memo[(platform, user_id)]
    async with db.read() as session:
        result = await session.execute(
            sa.select(Member).where(M.platform == platform, M.platform_user_id == user_id)
        )
        member = result.scalar_one_or_none()
    if memo is not None and member is not None:
        memo[(platform, user_id)] = member
    return member


async def list_members(
    db: Database,
    *,
    joined_between: tuple[datetime, datetime] | None = None,
    changed_since: datetime | None = None,
) -> list[Member]:
    """Members, optionally only those who joined in a range or changed since a time."""
    async with db.session() as session:
        query = sa.select(Member).order_by(M.id)
        conditions: list[sa.ColumnElement[bool]] = []
        if joined_between is not None:
            low, high = joined_between
            conditions.append(sa.and_(M.joined_at >= low, M.joined_at < high))
        if changed_since is not None:
            conditions.append(M.updated_at >= changed_since)
        if conditions:
            query = query.where(sa.or_(*conditions))
        return list((await session.execute(query)).scalars())


async def channel_memberships(db: Database, member_ids: Sequence[int]) -> dict[int, set[str]]:
    """Channel ids of each member."""
    result: dict[int, set[str]] = {}
    if not member_ids:
        return result
    async with db.session() as session:
        rows = await session.execute(
            sa.select(CM.member_id, CM.channel_id).where(CM.member_id.in_(list(member_ids)))
        )
        for member_id, channel_id in rows.all():
            result.setdefault(member_id, set()).add(channel_id)
    return result


async def add_channel_member(db: Database, platform: str, channel_id: str, member_id: int) -> bool:
    """Record that a member is in a channel; False if already known."""
    async with db.session() as session:
        stmt = (
            insert_for(session, ChannelMember)
            .values(platform=platform, channel_id=channel_id, member_id=member_id)
            .on_conflict_do_nothing()
        )
        return bool(affected(await session.execute(stmt)))


async def get_or_create_state(
    db: Database, campaign_id: str, title: str, source: str, content_hash: str, now: datetime
) -> tuple[CampaignState, bool]:
    """The campaign's state row, created if new; (state, created)."""
    async with db.session() as session:
        stmt = (
            insert_for(session, CampaignState)
            .values(
                id=campaign_id,
                title=title,
                source=source,
                content_hash=content_hash,
                status=CampaignStatus.active.value,
                loaded_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        created = bool(affected(await session.execute(stmt)))
        state = await session.get(CampaignState, campaign_id, populate_existing=True)
        assert state is not None
        if not created and (state.title, state.source, state.content_hash) != (
            title,
            source,
            content_hash,
        ):
            state.title, state.source, state.content_hash = title, source, content_hash
            state.loaded_at = now
        return state, created


async def advance_planned_through(db: Database, campaign_id: str, until: datetime) -> None:
    """Remember that the campaign has been planned up to ``until`` (never moves back)."""
    async with db.session() as session:
        await session.execute(
            sa.update(CampaignState)
            .where(
                S.id == campaign_id,
                sa.or_(
                    S.planned_through.is_(None),
                    S.planned_through < until,
                ),
            )
            .values(planned_through=until)
        )


async def list_states(db: Database) -> list[CampaignState]:
    """Every campaign the database knows."""
    async with db.session() as session:
        return list((await session.execute(sa.select(CampaignState).order_by(S.id))).scalars())


async def set_campaign_status(
    db: Database, campaign_id: str, status: CampaignStatus, now: datetime
) -> bool:
    """Pause or resume a campaign; False if the campaign is unknown."""
    async with db.session() as session:
        state = await session.get(CampaignState, campaign_id)
        if state is None:
            return False
        state.status = status.value
        state.paused_at = now if status is CampaignStatus.paused else None
        state.updated_at = now
        return True


async def set_flag(db: Database, name: str, value: str, now: datetime) -> None:
    """Set a control flag (seen by every replica)."""
    async with db.session() as session:
        flag = await session.get(ControlFlag, name)
        if flag is None:
            session.add(ControlFlag(name=name, value=value, updated_at=now))
        else:
            flag.value, flag.updated_at = value, now


async def get_flag(db: Database, name: str) -> ControlFlag | None:
    """A control flag, if set."""
    async with db.session() as session:
        return await session.get(ControlFlag, name)


async def set_dm_channel(db: Database, platform: str, user_id: str, channel_id: str) -> bool:
    """Remember a member's direct-message channel id (platforms open it once per member);
    False when no member has that platform id."""
    async with db.session() as session:
        result = await session.execute(
            sa.update(table_of(Member))
            .where(M.platform == platform, M.platform_user_id == user_id)
            .values(dm_channel_id=channel_id)
        )
        return affected(result) > 0


async def load_dm_channels(db: Database, platform: str) -> dict[str, str]:
    """Every direct-message channel id known on ``platform``, by platform user id."""
    async with db.session() as session:
        rows = await session.execute(
            sa.select(M.platform_user_id, M.dm_channel_id).where(
                M.platform == platform, M.dm_channel_id.is_not(None)
            )
        )
        return {str(user): str(channel) for user, channel in rows}
