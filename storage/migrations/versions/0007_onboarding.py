"""Onboarding: a journey per member and campaign, and the tasks done.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 17:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "onboarding_journey",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("started_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("completed_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("charter_accepted_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("buddy_user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("escalated_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_onboarding_journey_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "campaign_id", name=op.f("pk_onboarding_journey")),
    )
    op.create_index(
        op.f("ix_onboarding_journey_buddy_user_id"), "onboarding_journey", ["buddy_user_id"]
    )
    op.create_index(
        "ix_onboarding_journey_open", "onboarding_journey", ["completed_at", "escalated_at"]
    )
    op.create_table(
        "onboarding_task",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("task_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("done_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("how", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_onboarding_task_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "member_id", "campaign_id", "task_id", name=op.f("pk_onboarding_task")
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("onboarding_task")
    op.drop_index("ix_onboarding_journey_open", table_name="onboarding_journey")
    op.drop_index(op.f("ix_onboarding_journey_buddy_user_id"), table_name="onboarding_journey")
    op.drop_table("onboarding_journey")
