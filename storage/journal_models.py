"""Tables of the inbound journal and of the replica registry (see :mod:`bot.journal` and
:mod:`bot.budget`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime

__all__ = ["InboundJournal", "Replica"]


class InboundJournal(SQLModel, table=True):
    """An accepted inbound event, recorded before the platform was told so.

    ``payload`` is the neutral event as JSON (see :mod:`bot.journal`); ``handled_at`` is set once
    the features have handled it. ``worker_id`` is the process that handles it: the recorder,
    or the replica that adopted it after the recorder died. Times are kept to the hour; a
    handled row keeps nothing else of its event (see :mod:`storage.journal`). Purged some hours
    after handling.
    """

    __tablename__ = "inbound_journal"

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    kind: str = Field(max_length=32)
    member_key: str = Field(max_length=200)
    worker_id: str = Field(max_length=128, index=True)
    payload: str = Field(sa_type=sa.Text)
    received_at: datetime = Field(sa_type=UTCDateTime)
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    attempts: int = 0


class Replica(SQLModel, table=True):
    """A running bot process: its heartbeat shares the send budget and keeps its journal.

    Times are Unix seconds from the process's own clock (replicas need synchronised clocks,
    as the delivery leases already do)."""

    __tablename__ = "replica"

    worker_id: str = Field(primary_key=True, max_length=128)
    platform: str = Field(max_length=16)
    started_at: float
    heartbeat_at: float
