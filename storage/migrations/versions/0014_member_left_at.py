"""``member.left_at``: when a roster import with ``--remove-missing`` found the member gone
(deactivated: no more messages; erased ``RALLYBOT_ERASE_REMOVED_AFTER_DAYS`` later), and
``erasure_audit``: who had a member erased and when (never whom).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 23:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
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
    op.create_table(
        "erasure_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("via", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("erased_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_audit")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("erasure_audit")
    with op.batch_alter_table("member") as batch:
        batch.drop_column("left_at")
