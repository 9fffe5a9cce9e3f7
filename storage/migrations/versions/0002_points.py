"""Points: the ledger, totals per season, badges awarded, seasons; deliveries by message id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:25:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Reactions on announcements look the bot's message up by its platform id.
    op.create_index("ix_delivery_platform_message", "delivery", ["platform_message_id"])
    op.create_table(
        "point_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("season", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("reverts_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_point_entry_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_entry")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_point_entry_idempotency_key")),
    )
    op.create_index(op.f("ix_point_entry_created_at"), "point_entry", ["created_at"])
    op.create_index(op.f("ix_point_entry_reverts_id"), "point_entry", ["reverts_id"])
    op.create_index("ix_point_entry_member_created", "point_entry", ["member_id", "created_at"])
    op.create_index("ix_point_entry_actor_created", "point_entry", ["actor_id", "created_at"])

    op.create_table(
        "point_total",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("season", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("reached_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_point_total_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "season", name=op.f("pk_point_total")),
    )
    op.create_index(
        "ix_point_total_rank",
        "point_total",
        ["season", sa.text("total DESC"), "reached_at", "member_id"],
    )

    op.create_table(
        "badge_award",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("badge_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("awarded_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_badge_award_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "badge_id", name=op.f("pk_badge_award")),
    )

    op.create_table(
        "season",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("started_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("ended_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_season")),
    )
    op.create_index(op.f("ix_season_started_at"), "season", ["started_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_season_started_at"), table_name="season")
    op.drop_table("season")
    op.drop_table("badge_award")
    op.drop_index("ix_point_total_rank", table_name="point_total")
    op.drop_table("point_total")
    op.drop_index("ix_point_entry_actor_created", table_name="point_entry")
    op.drop_index("ix_point_entry_member_created", table_name="point_entry")
    op.drop_index(op.f("ix_point_entry_reverts_id"), table_name="point_entry")
    op.drop_index(op.f("ix_point_entry_created_at"), table_name="point_entry")
    op.drop_table("point_entry")
    op.drop_index("ix_delivery_platform_message", table_name="delivery")
