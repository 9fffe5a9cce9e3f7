"""``delivery_hour``: outbox rows counted per UTC hour, campaign and step, kept by triggers.

The console's month calendar counted a month's deliveries at each request: with a million
rows, 443,200 in a month, an index-only scan and a hash aggregate of every one (150 ms on
PostgreSQL, more under load). This table holds the same counts already grouped (one row per
hour, campaign and step that has messages), so the month is a few hundred rows.

The database keeps it, not the application: deliveries are written by the outbox, the planner,
the features and the console, and a count one of them forgot would be wrong for good. Triggers
add on insert, take away on delete, and move a row when its ``due_at`` hour, campaign or step
changes (a retry, a wave hold). The status is not counted: the send path (claim, sent, failed,
cancel) never touches the table, so concurrent senders never wait on a shared counter.

PostgreSQL counts inserts and deletes once per statement (a bulk insert adds one row per hour
and step, not one per delivery), in key order so that two statements take the counters' locks
in the same order. SQLite counts row by row (one writer at a time: nothing waits there).
Existing rows are counted once here.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 15:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rallybot.storage.models

# revision identifiers, used by Alembic.
revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UPSERT = (
    " ON CONFLICT (hour, campaign_id, step_id)"
    " DO UPDATE SET count = delivery_hour.count + excluded.count"
)

POSTGRESQL = [
    # Inserts and deletes: one aggregated change per statement, taken in key order.
    f"""
    CREATE FUNCTION delivery_hour_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO delivery_hour (hour, campaign_id, step_id, count)
        SELECT date_trunc('hour', due_at), campaign_id, step_id, count(*)
        FROM delivery_hour_new GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        {_UPSERT};
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION delivery_hour_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO delivery_hour (hour, campaign_id, step_id, count)
        SELECT date_trunc('hour', due_at), campaign_id, step_id, -count(*)
        FROM delivery_hour_old GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        {_UPSERT};
        RETURN NULL;
    END $$
    """,
    # A row that moves to another hour, campaign or step: the smaller key first, so that two
    # moves between the same two counters cannot wait on each other.
    f"""
    CREATE FUNCTION delivery_hour_move() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO delivery_hour (hour, campaign_id, step_id, count)
        SELECT hour, campaign_id, step_id, count FROM (VALUES
            (date_trunc('hour', OLD.due_at), OLD.campaign_id, OLD.step_id, -1),
            (date_trunc('hour', NEW.due_at), NEW.campaign_id, NEW.step_id, 1)
        ) AS change (hour, campaign_id, step_id, count)
        ORDER BY 1, 2, 3
        {_UPSERT};
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER delivery_hour_insert AFTER INSERT ON delivery"
    " REFERENCING NEW TABLE AS delivery_hour_new"
    " FOR EACH STATEMENT EXECUTE FUNCTION delivery_hour_insert()",
    "CREATE TRIGGER delivery_hour_delete AFTER DELETE ON delivery"
    " REFERENCING OLD TABLE AS delivery_hour_old"
    " FOR EACH STATEMENT EXECUTE FUNCTION delivery_hour_delete()",
    # Only updates that set one of these columns are looked at, and only real moves counted:
    # a status change costs nothing here.
    "CREATE TRIGGER delivery_hour_move AFTER UPDATE OF due_at, campaign_id, step_id ON delivery"
    " FOR EACH ROW WHEN (date_trunc('hour', OLD.due_at) IS DISTINCT FROM"
    " date_trunc('hour', NEW.due_at) OR OLD.campaign_id IS DISTINCT FROM NEW.campaign_id"
    " OR OLD.step_id IS DISTINCT FROM NEW.step_id)"
    " EXECUTE FUNCTION delivery_hour_move()",
    "INSERT INTO delivery_hour (hour, campaign_id, step_id, count)"
    " SELECT date_trunc('hour', due_at), campaign_id, step_id, count(*) FROM delivery"
    " GROUP BY 1, 2, 3",
]

# SQLite keeps times as "YYYY-MM-DD HH:MM:SS.ffffff" text: the hour is written the same way
# (strftime also reads a "T" between day and time, so every row lands on its hour).
_HOUR = "strftime('%Y-%m-%d %H:00:00.000000', {})"
_SQLITE_ADD = (
    "INSERT INTO delivery_hour (hour, campaign_id, step_id, count)"
    " VALUES (" + _HOUR.format("NEW.due_at") + ", NEW.campaign_id, NEW.step_id, 1)" + _UPSERT + ";"
)
_SQLITE_REMOVE = (
    "INSERT INTO delivery_hour (hour, campaign_id, step_id, count)"
    " VALUES (" + _HOUR.format("OLD.due_at") + ", OLD.campaign_id, OLD.step_id, -1)" + _UPSERT + ";"
)
SQLITE = [
    f"CREATE TRIGGER delivery_hour_insert AFTER INSERT ON delivery BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER delivery_hour_delete AFTER DELETE ON delivery BEGIN {_SQLITE_REMOVE} END",
    "CREATE TRIGGER delivery_hour_move AFTER UPDATE OF due_at, campaign_id, step_id ON delivery"
    " WHEN " + _HOUR.format("OLD.due_at") + " IS NOT " + _HOUR.format("NEW.due_at") + ""
    " OR OLD.campaign_id IS NOT NEW.campaign_id OR OLD.step_id IS NOT NEW.step_id"
    f" BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
    "INSERT INTO delivery_hour (hour, campaign_id, step_id, count)"
    " SELECT " + _HOUR.format("due_at") + ", campaign_id, step_id, count(*) FROM delivery"
    " GROUP BY 1, 2, 3",
]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "delivery_hour",
        sa.Column("hour", rallybot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "campaign_id", "step_id", name=op.f("pk_delivery_hour")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("delivery_hour_insert", "delivery_hour_delete", "delivery_hour_move"):
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON delivery")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("delivery_hour")
