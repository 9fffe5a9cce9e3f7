"""Inbound event ids: the deduplication rows never hold a person's platform id, before or after
they are forgotten, and a platform retry is still dropped."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ButtonClicked, ChannelRef, Event, ReactionAdded, UserRef
from rallybot.handlers.privacy.personal_data import forget_member
from rallybot.storage.database import Database
from rallybot.storage.journal_models import InboundJournal
from rallybot.storage.models import InboundEvent, table_of
from rallybot.storage.repositories import get_member_by_platform_id

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
USER_ID = "U0FORGET42"


def _bot(db: Database) -> Rallybot:
    return Rallybot(
        Settings(database_url=db.url, secret_key="inbound-ids-test-secret"),  # type: ignore[arg-type]
        db,
        MemoryAdapter(),
        SimulatedClock(NOW),
        campaign_paths=[],
    )


def _events() -> list[Event]:
    user = UserRef(platform="slack", id=USER_ID, name="a member")
    channel = ChannelRef(platform="slack", id="C1", name="general")
    return [
        # Slack's own click id ends with the user id: <message ts>:<action ts>:<user id>
        ButtonClicked(
            event_id=f"1700000000.000100:1700000001.000200:{USER_ID}",
            platform="slack",
            user=user,
            occurred_at=NOW,
            channel=channel,
            message_id="1700000000.000100",
            action_id="rsvp",
            value="yes",
        ),
        ReactionAdded(
            event_id=f"reaction:C1:1700000000.000100:{USER_ID}:tada",
            platform="slack",
            user=user,
            occurred_at=NOW,
            channel=channel,
            message_id="1700000000.000100",
            emoji="tada",
        ),
    ]


async def _rows_naming(db: Database, table: sa.Table, text: str) -> list[tuple[object, ...]]:
    """Every row of ``table`` with a column whose text holds ``text``."""
    async with db.read() as session:
        rows = (await session.execute(sa.select(table))).all()
    return [tuple(row) for row in rows if any(text in str(value) for value in row)]


async def test_dedup_rows_hold_no_platform_user_id_before_or_after_forget(db: Database) -> None:
    bot = _bot(db)
    for event in _events():
        await bot.handle(event)
    events = table_of(InboundEvent)
    async with db.read() as session:
        stored = (await session.execute(sa.select(events.c.event_id))).scalars().all()
    assert len(stored) == 2
    assert await _rows_naming(db, events, USER_ID) == []  # a keyed hash, not the click id

    handled: list[str] = []

    async def count(event: Event, ctx: object) -> None:
        handled.append(event.event_id)

    bot.router.add(ButtonClicked, count)
    await bot.handle(_events()[0])  # Slack retries the click: dropped on its hash
    assert handled == []

    member = await get_member_by_platform_id(db, "slack", USER_ID)
    assert member is not None and member.id is not None
    assert await forget_member(db, member.id, NOW) is not None
    assert await _rows_naming(db, events, USER_ID) == []
    assert await _rows_naming(db, table_of(InboundJournal), USER_ID) == []
    async with db.read() as session:
        kept = (await session.execute(sa.select(sa.func.count()).select_from(events))).scalar()
    assert kept == 2  # retries of the forgotten member's events are still dropped
