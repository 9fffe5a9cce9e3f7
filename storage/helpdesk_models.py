"""Help desk tables: one ticket per question asked in the help channel (or privately).

Privacy: a ticket keeps who asked, who answered first, who solved it and when; of the question
itself only a short excerpt (for ``/rallybot helpdesk``), erased as soon as the ticket closes.
No reply text is stored. The asker and helpers are foreign keys that become empty when a
member is forgotten, so response and resolution times stay right in the indicators.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime, _now

__all__ = ["HelpTicket", "TicketState"]


class TicketState(StrEnum):
    """open -> answered -> solved; stale after a long silence; closed when the question goes."""

    open = "open"
    answered = "answered"
    solved = "solved"
    stale = "stale"
    closed = "closed"


class HelpTicket(SQLModel, table=True):
    """A question and what happened to it."""

    __tablename__ = "help_ticket"
    __table_args__ = (
        sa.UniqueConstraint("platform", "channel_id", "message_id", name="uq_help_ticket_message"),
        sa.Index("ix_help_ticket_state_opened", "state", "opened_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    channel_id: str = Field(max_length=64)  # the help channel, or the asker's DM (private)
    message_id: str = Field(max_length=64)  # the question: the thread root
    private: bool = False
    asker_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL", index=True
    )
    locale: str | None = Field(default=None, max_length=16)
    excerpt: str = Field(default="", max_length=120)  # erased when the ticket closes
    state: str = Field(default=TicketState.open.value, max_length=16)
    resolution: str | None = Field(default=None, max_length=16)  # solved, faq, stale, deleted
    reply_id: str | None = Field(default=None, max_length=64, index=True)  # the bot's reply
    last_reply_id: str | None = Field(default=None, max_length=64, index=True)
    suggestions: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # FAQ keys shown
    opened_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    last_activity_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_responder_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL"
    )
    last_replier_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    solved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    solved_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    credited_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
