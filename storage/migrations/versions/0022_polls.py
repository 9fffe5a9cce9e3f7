"""Polls (the polls feature): polls, named votes, anonymous voters, drafts and ballots.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _poll_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["poll_id"], ["poll.id"], name=op.f(f"fk_{table}_poll_id_poll"), ondelete="CASCADE"
    )


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["member_id"], ["member.id"], name=op.f(f"fk_{table}_member_id_member"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "poll",
        sa.Column("id", _text(201), nullable=False),
        sa.Column("key", _text(16), nullable=False),
        sa.Column("campaign_id", _text(100), nullable=False),
        sa.Column("step_id", _text(100), nullable=False),
        sa.Column("question", sa.JSON(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("locale", _text(16), nullable=False),
        sa.Column("channel_id", _text(100), nullable=True),
        sa.Column("created_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("closes_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("closed_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll")),
        sa.UniqueConstraint("key", name=op.f("uq_poll_key")),
    )
    op.create_index(op.f("ix_poll_campaign_id"), "poll", ["campaign_id"])
    for table in ("poll_vote", "poll_voter", "poll_draft"):
        extra: list[sa.Column[object]] = []
        if table == "poll_vote":
            extra = [sa.Column("choice", sa.Integer(), nullable=False)]
        elif table == "poll_draft":
            extra = [
                sa.Column("choices", sa.JSON(), nullable=False),
                sa.Column("cast", sa.Boolean(), nullable=False),
            ]
        keys = ["poll_id", "member_id", *(["choice"] if table == "poll_vote" else [])]
        op.create_table(
            table,
            sa.Column("poll_id", _text(201), nullable=False),
            sa.Column("member_id", sa.Integer(), nullable=False),
            *extra,
            _poll_fk(table),
            _member_fk(table),
            sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "poll_ballot",
        sa.Column("id", _text(32), nullable=False),
        sa.Column("poll_id", _text(201), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        _poll_fk("poll_ballot"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_ballot")),
        sqlite_with_rowid=False,  # stored in the order of the random ids, not of insertion
    )
    op.create_index(op.f("ix_poll_ballot_poll_id"), "poll_ballot", ["poll_id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_poll_ballot_poll_id"), table_name="poll_ballot")
    for table in ("poll_ballot", "poll_draft", "poll_voter", "poll_vote"):
        op.drop_table(table)
    op.drop_index(op.f("ix_poll_campaign_id"), table_name="poll")
    op.drop_table("poll")
