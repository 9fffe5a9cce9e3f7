"""The audience of a channel post is kept with its delivery when it is sent: members who join
or leave the channel afterwards change neither the audience nor the reach of that post; posts
sent while the membership stays the same share one audience; forgetting a member keeps the
figures. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.messages import Message
from rallybot.bot.outbox import Dispatcher
from rallybot.handlers.privacy.personal_data import forget_member
from rallybot.handlers.reporting.indicators import PostReach, Scope, reach
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import (
    Audience,
    AudienceMember,
    ChannelMember,
    Delivery,
    Member,
    table_of,
)
from rallybot.storage.report_models import Activity, week_of
from rallybot.storage.repositories import add_channel_member, upsert_member

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
D = table_of(Delivery).c


async def _post(db: Database, step: str, due: datetime) -> None:
    row = {
        "campaign_id": "launch",
        "step_id": step,
        "recipient": "channel:news",
        "occurrence": "once",
        "due_at": due,
        "grace_until": due + timedelta(days=1),
        "status": "pending",
        "payload": {"message": Message(text="Connect opens").to_dict(), "channel": "C1"},
        "content_hash": "x",
        "attempts": 0,
        "created_at": due,
        "updated_at": due,
    }
    async with db.session() as session:
        await outbox.insert_deliveries(session, [row])


async def _send(db: Database, adapter: MemoryAdapter, when: datetime) -> None:
    stats = await Dispatcher(db, adapter, SimulatedClock(when), worker_id="w1").run_once()
    assert stats.sent == 1


async def _react(db: Database, member_id: int, message_id: str, when: datetime) -> None:
    async with db.session() as session:
        await session.execute(
            sa.insert(table_of(Activity)).values(
                member_id=member_id,
                kind="reaction",
                channel_id="C1",
                target_message_id=message_id,
                occurred_at=when,
                week=week_of(when),
            )
        )


async def _figures(db: Database) -> list[tuple[str, int, int, bool]]:
    posts: list[PostReach] = await reach(db, Scope())
    return [(p.step_id, p.reached, p.audience, p.audience_from_channel) for p in posts]


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(
            (
                await session.execute(sa.select(sa.func.count()).select_from(table_of(model)))
            ).scalar_one()
        )


async def test_the_audience_is_the_channel_when_the_post_was_sent(db: Database) -> None:
    ids: dict[str, int] = {}
    for uid in ("U1", "U2", "U3", "U4", "U5"):
        member = await upsert_member(db, "memory", uid, NOW)
        assert member.id is not None
        ids[uid] = member.id
    for uid in ("U1", "U2", "U3"):
        await add_channel_member(db, "memory", "C1", ids[uid])
    adapter = MemoryAdapter()

    await _post(db, "teaser", NOW)
    await _send(db, adapter, NOW)
    await _post(db, "reminder", NOW + timedelta(hours=1))
    await _send(db, adapter, NOW + timedelta(hours=1))
    # Nobody joined or left between the two posts: they share one audience.
    assert await _count(db, Audience) == 1 and await _count(db, AudienceMember) == 3

    # After the posts: U3 leaves, U4 and U5 join; U1 and U4 react to the teaser.
    async with db.session() as session:
        await session.execute(
            sa.delete(table_of(ChannelMember)).where(
                table_of(ChannelMember).c.member_id == ids["U3"]
            )
        )
    await add_channel_member(db, "memory", "C1", ids["U4"])
    await add_channel_member(db, "memory", "C1", ids["U5"])
    async with db.session() as session:
        teaser_message = (
            await session.execute(sa.select(D.platform_message_id).where(D.step_id == "teaser"))
        ).scalar_one()
    assert teaser_message is not None
    await _react(db, ids["U1"], teaser_message, NOW + timedelta(hours=2))
    await _react(db, ids["U4"], teaser_message, NOW + timedelta(hours=2))
    # The teaser's audience is U1, U2, U3 (the channel when sent) and U4 who reacted: 2 of 4.
    # Counted from today's channel it would be U1, U2, U4, U5: U3 lost, U5 who never saw it.
    assert await _figures(db) == [("teaser", 2, 4, True), ("reminder", 0, 3, True)]

    # A post after the change: a new audience, of today's members.
    await _post(db, "launch", NOW + timedelta(hours=3))
    await _send(db, adapter, NOW + timedelta(hours=3))
    assert await _count(db, Audience) == 2
    assert (await _figures(db))[-1] == ("launch", 0, 4, True)

    # Forgetting a member of the audiences leaves every figure as it was, and no audience row
    # names them any more.
    before = await _figures(db)
    assert await forget_member(db, ids["U1"], NOW + timedelta(days=1)) is not None
    assert await _figures(db) == before
    async with db.session() as session:
        left = (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(table_of(AudienceMember))
                .where(table_of(AudienceMember).c.member_id == ids["U1"])
            )
        ).scalar_one()
        assert left == 0
        assert await session.get(Member, ids["U1"]) is None


async def test_a_channel_whose_members_are_unknown_has_no_audience(db: Database) -> None:
    for uid in ("U1", "U2"):
        await upsert_member(db, "memory", uid, NOW)
    await _post(db, "teaser", NOW)
    await _send(db, MemoryAdapter(), NOW)
    assert await _count(db, Audience) == 0
    # Every member in scope, as before the channel's members were known.
    assert await _figures(db) == [("teaser", 0, 2, False)]


async def test_a_direct_message_has_no_audience(db: Database) -> None:
    member = await upsert_member(db, "memory", "U1", NOW)
    await add_channel_member(db, "memory", "C1", member.id or 0)
    row = {
        "campaign_id": "launch",
        "step_id": "hello",
        "recipient": f"member:{member.id}",
        "occurrence": "once",
        "due_at": NOW,
        "grace_until": NOW + timedelta(days=1),
        "status": "pending",
        "payload": {"message": Message(text="Hello").to_dict(), "member_id": member.id},
        "content_hash": "x",
        "attempts": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    async with db.session() as session:
        await outbox.insert_deliveries(session, [row])
    await _send(db, MemoryAdapter(), NOW)
    assert await _count(db, Audience) == 0
