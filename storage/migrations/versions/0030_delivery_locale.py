"""``delivery.locale``: the language a message is written in, in a column of its own.

The console's timeline filters by language. It read each sent message's language from its
payload (``message.metadata.locale``): a language few messages are written in meant reading
every message's payload (372 ms at 1,000,000 deliveries). The column, filled from the payload
here and by ``storage.outbox.insert_deliveries`` from now on, is indexed with the time order
the timeline pages in.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 02:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        "delivery",
        sa.Column("locale", sa.String(length=35), nullable=False, server_default=""),
    )
    # Only a text (a hand-edited payload could hold anything) of the column's length.
    if op.get_bind().dialect.name == "postgresql":
        read = "payload -> 'message' -> 'metadata' ->> 'locale'"
        text = "json_typeof(payload -> 'message' -> 'metadata' -> 'locale') = 'string'"
    else:
        read = "json_extract(payload, '$.message.metadata.locale')"
        text = "json_type(payload, '$.message.metadata.locale') = 'text'"
    op.execute(
        f"UPDATE delivery SET locale = {read} WHERE {text} AND length({read}) BETWEEN 1 AND 35"
    )
    op.create_index("ix_delivery_locale_due", "delivery", ["locale", "due_at", "id"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_delivery_locale_due", table_name="delivery")
    op.drop_column("delivery", "locale")
