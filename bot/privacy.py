"""Personal data: what each table holds about a member, the export, "forget me" and retention.

Every feature declares in :data:`REGISTRY` (with :func:`register`) which of its tables refer to
a member and how: columns holding a ``member.id``, columns holding a platform user id, and
what "forget" does to the rows. A table with a member-like column that is neither registered
nor listed in :data:`NOT_PERSONAL` is reported by :func:`unregistered_tables` (a test fails).

**Forget** keeps the indicators right by *replacing* the person rather than deleting them: a
new member row (a "ghost", ``platform_user_id`` = ``forgotten-<random>``, no name, e-mail,
time zone, locale or DM channel, opted out) takes over the member's cohort, team, groups, join
date and profile flag, and every row that referred to the member is moved to it, so counts,
funnels, points totals and medians are the same before and after. Free texts the member wrote
(kudos reasons, survey text answers, help question excerpts) are emptied, drafts deleted,
pending messages cancelled, keys that embedded the member's id rewritten, an unfinished
onboarding journey marked as escalated (managers are not told about a ghost). Nothing links the
ghost back to the person: its id is new, and the old row is deleted. The ghost's
``member.forgotten`` flag keeps it off every leaderboard (:mod:`storage.ledger`); member lists
should leave ghosts out too (:func:`is_forgotten`).

**Retention** (:func:`purge_expired`): raw inbound events (kept only to drop platform retries)
and unfinished survey drafts older than ``RALLYBOT_RETENTION_DAYS`` are deleted.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

import rallybot.storage.models  # noqa: F401  (registers every table)
from rallybot.storage.database import Database
from rallybot.storage.models import DeliveryStatus, InboundEvent, Member, table_of
from rallybot.storage.survey_models import SurveyDraft

__all__ = [
    "FORGOTTEN_PREFIX",
    "MEMBER_COLUMN",
    "NOT_PERSONAL",
    "REGISTRY",
    "ForgetReport",
    "PersonalData",
    "PurgeCounts",
    "export_json",
    "export_member",
    "forget_member",
    "is_forgotten",
    "member_like_columns",
    "purge_expired",
    "register",
    "unregistered_tables",
]

FORGOTTEN_PREFIX = "forgotten-"
"""The ``platform_user_id`` prefix of the member row that replaces a forgotten person."""

MEMBER_COLUMN = re.compile(
    r"(^|_)(member|user|actor|author|asker|responder|replier|solved_by|credited|buddy|"
    r"recipient|giver|receiver|owner|helper|assignee)(_ids?)?$"
)
"""Column names that look like a reference to a person."""

Rewrite = Callable[[AsyncSession, sa.Table, Member, Member], Awaitable[None]]
Match = Callable[[sa.Table, Member], ColumnElement[bool]]


@dataclass(frozen=True)
class PersonalData:
    """How one table refers to members.

    ``member_columns`` hold a ``member.id``; ``platform_columns`` a platform user id (set to
    NULL on forget); ``handled`` are other member-like columns that ``match`` (export) and
    ``rewrite`` (forget) take care of. ``on_forget``: ``reassign`` the rows to the ghost, or
    ``delete`` them. ``scrub``: column -> value set on the member's rows at forget (free texts),
    on the rows where one of ``scrub_where`` (default: ``member_columns``) is the member.
    """

    table: str
    member_columns: tuple[str, ...] = ()
    platform_columns: tuple[str, ...] = ()
    handled: tuple[str, ...] = ()
    on_forget: str = "reassign"
    scrub: Mapping[str, Any] = field(default_factory=dict)
    scrub_where: tuple[str, ...] | None = None
    match: Match | None = None
    rewrite: Rewrite | None = None
    why: str = ""


REGISTRY: dict[str, PersonalData] = {}
"""Table name -> how it refers to members."""

NOT_PERSONAL: dict[str, str] = {
    "campaign_state": "campaigns, not people",
    "control_flag": "requests between processes",
    "season": "points seasons",
    "survey": "survey definitions",
    "inbound_event": "platform event ids and times, no person; purged by the retention setting",
    "challenge_closed": "when a challenge was closed and how many won, no person",
}
"""Tables that refer to no member, with the reason."""


def register(entry: PersonalData) -> PersonalData:
    """Declare how a table refers to members (replaces an earlier entry for the table)."""
    REGISTRY[entry.table] = entry
    return entry


def is_forgotten(member: Member) -> bool:
    """Whether ``member`` is the anonymous row left by a forgotten person (leaderboards and
    member lists leave it out)."""
    return member.platform_user_id.startswith(FORGOTTEN_PREFIX)


def _tables() -> dict[str, sa.Table]:
    return dict(SQLModel.metadata.tables)


def member_like_columns(table: sa.Table) -> set[str]:
    """Columns of ``table`` that refer to a person: a foreign key to ``member``, or a name
    that looks like one (``member_id``, ``user_id``, ``asker_id``, ``recipient``...)."""
    found: set[str] = set()
    for column in table.columns:
        if any(
            fk.column.table.name == "member" for fk in column.foreign_keys
        ) or MEMBER_COLUMN.search(column.name):
            found.add(column.name)
    return found


def unregistered_tables() -> dict[str, set[str]]:
    """Tables with member-like columns that the registry does not cover: table -> columns."""
    missing: dict[str, set[str]] = {}
    for name, table in _tables().items():
        if name == "member":
            continue
        columns = member_like_columns(table)
        entry = REGISTRY.get(name)
        if entry is None:
            if columns or name not in NOT_PERSONAL:
                missing[name] = columns
            continue
        covered = set(entry.member_columns) | set(entry.platform_columns) | set(entry.handled)
        if columns - covered:
            missing[name] = columns - covered
    return missing


# ---------------------------------------------------------------------------- rows


def _rows_condition(entry: PersonalData, table: sa.Table, member: Member) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = [table.c[c] == member.id for c in entry.member_columns]
    parts += [table.c[c] == member.platform_user_id for c in entry.platform_columns]
    if entry.match is not None:
        parts.append(entry.match(table, member))
    return sa.or_(*parts) if parts else sa.false()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


async def export_member(db: Database, member_id: int) -> dict[str, Any] | None:
    """Everything stored about a member, table by table; None if there is no such member.

    Answers to anonymous surveys are not in it: nothing ties them to the member.
    """
    tables = _tables()
    async with db.session() as session:
        member = await session.get(Member, member_id)
        if member is None:
            return None
        member_table = table_of(Member)
        row = (
            (await session.execute(sa.select(member_table).where(member_table.c.id == member_id)))
            .mappings()
            .one()
        )
        data: dict[str, Any] = {"member": {k: _plain(v) for k, v in row.items()}, "tables": {}}
        for name in sorted(REGISTRY):
            table = tables.get(name)
            if table is None:
                continue
            entry = REGISTRY[name]
            result = await session.execute(
                sa.select(table).where(_rows_condition(entry, table, member))
            )
            rows = [{k: _plain(v) for k, v in r.items()} for r in result.mappings()]
            if rows:
                data["tables"][name] = rows
    data["note"] = (
        "Answers to anonymous surveys are stored without any identity: they are not part of "
        "this export and nothing can tie them back to you."
    )
    return data


def export_json(data: Mapping[str, Any]) -> str:
    """The export as indented JSON, safe inside a code block (no backquotes)."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str).replace("`", "\\u0060")


# ---------------------------------------------------------------------------- forget


@dataclass
class ForgetReport:
    """What "forget" did: the replacement row's id and the rows moved or deleted per table."""

    ghost_id: int
    moved: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_member(db: Database, member_id: int, now: datetime) -> ForgetReport | None:
    """Erase a member's personal data everywhere, in one transaction (see the module
    docstring); None if there is no such member."""
    tables = _tables()
    member_table = table_of(Member)
    async with db.session() as session:
        member = await session.get(Member, member_id)
        if member is None:
            return None
        ghost = Member(
            platform=member.platform,
            platform_user_id=f"{FORGOTTEN_PREFIX}{uuid.uuid4().hex[:24]}",
            joined_at=member.joined_at,
            team=member.team,
            team_source=member.team_source,  # the sync leaves ghosts alone (bot.teams)
            cohort=member.cohort,
            groups=list(member.groups or []),
            is_bot=member.is_bot,
            profile_complete=member.profile_complete,
            opted_out=True,
            forgotten=True,  # leaderboards leave it out (its points still count in indicators)
            created_at=member.created_at,
            updated_at=now,
        )
        session.add(ghost)
        await session.flush()
        assert ghost.id is not None
        report = ForgetReport(ghost_id=ghost.id)
        for name in sorted(REGISTRY):
            table = tables.get(name)
            if table is None:
                continue
            entry = REGISTRY[name]
            if entry.scrub:
                where = entry.scrub_where if entry.scrub_where is not None else entry.member_columns
                if where:
                    await session.execute(
                        sa.update(table)
                        .where(sa.or_(*[table.c[c] == member.id for c in where]))
                        .values(**entry.scrub)
                    )
            if entry.on_forget == "delete":
                result = await session.execute(
                    sa.delete(table).where(_rows_condition(entry, table, member))
                )
                report.deleted[name] = _count(result)
                continue
            moved = 0
            for column in entry.member_columns:
                result = await session.execute(
                    sa.update(table).where(table.c[column] == member.id).values({column: ghost.id})
                )
                moved += _count(result)
            for column in entry.platform_columns:
                await session.execute(
                    sa.update(table)
                    .where(table.c[column] == member.platform_user_id)
                    .values({column: None})
                )
            if entry.rewrite is not None:
                await entry.rewrite(session, table, member, ghost)
            report.moved[name] = moved
        await session.execute(sa.delete(member_table).where(member_table.c.id == member.id))
    return report


# ---------------------------------------------------------------------------- retention


@dataclass
class PurgeCounts:
    """Rows deleted by :func:`purge_expired`."""

    inbound_events: int = 0
    survey_drafts: int = 0


async def purge_expired(db: Database, now: datetime, days: int) -> PurgeCounts:
    """Delete raw inbound events and unfinished survey drafts older than ``days`` days."""
    cutoff = now - timedelta(days=days)
    events = table_of(InboundEvent)
    drafts = table_of(SurveyDraft)
    counts = PurgeCounts()
    async with db.session() as session:
        result = await session.execute(sa.delete(events).where(events.c.received_at < cutoff))
        counts.inbound_events = _count(result)
        result = await session.execute(sa.delete(drafts).where(drafts.c.updated_at < cutoff))
        counts.survey_drafts = _count(result)
    return counts


# ---------------------------------------------------------------------------- the registry


async def _delivery_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    old = f"member:{member.id}"
    await session.execute(
        sa.update(table)
        .where(
            table.c.recipient == old,
            table.c.status.in_([DeliveryStatus.pending.value, DeliveryStatus.claimed.value]),
        )
        .values(
            status=DeliveryStatus.cancelled.value,
            reason="cancelled: the member asked to be forgotten",
            lease_until=None,
            claimed_by=None,
        )
    )
    await session.execute(
        sa.update(table)
        .where(table.c.recipient == old)
        .values(
            recipient=f"member:{ghost.id}",
            payload={"member_id": ghost.id, "forgotten": True},  # the rendered text had a name
            platform_channel_id=None,
        )
    )


async def _point_entry_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    # Keys such as "first_post:<member id>" or "quiz:<run>:<question>:<member id>" held the id.
    await session.execute(
        sa.update(table)
        .where(sa.or_(table.c.member_id == ghost.id, table.c.actor_id == ghost.id))
        .values(idempotency_key=sa.literal("forgotten:") + sa.cast(table.c.id, sa.String))
    )


async def _quiz_run_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    prefix = f"self:{member.id}:"
    rows = (
        await session.execute(
            sa.select(table.c.id, table.c.key).where(
                table.c.member_id == ghost.id, table.c.key.startswith(prefix)
            )
        )
    ).all()
    for run_id, key in rows:
        await session.execute(
            sa.update(table)
            .where(table.c.id == run_id)
            .values(key=f"self:{ghost.id}:{key[len(prefix) :]}")
        )


async def _help_ticket_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    # A private question was asked in the member's DM conversation: its id points at them.
    await session.execute(
        sa.update(table)
        .where(table.c.asker_id == ghost.id, table.c.private.is_(True))
        .values(channel_id=sa.literal("forgotten-") + sa.cast(table.c.id, sa.String))
    )


async def _activity_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    await session.execute(
        sa.update(table)
        .where(table.c.member_id == ghost.id, table.c.kind == "direct")
        .values(channel_id=None)  # the member's DM conversation
    )


async def _journey_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    # An unfinished journey would be escalated to the managers with the ghost's "name".
    await session.execute(
        sa.update(table)
        .where(table.c.member_id == ghost.id, table.c.escalated_at.is_(None))
        .values(escalated_at=table.c.started_at)
    )


register(PersonalData("channel_member", member_columns=("member_id",)))
register(
    PersonalData(
        "delivery",
        handled=("recipient",),
        match=lambda t, m: t.c.recipient == f"member:{m.id}",
        rewrite=_delivery_rewrite,
        why="direct messages sent to the member (recipient member:<id>)",
    )
)
register(
    PersonalData(
        "point_entry",
        member_columns=("member_id", "actor_id"),
        scrub={"reason": ""},
        rewrite=_point_entry_rewrite,
    )
)
register(PersonalData("point_total", member_columns=("member_id",)))
register(PersonalData("point_day", member_columns=("member_id",)))
register(PersonalData("badge_award", member_columns=("member_id",)))
register(PersonalData("quiz_run", member_columns=("member_id",), rewrite=_quiz_run_rewrite))
register(PersonalData("quiz_answer", member_columns=("member_id",)))
register(PersonalData("survey_answer", member_columns=("member_id",), scrub={"text": None}))
register(PersonalData("survey_responder", member_columns=("member_id",)))
register(PersonalData("survey_draft", member_columns=("member_id",), on_forget="delete"))
register(PersonalData("activity", member_columns=("member_id",), rewrite=_activity_rewrite))
register(
    PersonalData(
        "onboarding_journey",
        member_columns=("member_id",),
        platform_columns=("buddy_user_id",),
        rewrite=_journey_rewrite,
    )
)
register(PersonalData("onboarding_task", member_columns=("member_id",)))
register(
    PersonalData(
        "help_ticket",
        member_columns=(
            "asker_id",
            "first_responder_id",
            "last_replier_id",
            "solved_by_id",
            "credited_id",
        ),
        scrub={"excerpt": ""},
        scrub_where=("asker_id",),
        rewrite=_help_ticket_rewrite,
    )
)


# ---------------------------------------------------------------------------- challenges


def _subject_match(table: sa.Table, member: Member) -> ColumnElement[bool]:
    return table.c.subject == f"member:{member.id}"


async def _challenge_subject_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    # Progress and completions name their member as "member:<id>" (teams by their name).
    await session.execute(
        sa.update(table)
        .where(table.c.subject == f"member:{member.id}")
        .values(subject=f"member:{ghost.id}")
    )
    if "ref" in table.c:  # what was done: a reaction names the reactor, an invitation the invitee
        await session.execute(
            sa.update(table)
            .where(table.c.member_id == ghost.id)
            .values(ref=sa.literal(f"{FORGOTTEN_PREFIX}") + sa.cast(table.c.id, sa.String))
        )
        await session.execute(
            sa.update(table)
            .where(table.c.ref == f"invite:{member.platform}:{member.platform_user_id}")
            .values(ref=f"invite:{FORGOTTEN_PREFIX}{ghost.id}")
        )


def _invitee_match(table: sa.Table, member: Member) -> ColumnElement[bool]:
    return sa.and_(
        table.c.platform == member.platform, table.c.invitee_user_id == member.platform_user_id
    )


async def _invite_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    await session.execute(
        sa.update(table)
        .where(_invitee_match(table, member))
        .values(invitee_user_id=f"{FORGOTTEN_PREFIX}{ghost.id}")
    )


async def _submission_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    # A manager who judged evidence is named by their platform user key.
    await session.execute(
        sa.update(table)
        .where(table.c.decided_by == f"{member.platform}:{member.platform_user_id}")
        .values(decided_by=None)
    )


register(
    PersonalData(
        "challenge_progress",
        member_columns=("member_id",),
        handled=("subject",),
        match=_subject_match,
        rewrite=_challenge_subject_rewrite,
    )
)
register(
    PersonalData(
        "challenge_done",
        member_columns=("member_id",),
        handled=("subject",),
        match=_subject_match,
        rewrite=_challenge_subject_rewrite,
    )
)
register(
    PersonalData(
        "challenge_invite",
        member_columns=("inviter_id",),
        handled=("invitee_user_id",),
        match=_invitee_match,
        rewrite=_invite_rewrite,
        why="colleagues the member invited, and who invited the member",
    )
)
register(
    PersonalData(
        "challenge_submission",
        member_columns=("member_id",),
        handled=("decided_by",),
        match=lambda t, m: t.c.decided_by == f"{m.platform}:{m.platform_user_id}",
        scrub={"text": ""},
        rewrite=_submission_rewrite,
    )
)
