"""The outbox: insert planned deliveries once, claim due ones, record what happened.

Claims are short transactions: PostgreSQL locks the chosen rows with
``FOR UPDATE SKIP LOCKED`` so replicas never claim the same row; SQLite serialises writers
with ``BEGIN IMMEDIATE`` (set up in :mod:`storage.database`). Sends happen outside any
transaction; every record update is guarded by the claimer's id, so a replica whose lease
expired cannot overwrite another's result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rallybot.storage.anonymity import clear_sqlite_log
from rallybot.storage.database import Database
from rallybot.storage.inserts import insert_for
from rallybot.storage.models import (
    Audience,
    AudienceMember,
    CampaignState,
    CampaignStatus,
    ChannelMember,
    Delivery,
    DeliveryStatus,
    table_of,
)

D = table_of(Delivery).c
S = table_of(CampaignState).c
_AU = table_of(Audience)
_AM = table_of(AudienceMember)
_CM = table_of(ChannelMember)

__all__ = [
    "ANONYMOUS",
    "PERSON",
    "SendNow",
    "affected",
    "begin_attempts",
    "cancel_pending",
    "claim_due",
    "counts_by_step",
    "delete_stale_pending",
    "have_step",
    "hold",
    "holder",
    "insert_deliveries",
    "keep_audience",
    "mark_failed",
    "mark_sent",
    "mark_sent_unclaimed",
    "mark_skipped",
    "next_due",
    "reap_expired",
    "release",
    "release_all",
    "renew_leases",
    "scrub_finished",
    "scrub_left",
    "send_now_rows",
    "sent_as",
    "skip_overdue",
    "take_back_own",
    "wake_held",
]

_T = table_of(Delivery)
_BATCH = 500
PERSON = "request:"
"""The recipient prefix of a message to a person with no member row any more (the "forget me"
confirmation): its payload holds their platform id until it is finished, then is emptied."""
ANONYMOUS = "anonymous:"
"""The recipient prefix of a message that follows an answer to an anonymous survey (its next
question, its thanks): a keyed hash, never the member; its times are the day only, and once
finished it keeps neither its words, its member nor any finer time (:func:`scrub_finished`)."""
_FINISHED = (
    DeliveryStatus.sent.value,
    DeliveryStatus.skipped.value,
    DeliveryStatus.failed.value,
    DeliveryStatus.cancelled.value,
)


def affected(result: sa.Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE changed (0 when the driver cannot tell)."""
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def payload_locale(payload: Any) -> str:
    """The language a payload's message says it is written in (``message.metadata.locale``),
    "" when it does not say."""
    message = payload.get("message") if isinstance(payload, dict) else None
    metadata = message.get("metadata") if isinstance(message, dict) else None
    locale = metadata.get("locale") if isinstance(metadata, dict) else None
    return locale if isinstance(locale, str) and 0 < len(locale) <= 35 else ""


async def insert_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, ignoring any whose key already exists; returns how many were new. Each
    row's ``locale`` is read from its payload when not given (see :func:`payload_locale`)."""
    if not rows:
        return 0
    rows = [
        row if "locale" in row else {**row, "locale": payload_locale(row.get("payload"))}
        for row in rows
    ]
    added = 0
    for offset in range(0, len(rows), _BATCH):
        chunk = rows[offset : offset + _BATCH]
        stmt = (
            insert_for(session, _T)
            .values(list(chunk))
            .on_conflict_do_nothing(
                index_elements=["campaign_id", "step_id", "recipient", "occurrence"]
            )
        )
        result = await session.execute(stmt)
        added += affected(result)
    return added


@dataclass(frozen=True)
class SendNow:
    """What :func:`send_now_rows` did."""

    queued: int
    """New messages written (0: this send was made already)."""
    replaced: int
    """How many planned messages they took the place of, now cancelled, not sent: those still
    waiting in the outbox and those the planner would have written later."""
    already: list[str]
    """Recipients left alone: they have the step already, or it is being sent to them."""
    later: int = 0
    """Of the new messages, how many are due after ``now`` (waiting for the end of their
    recipient's quiet hours): read from the rows written, so never more than truly wait."""


_HAVE = (DeliveryStatus.sent.value, DeliveryStatus.claimed.value)


async def send_now_rows(
    session: AsyncSession,
    rows: Sequence[dict[str, Any]],
    reason: str,
    now: datetime,
    *,
    repeats: bool = False,
    planned: Sequence[dict[str, Any]] = (),
) -> SendNow:
    """Write the rows of a step sent now (one step, one new occurrence) so that nobody gets it
    twice, in ``session``'s transaction: a recipient who has the step already (sent, or claimed
    by a dispatcher) is left out; a planned message still waiting for a recipient is cancelled
    (with ``reason``) and the new row takes its place. ``repeats``: the step recurs, so only its
    next waiting occurrence is replaced, and a past one sent does not count while one waits.

    The cancel is guarded by the status: a dispatcher that claimed the waiting row first keeps
    it (its recipient is then left out), and one that comes after finds it cancelled.
    ``planned``: the step's rows the planner would write later for these recipients (a step
    sent once): written already cancelled for those who get this one, so that the planner
    cannot write them as waiting any more (the outbox keeps one row per key)."""
    if not rows:
        return SendNow(0, 0, [])
    campaign_id, step_id = rows[0]["campaign_id"], rows[0]["step_id"]
    occurrence = rows[0]["occurrence"]
    by_recipient = {row["recipient"]: row for row in rows}
    existing = await _rows_of(session, campaign_id, step_id, list(by_recipient))
    if any(o == occurrence for _, _, o, _ in existing):
        return SendNow(0, 0, [])  # this very send was written already: nothing twice
    waiting, have = _sort_rows(existing, repeats)
    cancel = [row_id for ids in waiting.values() for row_id in ids]
    cancelled: set[str] = set()
    for offset in range(0, len(cancel), _BATCH):
        result = await session.execute(
            sa.update(_T)
            .where(
                D.id.in_(cancel[offset : offset + _BATCH]),
                D.status == DeliveryStatus.pending.value,
            )
            .values(status=DeliveryStatus.cancelled.value, reason=reason[:500], updated_at=now)
            .returning(D.recipient)
        )
        cancelled.update(result.scalars())
    # A waiting row a dispatcher claimed meanwhile is going out: its recipient has it.
    have |= set(waiting) - cancelled
    fresh = [row for name, row in by_recipient.items() if name not in have]
    queued = await insert_deliveries(session, fresh)
    later = sum(row["due_at"] > now for row in fresh) if queued else 0
    if queued:
        getting = {row["recipient"] for row in fresh}
        ahead = [
            {**row, "status": DeliveryStatus.cancelled.value, "reason": reason[:500]}
            for row in planned
            if row["recipient"] in getting and row["occurrence"] != occurrence
        ]
        # Counted with the waiting ones cancelled: the pages count both as replaced, and the
        # send now must say the same figure.
        written = await insert_deliveries(session, ahead)
    else:
        written = 0
    return SendNow(queued, len(cancelled) + written, sorted(have), later)


async def _rows_of(
    session: AsyncSession, campaign_id: str, step_id: str, recipients: Sequence[str]
) -> list[tuple[int, str, str, str]]:
    """(id, recipient, occurrence, status) of a step's rows to ``recipients``, oldest due
    first."""
    found: list[tuple[int, str, str, str]] = []
    for offset in range(0, len(recipients), _BATCH):
        result = await session.execute(
            sa.select(D.id, D.recipient, D.occurrence, D.status)
            .where(
                D.campaign_id == campaign_id,
                D.step_id == step_id,
                D.recipient.in_(list(recipients[offset : offset + _BATCH])),
            )
            .order_by(D.due_at, D.id)
        )
        found.extend((int(i), str(r), str(o), str(st)) for i, r, o, st in result.all())
    return found


def _sort_rows(
    existing: Iterable[tuple[int, str, str, str]], repeats: bool
) -> tuple[dict[str, list[int]], set[str]]:
    """(the waiting rows a send now replaces, by recipient; the recipients who have it)."""
    waiting: dict[str, list[int]] = {}
    have: set[str] = set()
    for row_id, recipient, _, status in existing:
        if status == DeliveryStatus.pending.value:
            if not repeats or recipient not in waiting:  # a recurring step: its next one only
                waiting.setdefault(recipient, []).append(row_id)
        elif status in _HAVE:
            have.add(recipient)
    if repeats:
        have -= set(waiting)  # a past occurrence sent: the next one is still theirs to get
    else:
        waiting = {r: ids for r, ids in waiting.items() if r not in have}
    return waiting, have


async def have_step(
    db: Database, campaign_id: str, step_id: str, recipients: Sequence[str], *, repeats: bool
) -> set[str]:
    """The ``recipients`` a send now of the step would leave out, as :func:`send_now_rows`
    decides: they have it already, or it is being sent to them."""
    async with db.read() as session:
        existing = await _rows_of(session, campaign_id, step_id, recipients)
    return _sort_rows(existing, repeats)[1]


def _paused_ids() -> sa.Select[tuple[str]]:
    # A campaign whose file is missing for a moment is held like a paused one (bot/reloads.py).
    held = (CampaignStatus.paused.value, CampaignStatus.absent.value)
    return sa.select(S.id).where(S.status.in_(held))


async def claim_due(
    db: Database,
    now: datetime,
    worker_id: str,
    lease: timedelta,
    limit: int,
    *,
    keys: Sequence[tuple[str, str, str, str]] | None = None,
    due_by: datetime | None = None,
) -> list[Delivery]:
    """Claim up to ``limit`` pending deliveries due by ``now`` (or by ``due_by``, a moment
    just ahead) for ``worker_id``; with ``keys`` (campaign, step, recipient, occurrence),
    only among those rows."""
    if keys is not None and not keys:
        return []
    async with db.session() as session:
        query = (
            sa.select(D.id)
            .where(
                D.status == DeliveryStatus.pending.value,
                D.due_at <= max(now, due_by or now),
                D.campaign_id.not_in(_paused_ids()),
            )
            .order_by(D.due_at, D.id)
            .limit(limit)
        )
        if keys is not None:
            columns = sa.tuple_(D.campaign_id, D.step_id, D.recipient, D.occurrence)
            query = query.where(columns.in_([tuple(key) for key in set(keys)]))
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list((await session.execute(query)).scalars())
        if not ids:
            return []
        # Guarded by the status too: a row a "send now" cancelled (or anything else finished)
        # between the select and this update is not claimed, whatever the isolation level.
        claimed = await session.execute(
            sa.update(table_of(Delivery))
            .where(D.id.in_(ids), D.status == DeliveryStatus.pending.value)
            .values(
                status=DeliveryStatus.claimed.value,
                claimed_by=worker_id,
                lease_until=now + lease,
                attempts=D.attempts + 1,
                updated_at=now,
            )
            .returning(D.id)
        )
        ids = [int(i) for i in claimed.scalars()]
        if not ids:
            return []
        rows = (
            await session.execute(sa.select(Delivery).where(D.id.in_(ids)).order_by(D.due_at, D.id))
        ).scalars()
        return list(rows)


async def _finish(
    db: Database,
    delivery_id: int,
    worker_id: str,
    now: datetime,
    audience_of: str | None = None,
    **values: Any,
) -> bool:
    async with db.session() as session:
        result = await session.execute(
            sa.update(table_of(Delivery))  # Core, not ORM: no session synchronisation to pay
            .where(
                D.id == delivery_id,
                D.claimed_by == worker_id,
                D.status == DeliveryStatus.claimed.value,
            )
            .values(lease_until=None, updated_at=now, **values)
        )
        done = bool(affected(result))
        if done and audience_of is not None:
            await keep_audience(
                session, delivery_id, audience_of, values["platform_channel_id"], now
            )
        return done


async def keep_audience(
    session: AsyncSession, delivery_id: int, platform: str, channel_id: str, now: datetime
) -> int | None:
    """Store who could see a channel post as it is sent: the channel's members now
    (``channel_member``), as an :class:`~storage.models.Audience` the delivery points to. The
    channel's latest audience is reused while its membership is the same (posts share it);
    a channel whose members the bot does not know gets none. The audience id, or None."""
    members = sa.select(_CM.c.member_id).where(
        _CM.c.platform == platform, _CM.c.channel_id == channel_id
    )
    size = int(
        (
            await session.execute(sa.select(sa.func.count()).select_from(members.subquery()))
        ).scalar_one()
    )
    if not size:
        return None
    latest = (
        await session.execute(
            sa.select(_AU.c.id, _AU.c.size)
            .where(_AU.c.platform == platform, _AU.c.channel_id == channel_id)
            .order_by(_AU.c.id.desc())
            .limit(1)
        )
    ).first()
    audience_id: int | None = None
    if latest is not None and int(latest[1]) == size:
        # Same size: the same members unless one of today's is not in it (primary key probes).
        changed = sa.exists().where(
            _CM.c.platform == platform,
            _CM.c.channel_id == channel_id,
            ~sa.exists().where(_AM.c.audience_id == latest[0], _AM.c.member_id == _CM.c.member_id),
        )
        if not (await session.execute(sa.select(changed))).scalar_one():
            audience_id = int(latest[0])
    if audience_id is None:
        audience_id = int(
            (
                await session.execute(
                    sa.insert(_AU)
                    .values(platform=platform, channel_id=channel_id, size=size, created_at=now)
                    .returning(_AU.c.id)
                )
            ).scalar_one()
        )
        await session.execute(
            sa.insert(_AM).from_select(
                ["audience_id", "member_id"],
                sa.select(sa.literal(audience_id), _CM.c.member_id).where(
                    _CM.c.platform == platform, _CM.c.channel_id == channel_id
                ),
            )
        )
    await session.execute(sa.update(_T).where(D.id == delivery_id).values(audience_id=audience_id))
    return audience_id


async def mark_sent(
    db: Database,
    delivery_id: int,
    worker_id: str,
    now: datetime,
    channel_id: str,
    message_id: str,
    *,
    audience_of: str | None = None,
) -> bool:
    """Record a delivery as sent; False if this worker no longer held the claim. With
    ``audience_of`` (the platform of a channel post), also store who could see it
    (:func:`keep_audience`), in the same transaction."""
    return await _finish(
        db,
        delivery_id,
        worker_id,
        now,
        audience_of,
        status=DeliveryStatus.sent.value,
        sent_at=now,
        platform_channel_id=channel_id,
        platform_message_id=message_id,
        reason=None,
    )


async def scrub_finished(db: Database, delivery_id: int, *, to_day: bool = False) -> bool:
    """Empty the payload of a finished delivery (sent, skipped, failed or cancelled), and the
    channel of a direct message (it names the person): it keeps only that a message went,
    and where a channel post is (a reply in its thread finds it). False while it is still to
    be sent.

    ``to_day`` (an anonymous survey's rows, written with times of the day only): every time
    the sending wrote goes back to that day too, with the claim and the platform's message id
    (a Slack message id is a time to the microsecond), so that the row cannot date the answer
    it followed; on SQLite the write-ahead log is truncated after it too."""
    values: dict[str, Any] = {
        "payload": {"scrubbed": True},
        "platform_channel_id": sa.case(
            (D.recipient.like("channel:%"), D.platform_channel_id), else_=None
        ),
    }
    if to_day:
        values.update(_DAY_ONLY)
    async with db.session() as session:
        result = await session.execute(
            sa.update(_T).where(D.id == delivery_id, D.status.in_(_FINISHED)).values(**values)
        )
        done = affected(result) == 1
    if done and to_day:
        # The row's earlier versions (its claim and send, to the second) stay in SQLite's
        # write-ahead log until overwritten: a copy of the files would keep them.
        await clear_sqlite_log(db)
    return done


_DAY_ONLY: dict[str, Any] = {
    "due_at": D.created_at,
    "updated_at": D.created_at,
    "sent_at": sa.case((D.sent_at.is_(None), None), else_=D.created_at),
    "attempted_at": sa.case((D.attempted_at.is_(None), None), else_=D.created_at),
    "lease_until": None,
    "claimed_by": None,
    "platform_message_id": None,
}
"""What :func:`scrub_finished` writes with ``to_day``: ``created_at`` is the day already."""


async def scrub_left(db: Database, prefix: str = ANONYMOUS) -> int:
    """Scrub (to the day) the finished rows to recipients starting with ``prefix`` that were
    not scrubbed yet: a process that died between a send and its scrub, a row skipped when
    its grace ran out. How many."""
    async with db.session() as session:
        ids = (
            (
                await session.execute(
                    sa.select(D.id).where(
                        D.recipient.like(f"{prefix}%"),
                        D.status.in_(_FINISHED),
                        D.payload["scrubbed"].as_boolean().is_(None),
                    )
                )
            )
            .scalars()
            .all()
        )
    done = 0
    for delivery_id in ids:
        done += await scrub_finished(db, int(delivery_id), to_day=True)
    return done


async def mark_skipped(
    db: Database, delivery_id: int, worker_id: str, now: datetime, reason: str
) -> bool:
    """Record a claimed delivery as skipped, with the reason."""
    return await _finish(
        db, delivery_id, worker_id, now, status=DeliveryStatus.skipped.value, reason=reason[:500]
    )


async def mark_failed(
    db: Database, delivery_id: int, worker_id: str, now: datetime, reason: str
) -> bool:
    """Record a claimed delivery as failed for good."""
    return await _finish(
        db, delivery_id, worker_id, now, status=DeliveryStatus.failed.value, reason=reason[:500]
    )


async def release(
    db: Database,
    delivery_id: int,
    worker_id: str,
    now: datetime,
    retry_at: datetime,
    reason: str | None = None,
) -> bool:
    """Hand a claimed delivery back to the queue, due again at ``retry_at``."""
    return await _finish(
        db,
        delivery_id,
        worker_id,
        now,
        status=DeliveryStatus.pending.value,
        claimed_by=None,
        due_at=retry_at,
        reason=reason,
    )


async def release_all(db: Database, worker_id: str, now: datetime) -> int:
    """Hand back every delivery ``worker_id`` claimed but did not start (shutdown)."""
    async with db.session() as session:
        result = await session.execute(
            sa.update(Delivery)
            .where(
                D.claimed_by == worker_id,
                D.status == DeliveryStatus.claimed.value,
            )
            .values(
                status=DeliveryStatus.pending.value,
                claimed_by=None,
                lease_until=None,
                attempts=D.attempts - 1,
                updated_at=now,
            )
        )
        return affected(result)


async def reap_expired(db: Database, now: datetime) -> int:
    """Return to the queue every claim whose lease ran out (its claimer died)."""
    async with db.session() as session:
        result = await session.execute(
            sa.update(Delivery)
            .where(
                D.status == DeliveryStatus.claimed.value,
                D.lease_until < now,
            )
            .values(
                status=DeliveryStatus.pending.value,
                claimed_by=None,
                lease_until=None,
                reason="claim expired: the process that held it stopped",
                updated_at=now,
            )
        )
        return affected(result)


async def begin_attempts(
    db: Database, ids: Sequence[int], worker_id: str, now: datetime
) -> set[int]:
    """Record that the sends of ``ids`` begin now (``attempted_at``), for the rows this worker
    still holds; returns those ids. Written just before sending: after a crash only these rows
    may have reached the platform, so only they need the "was it sent?" check."""
    if not ids:
        return set()
    async with db.session() as session:
        result = await session.execute(
            sa.update(_T)
            .where(
                D.id.in_(list(ids)),
                D.claimed_by == worker_id,
                D.status == DeliveryStatus.claimed.value,
            )
            .values(attempted_at=now)
            .returning(D.id)
        )
        return {int(i) for i in result.scalars()}


async def renew_leases(
    db: Database, ids: Sequence[int], worker_id: str, now: datetime, lease: timedelta
) -> int:
    """The heartbeat: extend the leases of the claims this live worker is working on, so
    that slow sends (recovery checks, rate limits) never let them expire under it."""
    if not ids:
        return 0
    async with db.session() as session:
        result = await session.execute(
            sa.update(_T)
            .where(
                D.id.in_(list(ids)),
                D.claimed_by == worker_id,
                D.status == DeliveryStatus.claimed.value,
            )
            .values(lease_until=now + lease)
        )
        return affected(result)


async def take_back_own(db: Database, worker_id: str, now: datetime) -> int:
    """At start: put back in the queue, at once, every claim left by this worker id's
    previous run (it was killed). Only safe while no other live process uses the id (see
    :mod:`storage.worker_lock`). Rows whose send began keep ``attempted_at``, so they are
    checked with the platform before going again."""
    async with db.session() as session:
        result = await session.execute(
            sa.update(_T)
            .where(D.claimed_by == worker_id, D.status == DeliveryStatus.claimed.value)
            .values(
                status=DeliveryStatus.pending.value,
                claimed_by=None,
                lease_until=None,
                reason="taken back at restart: the previous run of this worker stopped",
                updated_at=now,
            )
        )
        return affected(result)


async def holder(db: Database, delivery_id: int) -> tuple[str, str | None] | None:
    """(status, claimed_by) of a delivery now; None if it was deleted."""
    async with db.read() as session:
        row = (
            await session.execute(sa.select(D.status, D.claimed_by).where(D.id == delivery_id))
        ).first()
    return None if row is None else (str(row[0]), row[1])


async def sent_as(
    db: Database, delivery: int | Sequence[str]
) -> tuple[str, str | None, str | None] | None:
    """(status, platform channel id, platform message id) of a delivery, by id or by key
    (campaign, step, recipient, occurrence): the ids once it is sent; None if there is none."""
    if isinstance(delivery, int):
        where = D.id == delivery
    else:
        campaign_id, step_id, recipient, occurrence = delivery
        where = sa.and_(
            D.campaign_id == campaign_id,
            D.step_id == step_id,
            D.recipient == recipient,
            D.occurrence == occurrence,
        )
    async with db.read() as session:
        row = (
            await session.execute(
                sa.select(D.status, D.platform_channel_id, D.platform_message_id).where(where)
            )
        ).first()
    return None if row is None else (str(row[0]), row[1], row[2])


async def mark_sent_unclaimed(
    db: Database,
    delivery_id: int,
    now: datetime,
    channel_id: str,
    message_id: str,
    *,
    audience_of: str | None = None,
) -> bool:
    """Record a send whose claim lapsed while nobody else took the row (it is pending again):
    recording it now keeps it from going twice. ``audience_of``: as for :func:`mark_sent`."""
    async with db.session() as session:
        result = await session.execute(
            sa.update(_T)
            .where(D.id == delivery_id, D.status == DeliveryStatus.pending.value)
            .values(
                status=DeliveryStatus.sent.value,
                sent_at=now,
                platform_channel_id=channel_id,
                platform_message_id=message_id,
                claimed_by=None,
                lease_until=None,
                reason=None,
                updated_at=now,
            )
        )
        done = bool(affected(result))
        if done and audience_of is not None:
            await keep_audience(session, delivery_id, audience_of, channel_id, now)
        return done


async def skip_overdue(
    db: Database,
    now: datetime,
    reason: str,
    *,
    by_step: dict[tuple[str, str], int] | None = None,
    slack: timedelta = timedelta(0),
) -> int:
    """Mark pending deliveries whose grace window has passed (by more than ``slack``) as
    skipped; with ``by_step``, also count them there by (campaign, step), for the metrics."""
    statement = (
        sa.update(Delivery)
        .where(
            D.status == DeliveryStatus.pending.value,
            D.grace_until < now - slack,
            D.attempts == 0,
            D.campaign_id.not_in(_paused_ids()),
        )
        .values(status=DeliveryStatus.skipped.value, reason=reason, updated_at=now)
    )
    async with db.session() as session:
        if by_step is None:
            skipped = affected(await session.execute(statement))
        else:
            result = await session.execute(statement.returning(D.campaign_id, D.step_id))
            skipped = _count_steps(result, by_step)
        if skipped:  # a message to a forgotten person that never went keeps no trace of them
            await session.execute(
                sa.update(Delivery)
                .where(
                    D.recipient.like(f"{PERSON}%"),
                    D.status == DeliveryStatus.skipped.value,
                    D.updated_at == now,
                )
                .values(payload={"scrubbed": True}, platform_channel_id=None)
            )
        return skipped


def _count_steps(result: Iterable[Any], by_step: dict[tuple[str, str], int]) -> int:
    total = 0
    for row in result:
        key = (str(row[0]), str(row[1]))
        by_step[key] = by_step.get(key, 0) + 1
        total += 1
    return total


async def cancel_pending(
    db: Database,
    campaign_id: str,
    keep_steps: Sequence[str] | None,
    reason: str,
    now: datetime,
    *,
    by_step: dict[tuple[str, str], int] | None = None,
) -> int:
    """Cancel pending deliveries of a campaign, except those of ``keep_steps``; with
    ``by_step``, also count them there by (campaign, step), for the metrics."""
    async with db.session() as session:
        conditions = [
            D.campaign_id == campaign_id,
            D.status == DeliveryStatus.pending.value,
        ]
        if keep_steps is not None:
            conditions.append(D.step_id.not_in(list(keep_steps)))
        statement = (
            sa.update(Delivery)
            .where(*conditions)
            .values(status=DeliveryStatus.cancelled.value, reason=reason, updated_at=now)
        )
        if by_step is None:
            return affected(await session.execute(statement))
        return _count_steps(
            await session.execute(statement.returning(D.campaign_id, D.step_id)), by_step
        )


async def delete_stale_pending(db: Database, campaign_id: str, step_hashes: dict[str, str]) -> int:
    """Delete pending deliveries whose step was edited, so the planner writes them anew."""
    removed = 0
    async with db.session() as session:
        for step_id, content_hash in step_hashes.items():
            result = await session.execute(
                sa.delete(Delivery).where(
                    D.campaign_id == campaign_id,
                    D.step_id == step_id,
                    D.status == DeliveryStatus.pending.value,
                    D.content_hash != content_hash,
                )
            )
            removed += affected(result)
    return removed


async def next_due(db: Database, *, after: datetime | None = None) -> datetime | None:
    """The due time of the earliest pending delivery of an active campaign (due after
    ``after``, when given)."""
    query = sa.select(sa.func.min(D.due_at)).where(
        D.status == DeliveryStatus.pending.value,
        D.campaign_id.not_in(_paused_ids()),
    )
    if after is not None:
        query = query.where(D.due_at > after)
    async with db.session() as session:
        value = (await session.execute(query)).scalar()
    if value is None:
        return None
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def counts_by_step(
    db: Database, campaign_id: str | None = None
) -> list[tuple[str, str, str, int]]:
    """(campaign, step, status, count) for every step, for summaries and health checks."""
    async with db.session() as session:
        query = sa.select(D.campaign_id, D.step_id, D.status, sa.func.count()).group_by(
            D.campaign_id, D.step_id, D.status
        )
        if campaign_id is not None:
            query = query.where(D.campaign_id == campaign_id)
        return [(c, s, st, int(n)) for c, s, st, n in (await session.execute(query)).all()]


WAVE_HOLD = "held: the member's wave is not open yet"
"""The reason on a delivery put back in the queue until its member's wave opens."""


async def hold(db: Database, row: Delivery, worker_id: str, now: datetime, until: datetime) -> bool:
    """Put a claimed delivery back, due at ``until`` (its member's wave opens then), as if it
    had never been claimed: it keeps its grace after ``until`` and needs no recovery check."""
    assert row.id is not None
    return await _finish(
        db,
        row.id,
        worker_id,
        now,
        status=DeliveryStatus.pending.value,
        claimed_by=None,
        due_at=until,
        grace_until=until + max(row.grace_until - row.due_at, timedelta(0)),
        attempts=D.attempts - 1,
        reason=WAVE_HOLD,
    )


async def wake_held(
    db: Database, member_ids: Sequence[int] | None, now: datetime, grace: timedelta
) -> int:
    """Make deliveries held for a wave due now, sendable for ``grace`` (the wave was opened by
    hand); ``member_ids`` None: every held delivery."""
    async with db.session() as session:
        conditions = [
            D.status == DeliveryStatus.pending.value,
            D.reason == WAVE_HOLD,
            D.due_at > now,
        ]
        if member_ids is not None:
            conditions.append(D.recipient.in_([f"member:{m}" for m in member_ids]))
        result = await session.execute(
            sa.update(Delivery)
            .where(*conditions)
            .values(due_at=now, grace_until=now + grace, updated_at=now)
        )
        return affected(result)
