"""``roster_import``: the last import of each roster file, with a digest of its bytes.

Each start imported its roster file again (``rallybot run --roster``, the campaigns' ``roster:``
files on the console platform): a member's language changed by a roster uploaded in the
console went back to the file's at the next restart. A start now imports the file only when
its bytes changed since its last import, and the console recomputes its indicators after any
import.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "roster_import",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("imported_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "source"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("roster_import")
