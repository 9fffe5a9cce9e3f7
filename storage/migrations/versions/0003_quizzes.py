"""Quizzes: runs (live, self-paced, question of the day) and one answer per member per question.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "quiz_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("series", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("bank_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("current", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("asked_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("deadline", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("started_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("finished_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_quiz_run_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_run")),
        sa.UniqueConstraint("key", name="uq_quiz_run_key"),
    )
    op.create_index(op.f("ix_quiz_run_member_id"), "quiz_run", ["member_id"])
    op.create_index(op.f("ix_quiz_run_series"), "quiz_run", ["series"])
    op.create_index("ix_quiz_run_state_deadline", "quiz_run", ["state", "deadline"])

    op.create_table(
        "quiz_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("answered_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_quiz_answer_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["quiz_run.id"],
            name=op.f("fk_quiz_answer_run_id_quiz_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_answer")),
        sa.UniqueConstraint("run_id", "question_id", "member_id", name="uq_quiz_answer_once"),
    )
    op.create_index(op.f("ix_quiz_answer_member_id"), "quiz_answer", ["member_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_quiz_answer_member_id"), table_name="quiz_answer")
    op.drop_table("quiz_answer")
    op.drop_index("ix_quiz_run_state_deadline", table_name="quiz_run")
    op.drop_index(op.f("ix_quiz_run_series"), table_name="quiz_run")
    op.drop_index(op.f("ix_quiz_run_member_id"), table_name="quiz_run")
    op.drop_table("quiz_run")
