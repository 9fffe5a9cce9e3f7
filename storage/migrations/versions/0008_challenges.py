"""Challenges: progress, completions, closings, invitations and evidence submissions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 18:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _member_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["member.id"], name=op.f(f"fk_{table}_{column}_member"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "challenge_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("at", rallybot.storage.models.UTCDateTime(), nullable=False),
        _member_fk("challenge_progress", "member_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_progress")),
        sa.UniqueConstraint("challenge", "ref", name="uq_challenge_progress_ref"),
    )
    op.create_index(op.f("ix_challenge_progress_member_id"), "challenge_progress", ["member_id"])
    op.create_index("ix_challenge_progress_subject", "challenge_progress", ["challenge", "subject"])
    op.create_table(
        "challenge_done",
        sa.Column("challenge", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        _member_fk("challenge_done", "member_id"),
        sa.PrimaryKeyConstraint("challenge", "subject", name=op.f("pk_challenge_done")),
    )
    op.create_index(op.f("ix_challenge_done_member_id"), "challenge_done", ["member_id"])
    op.create_table(
        "challenge_closed",
        sa.Column("challenge", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("closed_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("winners", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("challenge", name=op.f("pk_challenge_closed")),
    )
    op.create_table(
        "challenge_invite",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("invitee_user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("inviter_id", sa.Integer(), nullable=False),
        sa.Column("invited_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("joined_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        _member_fk("challenge_invite", "inviter_id"),
        sa.PrimaryKeyConstraint("platform", "invitee_user_id", name=op.f("pk_challenge_invite")),
    )
    op.create_index(op.f("ix_challenge_invite_inviter_id"), "challenge_invite", ["inviter_id"])
    op.create_table(
        "challenge_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("submitted_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("decided_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        _member_fk("challenge_submission", "member_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_submission")),
    )
    op.create_index(
        op.f("ix_challenge_submission_member_id"), "challenge_submission", ["member_id"]
    )
    op.create_index(
        "ix_challenge_submission_member", "challenge_submission", ["challenge", "member_id"]
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_challenge_submission_member", table_name="challenge_submission")
    op.drop_index(op.f("ix_challenge_submission_member_id"), table_name="challenge_submission")
    op.drop_table("challenge_submission")
    op.drop_index(op.f("ix_challenge_invite_inviter_id"), table_name="challenge_invite")
    op.drop_table("challenge_invite")
    op.drop_table("challenge_closed")
    op.drop_index(op.f("ix_challenge_done_member_id"), table_name="challenge_done")
    op.drop_table("challenge_done")
    op.drop_index("ix_challenge_progress_subject", table_name="challenge_progress")
    op.drop_index(op.f("ix_challenge_progress_member_id"), table_name="challenge_progress")
    op.drop_table("challenge_progress")
