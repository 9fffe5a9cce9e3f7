"""storage.migrate and the Alembic revisions: the migrated schema is exactly the models."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import warnings
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import rallybot.storage.models  # registers the tables on SQLModel.metadata
from rallybot.storage.database import make_engine
from rallybot.storage.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    include_object,
    main,
    run_blocking,
    upgrade,
    upgrade_async,
)

MODEL_TABLES = {
    "member",
    "channel_member",
    "campaign_state",
    "delivery",
    "inbound_event",
    "control_flag",
}


def _inspect(url: str) -> tuple[list[Any], set[str]]:
    """The differences between the database at ``url`` and the models, and its table names."""

    def run(connection: Connection) -> tuple[list[Any], set[str]]:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        diff = compare_metadata(context, SQLModel.metadata)
        return diff, set(inspect(connection).get_table_names())

    async def go() -> tuple[list[Any], set[str]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(run)
        finally:
            await engine.dispose()

    return run_blocking(go())


def test_one_head_and_it_is_the_initial_revision_or_later() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert head_revision() == script.get_current_head()
    assert [rev.revision for rev in script.walk_revisions()][-1] == "0001"


def test_migration_files_ship_in_the_package() -> None:
    assert Path(rallybot.storage.models.__file__).parent / "migrations" == MIGRATIONS_DIR
    for name in ("env.py", "script.py.mako", "versions/0001_initial.py"):
        assert (MIGRATIONS_DIR / name).is_file(), name


def test_models_cover_the_expected_tables() -> None:
    assert set(SQLModel.metadata.tables) >= MODEL_TABLES


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    diff, tables = _inspect(db_url)
    assert diff == []
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert current_revision(db_url) == head_revision()


def test_downgrade_to_base_then_upgrade_again(db_url: str) -> None:
    try:
        downgrade(db_url, "base")
        assert current_revision(db_url) is None
        diff, tables = _inspect(db_url)
        assert tables <= {"alembic_version"}
        added = {d[1].name for d in diff if d[0] == "add_table"}
        assert added == set(SQLModel.metadata.tables)  # the comparison is not vacuous

        upgrade(db_url)
        assert current_revision(db_url) == head_revision()
        assert _inspect(db_url)[0] == []
    finally:
        upgrade(db_url)  # leave the shared PostgreSQL database at head whatever happened


def test_upgrade_a_new_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "sub dir" / "new.db"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    assert current_revision(url) is None
    assert not path.exists()  # asking does not create the file

    upgrade(url)
    assert current_revision(url) == head_revision()
    assert _inspect(url)[0] == []
    upgrade(url)  # already at head: nothing to do
    assert current_revision(url) == head_revision()


def test_migrating_a_sqlite_file_up_and_down_warns_nothing(tmp_path: Path) -> None:
    # batch mode reflects ``member`` (0023's expression index): no SAWarning for the operator
    url = f"sqlite:///{tmp_path / 'quiet.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        upgrade(url)
        downgrade(url, "0024")
        upgrade(url)
    assert current_revision(url) == head_revision()


async def test_upgrade_from_a_running_event_loop(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    await upgrade_async(first)
    upgrade(second)  # the sync call works here too (it blocks the loop meanwhile)
    assert current_revision(first) == current_revision(second) == head_revision()


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    main(["--url", url, "upgrade"])
    main(["--url", url, "current"])
    assert capsys.readouterr().out.strip() == head_revision()
    main(["--url", url, "downgrade", "base"])
    main(["--url", url, "current"])
    assert capsys.readouterr().out.strip() == "(none)"


def test_posts_sent_before_0019_get_their_channel_as_audience(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0018")
    when = "2026-11-01 09:00:00.000000"
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO member (id, platform, platform_user_id, groups, is_bot,"
            " profile_complete, opted_out, forgotten, created_at, updated_at)"
            " VALUES (?, 'slack', ?, '[]', 0, 0, 0, 0, ?, ?)",
            [(i, f"U{i}", when, when) for i in (1, 2, 3)],
        )
        conn.executemany(
            "INSERT INTO channel_member (platform, channel_id, member_id) VALUES ('slack', ?, ?)",
            [("C1", 1), ("C1", 2), ("C2", 3)],
        )
        conn.executemany(
            "INSERT INTO delivery (id, campaign_id, step_id, recipient, occurrence, due_at,"
            " grace_until, status, payload, content_hash, attempts, sent_at,"
            " platform_channel_id, platform_message_id, created_at, updated_at)"
            " VALUES (?, 'c', ?, ?, 'once', ?, ?, ?, '{}', '', 1, ?, ?, ?, ?, ?)",
            [
                (1, "a", "channel:news", when, when, "sent", when, "C1", "P1", when, when),
                (2, "b", "channel:news", when, when, "sent", when, "C1", "P2", when, when),
                (3, "c", "member:3", when, when, "sent", when, "C1", "P3", when, when),
                (4, "d", "channel:news", when, when, "pending", None, None, None, when, when),
            ],
        )
    upgrade(url)
    with sqlite3.connect(path) as conn:
        audiences = conn.execute("SELECT id, platform, channel_id, size FROM audience").fetchall()
        assert [a[1:] for a in audiences] == [("slack", "C1", 2)]
        members = conn.execute("SELECT audience_id, member_id FROM audience_member").fetchall()
        assert sorted(m for _, m in members) == [1, 2]
        kept = conn.execute("SELECT id, audience_id FROM delivery ORDER BY id").fetchall()
        first = audiences[0][0]
        assert kept == [(1, first), (2, first), (3, None), (4, None)]


def _run_sql(url: str, statements: Sequence[tuple[str, Any]]) -> list[list[Any]]:
    """Run ``(sql, parameters)`` statements in one transaction; the rows each returned."""

    async def go() -> list[list[Any]]:
        engine = make_engine(url)
        try:
            async with engine.begin() as connection:
                results = []
                for sql, params in statements:
                    result = await connection.execute(text(sql), params)
                    results.append(list(result.all()) if result.returns_rows else [])
                return results
        finally:
            await engine.dispose()

    return run_blocking(go())


def test_inbound_rows_written_before_0027_lose_their_raw_ids_and_precise_times(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RALLYBOT_SECRET_KEY", "migration-test-secret")
    click = "1700000000.000100:1700000001.000200:U0CLICKER"
    hashed = "f" * 64  # written by a version that already hashed the ids
    at = datetime(2026, 11, 4, 10, 31, 48, 123456)
    hour = datetime(2026, 11, 4, 10)
    try:
        downgrade(db_url, "0025")
        _run_sql(
            db_url,
            [
                (
                    "INSERT INTO inbound_event (platform, event_id, kind, received_at)"
                    " VALUES (:p, :e, :k, :t)",
                    [
                        {"p": "slack", "e": click, "k": "button_clicked", "t": at},
                        {"p": "slack", "e": hashed, "k": "form_submitted", "t": at},
                    ],
                ),
                (
                    "INSERT INTO inbound_journal (id, platform, kind, member_key, worker_id,"
                    " payload, received_at, handled_at, attempts)"
                    " VALUES (:i, 'slack', :k, :m, 'w', :p, :r, :h, 0)",
                    [
                        {"i": 1, "k": "button_clicked", "m": "", "p": "", "r": at, "h": at},
                        {
                            "i": 2,
                            "k": "form_submitted",
                            "m": "slack:U1",
                            "p": "{}",
                            "r": at,
                            "h": None,
                        },
                    ],
                ),
            ],
        )
        upgrade(db_url)
        events, journal = _run_sql(
            db_url,
            [
                ("SELECT event_id, received_at FROM inbound_event ORDER BY event_id", {}),
                (
                    "SELECT id, kind, member_key, payload, received_at, handled_at"
                    " FROM inbound_journal ORDER BY id",
                    {},
                ),
            ],
        )
    finally:
        upgrade(db_url)  # leave the shared PostgreSQL database at head whatever happened
        _run_sql(db_url, [("DELETE FROM inbound_event", {}), ("DELETE FROM inbound_journal", {})])
    keyed = hmac.new(b"migration-test-secret", f"slack:{click}".encode(), hashlib.sha256)

    def naive(value: Any) -> datetime | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=None)

    assert [(e, naive(t)) for e, t in events] == sorted([(keyed.hexdigest(), hour), (hashed, hour)])
    assert [(*row[:4], naive(row[4]), naive(row[5])) for row in journal] == [
        (1, "", "", "", hour, hour),  # closed: nothing but the hours
        (2, "form_submitted", "slack:U1", "{}", hour, None),  # still open: kept to handle it
    ]


def test_deliveries_written_before_0030_get_the_language_of_their_message(db_url: str) -> None:
    """0030 keeps each message's language (its payload's ``message.metadata.locale``) in a
    column the timeline's language filter reads from an index; a payload that says none, or
    says it with something other than a short text, leaves it empty."""
    when = datetime(2026, 11, 1, 9)
    payloads = [
        '{"message": {"text": "Bonjour", "metadata": {"locale": "fr"}}}',
        '{"message": {"text": "Hello", "metadata": {"locale": "en"}}}',
        '{"message": {"text": "no language"}}',
        '{"message": "not an object"}',
        '{"message": {"metadata": {"locale": 42}}}',
        "{}",
    ]
    try:
        downgrade(db_url, "0029")
        _run_sql(
            db_url,
            [
                (
                    "INSERT INTO delivery (id, campaign_id, step_id, recipient, occurrence,"
                    " due_at, grace_until, status, payload, content_hash, attempts,"
                    " created_at, updated_at)"
                    " VALUES (:i, 'c', :s, 'member:1', 'once', :t, :t, 'pending', :p, '', 0,"
                    " :t, :t)",
                    [
                        {"i": i, "s": f"s{i}", "t": when, "p": payload}
                        for i, payload in enumerate(payloads, start=1)
                    ],
                )
            ],
        )
        upgrade(db_url)
        [kept] = _run_sql(db_url, [("SELECT id, locale FROM delivery ORDER BY id", {})])
    finally:
        upgrade(db_url)  # leave the shared PostgreSQL database at head whatever happened
        _run_sql(db_url, [("DELETE FROM delivery", {}), ("DELETE FROM delivery_hour", {})])
    assert [tuple(row) for row in kept] == [
        (1, "fr"),
        (2, "en"),
        (3, ""),
        (4, ""),
        (5, ""),
        (6, ""),
    ]
