"""Help desk: one ticket per question of the help channel, with its times and people.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _member(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["member.id"],
        name=op.f(f"fk_help_ticket_{column}_member"),
        ondelete="SET NULL",
    )


def upgrade() -> None:
    """Upgrade schema."""
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "help_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", text(length=16), nullable=False),
        sa.Column("channel_id", text(length=64), nullable=False),
        sa.Column("message_id", text(length=64), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=True),
        sa.Column("locale", text(length=16), nullable=True),
        sa.Column("excerpt", text(length=120), nullable=False),
        sa.Column("state", text(length=16), nullable=False),
        sa.Column("resolution", text(length=16), nullable=True),
        sa.Column("reply_id", text(length=64), nullable=True),
        sa.Column("last_reply_id", text(length=64), nullable=True),
        sa.Column("suggestions", sa.JSON(), nullable=False),
        sa.Column("opened_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("last_activity_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("first_response_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("first_responder_id", sa.Integer(), nullable=True),
        sa.Column("last_replier_id", sa.Integer(), nullable=True),
        sa.Column("solved_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("solved_by_id", sa.Integer(), nullable=True),
        sa.Column("credited_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("escalated_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("closed_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        _member("asker_id"),
        _member("credited_id"),
        _member("first_responder_id"),
        _member("last_replier_id"),
        _member("solved_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_ticket")),
        sa.UniqueConstraint("platform", "channel_id", "message_id", name="uq_help_ticket_message"),
    )
    op.create_index(op.f("ix_help_ticket_asker_id"), "help_ticket", ["asker_id"])
    op.create_index(op.f("ix_help_ticket_reply_id"), "help_ticket", ["reply_id"])
    op.create_index(op.f("ix_help_ticket_last_reply_id"), "help_ticket", ["last_reply_id"])
    op.create_index("ix_help_ticket_state_opened", "help_ticket", ["state", "opened_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_help_ticket_state_opened", table_name="help_ticket")
    op.drop_index(op.f("ix_help_ticket_last_reply_id"), table_name="help_ticket")
    op.drop_index(op.f("ix_help_ticket_reply_id"), table_name="help_ticket")
    op.drop_index(op.f("ix_help_ticket_asker_id"), table_name="help_ticket")
    op.drop_table("help_ticket")
