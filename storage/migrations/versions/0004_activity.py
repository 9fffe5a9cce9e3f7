"""Activity: who did what and when (posts, replies, reactions, clicks, commands), for indicators.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("target_message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("occurred_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_activity_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    op.create_index("ix_activity_week_member", "activity", ["week", "member_id", "occurred_at"])
    op.create_index("ix_activity_member_occurred", "activity", ["member_id", "occurred_at", "kind"])
    op.create_index(
        "ix_activity_target",
        "activity",
        ["target_message_id", "channel_id", "kind", "member_id", "occurred_at"],
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_activity_target", table_name="activity")
    op.drop_index("ix_activity_member_occurred", table_name="activity")
    op.drop_index("ix_activity_week_member", table_name="activity")
    op.drop_table("activity")
