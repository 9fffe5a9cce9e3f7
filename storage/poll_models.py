"""Poll tables (the polls feature, ``handlers/polls``): a poll, the votes of named polls, and
for anonymous polls who voted, the ballots waiting for their batch and the ballots.

Anonymity is a property of the stored data, as for surveys (``docs/explanation/privacy.md``):

- :class:`PollBallot` holds an anonymous ballot: its choices and nothing else (no member, no
  time, a random id). Ballots are written in batches of at least :data:`MIN_GROUP` (or when
  the poll closes, together with the earlier ones rewritten), shuffled, in a transaction of
  their own. On SQLite the table has no rowid: rows are stored in the order of their ids.
- :class:`PollVoter` says who voted in which anonymous poll, and nothing else: it refuses a
  second vote.
- :class:`PollDraft` holds a member's choices until they are cast (multiple choice) and a cast
  ballot waiting for its batch (``cast``); it is deleted when the batch is written.
- :class:`PollVote` holds the votes of a named poll: one row per member and choice, changed
  by a click (single choice replaces, multiple choice toggles).

Each table declares its privacy entry in its ``info`` (see :mod:`handlers.privacy.personal_data`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime, _now
from rallybot.storage.survey_models import MIN_GROUP

__all__ = ["MIN_GROUP", "Poll", "PollBallot", "PollDraft", "PollVote", "PollVoter"]

_KEEP = "until the member is forgotten (then moved to an anonymous row or deleted)"


def _member_rows(why: str, keep: str = _KEEP) -> dict[str, Any]:
    """The ``__table_args__`` of a table whose rows name a member by ``member_id``: its
    privacy entry, with why the rows are kept and for how long (the record of processing)."""
    entry = {"member_columns": ("member_id",), "why": why, "keep": keep}
    return {"info": {"personal_data": entry}}


class Poll(SQLModel, table=True):
    """A poll: from a campaign step (``id`` ``campaign/step``) or started by a community
    manager with ``/rallybot poll`` (``id`` ``now/<random>``, ``campaign_id`` empty).

    ``key``: HMAC-SHA-256 of the id with the server secret (16 hex characters), in the
    buttons' values. ``question`` is ``{locale: text}``, ``choices`` a list of them.
    ``channel_id``: where the results go (a campaign poll's is found from its sent post).
    """

    __tablename__ = "poll"
    __table_args__ = {"info": {"not_personal": "polls: a question, its choices, where, until when"}}

    id: str = Field(primary_key=True, max_length=201)
    key: str = Field(max_length=16, unique=True)
    campaign_id: str = Field(default="", max_length=100, index=True)
    step_id: str = Field(default="", max_length=100)
    question: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    choices: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)
    multiple: bool = False
    anonymous: bool = False
    locale: str = Field(default="en", max_length=16)
    channel_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PollVote(SQLModel, table=True):
    """A vote in a named poll: ``member_id`` chose ``choice`` (an index)."""

    __tablename__ = "poll_vote"
    __table_args__ = _member_rows("votes in named polls (who chose what)")

    poll_id: str = Field(
        primary_key=True, foreign_key="poll.id", ondelete="CASCADE", max_length=201
    )
    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")
    choice: int = Field(primary_key=True)


class PollVoter(SQLModel, table=True):
    """Who voted in an anonymous poll: the pair only, so it cannot be joined to a ballot."""

    __tablename__ = "poll_voter"
    __table_args__ = _member_rows(
        "who voted in an anonymous poll (not what): refuses a second vote"
    )

    poll_id: str = Field(
        primary_key=True, foreign_key="poll.id", ondelete="CASCADE", max_length=201
    )
    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")


class PollDraft(SQLModel, table=True):
    """A member's choices in an anonymous poll before they are cast, or a cast ballot waiting
    for its batch (``cast``)."""

    __tablename__ = "poll_draft"
    __table_args__ = _member_rows(
        "anonymous poll choices not yet cast, or waiting for their batch",
        keep="until the ballot is written (a batch of 5, or the poll's close)",
    )

    poll_id: str = Field(
        primary_key=True, foreign_key="poll.id", ondelete="CASCADE", max_length=201
    )
    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")
    choices: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    cast: bool = False


class PollBallot(SQLModel, table=True):
    """An anonymous ballot: the choices (indexes), a random id, the poll; nothing else."""

    __tablename__ = "poll_ballot"
    __table_args__ = (
        # Stored in the order of the random primary key, not of insertion.
        {"sqlite_with_rowid": False, "info": {"not_personal": "anonymous ballots: no person"}},
    )

    id: str = Field(primary_key=True, max_length=32)  # random (uuid4 hex), not a sequence
    poll_id: str = Field(foreign_key="poll.id", ondelete="CASCADE", max_length=201, index=True)
    choices: list[int] = Field(default_factory=list, sa_type=sa.JSON)
