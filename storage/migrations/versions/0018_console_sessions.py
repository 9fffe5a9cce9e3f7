"""``console_session`` and ``console_sign_in``: the web console's sessions and pending sign-ins.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 03:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "console_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("csrf_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_session_token_hash")),
    )
    op.create_index(
        "ix_console_session_expires_at", "console_session", ["expires_at"], unique=False
    )
    op.create_table(
        "console_sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("verifier", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("created_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", rallybot.storage.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sign_in")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sign_in_token_hash")),
    )
    op.create_index(
        "ix_console_sign_in_expires_at", "console_sign_in", ["expires_at"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_console_sign_in_expires_at", table_name="console_sign_in")
    op.drop_table("console_sign_in")
    op.drop_index("ix_console_session_expires_at", table_name="console_session")
    op.drop_table("console_session")
