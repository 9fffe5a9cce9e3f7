"""Challenge tables: progress, completions, invitations and evidence submissions.

Each counted action is a row whose ``(challenge, ref)`` is unique (``ref`` names the event:
a message, a reaction, an answer, a join, an approved submission), so a replayed or duplicated
event never counts twice and progress is simply a count. A completion is a row keyed by the
challenge and its subject (a member or a team): whichever process inserts it awards the
points; the end-of-challenge announcement is a row too, so it is made once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime

__all__ = [
    "ChallengeClosed",
    "ChallengeDone",
    "ChallengeInvite",
    "ChallengeProgress",
    "ChallengeSubmission",
    "SubmissionState",
]


class SubmissionState(StrEnum):
    """pending -> approved or rejected (by a community manager)."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class ChallengeProgress(SQLModel, table=True):
    """One action that counts towards a challenge, once (UNIQUE challenge, ref)."""

    __tablename__ = "challenge_progress"
    __table_args__ = (
        sa.UniqueConstraint("challenge", "ref", name="uq_challenge_progress_ref"),
        sa.Index("ix_challenge_progress_subject", "challenge", "subject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    challenge: str = Field(max_length=150)  # "campaign/challenge"
    subject: str = Field(max_length=120)  # "member:<id>" or "team:<name>"
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    ref: str = Field(max_length=200)  # what was done: "post:<channel>:<message>", ...
    at: datetime = Field(sa_type=UTCDateTime)


class ChallengeDone(SQLModel, table=True):
    """A challenge completed by a member or a team (once)."""

    __tablename__ = "challenge_done"

    challenge: str = Field(primary_key=True, max_length=150)
    subject: str = Field(primary_key=True, max_length=120)
    member_id: int | None = Field(  # the member of a "member:<id>" subject (None for a team)
        default=None, foreign_key="member.id", ondelete="CASCADE", index=True
    )
    completed_at: datetime = Field(sa_type=UTCDateTime)


class ChallengeClosed(SQLModel, table=True):
    """A finished challenge whose winners were announced (once)."""

    __tablename__ = "challenge_closed"

    challenge: str = Field(primary_key=True, max_length=150)
    closed_at: datetime = Field(sa_type=UTCDateTime)
    winners: int = 0


class ChallengeInvite(SQLModel, table=True):
    """``/rallybot invite @colleague``: who invited whom; the first invitation counts."""

    __tablename__ = "challenge_invite"

    platform: str = Field(primary_key=True, max_length=16)
    invitee_user_id: str = Field(primary_key=True, max_length=64)
    inviter_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    invited_at: datetime = Field(sa_type=UTCDateTime)
    joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChallengeSubmission(SQLModel, table=True):
    """Evidence (a text or a link) submitted for a challenge, for a manager to judge.

    ``evidence_key`` names the evidence (a hash of the text, or of the files' links): the same
    evidence from the same member for the same challenge is one submission (UNIQUE), however
    often the platform or the member sends it. Submissions made before it have none."""

    __tablename__ = "challenge_submission"
    __table_args__ = (
        sa.Index("ix_challenge_submission_member", "challenge", "member_id"),
        sa.UniqueConstraint(
            "challenge", "member_id", "evidence_key", name="uq_challenge_submission_evidence"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    challenge: str = Field(max_length=150)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    text: str = Field(max_length=1000)
    state: str = Field(default=SubmissionState.pending.value, max_length=16)
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=500)  # the manager's, told the member
    evidence_key: str | None = Field(default=None, max_length=80)  # "text:<sha256>", "files:..."
