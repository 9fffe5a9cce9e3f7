"""What the indicators need that no other table records: who did what, when, on which message.

:class:`InboundEvent` keeps only an event's id (for de-duplication), so it cannot tell who was
active or who reacted to a campaign post. :class:`Activity` is one row per inbound event from a
person (never a bot, never a member who opted out), written by :mod:`handlers.stats`:

- ``message``: a top-level post in a channel; ``reply``: a message in a thread
  (``target_message_id`` is the thread's parent message); ``direct``: a message to the bot;
- ``reaction``: a reaction added (``target_message_id`` is the message reacted to);
- ``button``: a button pressed; ``command``: a ``/rallybot`` command.

It stores no text. The member's row is referenced with ``ON DELETE CASCADE``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime

__all__ = ["POST_KINDS", "Activity", "ActivityKind", "week_of"]


class ActivityKind(StrEnum):
    """What a member did."""

    message = "message"
    reply = "reply"
    direct = "direct"
    reaction = "reaction"
    button = "button"
    command = "command"


POST_KINDS = (ActivityKind.message.value, ActivityKind.reply.value)
"""The kinds that count as a post (the funnel's "first post")."""


class Activity(SQLModel, table=True):
    """One thing a member did on the platform (see the module docstring)."""

    __tablename__ = "activity"
    __table_args__ = (
        # Weekly actives: the distinct (week, member) pairs come straight from this index, in
        # order, without reading the table or computing a date per row.
        sa.Index("ix_activity_week_member", "week", "member_id", "occurred_at"),
        # Active in a period, first post: one seek per member.
        sa.Index("ix_activity_member_occurred", "member_id", "occurred_at", "kind"),
        # Reach of a campaign post: the reactions and replies to one message, index only.
        sa.Index(
            "ix_activity_target",
            "target_message_id",
            "channel_id",
            "kind",
            "member_id",
            "occurred_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    kind: str = Field(max_length=16)
    channel_id: str | None = Field(default=None, max_length=64)
    target_message_id: str | None = Field(default=None, max_length=64)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    week: int  # weeks since Monday 1970-01-05 (UTC) of ``occurred_at``: see :func:`week_of`


_EPOCH_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)


def week_of(moment: datetime) -> int:
    """The week number stored in :attr:`Activity.week` (weeks start on Monday, UTC)."""
    return (moment.astimezone(UTC) - _EPOCH_MONDAY).days // 7
