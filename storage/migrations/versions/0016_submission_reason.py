"""``challenge_submission.reason``: why a community manager approved or rejected evidence
(the console asks for it; the member is told).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 03:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("challenge_submission") as batch:
        batch.add_column(
            sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("challenge_submission") as batch:
        batch.drop_column("reason")
