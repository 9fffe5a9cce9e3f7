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
should leave ghosts out too (:func:`is_forgotten`). So that a roster imported again does not
bring the person back, an erasure on request keeps keyed one-way digests of their ``platform:id``
and e-mail (:mod:`storage.erased`); the roster retention's erasures keep none.

Forget also reaches what others were sent about the person: every delivery payload (posts,
other members' direct messages: badge announcements, "Done by:" lines, "<@id> is your buddy")
that holds their platform id, name, e-mail or DM channel is rewritten with "someone" in their
place (:func:`redact`); free-text quiz answers are emptied; journal rows that hold the
platform id are deleted (deduplication rows keep only a keyed hash of the event id; those of
earlier versions that hold the platform id are deleted); activity rows lose the DM channel id. An
anonymous survey response still waiting for its batch moves to the ghost (it is released with
the others); an unfinished draft is deleted.

**Retention** (:func:`purge_expired`): the deduplication rows of handled inbound events (kept
only to drop platform retries) go after ``RALLYBOT_DEDUP_KEEP_DAYS`` (7), or sooner when
``RALLYBOT_RETENTION_DAYS`` is shorter; an event still waiting to be handled keeps its row.
Unfinished survey drafts older than ``RALLYBOT_RETENTION_DAYS`` are deleted.

**Record of processing** (:func:`record_of_processing`): the page
``docs/reference/record-of-processing.md``, generated from :data:`REGISTRY` and the schema (a
test checks the committed page is up to date).
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
from rallybot.bot.messages import MEMBER_CLOSE, MEMBER_OPEN, clean_member_text, member_segments
from rallybot.storage.database import Database
from rallybot.storage.erased import erasure_key, identity_digests, remember_erased
from rallybot.storage.journal import purge_dedup
from rallybot.storage.models import DeliveryStatus, Member, table_of
from rallybot.storage.survey_models import ErasureAudit, SurveyDraft

__all__ = [
    "FORGOTTEN",
    "FORGOTTEN_PREFIX",
    "KERNEL_TABLES",
    "MEMBER_COLUMN",
    "NOT_PERSONAL",
    "REGISTRY",
    "ForgetReport",
    "PersonalData",
    "PurgeCounts",
    "deactivate_missing",
    "erase_departed",
    "erase_member",
    "export_json",
    "export_member",
    "forget_member",
    "is_forgotten",
    "member_like_columns",
    "purge_expired",
    "record_of_processing",
    "redact",
    "register",
    "unregistered_tables",
]

REDACTED = "someone"
"""What replaces a forgotten person's name, id or e-mail in what others were sent."""

FORGOTTEN_PREFIX = "forgotten-"
"""The ``platform_user_id`` prefix of the member row that replaces a forgotten person."""

FORGOTTEN = FORGOTTEN_PREFIX.rstrip("-")
"""What names a forgotten person where a row said who did something (an audit's actor, who
asked an erasure)."""

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
    keep: str = ""


REGISTRY: dict[str, PersonalData] = {}
"""Table name -> how it refers to members."""

# erased_identity: written by every erasure on request and read by every roster import
# (start-up, command line, console), which are the kernel's.
KERNEL_TABLES = (
    "delivery",
    "audience_member",
    "inbound_event",
    "inbound_journal",
    "erased_identity",
)
"""The registered tables the kernel writes; every other one is declared by the feature that
stores it (:attr:`bot.feature.Feature.personal_data`)."""

NOT_PERSONAL: dict[str, str] = {
    "campaign_state": "campaigns, not people",
    "control_flag": "requests between processes",
    "delivery_hour": "how many messages each campaign step has per hour, no person",
    "season": "points seasons",
    "survey": "survey definitions (one row per round)",
    "bot_secret": "the generated secret that keys survey buttons",
    "replica": "running bot processes and their heartbeats",
    "roster_import": "each roster file's last import: its path, a digest of the whole file, when",
    "challenge_closed": "when a challenge was closed and how many won, no person",
    "audience": "a channel's membership at one moment: the channel and a size (members are in "
    "audience_member)",
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


async def forget_member(
    db: Database,
    member_id: int,
    now: datetime,
    *,
    is_manager: Callable[[str], bool] | None = None,
    secret_key: object = None,
    remember: bool = True,
) -> ForgetReport | None:
    """Erase a member's personal data everywhere, in one transaction (see the module
    docstring); None if there is no such member.

    ``remember``: keep keyed digests of the member's identifiers (:mod:`storage.erased`, keyed
    from ``secret_key``, the ``RALLYBOT_SECRET_KEY`` setting), so that no roster brings the
    person back; False for the roster retention's erasures (the person left the roster: a
    roster naming them again invites them anew).

    ``is_manager`` tells whether ``platform:id`` is a community manager (the settings'
    ``is_admin``): the row that replaces a manager is marked so, and the indicators keep
    leaving it out (docs/reference/indicators.md, "Members in scope")."""
    tables = _tables()
    member_table = table_of(Member)
    key = await erasure_key(db, secret_key) if remember else None
    async with db.session() as session:
        member = await session.get(Member, member_id)
        if member is None:
            return None
        if key is not None and not is_forgotten(member):
            await remember_erased(
                session,
                identity_digests(key, member.platform, member.platform_user_id, member.email),
            )
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
            was_manager=member.was_manager or bool(is_manager and is_manager(_user_key(member))),
            created_at=member.created_at,
            updated_at=now,
        )
        session.add(ghost)
        await session.flush()
        assert ghost.id is not None
        report = ForgetReport(ghost_id=ghost.id)
        if "delivery" in tables:  # before the names in them become "someone"
            own = await _own_texts(session, tables, member)
            await _remove_own_texts(session, tables["delivery"], own)
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


async def erase_member(
    db: Database,
    member_id: int,
    now: datetime,
    *,
    requested_by: str,
    via: str,
    is_manager: Callable[[str], bool] | None = None,
    secret_key: object = None,
    remember: bool = True,
) -> ForgetReport | None:
    """Forget a member on someone else's request (a community manager in chat, the command
    line, the roster retention), and audit it: who asked and when, never whom. A manager who
    erases themselves is recorded as :data:`FORGOTTEN` (as their earlier rows become), since
    "who asked" would be "whom". ``secret_key`` and ``remember`` as for
    :func:`forget_member`."""
    async with db.session() as session:
        member = await session.get(Member, member_id)
    if member is not None and _user_key(member) == requested_by:
        requested_by = FORGOTTEN
    report = await forget_member(
        db, member_id, now, is_manager=is_manager, secret_key=secret_key, remember=remember
    )
    if report is None:
        return None
    async with db.session() as session:
        await session.execute(
            sa.insert(table_of(ErasureAudit)).values(
                requested_by=requested_by[:200], via=via[:16], erased_at=now
            )
        )
    return report


async def deactivate_missing(
    db: Database, platform: str, present: set[str], now: datetime, keep: set[str] | None = None
) -> tuple[int, int]:
    """After a roster import with ``--remove-missing``: members of ``platform`` whose platform
    id or e-mail is not in ``present`` (nor in ``keep``: the community managers) are deactivated
    (``left_at``, opted out: no more messages of any kind); members back in the roster are
    active again. Bots and forgotten rows are left alone. (deactivated, reactivated)."""
    table = table_of(Member)
    keep = keep or set()
    async with db.session() as session:
        rows = (
            await session.execute(
                sa.select(
                    table.c.id, table.c.platform_user_id, table.c.email, table.c.left_at
                ).where(
                    table.c.platform == platform,
                    table.c.is_bot.is_(False),
                    table.c.forgotten.is_(False),
                )
            )
        ).all()
        lowered = {p.lower() for p in present}

        def listed(uid: str, email: str | None) -> bool:  # rows may be keyed by e-mail
            return uid in present or bool(email and email.lower() in lowered)

        gone = [
            i
            for i, uid, email, left in rows
            if left is None and not listed(uid, email) and uid not in keep
        ]
        back = [i for i, uid, email, left in rows if left is not None and listed(uid, email)]
        for start in range(0, len(gone), 500):
            await session.execute(
                sa.update(table)
                .where(table.c.id.in_(gone[start : start + 500]))
                .values(left_at=now, opted_out=True, updated_at=now)
            )
        for start in range(0, len(back), 500):
            await session.execute(
                sa.update(table)
                .where(table.c.id.in_(back[start : start + 500]))
                .values(left_at=None, opted_out=False, updated_at=now)
            )
    return len(gone), len(back)


async def erase_departed(
    db: Database,
    now: datetime,
    days: int,
    *,
    is_manager: Callable[[str], bool] | None = None,
) -> int:
    """Erase the members deactivated by ``--remove-missing`` at least ``days`` days ago; the
    number erased (each audited as asked by "roster"). ``is_manager`` as for
    :func:`forget_member`: a community manager who left stays out of the figures."""
    table = table_of(Member)
    cutoff = now - timedelta(days=days)
    async with db.session() as session:
        ids = (
            (
                await session.execute(
                    sa.select(table.c.id).where(
                        table.c.left_at.is_not(None), table.c.left_at <= cutoff
                    )
                )
            )
            .scalars()
            .all()
        )
    erased = 0
    for member_id in ids:
        if await erase_member(
            db,
            int(member_id),
            now,
            requested_by="roster",
            via="roster",
            is_manager=is_manager,
            remember=False,  # not on request: a roster naming them again invites them anew
        ):
            erased += 1
    return erased


# ---------------------------------------------------------------------------- retention


@dataclass
class PurgeCounts:
    """Rows deleted by :func:`purge_expired`."""

    inbound_events: int = 0
    survey_drafts: int = 0


async def purge_expired(
    db: Database, now: datetime, days: int | None, dedup_days: int
) -> PurgeCounts:
    """Delete the deduplication rows of handled inbound events older than ``dedup_days`` days
    (``days`` when shorter), and unfinished survey drafts older than ``days`` days (None:
    drafts are kept)."""
    keep = dedup_days if days is None else min(days, dedup_days)
    counts = PurgeCounts(inbound_events=await purge_dedup(db, now - timedelta(days=keep)))
    if days is None:
        return counts
    cutoff = now - timedelta(days=days)
    drafts = table_of(SurveyDraft)
    async with db.session() as session:
        # A finished anonymous response waiting for its batch is an answer, not a draft.
        result = await session.execute(
            sa.delete(drafts).where(drafts.c.updated_at < cutoff, drafts.c.finished.is_(False))
        )
        counts.survey_drafts = _count(result)
    return counts


# ---------------------------------------------------------------------------- the registry


def _user_key(member: Member) -> str:
    """How managers are named in audit rows and console sessions: ``platform:user id``."""
    return f"{member.platform}:{member.platform_user_id}"


def _keyed(column: str) -> Match:
    """The rows whose ``column`` names the member by :func:`_user_key`."""
    return lambda table, member: table.c[column] == _user_key(member)


def _replace_key(column: str, value: str | None) -> Rewrite:
    """A rewrite that puts ``value`` in ``column`` where it named the member by
    :func:`_user_key` (the row stays, no longer tied to them)."""

    async def rewrite(session: AsyncSession, table: sa.Table, member: Member, _: Member) -> None:
        await session.execute(
            sa.update(table).where(_keyed(column)(table, member)).values({column: value})
        )

    return rewrite


def _member_rows(*tables: str) -> None:
    """Register ``tables`` whose only reference to a person is ``member_id``, moved to the
    ghost at forget."""
    for name in tables:
        register(PersonalData(name, member_columns=("member_id",)))


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
    await _redact_rows(session, table, "payload", member)


REMOVED = "…"
"""What replaces a forgotten person's own words (a kudos reason, evidence, a help question) in
the copies of messages others were sent."""


async def _own_texts(
    session: AsyncSession, tables: Mapping[str, sa.Table], member: Member
) -> set[str]:
    """The free texts ``member`` wrote, as a message shows them: the values of the columns
    that forget empties (:attr:`PersonalData.scrub`) on the member's rows."""
    texts: set[str] = set()
    for name, entry in REGISTRY.items():
        table = tables.get(name)
        where = entry.scrub_where if entry.scrub_where is not None else entry.member_columns
        if table is None or not entry.scrub or not where:
            continue
        columns = [table.c[c] for c in entry.scrub]
        found = await session.execute(
            sa.select(*columns).where(sa.or_(*[table.c[c] == member.id for c in where]))
        )
        for row in found:
            for value in row:
                if isinstance(value, str) and (cleaned := clean_member_text(value, 10**6)):
                    texts.add(cleaned)
                    # A point reason is "<source>: <text>" (a kudos: "kudos: thanks"); the
                    # message carries the text alone.
                    _, colon, tail = cleaned.partition(": ")
                    if colon and tail:
                        texts.add(tail)
    return texts


def _is_own(part: str, texts: set[str]) -> bool:
    """Whether the member text ``part`` of a message is one of ``texts``, whole or cut (an
    ellipsis ends a cut)."""
    if part in texts:
        return True
    start = part.removesuffix("…").rstrip()
    if start != part and start and any(t.startswith(start) for t in texts):
        return True
    # A text kept cut (a help question's excerpt) and the message that has it whole.
    return any(t.endswith("…") and len(t) > 20 and part.startswith(t[:-1].rstrip()) for t in texts)


def _without_own(value: Any, texts: set[str]) -> Any:
    """``value`` (JSON-like) with each member text that is one of ``texts`` replaced by
    :data:`REMOVED`."""
    if isinstance(value, dict):
        return {k: _without_own(v, texts) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_own(v, texts) for v in value]
    if not isinstance(value, str) or MEMBER_OPEN not in value:
        return value
    return "".join(
        f"{MEMBER_OPEN}{REMOVED if _is_own(part, texts) else part}{MEMBER_CLOSE}"
        if is_member
        else part
        for is_member, part in member_segments(value)
    )


async def _remove_own_texts(session: AsyncSession, table: sa.Table, texts: set[str]) -> None:
    """Take ``texts`` (a forgotten member's own words) out of every delivery payload that
    quotes them: a kudos reason in the receiver's message and the recognition post, evidence
    sent to the managers, a help question sent to the helpers."""
    if not texts:
        return
    as_text = sa.cast(table.c.payload, sa.Text)

    def spellings(text: str) -> set[str]:  # JSON may keep characters escaped (\u00e9)
        return {text, json.dumps(text)[1:-1]}

    # Only member text can be theirs, and a quote of it starts as the text does (a cut one
    # ends early): the database picks the rows, the words are compared here.
    marked = [as_text.contains(form, autoescape=True) for form in spellings(MEMBER_OPEN)]
    starts = {form for t in texts for form in spellings(t.removesuffix("…")[:30])}
    quoting = [as_text.contains(form, autoescape=True) for form in starts]
    rows = await session.execute(
        sa.select(table.c.id, table.c.payload).where(sa.or_(*marked), sa.or_(*quoting))
    )
    for row_id, value in rows.all():
        data = json.loads(value) if isinstance(value, str) else value
        cleaned = _without_own(data, texts)
        if cleaned != data:
            await session.execute(
                sa.update(table).where(table.c.id == row_id).values(payload=cleaned)
            )


def _needles(member: Member) -> list[str]:
    """What names the person in a text: platform id, DM channel, e-mail, names (longest first,
    so a full name goes before the first name inside it)."""
    found = {
        v
        for v in (
            member.platform_user_id,
            member.dm_channel_id,
            member.email,
            member.display_name,
            member.first_name,
        )
        if v and len(v) >= 2
    }
    return sorted(found, key=len, reverse=True)


def redact(value: Any, member: Member) -> Any:
    """``value`` (JSON-like) with every mention of ``member`` replaced by :data:`REDACTED`:
    platform mentions (``<@U1>``, ``<@!1>``), the platform id, DM channel, e-mail and names
    (whole words)."""
    if isinstance(value, dict):
        return {k: redact(v, member) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, member) for v in value]
    if not isinstance(value, str):
        return value
    text = re.sub(rf"<@!?{re.escape(member.platform_user_id)}(\|[^>]*)?>", REDACTED, value)
    for needle in _needles(member):
        text = re.sub(rf"(?<!\w){re.escape(needle)}(?!\w)", REDACTED, text)
    return text


async def _redact_rows(session: AsyncSession, table: sa.Table, column: str, member: Member) -> None:
    """Rewrite the JSON ``column`` of the rows of ``table`` that mention ``member``."""
    needles = _needles(member)
    if not needles:
        return
    as_text = sa.cast(table.c[column], sa.Text)
    # JSON may keep non-ASCII characters escaped (\u00e9): look for both spellings.
    spelled = {form for n in needles for form in (n, json.dumps(n)[1:-1])}
    key = next(iter(table.primary_key.columns))
    rows = (
        await session.execute(
            sa.select(key, table.c[column]).where(
                sa.or_(*[as_text.contains(n, autoescape=True) for n in spelled])
            )
        )
    ).all()
    for row_id, value in rows:
        data = json.loads(value) if isinstance(value, str) else value
        cleaned = redact(data, member)
        if cleaned != data:
            await session.execute(sa.update(table).where(key == row_id).values({column: cleaned}))


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
    if member.dm_channel_id:  # clicks and reactions in that conversation too
        await session.execute(
            sa.update(table)
            .where(table.c.channel_id == member.dm_channel_id)
            .values(channel_id=None)
        )


_CHOICES = re.compile(r"[0-9,]*")


async def _quiz_answer_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    # Choice indexes ("0,2") say nothing of the person; a typed answer is their own words.
    rows = (
        await session.execute(
            sa.select(table.c.id, table.c.answer).where(table.c.member_id == ghost.id)
        )
    ).all()
    typed = [row_id for row_id, answer in rows if not _CHOICES.fullmatch(answer or "")]
    if typed:
        await session.execute(sa.update(table).where(table.c.id.in_(typed)).values(answer=""))


async def _survey_draft_rewrite(
    session: AsyncSession, table: sa.Table, member: Member, ghost: Member
) -> None:
    # A finished anonymous response waits for its batch under the ghost; unfinished ones go.
    await session.execute(
        sa.delete(table).where(table.c.member_id == ghost.id, table.c.finished.is_(False))
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


_member_rows(
    "channel_member",
    "point_total",
    "point_day",
    "badge_award",
    "survey_responder",
    "onboarding_task",
)
register(
    PersonalData(
        "audience_member",
        member_columns=("member_id",),
        why="who could see a channel post when it was sent",
    )
)
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
register(PersonalData("quiz_run", member_columns=("member_id",), rewrite=_quiz_run_rewrite))
register(
    PersonalData(
        "quiz_answer",
        member_columns=("member_id",),
        scrub={"message_ref": None},  # names the member's DM conversation and message
        rewrite=_quiz_answer_rewrite,
        why="quiz answers: choices, or the text typed",
    )
)
register(PersonalData("survey_answer", member_columns=("member_id",), scrub={"text": None}))
register(
    PersonalData(
        "survey_draft",
        member_columns=("member_id",),
        rewrite=_survey_draft_rewrite,
        why="answers of a survey in progress, or an anonymous response waiting for its batch",
    )
)


# A manager who asked for an erasure, or acted from chat, is named by their user key: the
# rows stay (who did what, and when), no longer tied to them.
register(
    PersonalData(
        "erasure_audit",
        handled=("requested_by",),
        match=_keyed("requested_by"),
        rewrite=_replace_key("requested_by", FORGOTTEN),
        why="erasures asked by someone else: who asked and when (never whom)",
    )
)
register(
    PersonalData(
        "erased_identity",
        handled=("digest",),
        # One-way digests, keyed: no member row to find them by, nothing to export or move.
        match=lambda t, m: sa.false(),
        why="keyed digests of the identifiers of people erased on request, so that no roster "
        "brings them back",
    )
)
register(
    PersonalData(
        "audit_entry",
        handled=("actor",),
        match=_keyed("actor"),
        rewrite=_replace_key("actor", FORGOTTEN),
        why="what community managers did from chat: who, what and when (never a text)",
    )
)
for _table, _why in (
    ("console_session", "who is signed in to the web console, until the session expires"),
    ("console_sign_in", "one-time sign-in links to the web console, for a few minutes"),
):
    register(
        PersonalData(
            _table, handled=("actor",), match=_keyed("actor"), on_forget="delete", why=_why
        )
    )
register(
    PersonalData(
        "console_login_attempt",
        handled=("client_key",),
        # A keyed hash of a network address: nothing in it ties the row to a member, whom
        # forget could find; the rows go when the limit's window has passed.
        match=lambda t, m: sa.false(),
        on_forget="delete",
        why="sign-in attempts to the web console, to limit them per client address (a keyed "
        "hash of the address, never the address), for the limit's window",
    )
)
register(
    PersonalData(
        "inbound_event",
        handled=("event_id",),
        match=lambda t, m: t.c.event_id.contains(m.platform_user_id, autoescape=True),
        on_forget="delete",
        why="keyed hashes of platform event ids, to drop retries (HMAC with the server "
        "secret: a Slack click id ends with the user id); rows written by earlier versions "
        "held the raw id: hashed at upgrade (migration 0027), deleted at forget",
    )
)
register(
    PersonalData(
        "inbound_journal",
        handled=("member_key", "payload"),
        match=lambda t, m: sa.or_(
            t.c.member_key.contains(m.platform_user_id, autoescape=True),
            t.c.payload.contains(m.platform_user_id, autoescape=True),
        ),
        on_forget="delete",
        why="events received and not yet handled; a handled row keeps only its kind and "
        "times (purged hours after handling)",
    )
)
register(PersonalData("activity", member_columns=("member_id",), rewrite=_activity_rewrite))
register(
    PersonalData(
        "onboarding_journey",
        member_columns=("member_id",),
        platform_columns=("buddy_user_id",),
        rewrite=_journey_rewrite,
    )
)
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
            .where(table.c.ref == f"invite:{_user_key(member)}")
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


for _table in ("challenge_progress", "challenge_done"):
    register(
        PersonalData(
            _table,
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
        match=_keyed("decided_by"),  # a manager who judged evidence
        scrub={"text": "", "reason": None, "evidence_key": None},  # the key: a hash of the text
        rewrite=_replace_key("decided_by", None),
    )
)


# ---------------------------------------------------------------------------- record of processing

UNTIL_FORGOTTEN = "until the member is forgotten (then moved to an anonymous row or deleted)"

PURPOSES: dict[str, tuple[str, str]] = {
    "member": (
        "who the bot talks to: platform id, name, e-mail (roster matching), language, time "
        "zone, join date, team, cohort, groups, DM channel, opt-out",
        'until the member is forgotten ("forget me", `rallybot member forget`, or '
        "RALLYBOT_ERASE_REMOVED_AFTER_DAYS after leaving the roster)",
    ),
    "channel_member": ("channel audiences and the reach of posts", UNTIL_FORGOTTEN),
    "audience_member": (
        "who could see a channel post when it was sent: the reach of posts",
        UNTIL_FORGOTTEN,
    ),
    "delivery": (
        "messages planned and sent (the outbox: what, to whom, when, delivery status)",
        UNTIL_FORGOTTEN + '; mentions in messages to others are replaced by "someone"',
    ),
    "point_entry": ("the points ledger (who earned what, why)", UNTIL_FORGOTTEN),
    "point_total": ("points totals for leaderboards", UNTIL_FORGOTTEN),
    "point_day": ("points per day for period leaderboards", UNTIL_FORGOTTEN),
    "badge_award": ("badges earned", UNTIL_FORGOTTEN),
    "quiz_run": ("quiz sessions taken", UNTIL_FORGOTTEN),
    "quiz_answer": (
        "quiz answers and scores; for a typed answer, the message that gave it (it answers once)",
        UNTIL_FORGOTTEN + "; typed answers and their message emptied",
    ),
    "survey_answer": (
        "survey answers: named surveys carry the member id; anonymous ones carry none",
        UNTIL_FORGOTTEN + " (named answers: free text emptied; anonymous: kept, unlinkable)",
    ),
    "survey_responder": (
        "who answered which survey round: refuses a second answer",
        UNTIL_FORGOTTEN,
    ),
    "survey_draft": (
        "answers in progress, and anonymous responses waiting for their batch",
        "until the response is written (a batch of 5) or, fewer than 5 left at the round's "
        "close, deleted uncounted; unfinished drafts: RALLYBOT_RETENTION_DAYS",
    ),
    "erasure_audit": (
        "who had someone erased, and when (never whom)",
        "as long as the bot runs; the requester's id goes when they are forgotten",
    ),
    "erased_identity": (
        "people erased on request, so that no roster import brings them back: for each, a "
        "keyed one-way digest (HMAC-SHA-256) of their platform id and of their e-mail, never "
        "the identifiers, no time; keyed from RALLYBOT_SECRET_KEY, else from the secret kept "
        "in the database (then whoever holds the database can test a guessed e-mail)",
        "as long as the bot runs (an erasure must hold); not kept for the roster retention's "
        "erasures (someone who left the roster)",
    ),
    "audit_entry": (
        "what community managers did from chat (send, skip, preview): who, what, when",
        "as long as the bot runs; the manager's id goes when they are forgotten",
    ),
    "console_session": (
        "who is signed in to the web console (a hash of the session's token, never the token)",
        "until the session expires (RALLYBOT_CONSOLE_SESSION_HOURS); deleted at forget",
    ),
    "console_sign_in": (
        "sign-ins to the web console under way: one-time links and sign-in states (hashed)",
        "a few minutes, until used or expired; deleted at forget",
    ),
    "console_login_attempt": (
        "sign-in attempts to the web console, to limit them per client address (a keyed hash "
        "of the address with the server secret, never the address)",
        "the limit's window (5 minutes), then deleted as new attempts come",
    ),
    "inbound_event": (
        "keyed hashes of platform event ids (never the ids), to drop platform retries; the "
        "hour received, no finer",
        "RALLYBOT_DEDUP_KEEP_DAYS (7) once the event is handled, or RALLYBOT_RETENTION_DAYS "
        "when shorter (at hour grain); raw ids of earlier versions hashed at upgrade",
    ),
    "inbound_journal": (
        "events received and not yet handled (crash recovery); once handled, the event, its "
        "member and its kind are emptied at once; times kept to the hour",
        "RALLYBOT_JOURNAL_KEEP_HOURS after handling (at hour grain); deleted at forget",
    ),
    "activity": (
        "engagement indicators (posts, reactions, clicks; no DM channel)",
        UNTIL_FORGOTTEN,
    ),
    "onboarding_journey": ("a newcomer's onboarding and buddy", UNTIL_FORGOTTEN),
    "onboarding_task": ("onboarding tasks done", UNTIL_FORGOTTEN),
    "help_ticket": ("help questions and who answered them", UNTIL_FORGOTTEN + "; excerpt emptied"),
    "challenge_progress": ("challenge progress", UNTIL_FORGOTTEN),
    "challenge_done": ("challenges completed", UNTIL_FORGOTTEN),
    "challenge_invite": ("colleagues invited for a challenge", UNTIL_FORGOTTEN),
    "challenge_submission": (
        "evidence submitted for a challenge (and a hash of it, so that the same evidence is "
        "one submission), who judged it and the reason they gave",
        UNTIL_FORGOTTEN + "; text, its hash and reason emptied",
    ),
}
"""Table -> (why it is kept, for how long): the record of processing's words."""


def _declared_by_tables() -> None:
    """Register what tables say of themselves in their ``info`` (a feature's models module
    declares its tables without an entry here): ``info["personal_data"]`` holds the keyword
    arguments of a :class:`PersonalData` (plain data: columns, ``on_forget``, ``scrub``,
    ``why`` and ``keep`` for the record of processing); ``info["not_personal"]`` the reason a
    table refers to no person. An entry written in this module wins."""
    for name, table in _tables().items():
        declared = table.info.get("personal_data")
        if isinstance(declared, Mapping) and name not in REGISTRY:
            register(PersonalData(table=name, **declared))
        reason = table.info.get("not_personal")
        if isinstance(reason, str) and name not in NOT_PERSONAL and name not in REGISTRY:
            NOT_PERSONAL[name] = reason


_declared_by_tables()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def record_of_processing() -> str:
    """The record of processing as Markdown: every table holding personal data, its personal
    columns, why and for how long, from :data:`REGISTRY`, :data:`PURPOSES` and the schema.
    ``rallybot privacy record`` writes it to ``docs/reference/record-of-processing.md``."""
    tables = _tables()
    lines = [
        "# Record of processing",
        "",
        "<!-- Generated by `rallybot privacy record` from the privacy registry"
        " (handlers/privacy/personal_data.py) and the schema; a test fails when this page is"
        " out of date. Do not edit by hand. -->",
        "",
        "Every table the bot keeps that holds personal data: the columns that refer to a "
        'person, why the table is kept, and for how long. "Forget" (by the member, a '
        "community manager or `rallybot member forget`) applies the last column; see "
        "[privacy](../explanation/privacy.md).",
        "",
        "| Table | Personal columns | Why | How long |",
        "| --- | --- | --- | --- |",
    ]
    member_columns = [c.name for c in tables["member"].columns if c.name not in {"id"}]
    why, keep = PURPOSES["member"]
    lines.append(f"| member | {_cell(', '.join(member_columns))} | {_cell(why)} | {_cell(keep)} |")
    for name in sorted(REGISTRY):
        if name not in tables:
            continue
        entry = REGISTRY[name]
        columns = list(
            dict.fromkeys(
                [
                    *entry.member_columns,
                    *entry.platform_columns,
                    *entry.handled,
                    *entry.scrub,
                ]
            )
        )
        why, keep = PURPOSES.get(name, (entry.why, entry.keep))
        lines.append(f"| {name} | {_cell(', '.join(columns))} | {_cell(why)} | {_cell(keep)} |")
    lines += [
        "",
        "## Tables without personal data",
        "",
        "| Table | Why it holds no person |",
        "| --- | --- |",
    ]
    for name in sorted(NOT_PERSONAL):
        if name in tables:
            lines.append(f"| {name} | {_cell(NOT_PERSONAL[name])} |")
    lines.append("")
    return "\n".join(lines)
