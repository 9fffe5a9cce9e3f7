"""storage.database: URLs, sessions, constraints and SQLite settings, on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import exc, func, select, text
from sqlmodel import col

from rallybot.storage.database import (
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    create_database,
    normalize_url,
)
from rallybot.storage.models import ChannelMember, Delivery, InboundEvent, Member

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def _delivery(**overrides: object) -> Delivery:
    values: dict[str, object] = {
        "campaign_id": "launch",
        "step_id": "teaser",
        "recipient": "channel:general",
        "occurrence": "once",
        "due_at": NOW,
        "grace_until": NOW + timedelta(hours=1),
    }
    values.update(overrides)
    return Delivery.model_validate(values)


async def _count(db: Database, model: type[object]) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


# --- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///rallybot.db", "sqlite+aiosqlite:///rallybot.db"),
        ("sqlite:////var/lib/rallybot/bot.db", "sqlite+aiosqlite:////var/lib/rallybot/bot.db"),
        ("postgresql://bot:pw@db:5432/rallybot", "postgresql+asyncpg://bot:pw@db:5432/rallybot"),
        ("postgres://bot@db/rallybot", "postgresql+asyncpg://bot@db/rallybot"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+asyncpg://bot@db/rallybot", "postgresql+asyncpg://bot@db/rallybot"),
        ("  sqlite:///x.db\n", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url", ["mysql://bot@db/rallybot", "postgresql+psycopg://bot@db/x", "sqlite://", "x.db", ""]
)
def test_normalize_url_rejects_other_schemes(url: str) -> None:
    with pytest.raises(
        ValueError, match=r"DATABASE_URL must start with sqlite:/// or postgresql://"
    ):
        normalize_url(url)


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite:///file::memory:?cache=shared"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="in-memory SQLite"):
        create_database(url)


async def test_safe_url_hides_the_password() -> None:
    async with create_database("postgresql://bot:s3cret@db.example:5432/rallybot") as db:
        assert db.dialect == "postgresql"
        assert db.safe_url == "postgresql+asyncpg://bot:***@db.example:5432/rallybot"
        assert "s3cret" not in repr(db)
        assert "s3cret" in db.url  # the real URL is still there for migrations


# --- sessions and tables ----------------------------------------------------------------------


async def test_dialect_matches_the_url(db: Database, db_url: str) -> None:
    assert db.dialect == db_url.split(":", 1)[0]
    async with db.session() as s:
        assert (await s.execute(text("SELECT 1"))).scalar_one() == 1


async def test_member_round_trip_with_aware_utc_datetimes(db: Database) -> None:
    joined = datetime(2025, 3, 1, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
    member = Member(
        platform="slack",
        platform_user_id="U1",
        display_name="Ada",
        joined_at=joined,
        groups=["eng", "paris"],
    )
    async with db.session() as s:
        s.add(member)
    assert member.id is not None  # flushed and committed; expire_on_commit=False keeps it

    async with db.session() as s:
        loaded = await s.get(Member, member.id)
    assert loaded is not None
    assert loaded.display_name == "Ada"
    assert loaded.groups == ["eng", "paris"]
    assert loaded.joined_at == joined
    assert loaded.joined_at is not None and loaded.joined_at.tzinfo is UTC
    assert loaded.joined_at.hour == 8  # 09:30 in Paris (UTC+1) is stored as 08:30 UTC
    assert loaded.created_at.tzinfo is UTC


async def test_naive_datetime_is_rejected(db: Database) -> None:
    with pytest.raises(exc.StatementError) as info:
        async with db.session() as s:
            s.add(Member(platform="slack", platform_user_id="U1", joined_at=datetime(2025, 3, 1)))
    assert isinstance(info.value.orig, ValueError)
    assert "naive" in str(info.value.orig)
    assert await _count(db, Member) == 0


async def test_session_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.session() as s:
            s.add(Member(platform="slack", platform_user_id="U1"))
            await s.flush()
            raise RuntimeError("boom")
    assert await _count(db, Member) == 0


async def test_commit_inside_a_session_then_more_work(db: Database) -> None:
    async with db.session() as s:
        s.add(Member(platform="slack", platform_user_id="U1"))
        await s.commit()
        s.add(Member(platform="slack", platform_user_id="U2"))
    assert await _count(db, Member) == 2


async def test_savepoint_keeps_the_transaction_after_a_conflict(db: Database) -> None:
    async with db.session() as s:
        s.add(InboundEvent(platform="slack", event_id="Ev1", kind="message"))
        await s.flush()
        with pytest.raises(exc.IntegrityError):
            async with s.begin_nested():
                s.add(InboundEvent(platform="slack", event_id="Ev1", kind="retry"))
        s.add(InboundEvent(platform="slack", event_id="Ev2", kind="message"))
    assert await _count(db, InboundEvent) == 2


async def test_member_platform_user_is_unique(db: Database) -> None:
    async with db.session() as s:
        s.add(Member(platform="slack", platform_user_id="U1"))
        s.add(Member(platform="discord", platform_user_id="U1"))  # other platform: fine
    with pytest.raises(exc.IntegrityError):
        async with db.session() as s:
            s.add(Member(platform="slack", platform_user_id="U1"))
    assert await _count(db, Member) == 2


async def test_delivery_key_is_unique(db: Database) -> None:
    async with db.session() as s:
        s.add(_delivery())
        s.add(_delivery(occurrence="2025-03-02"))
        s.add(_delivery(recipient="member:1"))
        s.add(_delivery(step_id="announce"))
        s.add(_delivery(campaign_id="onboarding"))
    with pytest.raises(exc.IntegrityError):
        async with db.session() as s:
            s.add(_delivery(due_at=NOW + timedelta(days=1)))
    assert await _count(db, Delivery) == 5


async def test_inbound_event_is_unique_per_platform(db: Database) -> None:
    async with db.session() as s:
        s.add(InboundEvent(platform="slack", event_id="Ev1", kind="message"))
        s.add(InboundEvent(platform="discord", event_id="Ev1", kind="message"))
    with pytest.raises(exc.IntegrityError):
        async with db.session() as s:
            s.add(InboundEvent(platform="slack", event_id="Ev1", kind="reaction"))
    assert await _count(db, InboundEvent) == 2


async def test_foreign_keys_are_enforced_and_cascade(db: Database) -> None:
    with pytest.raises(exc.IntegrityError):
        async with db.session() as s:
            s.add(ChannelMember(platform="slack", channel_id="C1", member_id=999))

    member = Member(platform="slack", platform_user_id="U1")
    async with db.session() as s:
        s.add(member)
        await s.flush()
        assert member.id is not None
        s.add(ChannelMember(platform="slack", channel_id="C1", member_id=member.id))
    async with db.session() as s:
        await s.execute(text("DELETE FROM member WHERE id = :id"), {"id": member.id})
    assert await _count(db, ChannelMember) == 0


async def test_identities_restart_for_each_test(db: Database) -> None:
    async with db.session() as s:
        member = Member(platform="slack", platform_user_id="U1")
        s.add(member)
    assert member.id == 1
    async with db.session() as s:
        rows = (await s.execute(select(col(Member.platform_user_id)))).scalars().all()
    assert rows == ["U1"]


# --- SQLite specifics -------------------------------------------------------------------------


@sqlite_only
async def test_sqlite_pragmas_on_every_connection(db: Database) -> None:
    names = ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
    for _ in range(2):  # every connection (new or pooled) has the settings
        async with db.session() as s:
            values = {n: (await s.execute(text(f"PRAGMA {n}"))).scalar_one() for n in names}
        assert values == {
            "journal_mode": "wal",
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            "foreign_keys": 1,
            "synchronous": 1,  # NORMAL
        }
    assert SQLITE_BUSY_TIMEOUT_MS == 30_000


@sqlite_only
async def test_sqlite_transactions_begin_immediate(db_url: str) -> None:
    """A second connection (think: another process) cannot even start while one is open."""
    first, second = create_database(db_url), create_database(db_url)
    try:
        holder_ready, release = asyncio.Event(), asyncio.Event()

        async def holder() -> None:
            async with first.session() as s:
                await s.execute(select(func.count()).select_from(Member))  # lock taken at BEGIN
                holder_ready.set()
                await release.wait()
                s.add(Member(platform="slack", platform_user_id="U1"))

        async def reader() -> int:
            async with second.session() as s:
                return (await s.execute(select(func.count()).select_from(Member))).scalar_one()

        holding = asyncio.create_task(holder())
        await holder_ready.wait()
        reading = asyncio.create_task(reader())
        await asyncio.sleep(0.3)
        # With a deferred BEGIN the read would have gone through at once (and seen 0 rows).
        assert not reading.done()
        release.set()
        await holding
        assert await asyncio.wait_for(reading, timeout=10) == 1
    finally:
        await first.dispose()
        await second.dispose()
