"""``delivery``: an index on ``(due_at, id)`` for the console's timeline (keyset paging).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 03:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_delivery_due_id", "delivery", ["due_at", "id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_delivery_due_id", table_name="delivery")
