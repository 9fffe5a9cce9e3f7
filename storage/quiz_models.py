"""Quiz tables: a run (a live quiz, a self-paced quiz, a question of the day) and its answers.

A run keeps all its state in the database (the questions asked, the current one, when its
answer window closes), so any process picks it up on its next tick, and a restart resumes it
where it stopped. One answer per member per question is a UNIQUE constraint.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime, _now

__all__ = ["QuizAnswer", "QuizMode", "QuizRun", "QuizState"]


class QuizMode(StrEnum):
    """How a quiz is played."""

    live = "live"
    self_paced = "self-paced"
    daily = "daily"


class QuizState(StrEnum):
    """The life of a run: asking (a question is open) -> finished."""

    asking = "asking"
    finished = "finished"


class QuizRun(SQLModel, table=True):
    """One playing of a bank: in a channel (live, daily) or with one member (self-paced)."""

    __tablename__ = "quiz_run"
    __table_args__ = (
        sa.UniqueConstraint("key", name="uq_quiz_run_key"),
        sa.Index("ix_quiz_run_state_deadline", "state", "deadline"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)  # "campaign/step/occurrence", or "self:<member>:<n>"
    series: str = Field(default="", max_length=200, index=True)  # "campaign/step" (daily order)
    bank_id: str = Field(max_length=100)
    mode: str = Field(max_length=16)
    platform: str = Field(max_length=16)
    channel_id: str | None = Field(default=None, max_length=64)  # live and daily runs
    member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="CASCADE", index=True
    )  # self-paced runs
    campaign_id: str | None = Field(default=None, max_length=100)
    locale: str = Field(default="fr", max_length=16)
    questions: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # question ids, in order
    current: int = 0  # index in ``questions`` of the question being asked
    state: str = Field(default=QuizState.asking.value, max_length=16)
    window_seconds: int = 30
    asked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    messages: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # index -> message id
    started_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QuizAnswer(SQLModel, table=True):
    """A member's answer to one question of a run: at most one (UNIQUE).

    A free-text answer keeps the message that gave it (``message_ref``, UNIQUE per member): a
    message replayed by the platform after the quiz moved on answers nothing else."""

    __tablename__ = "quiz_answer"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "question_id", "member_id", name="uq_quiz_answer_once"),
        sa.UniqueConstraint("member_id", "message_ref", name="uq_quiz_answer_message"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="quiz_run.id", ondelete="CASCADE")
    question_id: str = Field(max_length=100)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    answer: str = Field(default="", max_length=500)  # choice indexes "0,2", or the text given
    correct: bool = False
    final: bool = True  # False while a multiple-choice selection is still being made
    answered_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    points: int = 0
    message_ref: str | None = Field(default=None, max_length=200)  # "platform:channel:msg:time"
