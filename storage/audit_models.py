"""The audit log: what community managers did from chat (and later the web console).

One row per action: who (their platform user key), what (the action and its target: a
campaign and step, an audience), when. Never a message's text. When a manager is forgotten,
their key is replaced (see :mod:`rallybot.handlers.privacy.personal_data`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime, _now

__all__ = ["AuditEntry"]


class AuditEntry(SQLModel, table=True):
    """One action of a community manager."""

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    actor: str = Field(max_length=200)  # "slack:U0123": the manager's platform user key
    action: str = Field(max_length=40)  # "send", "skip", "preview"...
    target: str = Field(max_length=300)  # "campaign/step", with the audience or member
