"""Survey tables: a survey's definition, its answers, who has answered, and unfinished drafts.

Anonymity is a property of the schema, not of the code that reads it:

- :class:`SurveyAnswer` holds what was answered. For an anonymous survey ``member_id`` is NULL;
  its id is random (not an insertion sequence) and it carries only the day it was given, and
  the respondent's cohort and team (shown only for groups of at least
  :data:`MIN_GROUP` responses), so the answers of a group can be read together through
  ``response_id`` (random, one per response) but never tied back to a person.
- :class:`SurveyResponder` says who has answered which survey, and nothing else: no answer
  id, no response id, no time. It is what refuses a second answer.
- :class:`SurveyDraft` holds the answers of a member who is still answering; it is deleted
  in the transaction that writes the answers and the responder record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime, _now

__all__ = [
    "MIN_GROUP",
    "QUESTION_KINDS",
    "Survey",
    "SurveyAnswer",
    "SurveyDraft",
    "SurveyResponder",
]

QUESTION_KINDS = ("rating", "nps", "single", "multiple", "text")
"""rating: 1-5; nps: 0-10; single and multiple: choice indexes; text: free text."""

MIN_GROUP = 5
"""Results broken down by cohort or team show only groups with at least this many responses."""


class Survey(SQLModel, table=True):
    """A survey as declared by a campaign step (``id`` is ``campaign/step``).

    ``key`` is a short stable hash of the id, used in button values (Discord's custom ids
    hold 100 characters). ``questions`` is the list of questions as plain data:
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


class SurveyAnswer(SQLModel, table=True):
    """One answer to one question. ``member_id`` is NULL in an anonymous survey.

    ``value``: the rating (1-5), the NPS score (0-10) or the choice index (single);
    ``choices``: the choice indexes (multiple); ``text``: free text. ``skipped`` marks an
    optional question left out.
    """

    __tablename__ = "survey_answer"
    __table_args__ = (sa.Index("ix_survey_answer_survey_question", "survey_id", "question_id"),)

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
    answered_on: date = Field(sa_type=sa.Date)
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
    """The answers of a member still answering (deleted when they finish, or after expiry)."""

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
