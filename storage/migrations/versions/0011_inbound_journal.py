"""The inbound journal and the replica registry.

``inbound_journal``: every accepted inbound event, as the neutral event itself (JSON), kept until
it has been handled and for a while after (``RALLYBOT_JOURNAL_KEEP_HOURS``); a crash between the
acknowledgement and the handling loses nothing. ``replica``: the running processes and their
heartbeats, which share the platform's send budget and adopt the journal of a dead one.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 22:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "inbound_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("member_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("handled_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_inbound_journal_handled_at"), "inbound_journal", ["handled_at"], unique=False
    )
    op.create_index(
        op.f("ix_inbound_journal_worker_id"), "inbound_journal", ["worker_id"], unique=False
    )
    op.create_table(
        "replica",
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("heartbeat_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("replica")
    op.drop_index(op.f("ix_inbound_journal_worker_id"), table_name="inbound_journal")
    op.drop_index(op.f("ix_inbound_journal_handled_at"), table_name="inbound_journal")
    op.drop_table("inbound_journal")
