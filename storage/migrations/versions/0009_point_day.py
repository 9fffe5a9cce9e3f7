"""Points per member and UTC day (for the 7- and 30-day leaderboards), back-filled from the
ledger; the ``member.forgotten`` flag that leaves forgotten people out of leaderboards.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        "member",
        sa.Column("forgotten", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(op.f("ix_member_forgotten"), "member", ["forgotten"])
    member = sa.table(
        "member", sa.column("forgotten", sa.Boolean()), sa.column("platform_user_id", sa.String())
    )
    op.execute(
        member.update()
        .where(member.c.platform_user_id.like("forgotten-%"))  # bot.privacy.FORGOTTEN_PREFIX
        .values(forgotten=True)
    )

    op.create_table(
        "point_day",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("last_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_point_day_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "day", name=op.f("pk_point_day")),
    )
    op.create_index("ix_point_day_window", "point_day", ["day", "member_id", "points", "last_at"])
    # The UTC day of each entry (created_at is stored as naive UTC on both backends).
    day = (
        "CAST(created_at AS DATE)"
        if op.get_bind().dialect.name == "postgresql"
        else ("date(created_at)")
    )
    op.execute(
        "INSERT INTO point_day (member_id, day, points, last_at) "
        f"SELECT member_id, {day}, SUM(amount), MAX(created_at) FROM point_entry "
        f"WHERE amount <> 0 GROUP BY member_id, {day}"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_point_day_window", table_name="point_day")
    op.drop_table("point_day")
    op.drop_index(op.f("ix_member_forgotten"), table_name="member")
    with op.batch_alter_table("member") as batch:
        batch.drop_column("forgotten")
