"""``member``: trigram indexes for the console's members search, on PostgreSQL.

The search finds a fragment anywhere in a name, an e-mail or a platform id (``lower(column)
LIKE '%fragment%'``): no B-tree index helps, so PostgreSQL tested every member at each search
(a sequential scan of 100,000 rows). ``pg_trgm``'s GIN indexes answer the same ``LIKE``
from the fragment's trigrams, with the same rows.

``pg_trgm`` ships with PostgreSQL and is a trusted extension (PostgreSQL 13 and later): the
database's owner, or a role with ``CREATE`` on it, may install it. When the extension cannot
be installed (no such right, or a server built without it) the migration logs what an
administrator can run and goes on without the indexes: the search gives the same results,
only slower on a large community. SQLite has no such index: nothing is done there.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 13:00:00.000000
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("rallybot.migrate")

INDEXES = {
    "ix_member_search_name": "display_name",
    "ix_member_search_email": "email",
    "ix_member_search_user_id": "platform_user_id",
}
"""The index of each searched column (the expressions the search's ``LIKE`` reads)."""


def index_statements() -> list[str]:
    """The statements that create the indexes (also what the log tells an administrator)."""
    return [
        f"CREATE INDEX IF NOT EXISTS {name} ON member USING gin (lower({column}) gin_trgm_ops)"
        for name, column in INDEXES.items()
    ]


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    installed = bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    ).scalar()
    if not installed:
        try:
            # A savepoint: a refused CREATE EXTENSION must not abort the migration's
            # transaction.
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except sa.exc.DBAPIError as exc:
            log.warning(
                "The members search stays without its trigram indexes: the pg_trgm extension "
                "could not be installed (%s). Searches give the same results, only slower on "
                "a large community. To add them, a database administrator runs: "
                "CREATE EXTENSION pg_trgm; %s;",
                str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__,
                "; ".join(index_statements()),
            )
            return
    for statement in index_statements():
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema (the extension stays: other objects may use it)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
