"""When a send of a delivery last began: ``delivery.attempted_at``.

A claim alone sends nothing; only a row whose send began may have reached the platform before a
crash. The dispatcher writes this column just before it sends, so that after a restart it asks
the platform ("was it sent?") only for those rows, not for every row the dead process had
claimed. Existing rows that were claimed, or tried before and handed back, get their last update
time: their old attempt count said they might have gone out, and they keep that check.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 23:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        "delivery",
        sa.Column("attempted_at", rallybot.storage.models.UTCDateTime(), nullable=True),
    )
    op.execute(
        "UPDATE delivery SET attempted_at = updated_at"
        " WHERE status = 'claimed' OR (status = 'pending' AND attempts > 0)"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("attempted_at")
