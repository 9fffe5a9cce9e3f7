"""Where a member's team came from: ``member.team_source`` ("roster" or "group").

Existing rows are left NULL (the team groups are a setting, unknown here): the team sync
applies its former rule to them (an empty team, or one named like a team group, follows the
groups; any other team is kept) and marks what it writes "group".

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 20:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        "member",
        sa.Column("team_source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("member") as batch:
        batch.drop_column("team_source")
