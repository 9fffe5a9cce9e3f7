"""Member repository helpers under concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import sqlalchemy as sa

from rallybot.storage.database import Database
from rallybot.storage.models import Member
from rallybot.storage.repositories import get_members, get_or_create_member, upsert_member

NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)


async def test_concurrent_upserts_of_a_new_member_make_one_row(db: Database) -> None:
    await asyncio.gather(
        *(upsert_member(db, "slack", "U1", NOW, display_name=f"Ana {i}") for i in range(8))
    )
    async with db.session() as session:
        rows = (await session.execute(sa.select(Member))).scalars().all()
    assert len(rows) == 1
    assert rows[0].display_name is not None and rows[0].display_name.startswith("Ana ")


async def test_get_members_loads_several_in_one_call(db: Database) -> None:
    a = await upsert_member(db, "slack", "U1", NOW)
    b = await upsert_member(db, "slack", "U2", NOW)
    assert a.id is not None and b.id is not None
    found = await get_members(db, [a.id, b.id, a.id, 9999])
    assert sorted(found) == sorted([a.id, b.id])
    assert found[b.id].platform_user_id == "U2"
    assert await get_members(db, []) == {}


async def test_get_or_create_member_creates_once_and_never_updates(db: Database) -> None:
    made = await get_or_create_member(db, "slack", "U1", NOW, display_name="Ana", is_bot=True)
    again = await get_or_create_member(db, "slack", "U1", NOW, display_name="Other")
    assert made.id is not None and again.id == made.id
    assert (again.display_name, again.is_bot) == ("Ana", True)
    async with db.session() as session:
        rows = (await session.execute(sa.select(Member))).scalars().all()
    assert [row.display_name for row in rows] == ["Ana"]
