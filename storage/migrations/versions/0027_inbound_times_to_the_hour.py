"""The inbound journal and the deduplication rows date events to the hour only (issue 14).

Rows written before: ``inbound_event.received_at`` and the journal's ``received_at`` and
``handled_at`` are truncated to the hour; the journal's closed rows lose their kind (and their
event and member, in case an earlier version left them). ``inbound_event`` rows of versions
that kept the platform's event id itself (a Slack click id ends with the user id and holds the
click's time to the microsecond) get the keyed hash the bot looks for now: HMAC-SHA256 with the
server secret (``RALLYBOT_SECRET_KEY`` from the environment, else the one kept in
``bot_secret``). With no secret yet, they are deleted: the bot would never match them anyway.

Nothing to restore on downgrade: the precise times and the raw ids are gone for good.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 16:30:00.000000
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HASH_LENGTH = 64  # a hex HMAC-SHA256: what the bot writes since it hashes event ids
_PAGE = 500


def _hour(column: str) -> str:
    """SQL for ``column`` truncated to the hour (naive UTC on both backends)."""
    if op.get_bind().dialect.name == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' text: keep the date and the hour.
        return f"substr({column}, 1, 13) || ':00:00.000000'"
    return f"date_trunc('hour', {column})"


def _secret(bind: sa.Connection) -> bytes | None:
    configured = os.environ.get("RALLYBOT_SECRET_KEY", "")
    if configured:
        return configured.encode()
    stored = bind.execute(
        sa.text("SELECT value FROM bot_secret WHERE name = 'survey'")
    ).scalar_one_or_none()
    return None if stored is None else str(stored).encode()


def _hash_raw_event_ids(bind: sa.Connection) -> None:
    raw = bind.execute(
        sa.text("SELECT platform, event_id FROM inbound_event WHERE length(event_id) <> :n"),
        {"n": _HASH_LENGTH},
    ).all()
    if not raw:
        return
    secret = _secret(bind)
    for offset in range(0, len(raw), _PAGE):
        page = raw[offset : offset + _PAGE]
        if secret is None:
            bind.execute(
                sa.text("DELETE FROM inbound_event WHERE platform = :p AND event_id = :e"),
                [{"p": p, "e": e} for p, e in page],
            )
            continue
        for platform, event_id in page:
            digest = hmac.new(secret, f"{platform}:{event_id}".encode(), hashlib.sha256)
            keyed = digest.hexdigest()
            # A hashed row for the same event already there (recorded again after an
            # upgrade and a downgrade): the raw one is only a duplicate.
            bind.execute(
                sa.text(
                    "DELETE FROM inbound_event WHERE platform = :p AND event_id = :e "
                    "AND EXISTS (SELECT 1 FROM inbound_event WHERE platform = :p "
                    "AND event_id = :k)"
                ),
                {"p": platform, "e": event_id, "k": keyed},
            )
            bind.execute(
                sa.text(
                    "UPDATE inbound_event SET event_id = :k WHERE platform = :p AND event_id = :e"
                ),
                {"p": platform, "e": event_id, "k": keyed},
            )


def upgrade() -> None:
    """Hash the raw event ids left by earlier versions; truncate the kept times to the hour."""
    bind = op.get_bind()
    _hash_raw_event_ids(bind)
    op.execute(f"UPDATE inbound_event SET received_at = {_hour('received_at')}")
    op.execute(f"UPDATE inbound_journal SET received_at = {_hour('received_at')}")
    op.execute(
        f"UPDATE inbound_journal SET handled_at = {_hour('handled_at')}, kind = '', "
        "payload = '', member_key = '' WHERE handled_at IS NOT NULL"
    )


def downgrade() -> None:
    """Nothing to undo: the precise times and raw ids are not kept anywhere."""
