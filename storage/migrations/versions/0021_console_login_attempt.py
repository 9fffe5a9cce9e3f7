"""``console_login_attempt``: the console's login rate limit, shared by every process.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "console_login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attempted_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_login_attempt")),
    )
    op.create_index(
        "ix_console_login_attempt_client_key_at",
        "console_login_attempt",
        ["client_key", "attempted_at"],
        unique=False,
    )
    op.create_index(
        "ix_console_login_attempt_attempted_at",
        "console_login_attempt",
        ["attempted_at"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_console_login_attempt_attempted_at", table_name="console_login_attempt")
    op.drop_index("ix_console_login_attempt_client_key_at", table_name="console_login_attempt")
    op.drop_table("console_login_attempt")
