"""SQLModel tables. Every datetime is stored as naive UTC and read back timezone-aware."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

__all__ = [
    "ALL_TIME",
    "Audience",
    "AudienceMember",
    "BadgeAward",
    "CampaignState",
    "CampaignStatus",
    "ChannelMember",
    "ControlFlag",
    "Delivery",
    "DeliveryHour",
    "DeliveryStatus",
    "InboundEvent",
    "Member",
    "PointDay",
    "PointEntry",
    "PointTotal",
    "RosterImport",
    "Season",
    "TeamSource",
    "UTCDateTime",
    "table_of",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC on every backend and returned aware (UTC)."""

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: attach a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# Every constraint gets a predictable name, so that later migrations can drop or alter it (SQLite
# batch migrations rebuild tables and must name what they change).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _now() -> datetime:
    return datetime.now(UTC)


class TeamSource(StrEnum):
    """Where a member's team came from (``member.team_source``; NULL: unknown, set before
    migration 0010 or by other means)."""

    roster = "roster"
    group = "group"


class Member(SQLModel, table=True):
    """A person the bot knows on one platform (from the platform or an imported roster)."""

    __tablename__ = "member"
    __table_args__ = (
        sa.UniqueConstraint("platform", "platform_user_id", name="uq_member_platform_user"),
        # The console's members page lists members by name, a page at a time: read in this
        # order from the index rather than sorting every member at each request.
        sa.Index(
            "ix_member_name_order",
            sa.func.lower(sa.func.coalesce(sa.text("display_name"), "")),
            "id",
        ),
        # The search's trigram indexes (ix_member_search_*) are PostgreSQL's only and need
        # the pg_trgm extension: migrations 0024 and 0029 create them when they can, not the
        # models.
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    platform_user_id: str = Field(max_length=64)
    display_name: str | None = Field(default=None, max_length=200)
    first_name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    locale: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    team: str | None = Field(default=None, max_length=100, index=True)
    # TeamSource: "roster" (a roster import, never changed by the team sync) or "group" (the
    # sync of RALLYBOT_TEAM_GROUPS, bot.teams); NULL when unknown.
    team_source: str | None = Field(default=None, max_length=16)
    cohort: str | None = Field(default=None, max_length=100, index=True)
    groups: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    is_bot: bool = False
    profile_complete: bool = False
    opted_out: bool = False
    # The row that replaced a forgotten person (privacy feature): left out of every leaderboard.
    forgotten: bool = Field(
        default=False, index=True, sa_column_kwargs={"server_default": sa.false()}
    )
    # The row that replaced a forgotten community manager: left out of the indicators as
    # managers are (a platform id in RALLYBOT_ADMINS can no longer name it).
    was_manager: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    dm_channel_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, index=True)
    # Gone from the roster (`roster import --remove-missing`): opted out at once, erased
    # RALLYBOT_ERASE_REMOVED_AFTER_DAYS later (the privacy feature's retention).
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChannelMember(SQLModel, table=True):
    """Membership of a platform channel, for channel audiences."""

    __tablename__ = "channel_member"

    platform: str = Field(primary_key=True, max_length=16)
    channel_id: str = Field(primary_key=True, max_length=64)
    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")


class Audience(SQLModel, table=True):
    """The members of a channel at one moment: the audience of the posts sent there while its
    membership stayed the same (they share the row, so a channel of 100,000 members costs
    100,000 rows per change of membership, not per post)."""

    __tablename__ = "audience"
    __table_args__ = (sa.Index("ix_audience_channel", "platform", "channel_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    channel_id: str = Field(max_length=64)
    size: int = 0
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class AudienceMember(SQLModel, table=True):
    """One member of an :class:`Audience`."""

    __tablename__ = "audience_member"

    audience_id: int = Field(primary_key=True, foreign_key="audience.id", ondelete="CASCADE")
    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")


class CampaignStatus(StrEnum):
    """Whether a campaign's deliveries go out."""

    active = "active"
    paused = "paused"
    absent = "absent"  # its file is missing for now: held, see bot/reloads.py


class CampaignState(SQLModel, table=True):
    """What the database knows of a campaign file: its state and how far it was planned."""

    __tablename__ = "campaign_state"

    id: str = Field(primary_key=True, max_length=100)
    title: str = Field(default="", max_length=300)
    source: str = Field(default="", max_length=500)
    content_hash: str = Field(default="", max_length=64)
    status: str = Field(default=CampaignStatus.active.value, max_length=16)
    planned_through: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    loaded_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class DeliveryStatus(StrEnum):
    """The life of an outbox row: pending -> claimed -> sent, or skipped/cancelled/failed."""

    pending = "pending"
    claimed = "claimed"
    sent = "sent"
    skipped = "skipped"
    cancelled = "cancelled"
    failed = "failed"


class Delivery(SQLModel, table=True):
    """One outgoing message in the outbox, unique per (campaign, step, recipient, occurrence)."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint(
            "campaign_id", "step_id", "recipient", "occurrence", name="uq_delivery_key"
        ),
        sa.Index("ix_delivery_status_due", "status", "due_at"),
        # The console's timeline pages through every delivery in time order (keyset).
        sa.Index("ix_delivery_due_id", "due_at", "id"),
        sa.Index("ix_delivery_platform_message", "platform_message_id"),
        # The timeline's language filter, a page at a time in time order (a language few
        # messages are written in is a range of this index, not a read of every message).
        sa.Index("ix_delivery_locale_due", "locale", "due_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(max_length=100)
    step_id: str = Field(max_length=100)
    recipient: str = Field(max_length=120)  # "channel:<logical name>" or "member:<member id>"
    occurrence: str = Field(max_length=40)  # "once", a local date for recurrences
    due_at: datetime = Field(sa_type=UTCDateTime)
    grace_until: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=DeliveryStatus.pending.value, max_length=16)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # The language the message is written in (its payload's ``message.metadata.locale``, kept
    # apart by :func:`storage.outbox.insert_deliveries` so that it can be indexed); "" when
    # the message does not say (not NULL: the timeline reads "" as one range of the index,
    # as it reads a language).
    locale: str = Field(default="", max_length=35, sa_column_kwargs={"server_default": ""})
    content_hash: str = Field(default="", max_length=64)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When a send last began (written just before it): only such a row may have reached the
    # platform before a crash, so only it needs the "was it sent?" check when claimed again.
    attempted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    platform_channel_id: str | None = Field(default=None, max_length=64)
    platform_message_id: str | None = Field(default=None, max_length=64)
    # A channel post: who could see it when it was sent (None: a direct message, or a channel
    # whose members the bot did not know).
    audience_id: int | None = None  # an Audience id
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)

    @property
    def key(self) -> str:
        """The delivery's idempotency key, as shown in logs and passed to platforms."""
        return f"{self.campaign_id}/{self.step_id}/{self.recipient}/{self.occurrence}"


class DeliveryHour(SQLModel, table=True):
    """How many outbox rows each campaign step has per UTC hour (the hour's start): the
    console's month calendar reads a month's hundreds of these instead of counting every row.

    Kept by the database itself (triggers of migration 0026 on every insert, delete and change
    of ``due_at``, ``campaign_id`` or ``step_id``), so no write path can forget it. The status
    is left out on purpose: sending (claim, sent, failed) never touches this table."""

    __tablename__ = "delivery_hour"

    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    campaign_id: str = Field(max_length=100, primary_key=True)
    step_id: str = Field(max_length=100, primary_key=True)
    count: int = 0


class InboundEvent(SQLModel, table=True):
    """An inbound platform event already recorded: a retry with the same id is dropped.

    ``event_id`` is a keyed hash of the platform's id (``bot.journal.dedup_id``), never the id;
    ``received_at`` is kept to the hour only (issue 14)."""

    __tablename__ = "inbound_event"

    platform: str = Field(primary_key=True, max_length=16)
    event_id: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=32)
    received_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime, index=True)


class ControlFlag(SQLModel, table=True):
    """A small key/value table for requests between processes (``reload`` and the like)."""

    __tablename__ = "control_flag"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class RosterImport(SQLModel, table=True):
    """The last import of each roster, per platform: where its rows came from, a digest of
    the file's bytes and when. A start imports its roster file again only when the file
    changed since (so the changes made in the console or by another import in between hold),
    and the console's indicators are recomputed after any import."""

    __tablename__ = "roster_import"

    platform: str = Field(primary_key=True, max_length=16)
    # the file's absolute path; ``upload`` for a roster uploaded in the console
    source: str = Field(primary_key=True, max_length=1000)
    digest: str = Field(max_length=64)  # SHA-256 of the file's bytes, hex
    imported_at: datetime = Field(sa_type=UTCDateTime)


ALL_TIME = "*"
"""The ``PointTotal.season`` of a member's all-time total."""


class PointEntry(SQLModel, table=True):
    """One line of the append-only points ledger (negative for revocations and removals).

    Written only by :mod:`storage.ledger`; ``idempotency_key`` makes every award happen once.
    """

    __tablename__ = "point_entry"
    __table_args__ = (
        sa.Index("ix_point_entry_member_created", "member_id", "created_at"),
        sa.Index("ix_point_entry_actor_created", "actor_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    amount: int
    source: str = Field(max_length=16)
    action: str | None = Field(default=None, max_length=40)
    reason: str = Field(default="", max_length=500)
    season: str | None = Field(default=None, max_length=64)
    campaign_id: str | None = Field(default=None, max_length=100)
    idempotency_key: str = Field(max_length=200, unique=True)
    reverts_id: int | None = Field(default=None, index=True)
    actor_id: int | None = Field(default=None)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)


class PointTotal(SQLModel, table=True):
    """A member's total for one season (``season`` = ``"*"``: all time), kept by the ledger.

    ``reached_at`` is when the total last changed: among equal totals, whoever reached it first
    ranks higher, then the lower member id.
    """

    __tablename__ = "point_total"

    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")
    season: str = Field(primary_key=True, max_length=64)
    total: int = 0
    reached_at: datetime = Field(sa_type=UTCDateTime)


_point_total: sa.Table = PointTotal.__table__  # type: ignore[attr-defined]
# Top-N reads this index in order; a rank is a count over a range of it.
sa.Index(
    "ix_point_total_rank",
    _point_total.c.season,
    _point_total.c.total.desc(),
    _point_total.c.reached_at,
    _point_total.c.member_id,
)


class PointDay(SQLModel, table=True):
    """A member's points of one UTC day (the sum of that day's ledger entries), kept by the
    ledger in the same transaction as each entry: the 7- and 30-day leaderboards read it.

    ``last_at`` is the time of the day's latest entry (the tie-break within a window).
    """

    __tablename__ = "point_day"
    __table_args__ = (
        # A window is a range of days; the index holds everything its aggregate reads.
        sa.Index("ix_point_day_window", "day", "member_id", "points", "last_at"),
    )

    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")
    day: date = Field(primary_key=True)
    points: int = 0
    last_at: datetime = Field(sa_type=UTCDateTime)


class BadgeAward(SQLModel, table=True):
    """A badge a member earned (once)."""

    __tablename__ = "badge_award"

    member_id: int = Field(primary_key=True, foreign_key="member.id", ondelete="CASCADE")
    badge_id: str = Field(primary_key=True, max_length=64)
    awarded_at: datetime = Field(sa_type=UTCDateTime)


class Season(SQLModel, table=True):
    """A points season; the current one is the latest whose ``ended_at`` is empty."""

    __tablename__ = "season"

    id: str = Field(primary_key=True, max_length=64)
    started_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def table_of(model: type[SQLModel]) -> sa.Table:
    """The model's table, typed: SQLModel types class attributes as plain values, so typed
    queries use ``table_of(Model).c.column`` instead."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


def _import_feature_tables() -> None:
    """Import every ``storage/*_models.py`` module, so each feature's tables join the metadata
    (Alembic, the privacy registry's checks) without this module naming them: a feature adds
    its tables by adding its models module."""
    package = __name__.rpartition(".")[0]
    for info in sorted(pkgutil.iter_modules(sys.modules[package].__path__), key=lambda i: i.name):
        if info.name.endswith("_models"):
            importlib.import_module(f"{package}.{info.name}")


_import_feature_tables()
