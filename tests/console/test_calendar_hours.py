"""The month calendar's hourly counts (``delivery_hour``, kept by the database's triggers):
after every kind of outbox write they equal the rows counted one by one, and the calendar's
days equal what the list shows for each day; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from rallybot.handlers.console.timeline import NEVER_SENT, DayCount, Filters, TimelineSource
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, DeliveryHour, table_of

D = table_of(Delivery).c
H = table_of(DeliveryHour).c
START = datetime(2027, 2, 27, 17, 5, tzinfo=UTC)
MONTH = date(2027, 3, 1)


def _row(i: int, campaign: str = "a", step: str = "s") -> dict[str, object]:
    due = START + timedelta(minutes=37 * i)
    return {
        "campaign_id": campaign,
        "step_id": step,
        "recipient": f"member:{i}",
        "occurrence": "once",
        "due_at": due,
        "grace_until": due + timedelta(hours=1),
        "status": "pending",
        "payload": {},
        "content_hash": "",
    }


async def _insert(db: Database, rows: list[dict[str, object]]) -> int:
    async with db.session() as session:
        return await outbox.insert_deliveries(session, rows)


async def _hours_kept(db: Database) -> Counter[tuple[datetime, str, str]]:
    async with db.session() as session:
        rows = (await session.execute(sa.select(H.hour, H.campaign_id, H.step_id, H.count))).all()
    return Counter({(h, c, s): n for h, c, s, n in rows if n})


async def _hours_counted(db: Database) -> Counter[tuple[datetime, str, str]]:
    async with db.session() as session:
        rows = (await session.execute(sa.select(D.due_at, D.campaign_id, D.step_id))).all()
    return Counter((due.replace(minute=0, second=0, microsecond=0), c, s) for due, c, s in rows)


async def _check(db: Database, source: TimelineSource) -> None:
    """The kept counts equal the rows; each day of the calendar equals the list of that day:
    without a state filter, the cancelled and skipped messages apart from the others."""
    assert await _hours_kept(db) == await _hours_counted(db)
    for zone in ("UTC", "Europe/Paris"):
        tz = ZoneInfo(zone)
        for filters in (Filters(), Filters(campaign="b"), Filters(status="pending")):
            days = await source.month(filters, START, MONTH, zone)
            shown: dict[date, DayCount] = {}
            day = datetime(2027, 3, 1, tzinfo=tz)
            while day.month == 3:
                following = datetime.combine(day.date() + timedelta(days=1), day.timetz())
                window = Filters(
                    campaign=filters.campaign, status=filters.status, start=day, end=following
                )
                listed = (await source.page(window, START, limit=200)).entries
                if listed:
                    gone = 0 if filters.status else sum(e.status in NEVER_SENT for e in listed)
                    shown[day.date()] = DayCount(len(listed) - gone, gone)
                day = following
            assert days == shown, (zone, filters)
    # The rows counted one by one (a zone or language filter, a half-hour zone) say the same.
    for campaign in (None, "b"):
        end = datetime(2027, 4, 1, tzinfo=UTC)
        bounded = Filters(campaign=campaign, start=START.replace(minute=0), end=end)
        by_rows = await source._row_counts(bounded)
        assert sorted(by_rows) == sorted(await source._going_hour_counts(bounded)), campaign


async def test_hourly_counts_follow_every_outbox_write(db: Database) -> None:
    source = TimelineSource(db, {}, default_timezone="UTC")
    # Inserts: a batch (one statement), a key already there (not counted twice), one by one.
    assert await _insert(db, [_row(i) for i in range(300)]) == 300
    assert await _insert(db, [_row(5), _row(300, "b")]) == 1
    for i in range(301, 340):
        await _insert(db, [_row(i, "b", "t")])
    await _check(db, source)
    assert sum((await source.days(Filters(), START, MONTH, "UTC")).values()) > 0

    # The send path: claims, sends, a failure; then a retry and a wave hold move rows in time.
    now = START + timedelta(days=4)
    claimed = await outbox.claim_due(db, now, "w", timedelta(minutes=5), 40)
    assert len(claimed) == 40
    for row in claimed[:30]:
        assert row.id is not None
        assert await outbox.mark_sent(db, row.id, "w", now, "C1", f"m{row.id}")
    assert claimed[30].id is not None and claimed[31].id is not None
    assert await outbox.mark_failed(db, claimed[30].id, "w", now, "gone")
    later = START + timedelta(days=9, minutes=17)
    assert await outbox.release(db, claimed[31].id, "w", now, later)
    assert await outbox.hold(db, claimed[32], "w", now, later + timedelta(hours=30))
    await _check(db, source)

    # Cancelled, then deleted (a step edited), then a step renamed in place.
    await outbox.cancel_pending(db, "b", ["s"], "stopped", now)
    await _check(db, source)
    await outbox.cancel_pending(db, "b", ["t"], "stopped", now)
    # A day whose every message was cancelled: not sent, nothing to send.
    counts = await source.month(Filters(campaign="b"), START, MONTH, "UTC")
    assert counts and all(c.messages == 0 and c.not_sent for c in counts.values())
    await outbox.delete_stale_pending(db, "a", {"s": "new"})
    async with db.session() as session:
        await session.execute(sa.update(Delivery).where(D.campaign_id == "b").values(step_id="u"))
    await _check(db, source)
    async with db.session() as session:
        await session.execute(sa.delete(Delivery))
    assert await _hours_kept(db) == Counter()
    assert await source.days(Filters(), START, MONTH, "UTC") == {}


async def test_the_calendar_reads_the_kept_counts(db: Database) -> None:
    """Whole-hour months without a status, zone or language filter are answered from
    ``delivery_hour``, not from the rows (a kept count the rows do not have shows)."""
    await _insert(db, [_row(i) for i in range(200)])  # to 2027-03-05
    async with db.session() as session:
        await session.execute(
            sa.update(DeliveryHour)
            .where(H.hour == datetime(2027, 3, 2, 9, tzinfo=UTC))
            .values(count=H.count + 1000)
        )
    source = TimelineSource(db, {}, default_timezone="UTC")
    assert (await source.days(Filters(), START, MONTH, "UTC"))[date(2027, 3, 2)] > 1000
    # A status filter (waiting rows: before the current hour), or a half-hour zone whose month
    # starts at half past, counts the rows.
    after = datetime(2027, 3, 6, tzinfo=UTC)
    assert (await source.days(Filters(status="pending"), after, MONTH, "UTC"))[
        date(2027, 3, 2)
    ] < 1000
    assert (await source.days(Filters(status="sent"), START, MONTH, "UTC")) == {}
    assert max((await source.days(Filters(), START, MONTH, "Asia/Kolkata")).values()) < 1000


async def test_the_waiting_only_calendar_reads_the_kept_counts_from_now_on(db: Database) -> None:
    """Waiting rows are few before now (not sent yet) and nearly all rows after: the
    waiting-only calendar counts the first, and takes the kept hourly counts less the rows
    that no longer wait for the rest; the same days as the rows counted one by one, whatever
    their states."""
    rows = [_row(i, step=f"s{i % 3}") for i in range(300)]  # to 2027-03-06 10:00
    now = START + timedelta(days=3, minutes=20)
    for i, row in enumerate(rows):
        if row["due_at"] < now and i % 7:  # sent, but for a backlog still waiting
            row["status"] = "sent"
        elif row["due_at"] >= now and i % 11 == 0:  # the future: some skipped, cancelled...
            row["status"] = ("skipped", "cancelled", "sent", "failed")[i % 4]
    await _insert(db, rows)
    source = TimelineSource(db, {}, default_timezone="UTC")
    for zone in ("UTC", "Europe/Paris"):
        tz = ZoneInfo(zone)
        for filters in (Filters(status="pending"), Filters(status="pending", campaign="a")):
            expected: Counter[date] = Counter(
                row["due_at"].astimezone(tz).date()  # type: ignore[attr-defined]
                for row in rows
                if row["status"] == "pending" and row["due_at"].astimezone(tz).month == 3  # type: ignore[attr-defined]
            )
            assert await source.days(filters, now, MONTH, zone) == dict(expected), zone
    assert await source.days(Filters(status="pending", campaign="b"), now, MONTH, "UTC") == {}
    # From the current hour on, the kept counts are read (a kept count the rows do not have
    # shows), not every waiting row.
    later = datetime(2027, 3, 5, 9, tzinfo=UTC)
    async with db.session() as session:
        await session.execute(
            sa.update(DeliveryHour)
            .where(H.hour == later, H.step_id == "s0")
            .values(count=H.count + 1000)
        )
    days = await source.days(Filters(status="pending"), now, MONTH, "UTC")
    assert days[date(2027, 3, 5)] > 1000
