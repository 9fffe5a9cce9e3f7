"""The one dialect-aware insert, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from rallybot.storage.database import Database
from rallybot.storage.inserts import dialect_of, insert_for
from rallybot.storage.models import InboundEvent, table_of
from rallybot.storage.outbox import affected

NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)


async def test_insert_for_ignores_a_duplicate_key_from_a_session_a_connection_or_the_db(
    db: Database,
) -> None:
    row = {"platform": "slack", "event_id": "E1", "kind": "message", "received_at": NOW}
    counts = []
    async with db.session() as session:
        assert dialect_of(session) == db.dialect == dialect_of(db)
        for bind in (session, db):
            stmt = insert_for(bind, InboundEvent).values(**row).on_conflict_do_nothing()
            counts.append(affected(await session.execute(stmt)))
        # A table works as well as a model.
        stmt = insert_for(session, table_of(InboundEvent)).values(**row)
        counts.append(affected(await session.execute(stmt.on_conflict_do_nothing())))
    async with db.session() as session:
        rows = (await session.execute(sa.select(table_of(InboundEvent)))).all()
    assert counts == [1, 0, 0]
    assert len(rows) == 1
