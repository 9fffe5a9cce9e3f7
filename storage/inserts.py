"""One dialect-aware INSERT, for the two backends Rallybot runs on.

SQLAlchemy's portable ``insert`` has no ``ON CONFLICT``; each backend's own has, with the
same ``on_conflict_do_nothing`` / ``on_conflict_do_update`` API. Every insert-or-ignore and
upsert in Rallybot starts from :func:`insert_for`, so the choice of backend is made here only.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from rallybot.storage.database import Database
from rallybot.storage.models import table_of

__all__ = ["Bind", "dialect_of", "insert_for"]

Bind = AsyncSession | AsyncConnection | Database
"""What knows its backend: a session, a connection, or the database itself."""


def dialect_of(bind: Bind) -> str:
    """The backend's dialect name (``"postgresql"`` or ``"sqlite"``)."""
    if isinstance(bind, Database):
        return bind.dialect
    if isinstance(bind, AsyncConnection):
        return bind.dialect.name
    return bind.get_bind().dialect.name


def insert_for(bind: Bind, target: sa.Table | type[Any]) -> PgInsert | SqliteInsert:
    """An INSERT into ``target`` (a table or a model) that supports ``on_conflict_do_nothing``
    and ``on_conflict_do_update`` on ``bind``'s backend."""
    table = target if isinstance(target, sa.Table) else table_of(target)
    if dialect_of(bind) == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)
