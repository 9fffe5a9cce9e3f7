"""Initial schema: members, channel membership, campaign state, outbox, inbound events, flags.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 12:41:28.073602
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "campaign_state",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("planned_through", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("paused_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("loaded_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_state")),
    )
    op.create_table(
        "control_flag",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_control_flag")),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("step_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("occurrence", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("due_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("grace_until", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("lease_until", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("sent_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column(
            "platform_channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column(
            "platform_message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint(
            "campaign_id", "step_id", "recipient", "occurrence", name="uq_delivery_key"
        ),
    )
    op.create_index("ix_delivery_status_due", "delivery", ["status", "due_at"])

    op.create_table(
        "inbound_event",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("received_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "event_id", name=op.f("pk_inbound_event")),
    )
    op.create_index(op.f("ix_inbound_event_received_at"), "inbound_event", ["received_at"])

    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("platform_user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("joined_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("cohort", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("profile_complete", sa.Boolean(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("dm_channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("platform", "platform_user_id", name="uq_member_platform_user"),
    )
    op.create_index(op.f("ix_member_cohort"), "member", ["cohort"])
    op.create_index(op.f("ix_member_joined_at"), "member", ["joined_at"])
    op.create_index(op.f("ix_member_team"), "member", ["team"])
    op.create_index(op.f("ix_member_updated_at"), "member", ["updated_at"])

    op.create_table(
        "channel_member",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_channel_member_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "platform", "channel_id", "member_id", name=op.f("pk_channel_member")
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("channel_member")
    op.drop_index(op.f("ix_member_updated_at"), table_name="member")
    op.drop_index(op.f("ix_member_team"), table_name="member")
    op.drop_index(op.f("ix_member_joined_at"), table_name="member")
    op.drop_index(op.f("ix_member_cohort"), table_name="member")
    op.drop_table("member")
    op.drop_index(op.f("ix_inbound_event_received_at"), table_name="inbound_event")
    op.drop_table("inbound_event")
    op.drop_index("ix_delivery_status_due", table_name="delivery")
    op.drop_table("delivery")
    op.drop_table("control_flag")
    op.drop_table("campaign_state")
