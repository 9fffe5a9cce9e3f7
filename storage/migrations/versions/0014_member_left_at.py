"""``member.left_at``: when a roster import with ``--remove-missing`` found the member gone
(deactivated: no more messages; erased ``RALLYBOT_ERASE_REMOVED_AFTER_DAYS`` later).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 23:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        "member",
        sa.Column("left_at", rallybot.storage.models.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("member") as batch:
        batch.drop_column("left_at")
