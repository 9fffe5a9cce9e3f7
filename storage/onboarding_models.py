"""Onboarding tables: one journey per member and campaign, and the tasks they have done.

A task done is a row (its primary key makes it happen once, whichever process sees it first);
the journey row records when it started and finished, the charter acceptance time, the buddy
and the escalation, each set once with a guarded UPDATE so replicas never celebrate twice.
How many nudges went out on a day is read from the outbox itself.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from rallybot.storage.models import UTCDateTime

__all__ = ["JourneyState", "JourneyTask"]


class JourneyState(SQLModel, table=True):
    """A member's onboarding journey of one campaign."""

    __tablename__ = "onboarding_journey"
    __table_args__ = (sa.Index("ix_onboarding_journey_open", "completed_at", "escalated_at"),)

    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")
    campaign_id: str = Field(primary_key=True, max_length=100)
    started_at: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    charter_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    buddy_user_id: str | None = Field(default=None, max_length=64, index=True)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JourneyTask(SQLModel, table=True):
    """An onboarding task a member has done (once)."""

    __tablename__ = "onboarding_task"

    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")
    campaign_id: str = Field(primary_key=True, max_length=100)
    task_id: str = Field(primary_key=True, max_length=40)
    done_at: datetime = Field(sa_type=UTCDateTime)
    how: str = Field(default="detected", max_length=16)  # detected, button
