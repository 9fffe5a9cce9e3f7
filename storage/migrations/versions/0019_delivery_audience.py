"""``audience`` and ``audience_member``: who could see a channel post when it was sent
(``delivery.audience_id``), so that reach counts against the post's own audience.

Posts sent before this revision get the channel's membership known now (the best there is),
one shared audience per channel.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 03:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audience")),
    )
    op.create_index("ix_audience_channel", "audience", ["platform", "channel_id", "id"])
    op.create_table(
        "audience_member",
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audience.id"],
            name=op.f("fk_audience_member_audience_id_audience"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_audience_member_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audience_id", "member_id", name=op.f("pk_audience_member")),
    )
    op.add_column("delivery", sa.Column("audience_id", sa.Integer(), nullable=True))
    _backfill()


def _backfill() -> None:
    """One audience per channel that has sent posts: its members as known now."""
    bind = op.get_bind()
    channels = bind.execute(
        sa.text(
            "SELECT DISTINCT cm.platform, cm.channel_id FROM channel_member cm "
            "WHERE cm.channel_id IN (SELECT d.platform_channel_id FROM delivery d "
            "WHERE d.status = 'sent' AND d.recipient LIKE 'channel:%') "
            "ORDER BY cm.platform, cm.channel_id"
        )
    ).all()
    done: set[str] = set()
    now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC (UTCDateTime)
    for platform, channel in channels:
        if channel in done:  # the same id on two platforms: the first one
            continue
        done.add(channel)
        where = {"platform": platform, "channel": channel}
        size = bind.execute(
            sa.text(
                "SELECT count(*) FROM channel_member WHERE platform = :platform "
                "AND channel_id = :channel"
            ),
            where,
        ).scalar_one()
        audience_id = bind.execute(
            sa.text(
                "INSERT INTO audience (platform, channel_id, size, created_at) "
                "VALUES (:platform, :channel, :size, :now) RETURNING id"
            ),
            {**where, "size": size, "now": now},
        ).scalar_one()
        bind.execute(
            sa.text(
                "INSERT INTO audience_member (audience_id, member_id) SELECT :audience, "
                "member_id FROM channel_member WHERE platform = :platform "
                "AND channel_id = :channel"
            ),
            {**where, "audience": audience_id},
        )
        bind.execute(
            sa.text(
                "UPDATE delivery SET audience_id = :audience WHERE platform_channel_id = :channel "
                "AND status = 'sent' AND recipient LIKE 'channel:%'"
            ),
            {"audience": audience_id, "channel": channel},
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("audience_id")
    op.drop_table("audience_member")
    op.drop_index("ix_audience_channel", table_name="audience")
    op.drop_table("audience")
