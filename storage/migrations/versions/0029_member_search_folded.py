"""``member``: the members search ignores accents, and its trigram index follows.

The members search finds "Amélie" when a manager types "amelie" (see ``storage.search``): on
PostgreSQL it reads ``lower(translate(display_name, accented, plain))``, which the trigram
index of migration 0024 on ``lower(display_name)`` does not answer. This index replaces it
(same conditions: only where ``pg_trgm`` is installed; SQLite has no such index, nothing is
done there).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (a migration does not follow later code): storage.search's letters when written;
# a test checks that they are still the same.
ACCENTED = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬ"
    "ĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽž"
)
PLAIN = (
    "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIi"
    "IiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZz"
)
FOLDED_NAME = (
    "CREATE INDEX IF NOT EXISTS ix_member_search_folded_name ON member USING gin "
    f"(lower(translate(display_name, '{ACCENTED}', '{PLAIN}')) gin_trgm_ops)"
)


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    installed = bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    ).scalar()
    if installed:  # else 0024 logged what an administrator can run; the search still works
        op.execute(FOLDED_NAME)
        op.execute("DROP INDEX IF EXISTS ix_member_search_name")


def downgrade() -> None:
    """Downgrade schema."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_member_search_folded_name")
    installed = bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    ).scalar()
    if installed:
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_member_search_name ON member "
            "USING gin (lower(display_name) gin_trgm_ops)"
        )
