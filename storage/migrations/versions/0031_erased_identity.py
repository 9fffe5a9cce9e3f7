"""``erased_identity``: keyed digests of the people erased on request.

A roster imported again (at each start, from the command line or the console) brought an erased
person back with their e-mail, team and cohort, counted twice in the indicators. Erasure now
keeps, for each of the person's identifiers, a keyed one-way digest (``storage.erased``), and
a roster import skips the rows it recognises. People erased before this version left no digest:
nothing here can recognise them.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 05:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0031"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "erased_identity",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("erased_identity")
