"""Channel membership from the platform (bot.channels): joins and leaves the bot did not see
are applied by the sync, on the memory adapter and against the fake Slack (conversations.members
paged 1,000 at a time); a channel the platform cannot list is left as it is. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from rallybot.bot.adapters.base import AdapterError
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.channels import sync_channel_members
from rallybot.handlers.reporting.indicators import Scope, reach
from rallybot.storage.database import Database
from rallybot.storage.models import ChannelMember, table_of
from rallybot.storage.repositories import add_channel_member, upsert_member
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import slack_adapter

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


async def members_of(db: Database, channel: str) -> set[int]:
    table = table_of(ChannelMember)
    async with db.session() as session:
        rows = await session.execute(
            sa.select(table.c.member_id).where(table.c.channel_id == channel)
        )
        return {int(m) for m in rows.scalars()}


async def test_the_sync_applies_joins_and_leaves(db: Database) -> None:
    ids = {}
    for uid in ("U1", "U2", "U3", "U4"):
        member = await upsert_member(db, "memory", uid, NOW)
        assert member.id is not None
        ids[uid] = member.id
    await add_channel_member(db, "memory", "C1", ids["U4"])  # left since, unseen
    adapter = MemoryAdapter()
    adapter.set_channel_members("C1", ["U1", "U2", "U3", "U-NEW"])  # joined before the bot ran
    result = await sync_channel_members(db, adapter, "memory", ["C1"])
    assert (result.channels, result.added, result.removed, result.unknown) == (1, 3, 1, 1)
    assert await members_of(db, "C1") == {ids["U1"], ids["U2"], ids["U3"]}
    again = await sync_channel_members(db, adapter, "memory", ["C1"])
    assert (again.added, again.removed) == (0, 0)


async def test_a_channel_that_cannot_be_read_is_left_alone(db: Database) -> None:
    member = await upsert_member(db, "memory", "U1", NOW)
    assert member.id is not None
    await add_channel_member(db, "memory", "C1", member.id)

    class Failing(MemoryAdapter):
        async def channel_members(self, channel_id: str) -> list[str]:
            raise AdapterError("not_in_channel")

    result = await sync_channel_members(db, Failing(), "memory", ["C1"])
    assert (result.channels, result.failed) == (0, 1)
    assert await members_of(db, "C1") == {member.id}


async def test_the_fake_slack_pages_the_members(db: Database) -> None:
    async with FakeSlack(scale=200) as fake:
        people = [f"U{i:05d}" for i in range(2500)]
        for uid in people:
            fake.add_user(uid, uid)
        fake.add_channel("C1", "general", members=people)
        for uid in people[:2400]:
            await upsert_member(db, "slack", uid, NOW)
        async with slack_adapter(fake, db) as adapter:
            result = await sync_channel_members(db, adapter, "slack", ["C1"])
        calls = fake.calls_to("conversations.members")
    assert len(calls) == 3  # 1,000 a page
    assert (result.added, result.unknown) == (2400, 100 + 1)  # and the bot user itself
    assert len(await members_of(db, "C1")) == 2400
    # Reach then knows the whole channel: nobody reacted yet, the audience is 2,400.
    assert await reach(db, Scope()) == []
