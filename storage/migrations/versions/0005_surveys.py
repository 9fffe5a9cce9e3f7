"""Surveys: definitions, answers (anonymous or not), who has answered, unfinished drafts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["member_id"], ["member.id"], name=op.f(f"fk_{table}_member_id_member"), ondelete="CASCADE"
    )


def _survey_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["survey_id"], ["survey.id"], name=op.f(f"fk_{table}_survey_id_survey"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "survey",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=201), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("step_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("created_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey")),
        sa.UniqueConstraint("key", name=op.f("uq_survey_key")),
    )
    op.create_index(op.f("ix_survey_campaign_id"), "survey", ["campaign_id"])

    op.create_table(
        "survey_answer",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(length=201), nullable=False),
        sa.Column("response_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("question_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("cohort", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        _member_fk("survey_answer"),
        _survey_fk("survey_answer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answer")),
    )
    op.create_index(op.f("ix_survey_answer_member_id"), "survey_answer", ["member_id"])
    op.create_index(op.f("ix_survey_answer_response_id"), "survey_answer", ["response_id"])
    op.create_index(
        "ix_survey_answer_survey_question", "survey_answer", ["survey_id", "question_id"]
    )

    op.create_table(
        "survey_responder",
        sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(length=201), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        _member_fk("survey_responder"),
        _survey_fk("survey_responder"),
        sa.PrimaryKeyConstraint("survey_id", "member_id", name=op.f("pk_survey_responder")),
    )

    op.create_table(
        "survey_draft",
        sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(length=201), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("current", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("updated_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        _member_fk("survey_draft"),
        _survey_fk("survey_draft"),
        sa.PrimaryKeyConstraint("survey_id", "member_id", name=op.f("pk_survey_draft")),
    )
    op.create_index(op.f("ix_survey_draft_updated_at"), "survey_draft", ["updated_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_survey_draft_updated_at"), table_name="survey_draft")
    op.drop_table("survey_draft")
    op.drop_table("survey_responder")
    op.drop_index("ix_survey_answer_survey_question", table_name="survey_answer")
    op.drop_index(op.f("ix_survey_answer_response_id"), table_name="survey_answer")
    op.drop_index(op.f("ix_survey_answer_member_id"), table_name="survey_answer")
    op.drop_table("survey_answer")
    op.drop_index(op.f("ix_survey_campaign_id"), table_name="survey")
    op.drop_table("survey")
