"""The console's timeline source: outbox rows and planned sends in one time-ordered list,
keyset pages that lose and repeat nothing, filters, the calendar's day counts and one entry's
message and recipients; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from rallybot.bot.assembly import Rallybot
from rallybot.bot.messages import plain
from rallybot.campaigns.planner import MemberView
from rallybot.handlers.console.timeline import (
    BadCursor,
    Entry,
    Filters,
    TimelineSource,
    decode_cursor,
    encode_cursor,
)
from rallybot.handlers.steering.service import find_step, recipients, send_now
from rallybot.storage.database import Database
from rallybot.storage.models import CampaignStatus, Delivery
from rallybot.storage.repositories import set_campaign_status, upsert_member
from tests.console.world import LAUNCH, launch_world


def _source(bot: Rallybot) -> TimelineSource:
    return TimelineSource(bot.db, bot.campaigns, default_timezone="Europe/Paris")


async def _all(source: TimelineSource, filters: Filters, now: datetime, limit: int) -> list[Entry]:
    entries: list[Entry] = []
    cursor = None
    for _ in range(50):
        page = await source.page(filters, now, cursor=cursor, limit=limit)
        entries.extend(page.entries)
        if page.next_cursor is None:
            return entries
        cursor = page.next_cursor
    raise AssertionError("the pages never end")


async def _all_backward(
    source: TimelineSource, filters: Filters, now: datetime, limit: int
) -> list[Entry]:
    """Every entry, read from the end: a page from a day after the last one (empty, with a
    link to the ones before), then each page before, as the console's "Earlier messages"."""
    after_all = datetime(2100, 1, 1, tzinfo=UTC)
    page = await source.page(filters, now, start_at=after_all, limit=limit)
    assert page.entries == [] and page.next_cursor is None
    entries: list[Entry] = []
    for _ in range(50):
        if page.previous_cursor is None:
            return entries
        page = await source.page(filters, now, before=page.previous_cursor, limit=limit)
        # a link to the later ones but on the last page
        assert page.entries and (page.next_cursor is None) == (entries == [])
        entries[:0] = page.entries
    raise AssertionError("the pages never end")


async def test_past_and_planned_sends_in_one_list_and_pages_lose_nothing(
    db: Database, tmp_path: Path
) -> None:
    bot, clock = await launch_world(db, tmp_path)
    source = _source(bot)
    everything = await _all(source, Filters(), clock.now(), limit=100)
    summary = [(e.step, e.source, e.status, e.count, e.locale, e.zone) for e in everything]
    assert summary == [
        ("teaser", "outbox", "sent", 1, "en", "Europe/Paris"),
        ("ceo", "outbox", "sent", 1, "en", "Europe/Paris"),
        ("invite", "plan", "planned", 1, "fr", "Europe/Paris"),
        ("invite", "plan", "planned", 1, "en", "America/New_York"),
        # The recap has only an English text: M1 (French) reads it with M3, in English.
        ("recap", "plan", "planned", 2, "en", "Europe/Paris"),
        ("recap", "plan", "planned", 1, "en", "America/New_York"),
    ]
    assert [e.due_utc for e in everything] == sorted(e.due_utc for e in everything)
    assert everything[0].target == "#annonces"
    assert everything[2].local.hour == 10  # each member's 10:00
    assert everything[3].local.hour == 10 and everything[3].local.tzinfo is not None
    # One or two per page: the same entries, once each, in the same order.
    for size in (1, 2, 4):
        paged = await _all(source, Filters(), clock.now(), limit=size)
        assert [e.id for e in paged] == [e.id for e in everything]
        # Read backwards, page by page: the same entries again.
        backward = await _all_backward(source, Filters(), clock.now(), limit=size)
        assert [e.id for e in backward] == [e.id for e in everything]
    # The first page has nothing before it; a page from a moment on links to the ones before.
    assert (await source.page(Filters(), clock.now(), limit=2)).previous_cursor is None
    middle = everything[2].due_utc
    from_middle = await source.page(Filters(), clock.now(), start_at=middle, limit=10)
    assert [e.id for e in from_middle.entries] == [e.id for e in everything[2:]]
    assert from_middle.previous_cursor is not None
    before = await source.page(Filters(), clock.now(), before=from_middle.previous_cursor)
    assert [e.id for e in before.entries] == [e.id for e in everything[:2]]
    assert before.previous_cursor is None


async def test_filters_by_campaign_audience_zone_language_and_status(
    db: Database, tmp_path: Path
) -> None:
    bot, clock = await launch_world(db, tmp_path)
    source = _source(bot)
    now = clock.now()

    async def steps(**kwargs: object) -> list[tuple[str, int]]:
        return [(e.step, e.count) for e in await _all(source, Filters(**kwargs), now, 10)]  # type: ignore[arg-type]

    assert await steps(audience="pilote") == [("invite", 1), ("invite", 1)]
    # The language of the text sent: the recap's only text is English, whoever reads it.
    assert await steps(locale="fr") == [("invite", 1)]
    assert await steps(zone="America/New_York") == [("invite", 1), ("recap", 1)]
    assert await steps(status="sent") == [("teaser", 1), ("ceo", 1)]
    assert await steps(status="planned") == [
        ("invite", 1),
        ("invite", 1),
        ("recap", 2),
        ("recap", 1),
    ]
    assert await steps(campaign="nope") == []
    assert await steps(start=LAUNCH, end=LAUNCH + timedelta(days=2)) == [
        ("ceo", 1),
        ("invite", 1),
        ("invite", 1),
    ]
    # A paused campaign plans nothing: its future is not shown as going out.
    await set_campaign_status(db, "launch", CampaignStatus.paused, now)
    assert await steps() == [("teaser", 1), ("ceo", 1)]


async def test_outbox_filters_reach_members_rows(db: Database, tmp_path: Path) -> None:
    bot, clock = await launch_world(db, tmp_path)
    for day in (1, 3):  # invite and recap are sent at 10:00 in Paris, then in New York
        for utc_hour in (9, 15):
            clock.set(datetime(2027, 3, 2 + day, utc_hour, 1, tzinfo=UTC))
            await bot.plan_tick()
            await bot.dispatch_tick(drain=True)
    source = _source(bot)
    now = clock.now()
    sent = await _all(source, Filters(status="sent"), now, 3)
    assert sorted((e.step, e.target) for e in sent if e.kind == "dm") == [
        ("invite", "M1"),
        ("invite", "M2"),
        ("recap", "M1"),
        ("recap", "M2"),
        ("recap", "M3"),
    ]
    fr = await _all(source, Filters(locale="fr"), now, 3)
    # M1 got the recap in English, its only text: a sent message is in the language it was
    # written in, not its reader's.
    assert [(e.step, e.target) for e in fr] == [("invite", "M1")]
    assert {(e.step, e.locale) for e in sent if e.target == "M1"} == {
        ("invite", "fr"),
        ("recap", "en"),
    }
    # A member without a language reads the campaign's (en), as do channel posts.
    en = await _all(source, Filters(locale="en"), now, 3)
    assert {e.target for e in en} == {"#annonces", "M1", "M2", "M3"}
    ny = await _all(source, Filters(zone="America/New_York"), now, 3)
    assert [e.target for e in ny] == ["M2", "M2"]
    pilote = await _all(source, Filters(audience="pilote"), now, 3)
    assert sorted(e.target for e in pilote) == ["M1", "M2"]


async def test_a_language_pages_through_rows_that_say_it_and_rows_that_do_not(
    db: Database, tmp_path: Path
) -> None:
    """The language filter reads two index ranges (rows that keep their language, rows whose
    message did not say, read by their reader's) and merges them: pages of any size give the
    same rows, once each, in time order."""
    bot, clock = await launch_world(db, tmp_path)
    for day in (1, 3):
        for utc_hour in (9, 15):
            clock.set(datetime(2027, 3, 2 + day, utc_hour, 1, tzinfo=UTC))
            await bot.plan_tick()
            await bot.dispatch_tick(drain=True)
    async with db.session() as session:  # the invites' messages did not say their language
        table = sa.inspect(Delivery).local_table
        await session.execute(sa.update(table).where(table.c.step_id == "invite").values(locale=""))
    source = _source(bot)
    now = clock.now()
    whole = await _all(source, Filters(locale="en", status="sent"), now, 100)
    # M2 has no language (the campaign's, en) and M1 is French: M2's invite comes from the
    # second range; the recaps and the channel posts say English themselves.
    assert ("invite", "M2") in {(e.step, e.target) for e in whole}
    assert ("invite", "M1") not in {(e.step, e.target) for e in whole}
    assert {e.step for e in whole} >= {"invite", "recap"}
    assert [e.due_utc for e in whole] == sorted(e.due_utc for e in whole)
    for size in (1, 2, 3):
        paged = await _all(source, Filters(locale="en", status="sent"), now, size)
        assert [e.id for e in paged] == [e.id for e in whole]
        backward = await _all_backward(source, Filters(locale="en", status="sent"), now, size)
        assert [e.id for e in backward] == [e.id for e in whole]


async def test_a_row_is_in_the_language_of_the_text_the_member_gets(
    db: Database, tmp_path: Path
) -> None:
    # A German reader of a pilot invite written in English and French gets the English (the
    # campaign's language): planned and sent, the row says English, and the language filter
    # finds it there, not under German.
    bot, clock = await launch_world(db, tmp_path)
    await upsert_member(
        db,
        "memory",
        "m4",
        clock.now(),
        first_name="M4",
        display_name="M4",
        cohort="pilote",
        locale="de",
        timezone="Europe/Paris",
    )
    source = _source(bot)
    now = clock.now()
    assert await _all(source, Filters(locale="de"), now, 10) == []
    english = [e for e in await _all(source, Filters(locale="en"), now, 10) if e.step == "invite"]
    assert [(e.zone, e.count) for e in english] == [
        ("Europe/Paris", 1),
        ("America/New_York", 1),
    ]
    detail = await source.detail(english[0].id, now)
    assert detail is not None and detail.message is not None
    assert [r.name for r in detail.recipients] == ["M4"]
    assert plain(detail.message.text) == "Hello M4, welcome to the pilot"
    clock.set(datetime(2027, 3, 3, 9, 1, tzinfo=UTC))  # 10:01 in Paris
    await bot.plan_tick()
    await bot.dispatch_tick(drain=True)
    now = clock.now()
    sent = [e for e in await _all(source, Filters(status="sent"), now, 10) if e.target == "M4"]
    assert [(e.step, e.locale) for e in sent] == [("invite", "en")]
    assert await _all(source, Filters(locale="de"), now, 10) == []
    english = await _all(source, Filters(locale="en", status="sent"), now, 10)
    assert "M4" in {e.target for e in english}


async def test_detail_shows_the_message_and_recipients_at_their_local_time(
    db: Database, tmp_path: Path
) -> None:
    bot, clock = await launch_world(db, tmp_path)
    source = _source(bot)
    everything = await _all(source, Filters(), clock.now(), limit=100)
    posted = await source.detail(everything[1].id, clock.now())
    assert posted is not None and posted.message is not None
    assert posted.message.text == "Connect is open."
    assert [(r.name, r.status) for r in posted.recipients] == [("#annonces", "sent")]
    planned = await source.detail(everything[4].id, clock.now())  # recap, Paris, en
    assert planned is not None and planned.message is not None
    assert plain(planned.message.text) == "Three days already, M1!"
    assert [r.name for r in planned.recipients] == ["M1", "M3"]
    assert {r.local.hour for r in planned.recipients} == {10}
    assert await source.detail("d999999", clock.now()) is None
    assert await source.detail("pnot-base64!", clock.now()) is None
    assert await source.detail("x1", clock.now()) is None


async def test_a_send_now_takes_the_replaced_send_out_of_the_plan(
    db: Database, tmp_path: Path
) -> None:
    bot, clock = await launch_world(db, tmp_path)
    source = _source(bot)
    found = find_step(bot.campaigns, "launch/invite")
    assert not isinstance(found, str)
    campaign, step = found
    chosen = await recipients(db, campaign, step, "@m1")
    assert not isinstance(chosen, str)
    assert (await source.days(Filters(status="planned"), clock.now(), date(2027, 3, 1), "UTC"))[
        date(2027, 3, 3)
    ] == 2
    assert (await send_now(bot, campaign, step, chosen, "form-1", "console:cm")).queued == 1
    await bot.dispatch_tick(drain=True)
    now = clock.now()
    invites = [
        (e.source, e.status, e.target, e.count)
        for e in await _all(source, Filters(), now, 100)
        if e.step == "invite"
    ]
    # M1's planned invite is written cancelled (the planner never sends it): no longer
    # planned, in the list, the calendar or the preview; M2's still is.
    assert invites == [
        ("outbox", "sent", "M1", 1),
        ("outbox", "cancelled", "M1", 1),
        ("plan", "planned", "pilote", 1),  # M2 alone
    ]
    planned = await _all(source, Filters(status="planned"), now, 100)
    assert [(e.step, e.count) for e in planned] == [
        ("invite", 1),
        ("recap", 2),
        ("recap", 1),
    ]
    left = await source.detail(planned[0].id, now)
    assert left is not None and [r.name for r in left.recipients] == ["M2"]
    days = await source.days(Filters(status="planned"), now, date(2027, 3, 1), "UTC")
    assert days[date(2027, 3, 3)] == 1
    # The planner agrees: M1 gets the invite once, M2 at the planned time.
    for hour in (9, 15):
        clock.set(datetime(2027, 3, 3, hour, 1, tzinfo=UTC))
        await bot.plan_tick()
        await bot.dispatch_tick(drain=True)
    sent = await _all(source, Filters(status="sent", campaign="launch"), clock.now(), 100)
    assert sorted(e.target for e in sent if e.step == "invite") == ["M1", "M2"]


async def test_calendar_counts_messages_per_local_day(db: Database, tmp_path: Path) -> None:
    bot, clock = await launch_world(db, tmp_path)
    days = await _source(bot).days(Filters(), clock.now(), date(2027, 3, 1), "Europe/Paris")
    assert days == {
        date(2027, 3, 1): 1,
        date(2027, 3, 2): 1,
        date(2027, 3, 3): 2,
        date(2027, 3, 5): 3,
    }
    # New York's day starts six hours later: a 00:30 UTC send would be the day before there.
    assert (
        sum(
            (
                await _source(bot).days(Filters(), clock.now(), date(2027, 4, 1), "Europe/Paris")
            ).values()
        )
        == 0
    )


def test_a_cursor_that_is_not_one_is_refused() -> None:
    for bad in ("", "abc", "W10", "WyIyMDI3LTAzLTAxIiwgMCwgIjEiXQ"):
        with pytest.raises(BadCursor):
            decode_cursor(bad)
    when = datetime(2027, 3, 1, tzinfo=UTC)
    for tiebreak in ("x1", "", "99999999999", "١٢"):  # an outbox tie-break is an id
        with pytest.raises(BadCursor):
            decode_cursor(encode_cursor(when, "outbox", tiebreak))
    assert decode_cursor(encode_cursor(when, "outbox", "000000000042")) == (when, 0, "000000000042")
    assert decode_cursor(encode_cursor(when, "plan", "a/b/once/UTC/en"))[1] == 1


async def test_the_plan_is_kept_while_the_clock_moves_within_the_hour(
    db: Database, tmp_path: Path
) -> None:
    bot, clock = await launch_world(db, tmp_path)
    source = _source(bot)
    loads = 0
    load = source._member_views

    async def counted() -> list[MemberView]:
        nonlocal loads
        loads += 1
        return await load()

    source._member_views = counted  # type: ignore[method-assign]
    now = clock.now().replace(minute=5)
    first = await _all(source, Filters(), now, 100)
    for minutes in (1, 20, 50):  # a page every few minutes: planned once
        assert await _all(source, Filters(), now + timedelta(minutes=minutes), 100) == first
    assert loads == 1
    await _all(source, Filters(), now + timedelta(hours=1), 100)  # the next hour plans again
    assert loads == 2
    # Nothing to plan (every campaign paused): the members are not even read.
    await set_campaign_status(db, "launch", CampaignStatus.paused, now)
    await _all(source, Filters(), now + timedelta(minutes=2), 100)
    assert loads == 2


async def test_calendar_days_match_the_rows_one_by_one(db: Database) -> None:
    """The calendar's days against the rows counted one by one: each row on the local day of
    its UTC hour's start, a half-hour zone's month edges included, with and without filters."""
    start = datetime(2027, 2, 27, 17, 5, tzinfo=UTC)
    times = [start + timedelta(minutes=37 * i) for i in range(700)]  # past 2027-03-15
    async with db.session() as session:
        for i, due in enumerate(times):
            session.add(
                Delivery(
                    campaign_id="a" if i % 3 else "b",
                    step_id="s",
                    recipient=f"member:{i}",
                    occurrence="once",
                    due_at=due,
                    grace_until=due + timedelta(hours=1),
                    status="sent" if i % 4 else "pending",
                    payload={},
                    content_hash="",
                )
            )
    source = TimelineSource(db, {}, default_timezone="UTC")
    for zone in ("Asia/Kolkata", "Europe/Paris", "UTC"):
        tz = ZoneInfo(zone)
        for filters in (Filters(), Filters(status="pending"), Filters(campaign="b")):
            days = await source.days(filters, start, date(2027, 3, 1), zone)
            first = datetime(2027, 3, 1, tzinfo=tz)
            following = datetime(2027, 4, 1, tzinfo=tz)
            expected: dict[date, int] = {}
            for i, due in enumerate(times):
                if not first <= due < following:
                    continue
                if filters.status and (i % 4 == 0) != (filters.status == "pending"):
                    continue
                if filters.campaign and ("a" if i % 3 else "b") != filters.campaign:
                    continue
                # placed by its UTC hour's start, as the grouped count placed it
                day = due.replace(minute=0).astimezone(tz).date()
                expected[day] = expected.get(day, 0) + 1
            assert days == expected, (zone, filters)


async def test_an_anonymous_surveys_plumbing_rows_are_not_in_the_timeline(
    db: Database, tmp_path: Path
) -> None:
    """The next question and the thanks of an anonymous survey (outbox rows to a keyed hash,
    emptied once sent) are in neither the list, the calendar nor an entry's page."""
    from rallybot.bot import notices
    from rallybot.bot.messages import Message
    from rallybot.storage.repositories import get_member_by_platform_id

    bot, clock = await launch_world(db, tmp_path)
    source = _source(bot)
    now = clock.now()
    month = date(now.year, now.month, 1)
    before = await _all(source, Filters(), now, limit=100)
    # Each way the calendar counts: the hourly table, the waiting rows, the rows themselves.
    ways = [Filters(), Filters(status="pending"), Filters(status="cancelled")]
    days_before = [await source.days(f, now, month, "Europe/Paris") for f in ways]
    member = await get_member_by_platform_id(db, "memory", "m1")
    assert member is not None and member.id is not None
    rows = [
        notices.anonymous_row(".survey", f"{key:040x}", member.id, Message(text="Q2?"), now)
        for key in range(3)
    ]
    async with db.session() as session:
        await notices.queue(session, rows)
    async with db.read() as session:
        ids = (
            (await session.execute(sa.select(Delivery.id).where(Delivery.step_id == "anonymous")))
            .scalars()
            .all()
        )
    assert len(ids) == 3  # the rows are there
    async with db.session() as session:  # one of them cancelled, for the rows' own count
        await session.execute(
            sa.update(Delivery).where(Delivery.id == ids[0]).values(status="cancelled")
        )
    assert await _all(source, Filters(), now, limit=100) == before
    assert [await source.days(f, now, month, "Europe/Paris") for f in ways] == days_before
    for delivery_id in ids:
        assert await source.detail(f"d{delivery_id}", now) is None
