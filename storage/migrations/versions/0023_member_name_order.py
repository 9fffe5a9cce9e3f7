"""``member``: an index on the lower-cased name and id, the order of the console's members
page (PostgreSQL sorted every member at each request: 61 ms of the page with 100,000).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        "ix_member_name_order",
        "member",
        [sa.text("lower(coalesce(display_name, ''))"), "id"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_member_name_order", table_name="member")
