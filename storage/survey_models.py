"""Survey tables: a survey's definition (one row per round), its answers, who has answered,
drafts, and the server secret that keys the survey buttons.

Anonymity is a property of the stored data (see ``docs/explanation/privacy.md``):

- :class:`SurveyAnswer` holds what was answered. For an anonymous survey ``member_id`` is NULL,
  the answers are written in a transaction of their own, in batches of at least
  :data:`MIN_GROUP` responses (or when the round closes), in shuffled order, with random ids,
  the day of the batch, and a cohort or team only when every group of the batch has at least
  :data:`MIN_GROUP` responses. On SQLite the table has no rowid (``WITHOUT ROWID``): rows are
  stored in the order of their random ids.
- :class:`SurveyResponder` says who has answered which survey round, and nothing else: no
  answer id, no response id, no time. It is what refuses a second answer.
- :class:`SurveyDraft` holds the answers of a member still answering, and of an anonymous
  response waiting for its batch (``finished``); it is deleted when the batch is written.
- A recurring survey step (``every:``) has one :class:`Survey` row per round (occurrence), with
  its own key: ``id`` is ``campaign/step@round``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.anonymity import MIN_GROUP  # its home; still importable from here
from rallybot.storage.models import UTCDateTime, _now

__all__ = [
    "MIN_GROUP",
    "ONCE",
    "QUESTION_KINDS",
    "BotSecret",
    "ErasedIdentity",
    "ErasureAudit",
    "Survey",
    "SurveyAnswer",
    "SurveyDraft",
    "SurveyResponder",
]

QUESTION_KINDS = ("rating", "nps", "single", "multiple", "text")
"""rating: 1-5; nps: 0-10; single and multiple: choice indexes; text: free text."""


ONCE = "once"
"""The round of a survey step that is not recurring (the planner's occurrence of such steps)."""


class Survey(SQLModel, table=True):
    """A survey as declared by a campaign step (``id`` is ``campaign/step``).

    ``key`` is a keyed hash of the id (HMAC-SHA-256 with the server secret, 16 hex
    characters), used in button values: nobody can compute it without the secret.
    A recurring step has a row with ``round`` "" (the definition, no answers) and a row per
    round (``id`` ``campaign/step@round``, ``round`` the occurrence's date), created at the
    first click; ``closes_at`` ends a round's answers, ``closed_at`` says it was closed.
    ``questions`` is the list of questions as plain data:
    ``{"id", "kind", "text": {locale: text}, "choices": [{locale: text}], "optional"}``.
    """

    __tablename__ = "survey"

    id: str = Field(primary_key=True, max_length=201)
    key: str = Field(max_length=16, unique=True)
    campaign_id: str = Field(max_length=100, index=True)
    step_id: str = Field(max_length=100)
    title: str = Field(default="", max_length=300)
    anonymous: bool = False
    locale: str = Field(default="fr", max_length=16)
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    round: str = Field(default="", max_length=16)  # "" one-off or definition; else a date
    opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SurveyAnswer(SQLModel, table=True):
    """One answer to one question. ``member_id`` is NULL in an anonymous survey.

    ``value``: the rating (1-5), the NPS score (0-10) or the choice index (single);
    ``choices``: the choice indexes (multiple); ``text``: free text. ``skipped`` marks an
    optional question left out.
    """

    __tablename__ = "survey_answer"
    __table_args__ = (
        sa.Index("ix_survey_answer_survey_question", "survey_id", "question_id"),
        # Stored in the order of the random primary key, not of insertion.
        {"sqlite_with_rowid": False},
    )

    id: str = Field(primary_key=True, max_length=32)  # random (uuid4 hex), not a sequence
    survey_id: str = Field(foreign_key="survey.id", ondelete="CASCADE", max_length=201)
    response_id: str = Field(max_length=32, index=True)  # random, shared by one response
    question_id: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    value: int | None = None
    choices: list[int] | None = Field(default=None, sa_type=sa.JSON)
    text: str | None = Field(default=None, max_length=2000)
    skipped: bool = False
    cohort: str | None = Field(default=None, max_length=100)
    team: str | None = Field(default=None, max_length=100)
    answered_on: date = Field(sa_type=sa.Date)  # anonymous: the day of the batch
    member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="CASCADE", index=True
    )  # NULL when the survey is anonymous


class SurveyResponder(SQLModel, table=True):
    """Who has answered which survey: the pair only, so it cannot be joined to the answers."""

    __tablename__ = "survey_responder"

    survey_id: str = Field(
        primary_key=True, foreign_key="survey.id", ondelete="CASCADE", max_length=201
    )
    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")


class SurveyDraft(SQLModel, table=True):
    """The answers of a member still answering (deleted when they finish, or after expiry);
    in an anonymous survey, a finished response waits here for its batch (``finished``)."""

    __tablename__ = "survey_draft"

    survey_id: str = Field(
        primary_key=True, foreign_key="survey.id", ondelete="CASCADE", max_length=201
    )
    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")
    current: int = 0  # index of the question being asked
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    selection: list[int] = Field(default_factory=list, sa_type=sa.JSON)  # multiple, in progress
    locale: str = Field(default="fr", max_length=16)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, index=True)
    finished: bool = False


class ErasureAudit(SQLModel, table=True):
    """An erasure someone else asked for (a community manager, the command line, the roster
    retention): who and when, never whom."""

    __tablename__ = "erasure_audit"

    id: int | None = Field(default=None, primary_key=True)
    requested_by: str = Field(max_length=200)  # "slack:U1" (a manager), "cli", "roster"
    via: str = Field(max_length=16)  # "chat", "cli", "roster"
    erased_at: datetime = Field(sa_type=UTCDateTime)


class ErasedIdentity(SQLModel, table=True):
    """What is kept of a person erased on request, so that a roster never brings them back: a
    keyed digest of each identifier (``platform:id``, the normalised e-mail), never the
    identifier itself, and nothing else (no time, no link to the erasure's audit)."""

    __tablename__ = "erased_identity"

    digest: str = Field(primary_key=True, max_length=64)  # HMAC-SHA-256, hex (storage.erased)


class BotSecret(SQLModel, table=True):
    """A secret generated on first use when the setting does not give one (a fresh install
    works without configuration). ``survey`` keys the survey and poll buttons."""

    __tablename__ = "bot_secret"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
