"""Privacy: the registry covers every table, "my data" exports every registered table, "forget"
leaves no row referring to the member while the aggregates stay the same, retention purges.

The forget and export tests seed one row per table generically (from the schema), so a table
added later is covered without editing them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from rallybot.bot.adapters.base import Capabilities
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ButtonClicked, ChannelRef, CommandInvoked, UserRef
from rallybot.handlers.privacy.feature import chunks
from rallybot.handlers.privacy.personal_data import (
    FORGOTTEN_PREFIX,
    NOT_PERSONAL,
    REGISTRY,
    export_member,
    forget_member,
    member_like_columns,
    purge_expired,
    unregistered_tables,
)
from rallybot.storage.database import Database
from rallybot.storage.models import (
    Delivery,
    InboundEvent,
    Member,
    PointEntry,
    UTCDateTime,
    table_of,
)
from rallybot.storage.repositories import upsert_member
from rallybot.storage.survey_models import SurveyDraft

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
SECRET_ID = "U-FORGET-ME-4242"
SECRET_NAME = "Zoé Secrète"
SECRET_EMAIL = "zoe.secrete@example.test"
SECRET_FIRST = SECRET_NAME.split(maxsplit=1)[0]


# ---------------------------------------------------------------------------- the registry


def test_every_table_that_refers_to_a_member_is_registered() -> None:
    assert unregistered_tables() == {}
    for name, entry in REGISTRY.items():
        table = SQLModel.metadata.tables.get(name)
        assert table is not None, f"registered table {name} does not exist"
        for column in (*entry.member_columns, *entry.platform_columns, *entry.handled):
            assert column in table.c, f"{name}.{column} does not exist"
    assert not set(REGISTRY) & set(NOT_PERSONAL)


def test_a_new_table_with_a_member_column_is_reported() -> None:
    metadata = SQLModel.metadata
    table = sa.Table(
        "zz_feedback",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reviewer_member_id", sa.Integer),
        sa.Column("author", sa.Integer, sa.ForeignKey("member.id")),
    )
    try:
        assert unregistered_tables() == {"zz_feedback": {"reviewer_member_id", "author"}}
        assert member_like_columns(table) == {"reviewer_member_id", "author"}
    finally:
        metadata.remove(table)
    assert unregistered_tables() == {}


# ---------------------------------------------------------------------------- seeding


def _value(column: sa.Column[Any], table: str, member: Member, parents: dict[str, Any]) -> Any:
    """A plausible value for ``column`` in a row that belongs to ``member``."""
    entry = REGISTRY.get(table)
    for fk in column.foreign_keys:
        target = fk.column.table.name
        if target == "member":
            return member.id
        return parents[target][fk.column.name]
    if entry is not None and column.name in entry.member_columns:
        return member.id
    if entry is not None and column.name in entry.platform_columns:
        return member.platform_user_id
    if column.name == "recipient":
        return f"member:{member.id}"
    if column.name in {"idempotency_key", "key"}:
        return f"self:{member.id}:{table}:{member.platform_user_id[-4:]}"
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return NOW - timedelta(days=1)
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return 7
    if isinstance(kind, sa.Float | sa.Numeric):
        return 1.5
    if isinstance(kind, sa.Date) and not isinstance(kind, sa.DateTime):
        return NOW.date()
    if isinstance(kind, sa.JSON):
        return []
    if isinstance(kind, sa.String):
        length = kind.length or 60
        return f"{table[:6]}-{column.name}-{member.id}"[:length]
    raise AssertionError(f"no sample value for {table}.{column.name} ({kind!r})")


def _naming(member: Member) -> dict[str, dict[str, Any]]:
    """Values that name ``member`` the way the real rows do (ids inside other strings)."""
    uid = member.platform_user_id
    return {
        "inbound_event": {"event_id": f"1700000000.1:1700000001.2:{uid}"},  # a Slack click
        "inbound_journal": {"member_key": f"memory:{uid}", "payload": json.dumps({"user": uid})},
        "erasure_audit": {"requested_by": f"memory:{uid}"},  # a manager who erased someone
        "audit_entry": {"actor": f"memory:{uid}"},  # a manager who sent a step from chat
        "console_session": {"actor": f"memory:{uid}"},  # signed in to the web console
        "console_sign_in": {"actor": f"memory:{uid}"},  # a one-time link made for them
        "survey_draft": {"finished": False},  # unfinished: deleted at forget
    }


UNLINKABLE = {"console_login_attempt", "erased_identity"}
"""Registered tables whose rows no member can be found by: keyed hashes of network
addresses, keyed digests of the people erased (personal data, in the record of processing,
but nothing in them names a member)."""


async def seed_everything(db: Database, member: Member) -> dict[str, dict[str, Any]]:
    """One row per table (besides ``member``) that belongs to ``member``, parents first."""
    parents: dict[str, dict[str, Any]] = {}
    async with db.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            # delivery_hour: written by the database's triggers from the delivery rows.
            if table.name in ("member", "delivery_hour"):
                continue
            values: dict[str, Any] = {}
            for column in table.columns:
                if (
                    column.primary_key
                    and isinstance(column.type, sa.Integer)
                    and not column.foreign_keys
                    and len(table.primary_key.columns) == 1
                ):
                    continue
                values[column.name] = _value(column, table.name, member, parents)
            if table.name in {"survey", "poll"}:  # a button key: a hash of the id, no person
                values["key"] = f"k{member.id}"
            values.update(_naming(member).get(table.name, {}))
            result = await session.execute(sa.insert(table).values(**values))
            key = result.inserted_primary_key
            for column, value in zip(table.primary_key.columns, key or (), strict=False):
                values[column.name] = value
            parents[table.name] = values
    return parents


async def table_rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    async with db.session() as session:
        for name, table in SQLModel.metadata.tables.items():
            result = await session.execute(sa.select(table))
            out[name] = [dict(r) for r in result.mappings()]
    return out


async def make_member(db: Database, user_id: str, name: str, email: str | None) -> Member:
    return await upsert_member(
        db,
        "memory",
        user_id,
        NOW,
        display_name=name,
        first_name=name.split(maxsplit=1)[0],
        email=email,
        team="sales",
        cohort="pilote",
        joined_at=NOW - timedelta(days=3),
        timezone="Europe/Paris",
        locale="en",
        profile_complete=True,
        dm_channel_id=f"D-{user_id}",
    )


# ---------------------------------------------------------------------------- export


async def test_export_holds_the_members_rows_from_every_registered_table(db: Database) -> None:
    member = await make_member(db, SECRET_ID, SECRET_NAME, SECRET_EMAIL)
    other = await make_member(db, "U-OTHER", "Other Person", None)
    assert member.id is not None and other.id is not None
    await seed_everything(db, member)
    data = await export_member(db, member.id)
    assert data is not None
    assert data["member"]["platform_user_id"] == SECRET_ID
    assert data["member"]["email"] == SECRET_EMAIL
    present = set(SQLModel.metadata.tables)
    assert set(data["tables"]) == (set(REGISTRY) - UNLINKABLE) & present
    text = json.dumps(data, ensure_ascii=False)  # JSON-ready as it is
    assert SECRET_NAME in text
    other_data = await export_member(db, other.id)
    assert other_data is not None and other_data["tables"] == {}
    assert await export_member(db, 999_999) is None


# ---------------------------------------------------------------------------- forget


def _aggregates(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "rows": {
            name: len(r)
            for name, r in rows.items()
            if name
            not in {
                "survey_draft",
                "inbound_event",
                "inbound_journal",
                "console_session",
                "console_sign_in",
                "erased_identity",  # grows: the erased person's keyed digests
                "bot_secret",  # the secret that keys them, generated on first use
            }  # deleted
        },
        "points": sum(r["amount"] for r in rows["point_entry"]),
        "totals": sorted(r["total"] for r in rows["point_total"]),
        "cohorts": sorted((m["cohort"], m["team"], m["profile_complete"]) for m in rows["member"]),
        "joined": sorted(str(m["joined_at"]) for m in rows["member"]),
        "responders": len(rows["survey_responder"]),
    }


async def test_forget_leaves_nothing_that_refers_to_the_member(db: Database) -> None:
    member = await make_member(db, SECRET_ID, SECRET_NAME, SECRET_EMAIL)
    other = await make_member(db, "U-OTHER", "Other Person", None)
    assert member.id is not None and other.id is not None
    await seed_everything(db, other)
    seeded = await seed_everything(db, member)
    third = await make_member(db, "U-THIRD", "Third Person", None)
    # What others were sent about the member: a channel post, a DM to someone else, in the
    # forms the features write them (a mention, the name, the name escaped in JSON).
    for n, (recipient, text) in enumerate(
        [
            ("channel:annonces", f"🏅 Badge for {SECRET_NAME}! Done by: {SECRET_FIRST}"),
            (f"member:{third.id}", f"<@{SECRET_ID}> is your buddy (write to {SECRET_EMAIL})"),
            (f"member:{third.id}", f"<@{SECRET_ID}|{SECRET_NAME}> thanked you"),
        ]
    ):
        row = {k: v for k, v in seeded["delivery"].items() if k != "id"}
        row |= {"recipient": recipient, "occurrence": f"mention-{n}"}
        row["payload"] = {"message": {"text": text}, "channel": "general"}
        async with db.session() as session:
            await session.execute(sa.insert(table_of(Delivery)).values(**row))
    before = await table_rows(db)
    other_before = await export_member(db, other.id)

    report = await forget_member(db, member.id, NOW)
    assert report is not None and report.ghost_id not in (member.id, other.id)
    after = await table_rows(db)

    # No row anywhere holds the member's id in a member column, nor their platform id, name,
    # e-mail or DM channel in any text.
    old = member.id
    for name, table in SQLModel.metadata.tables.items():
        entry = REGISTRY.get(name)
        columns = member_like_columns(table) | set(entry.member_columns if entry else ())
        if name == "member":
            columns = {"id"}
        for row in after[name]:
            for column in columns:
                assert row[column] not in (old, str(old), f"member:{old}"), (name, column, row)
            text = json.dumps(row, default=str, ensure_ascii=False)
            for secret in (SECRET_ID, SECRET_NAME, SECRET_EMAIL, f"D-{SECRET_ID}"):
                assert secret not in text, (name, row)
            for column in ("idempotency_key", "key"):
                if column in row and isinstance(row[column], str):
                    assert f":{old}:" not in row[column], (name, row)
    ghost = next(m for m in after["member"] if m["id"] == report.ghost_id)
    assert ghost["platform_user_id"].startswith(FORGOTTEN_PREFIX)
    assert ghost["display_name"] is None and ghost["email"] is None and ghost["opted_out"]
    assert ghost["dm_channel_id"] is None and ghost["timezone"] is None

    # The aggregates are the same; the draft (an unfinished answer) is gone.
    assert _aggregates(before) == _aggregates(after)
    assert len(after["survey_draft"]) == len(before["survey_draft"]) - 1
    # Their platform id and e-mail are recognised by a keyed digest each, nothing more.
    assert len(after["erased_identity"]) == len(before["erased_identity"]) + 2
    # The other member's data is untouched.
    assert await export_member(db, other.id) == other_before
    assert await forget_member(db, member.id, NOW) is None
    # The mentions became "someone"; the rest of those messages is intact.
    texts = sorted(
        r["payload"]["message"]["text"]
        for r in after["delivery"]
        if str(r["occurrence"]).startswith("mention-")
    )
    assert texts == [
        "someone is your buddy (write to someone)",
        "someone thanked you",
        "🏅 Badge for someone! Done by: someone",
    ]


# ---------------------------------------------------------------------------- in chat


def make_bot(db: Database, tmp_path: Path, adapter: MemoryAdapter) -> Rallybot:
    empty = tmp_path / "campaigns"
    empty.mkdir()
    settings = Settings(database_url=db.url, admins=["memory:cm"], retention_days=30)
    return Rallybot(settings, db, adapter, SimulatedClock(NOW), campaign_paths=[empty])


NO_FILES = Capabilities(files=False)  # a platform without files: the export comes in DMs


def command(name: str, uid: str, n: int = 0) -> CommandInvoked:
    return CommandInvoked(
        event_id=f"{name}-{uid}-{n}",
        platform="memory",
        user=UserRef("memory", uid),
        occurred_at=NOW,
        name=name,
    )


async def test_mydata_sends_the_export_in_direct_messages(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter(capabilities=NO_FILES)
    bot = make_bot(db, tmp_path, adapter)
    member = await make_member(db, SECRET_ID, SECRET_NAME, SECRET_EMAIL)
    await seed_everything(db, member)
    await bot.handle(command("mydata", SECRET_ID))
    parts = [d for d in adapter.directs if "export_part" in d.message.metadata]
    assert len(parts) > 1  # longer than one Discord message
    assert all(len(p.message.text) <= 1900 for p in parts)
    assert all(p.target == SECRET_ID for p in parts)
    text = "".join(p.message.text.removeprefix("```\n").removesuffix("\n```") for p in parts)
    data = json.loads(text)
    assert data["member"]["display_name"] == SECRET_NAME
    assert set(data["tables"]) == (set(REGISTRY) - UNLINKABLE) & set(SQLModel.metadata.tables)
    assert "direct messages" in adapter.directs[-1].message.text


async def test_mydata_as_a_file_where_the_platform_takes_one(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter()  # takes files, as Slack and Discord do
    bot = make_bot(db, tmp_path, adapter)
    await make_member(db, SECRET_ID, SECRET_NAME, SECRET_EMAIL)
    await bot.handle(command("mydata", SECRET_ID))
    (sent,) = adapter.files
    assert (sent.target, sent.direct, sent.filename) == (SECRET_ID, True, "rallybot-data.json")
    assert json.loads(sent.content)["member"]["email"] == SECRET_EMAIL


async def test_forget_asks_for_a_confirmation_then_erases(db: Database, tmp_path: Path) -> None:
    adapter = MemoryAdapter(capabilities=NO_FILES)
    bot = make_bot(db, tmp_path, adapter)
    member = await make_member(db, SECRET_ID, SECRET_NAME, SECRET_EMAIL)
    await seed_everything(db, member)
    points_before = await _points(db)
    await bot.handle(command("forget", SECRET_ID))
    confirm = next(d for d in adapter.directs if d.message.buttons)
    erase, cancel = confirm.message.buttons
    assert erase.style == "danger"

    async def press(button_action: str, value: str, event_id: str) -> None:
        await bot.handle(
            ButtonClicked(
                event_id=event_id,
                platform="memory",
                user=UserRef("memory", SECRET_ID),
                occurred_at=bot.clock.now(),
                channel=ChannelRef("memory", f"dm-{SECRET_ID}", is_direct=True),
                message_id=confirm.sent.message_id,
                action_id=button_action,
                value=value,
            )
        )

    await press(cancel.action_id or "", cancel.value, "c1")
    assert "Nothing was erased" in adapter.directs[-1].message.text
    assert await _member_count(db, SECRET_ID) == 1
    assert isinstance(bot.clock, SimulatedClock)
    bot.clock.set(NOW + timedelta(minutes=20))  # too late
    await press(erase.action_id or "", erase.value, "c2")
    assert "expired" in adapter.directs[-1].message.text
    assert await _member_count(db, SECRET_ID) == 1
    bot.clock.set(NOW + timedelta(minutes=22))
    await bot.handle(command("forget", SECRET_ID, 1))
    erase = next(d for d in reversed(adapter.directs) if d.message.buttons).message.buttons[0]
    bot.clock.set(NOW + timedelta(minutes=25))
    await press(erase.action_id or "", erase.value, "c3")
    assert "no longer holds" in adapter.directs[-1].message.text
    assert await _member_count(db, SECRET_ID) == 0
    assert await _points(db) == points_before
    # Using the bot again starts afresh: whatever a feature records of this new command, none
    # of the forgotten data comes back.
    adapter.clear()
    await bot.handle(command("mydata", SECRET_ID, 2))
    parts = [d for d in adapter.directs if "export_part" in d.message.metadata]
    exported = "".join(p.message.text.removeprefix("```\n").removesuffix("\n```") for p in parts)
    assert SECRET_NAME not in exported and SECRET_EMAIL not in exported
    assert "point_entry" not in (json.loads(exported)["tables"] if exported else {})


async def _points(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(sa.select(sa.func.sum(table_of(PointEntry).c.amount))) or 0)


async def _member_count(db: Database, user_id: str) -> int:
    members = table_of(Member)
    async with db.session() as session:
        return int(
            await session.scalar(
                sa.select(sa.func.count()).where(members.c.platform_user_id == user_id)
            )
            or 0
        )


def test_chunks_keep_every_character() -> None:
    text = "\n".join(f"line {i} " + "x" * (i * 37 % 300) for i in range(200)) + "\n" + "y" * 5000
    pieces = chunks(text, 1000)
    assert "".join(pieces) == text
    assert all(0 < len(p) <= 1000 for p in pieces)


# ---------------------------------------------------------------------------- retention


async def test_retention_purges_old_inbound_events_and_drafts(db: Database, tmp_path: Path) -> None:
    member = await make_member(db, SECRET_ID, SECRET_NAME, None)
    await seed_everything(db, member)  # one survey, one draft (updated a day ago)
    events = table_of(InboundEvent)
    async with db.session() as session:
        await session.execute(
            sa.insert(events),
            [
                {
                    "platform": "memory",
                    "event_id": f"e{days}",
                    "kind": "message",
                    "received_at": NOW - timedelta(days=days),
                }
                for days in (1, 2, 5, 29, 31, 400)
            ],
        )
        await session.execute(
            sa.update(table_of(SurveyDraft)).values(updated_at=NOW - timedelta(days=45))
        )

    async def left() -> set[str]:
        """The rows above left (seed_everything wrote one of its own, received now)."""
        async with db.session() as session:
            rows = (await session.execute(sa.select(events.c.event_id))).scalars()
            return {row for row in rows if row.startswith("e")}

    # RALLYBOT_RETENTION_DAYS=30: the drafts after 30 days, the deduplication rows of handled
    # events after RALLYBOT_DEDUP_KEEP_DAYS (7 by default), the shorter.
    bot = make_bot(db, tmp_path, MemoryAdapter())
    assert await bot.retention_tick() == 3 + 1
    async with db.session() as session:
        drafts = await session.scalar(sa.select(sa.func.count()).select_from(table_of(SurveyDraft)))
    assert await left() == {"e1", "e2", "e5"} and drafts == 0
    assert (await purge_expired(db, NOW, 30, 7)).inbound_events == 0  # nothing more to purge
    # A retention shorter than the deduplication days wins.
    assert (await purge_expired(db, NOW, 3, 7)).inbound_events == 1
    assert await left() == {"e1", "e2"}
    # Without RALLYBOT_RETENTION_DAYS, the deduplication rows still go after 7 days.
    unset = Rallybot(
        Settings(database_url="sqlite:///rallybot.db"),
        db,
        MemoryAdapter(),
        SimulatedClock(NOW + timedelta(days=5, hours=12)),
        campaign_paths=[tmp_path / "campaigns"],
    )
    assert await unset.retention_tick() == 1
    assert await left() == {"e1"}


@pytest.mark.parametrize("days", [0, -1])
def test_retention_days_must_be_positive(days: int) -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Settings(database_url="sqlite:///rallybot.db", retention_days=days)
