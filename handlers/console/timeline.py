"""The console's timeline: every delivery, past and future, one page at a time.

Two sources make one list in time order:

- the **outbox** (``delivery`` rows): what was sent, failed, skipped, and what waits to go,
  one row per message; read with keyset paging on ``(due_at, id)`` (migration 0017's index),
  so the hundredth page costs what the first does on a million rows;
- the **plan**: what the campaign files will send after each campaign's ``planned_through``
  (nothing is in the outbox yet), grouped as ``rallybot plan`` groups it (one row per step,
  instant, time zone and language), from :func:`campaigns.timeline.timeline`. Planning a
  large community takes a while, so the planned rows of a window are kept until the files,
  the members or the planning mark change.

A cursor is the sort key of the last row shown: ``(due, source, tie-break)``.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from rallybot.bot.messages import Message, plain, readable
from rallybot.bot.notices import ANONYMOUS_STEP
from rallybot.bot.views import member_view
from rallybot.bot.waves import opened_waves
from rallybot.campaigns.planner import MemberView, build_message, openings
from rallybot.campaigns.schema import Campaign
from rallybot.campaigns.timeline import TimelineRow, timeline
from rallybot.storage.database import Database
from rallybot.storage.models import (
    CampaignState,
    CampaignStatus,
    Delivery,
    DeliveryHour,
    DeliveryStatus,
    Member,
    table_of,
)
from rallybot.storage.repositories import channel_memberships, list_members

__all__ = [
    "PAGE_SIZE",
    "BadCursor",
    "DayCount",
    "Entry",
    "EntryDetail",
    "Filters",
    "Page",
    "Recipient",
    "TimelineSource",
    "decode_cursor",
    "encode_cursor",
    "mention_names",
]

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PLAN_HORIZON = timedelta(days=62)
"""How far past now the planned rows reach when no end is asked (two months of calendar)."""
RECIPIENTS_SHOWN = 200

D = table_of(Delivery).c
# What an entry of the list and its detail read of a delivery (never the whole row).
_ENTRY_COLUMNS = (
    D.id,
    D.campaign_id,
    D.step_id,
    D.recipient,
    D.occurrence,
    D.due_at,
    D.status,
    D.payload,
    D.locale,
    D.reason,
)
_D2 = table_of(Delivery).alias("first_of_status")
M = table_of(Member).c
H = table_of(DeliveryHour).c
WAITING = DeliveryStatus.pending.value
NEVER_SENT = (DeliveryStatus.cancelled.value, DeliveryStatus.skipped.value)
"""The states of messages that will never go out: the calendar counts them apart."""
# Each read from the (status, due_at) index; "not pending" would make it read every row.
_NOT_WAITING = [status.value for status in DeliveryStatus if status.value != WAITING]
S = table_of(CampaignState).c

Source = Literal["outbox", "plan"]
_RANK: dict[str, int] = {"outbox": 0, "plan": 1}
_SOURCES: dict[int, Source] = {0: "outbox", 1: "plan"}


class BadCursor(ValueError):
    """A cursor that this module did not write."""


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list shows; every field optional (``end`` exclusive)."""

    campaign: str | None = None
    audience: str | None = None
    zone: str | None = None
    locale: str | None = None
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline: one outbox message, or one planned send (its recipients)."""

    id: str  # "d<id>" for an outbox row, "p<...>" for a planned send
    source: Source
    campaign: str
    step: str
    occurrence: str
    due_utc: datetime
    kind: str  # "post", "dm", "quiz", "digest"
    target: str  # "#channel", a member's name, or the audiences
    count: int
    zone: str
    locale: str
    status: str  # the outbox status, or "planned"
    preview: str
    tiebreak: str
    reason: str = ""  # why an outbox message was skipped or cancelled, as kept

    @property
    def local(self) -> datetime:
        """The due time in the recipients' zone."""
        return self.due_utc.astimezone(ZoneInfo(self.zone)) if self.zone else self.due_utc

    @property
    def cursor(self) -> str:
        """The cursor of the page that starts after this entry."""
        return encode_cursor(self.due_utc, self.source, self.tiebreak)


@dataclass(frozen=True, slots=True)
class Page:
    """A page of entries, the cursor of the next one (None: the last page) and of the one
    before (None: nothing comes before)."""

    entries: list[Entry]
    next_cursor: str | None
    previous_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class DayCount:
    """A calendar day: the messages the filters ask for (without a state filter, every one
    sent or to be sent) and, apart, the cancelled and skipped ones."""

    messages: int
    not_sent: int = 0


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives a send, and at what time on their own clock."""

    name: str
    zone: str
    local: datetime
    status: str


@dataclass(frozen=True, slots=True)
class EntryDetail:
    """One entry with its message and its recipients."""

    entry: Entry
    message: Message | None
    recipients: list[Recipient] = field(default_factory=list)
    more_recipients: int = 0


def encode_cursor(due: datetime, source: str, tiebreak: str) -> str:
    """An opaque, URL-safe cursor."""
    raw = json.dumps([due.astimezone(UTC).isoformat(), _RANK[source], tiebreak])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int, str]:
    """The ``(due, rank, tie-break)`` of a cursor; :class:`BadCursor` when it is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        due, rank, tiebreak = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = datetime.fromisoformat(due)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor("not a timeline cursor") from exc
    if when.tzinfo is None or rank not in (0, 1) or not isinstance(tiebreak, str):
        raise BadCursor("not a timeline cursor")
    # An outbox row's tie-break is its id: digits that fit the column.
    if rank == 0 and not (tiebreak.isascii() and tiebreak.isdigit() and int(tiebreak) < 2**31):
        raise BadCursor("not a timeline cursor")
    return when.astimezone(UTC), int(rank), tiebreak


def _kind(campaign: Campaign | None, step_id: str, recipient: str) -> str:
    step = campaign.step(step_id) if campaign is not None else None
    if step is not None:
        if step.is_dm:
            return "dm"
        if step.is_channel_quiz:
            return "quiz"
        if step.is_digest:
            return "digest"
        return "post"
    return "dm" if recipient.startswith("member:") else "post"


_MENTION = re.compile(r"<@([^>|]+)(?:\|[^>]*)?>")


async def mention_names(db: Database, user_ids: set[str]) -> dict[str, str]:
    """The display names of the people ``user_ids`` name (platform user ids, as a message's
    mentions hold them): erased people and people without a name are left out."""
    if not user_ids:
        return {}
    query = sa.select(M.platform_user_id, M.display_name, M.first_name).where(
        M.platform_user_id.in_(sorted(user_ids)), M.forgotten.is_(False)
    )
    async with db.read() as session:
        found = (await session.execute(query)).all()
    return {
        row.platform_user_id: name for row in found if (name := row.display_name or row.first_name)
    }


def _extract_source(payload: Mapping[str, Any]) -> str:
    """The words of a delivery's extract: its message's title, else its text."""
    message = payload.get("message")
    if not isinstance(message, dict):
        return ""
    return str(message.get("title") or message.get("text") or "")


def _preview_text(payload: Mapping[str, Any], names: Mapping[str, str]) -> str:
    # without the member marks: the extract is shown as it is, not through a renderer; a
    # mention (<@id>) reads as @ and the person's name, as the chat shows it (@id when the
    # bot does not know them)
    text = _MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), _extract_source(payload))
    flat = " ".join(readable(text).split())
    return flat if len(flat) <= 70 else flat[:69] + "…"


@dataclass
class _PlanCache:
    key: tuple[object, ...] = ()
    rows: list[TimelineRow] = field(default_factory=list)
    members: dict[str, MemberView] = field(default_factory=dict)


class TimelineSource:
    """Reads the timeline of the loaded ``campaigns`` from ``db`` (one per console)."""

    def __init__(
        self,
        db: Database,
        campaigns: Mapping[str, Campaign],
        *,
        default_timezone: str,
        channel_map: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.campaigns = campaigns
        self.default_timezone = default_timezone
        self.channel_map = dict(channel_map or {})
        self._plan = _PlanCache()

    # ---- filters -------------------------------------------------------------------------

    def audiences(self) -> list[str]:
        """Every audience name the loaded campaigns use."""
        return sorted({a for c in self.campaigns.values() for s in c.steps for a in s.audiences})

    async def member_zones(self) -> list[str]:
        """The time zones the members live in (the zone filter offers them: a member's
        direct messages go out at their own time)."""
        async with self.db.read() as session:
            rows = await session.execute(
                sa.select(M.timezone).where(M.timezone.is_not(None)).distinct()
            )
            return sorted(z for z in rows.scalars() if z)

    def _campaign_zone(self, campaign_id: str) -> str:
        campaign = self.campaigns.get(campaign_id)
        return campaign.spec.timezone if campaign is not None else self.default_timezone

    def _campaign_locale(self, campaign_id: str) -> str:
        campaign = self.campaigns.get(campaign_id)
        return campaign.spec.locale if campaign is not None else ""

    def _outbox_conditions(self, filters: Filters) -> list[sa.ColumnElement[bool]]:
        where: list[sa.ColumnElement[bool]] = [_shown(D.campaign_id, D.step_id)]
        if filters.campaign:
            where.append(D.campaign_id == filters.campaign)
        if filters.status:
            where.append(D.status == filters.status)
            # Rows of one status are not spread evenly in time (sent ones first, waiting ones
            # last): PostgreSQL, which assumes they are, walked the (due_at, id) index past
            # every sent row to find the first waiting one (0.3-0.9 s with a million rows).
            # The status's earliest due time, read from the (status, due_at) index, starts
            # the walk where the first matching row is; it leaves out no row.
            first = sa.select(sa.func.min(_D2.c.due_at)).where(_D2.c.status == filters.status)
            where.append(D.due_at >= first.scalar_subquery())
        if filters.start is not None:
            where.append(D.due_at >= filters.start)
        if filters.end is not None:
            where.append(D.due_at < filters.end)
        if filters.audience:
            where.append(self._audience_condition(filters.audience, D.campaign_id, D.step_id))
        member_key = sa.literal("member:") + sa.cast(M.id, sa.String)
        if filters.zone:
            zone_members = sa.select(member_key).where(
                sa.func.coalesce(M.timezone, self.default_timezone) == filters.zone
            )
            posts = [cid for cid in self.campaigns if self._campaign_zone(cid) == filters.zone]
            where.append(
                sa.or_(
                    D.recipient.in_(zone_members),
                    sa.and_(D.recipient.like("channel:%"), D.campaign_id.in_(posts)),
                )
            )
        if filters.locale:
            where.append(
                sa.or_(
                    *(
                        sa.and_(D.locale == kept, extra)
                        for kept, extra in self._language_branches(filters.locale)
                    )
                )
            )
        return where

    def _language_branches(self, locale: str) -> list[tuple[str, sa.ColumnElement[bool]]]:
        """The rows in ``locale``, as two ranges of the (locale, due_at, id) index, each a kept
        language and a further condition: the language the message was written in (kept with
        it: a German reader of a campaign written in French and English got one of those);
        for a message that does not say (""), the member's, or the campaign's (its file's
        ``locale``) for a member without one and for channel posts."""
        same = [cid for cid in self.campaigns if self._campaign_locale(cid) == locale]
        member_key = sa.literal("member:") + sa.cast(M.id, sa.String)
        return [
            (locale, sa.true()),
            (
                "",
                sa.or_(
                    D.recipient.in_(sa.select(member_key).where(M.locale == locale)),
                    sa.and_(
                        D.campaign_id.in_(same),
                        sa.or_(
                            D.recipient.like("channel:%"),
                            D.recipient.in_(sa.select(member_key).where(M.locale.is_(None))),
                        ),
                    ),
                ),
            ),
        ]

    def _audience_condition(
        self, audience: str, campaign_id: sa.ColumnElement[str], step_id: sa.ColumnElement[str]
    ) -> sa.ColumnElement[bool]:
        """The rows of the steps that go to ``audience`` (by campaign and step)."""
        pairs = [
            sa.and_(campaign_id == c.id, step_id.in_(steps))
            for c in self.campaigns.values()
            if (steps := [s.id for s in c.steps if audience in s.audiences])
        ]
        return sa.or_(*pairs) if pairs else sa.false()

    # ---- the outbox ----------------------------------------------------------------------

    async def _members(self, recipients: Sequence[str]) -> dict[str, Member]:
        ids = [int(r.split(":", 1)[1]) for r in recipients if r.startswith("member:")]
        if not ids:
            return {}
        async with self.db.session() as session:
            rows = await session.execute(sa.select(Member).where(M.id.in_(ids)))
            return {f"member:{m.id}": m for m in rows.scalars()}

    async def _mentioned(self, rows: Sequence[Any]) -> dict[str, str]:
        """The names of the people the extracts of ``rows`` mention."""
        ids = {m for r in rows for m in _MENTION.findall(_extract_source(r.payload))}
        return await mention_names(self.db, ids)

    def _outbox_entry(self, row: Any, member: Member | None, names: Mapping[str, str]) -> Entry:
        campaign = self.campaigns.get(row.campaign_id)
        if member is not None:
            zone = member.timezone or self.default_timezone
            locale = member.locale or self._campaign_locale(row.campaign_id)
            target = member.display_name or member.platform_user_id
        else:
            zone = self._campaign_zone(row.campaign_id)
            locale = self._campaign_locale(row.campaign_id)
            target = "#" + row.recipient.removeprefix("channel:")
        locale = row.locale or locale  # as written, when the row says (see the filter)
        return Entry(
            id=f"d{row.id}",
            source="outbox",
            campaign=row.campaign_id,
            step=row.step_id,
            occurrence=row.occurrence,
            due_utc=row.due_at,
            kind=_kind(campaign, row.step_id, row.recipient),
            target=target,
            count=1,
            zone=zone,
            locale=locale,
            status=row.status,
            preview=_preview_text(row.payload, names),
            tiebreak=f"{row.id:012d}",
            reason=row.reason or "",
        )

    async def _outbox_page(
        self,
        filters: Filters,
        after: tuple[datetime, int, str] | None,
        limit: int,
        *,
        backward: bool = False,
    ) -> list[Entry]:
        """The ``limit`` outbox entries after ``after`` (``backward``: before it), in time
        order."""
        if filters.locale:
            # One page of each branch, merged: an OR of the two made the databases read every
            # row in time order when few rows are in that language (0.6 s at a million).
            plain = replace(filters, locale=None)
            rows = heapq.merge(
                *[
                    await self._outbox_rows(plain, branch, after, limit, backward=backward)
                    for branch in self._language_branches(filters.locale)
                ],
                key=lambda row: (row.due_at, row.id),
                reverse=backward,
            )
            page = list(itertools.islice(rows, limit))
        else:
            page = await self._outbox_rows(filters, None, after, limit, backward=backward)
        if backward:
            page.reverse()
        members = await self._members([r.recipient for r in page])
        names = await self._mentioned(page)
        return [self._outbox_entry(r, members.get(r.recipient), names) for r in page]

    async def _outbox_rows(
        self,
        filters: Filters,
        branch: tuple[str, sa.ColumnElement[bool]] | None,
        after: tuple[datetime, int, str] | None,
        limit: int,
        *,
        backward: bool = False,
    ) -> list[Any]:
        """Rows after ``after`` in time order (``backward``: before it, latest first)."""
        query = sa.select(*_ENTRY_COLUMNS).where(*self._outbox_conditions(filters))
        if branch is not None:
            kept, extra = branch
            query = query.where(D.locale == kept, extra)
        if after is not None:
            due, rank, tiebreak = after
            if rank == 0:
                # A row-value comparison: both databases read it as one range of an index,
                # where an OR of two conditions scans from the start. With the language in the
                # row value, they read one range of the (locale, due_at, id) index; with
                # (due_at, id) alone SQLite read the rest of the (due_at, id) index, every
                # language (90 ms from the middle of a million).
                columns: list[Any] = [D.due_at, D.id]
                values: list[Any] = [due, int(tiebreak)]
                if branch is not None:
                    columns, values = [D.locale, *columns], [sa.literal(branch[0]), *values]
                    query = query.where(D.locale == branch[0])
                row, mark = sa.tuple_(*columns), sa.tuple_(*values)
                query = query.where(
                    *((D.due_at <= due, row < mark) if backward else (D.due_at >= due, row > mark))
                )
            else:
                # A planned entry's key: the outbox rows of its instant come before it.
                query = query.where(D.due_at <= due if backward else D.due_at > due)
        if backward:
            query = query.order_by(D.due_at.desc(), D.id.desc())
        else:
            query = query.order_by(D.due_at, D.id)
        async with self.db.session() as session:
            return list((await session.execute(query.limit(limit))).all())

    # ---- the plan ------------------------------------------------------------------------

    async def _planned_marks(self) -> tuple[dict[str, datetime | None], frozenset[str]]:
        """Each campaign's planning mark, and the paused campaigns."""
        async with self.db.session() as session:
            rows = (await session.execute(sa.select(S.id, S.planned_through, S.status))).all()
        paused = frozenset(i for i, _p, status in rows if status == CampaignStatus.paused.value)
        return {i: p for i, p, _status in rows}, paused

    async def _member_views(self) -> list[MemberView]:
        rows = await list_members(self.db)
        channels = await channel_memberships(self.db, [m.id for m in rows if m.id is not None])
        return [member_view(m, channels.get(m.id or 0, set())) for m in rows]

    async def _members_mark(self) -> tuple[object, ...]:
        async with self.db.session() as session:
            row = (
                await session.execute(sa.select(sa.func.count(), sa.func.max(M.updated_at)))
            ).one()
            return (int(row[0]), row[1])

    async def planned(self, now: datetime, until: datetime | None = None) -> list[TimelineRow]:
        """What the files will send after each campaign's planning mark (paused campaigns
        send nothing while paused: their rows are left out), up to ``until``.

        The window runs from the current hour to ``until`` rounded up to an hour: kept until
        the hour, the files, the members or a planning mark change (planning 100,000 members
        takes seconds, a page must not)."""
        base = now.replace(minute=0, second=0, microsecond=0)
        end = _hour_up(until) if until is not None else base + PLAN_HORIZON + timedelta(hours=1)
        marks, paused = await self._planned_marks()
        todo = [
            (campaign, start)
            for campaign in self.campaigns.values()
            if campaign.id not in paused  # nothing goes out while paused
            and (start := max(marks.get(campaign.id) or base, base)) < end
        ]
        if not todo:
            return []
        rows = await self._plan_rows(todo, paused, base, end)
        return await self._not_written(rows, min(start for _c, start in todo), end)

    async def _plan_rows(
        self,
        todo: list[tuple[Campaign, datetime]],
        paused: frozenset[str],
        base: datetime,
        end: datetime,
    ) -> list[TimelineRow]:
        """The planned rows of the window, from the files (kept: see :meth:`planned`)."""
        key = (
            tuple(sorted((c.id, c.content_hash, start) for c, start in todo)),
            paused,
            await self._members_mark(),
            base,
            end,
        )
        if key == self._plan.key:
            return self._plan.rows
        members = await self._member_views()
        campaigns = list(self.campaigns.values())
        opened = await opened_waves(self.db)
        channel_ids = {c.id: {**c.spec.channels, **self.channel_map} for c in campaigns}
        opening = openings(members, campaigns, opened, channel_ids)
        rows: list[TimelineRow] = []
        for campaign, start in todo:
            rows.extend(
                timeline(
                    campaign,
                    members,
                    start,
                    end,
                    default_timezone=self.default_timezone,
                    openings=opening,
                )
            )
        rows.sort(key=_plan_key)
        self._plan = _PlanCache(key, rows, {m.key: m for m in members})
        return rows

    async def _not_written(
        self, rows: list[TimelineRow], start: datetime, end: datetime
    ) -> list[TimelineRow]:
        """``rows`` less what the outbox holds already under the same key: a send now writes
        the later planned message of the step already cancelled (and a skip writes it
        skipped), so that the planner never writes it; shown as planned too, it would be there
        twice, once as still to come. Read on each call, not kept with the plan: such rows
        change without the files, the members or the planning mark changing. Few rows are
        read: from the (status, due_at) index, not waiting and due after the earliest planning
        mark (``start``), where the planner has written nothing; the planner gave both the
        same due time."""
        if not rows:
            return rows
        query = sa.select(D.campaign_id, D.step_id, D.occurrence, D.recipient).where(
            D.status.in_(_NOT_WAITING), D.due_at >= start, D.due_at < end
        )
        async with self.db.session() as session:
            written: dict[tuple[str, str, str], set[str]] = defaultdict(set)
            for campaign, step, occurrence, recipient in (await session.execute(query)).all():
                written[(campaign, step, occurrence)].add(recipient)
        if not written:
            return rows
        kept: list[TimelineRow] = []
        for row in rows:
            there = written.get((row.campaign, row.step, row.occurrence))
            if not there:
                kept.append(row)
            elif row.kind == "dm":
                left = [k for k in row.recipients if f"member:{k}" not in there]
                if left:
                    kept.append(replace(row, recipients=left))
            # a post (or a channel's quiz, a digest) has one outbox row: that one is shown
        return kept

    def _plan_entry(self, row: TimelineRow) -> Entry:
        tiebreak = _plan_tiebreak(row)
        return Entry(
            id="p"
            + base64.urlsafe_b64encode(json.dumps([row.due_utc.isoformat(), tiebreak]).encode())
            .decode()
            .rstrip("="),
            source="plan",
            campaign=row.campaign,
            step=row.step,
            occurrence=row.occurrence,
            due_utc=row.due_utc,
            kind=row.kind,
            target=row.target,
            count=row.count,
            zone=row.zone,
            locale=row.locale,
            status="planned",
            preview=plain(row.preview),
            tiebreak=tiebreak,
        )

    def _plan_matches(self, row: TimelineRow, filters: Filters) -> bool:
        if filters.campaign and row.campaign != filters.campaign:
            return False
        if filters.status and filters.status != "planned":
            return False
        if filters.start is not None and row.due_utc < filters.start:
            return False
        if filters.end is not None and row.due_utc >= filters.end:
            return False
        if filters.zone and row.zone != filters.zone:
            return False
        if filters.locale and row.locale != filters.locale:
            return False
        if filters.audience:
            campaign = self.campaigns.get(row.campaign)
            step = campaign.step(row.step) if campaign is not None else None
            if step is None or filters.audience not in step.audiences:
                return False
        return True

    # ---- the list ------------------------------------------------------------------------

    async def page(
        self,
        filters: Filters,
        now: datetime,
        *,
        cursor: str | None = None,
        before: str | None = None,
        start_at: datetime | None = None,
        limit: int = PAGE_SIZE,
    ) -> Page:
        """One page of the timeline in time order: the one after ``cursor``, else the one that
        ends before ``before``, else the one from ``start_at`` on, else the first one
        (:class:`BadCursor` when a cursor is not one)."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        if before is not None and cursor is None:
            until = decode_cursor(before)
            entries = await self._entries(filters, now, until, limit + 1, backward=True)
            shown = entries[-limit:]
            earlier = shown[0].cursor if len(entries) > limit else None
            later = None
            if shown and await self._entries(filters, now, _sort_key(shown[-1]), 1):
                later = shown[-1].cursor
            return Page(shown, later, earlier)
        after = decode_cursor(cursor) if cursor else None
        if after is None and start_at is not None:
            # Just before the first possible key at ``start_at``: every entry due then or later.
            after = (start_at.astimezone(UTC) - timedelta(microseconds=1), _RANK["plan"], "\uffff")
        entries = await self._entries(filters, now, after, limit + 1)
        shown = entries[:limit]
        following = shown[-1].cursor if len(entries) > limit and shown else None
        earlier = None
        if after is not None:
            first = _sort_key(shown[0]) if shown else after
            if await self._entries(filters, now, first, 1, backward=True):
                earlier = encode_cursor(first[0], _SOURCES[first[1]], first[2])
        return Page(shown, following, earlier)

    async def _entries(
        self,
        filters: Filters,
        now: datetime,
        key: tuple[datetime, int, str] | None,
        limit: int,
        *,
        backward: bool = False,
    ) -> list[Entry]:
        """In time order, the ``limit`` entries that follow ``key`` (or, ``backward``, that
        come just before it), from the outbox and the plan."""
        entries = await self._outbox_page(filters, key, limit, backward=backward)
        if filters.status in (None, "", "planned"):
            planned = [
                self._plan_entry(r)
                for r in await self.planned(now, filters.end)
                if self._plan_matches(r, filters)
            ]
            if key is not None:
                planned = [
                    e for e in planned if (_sort_key(e) < key if backward else _sort_key(e) > key)
                ]
            entries = sorted(
                [*entries, *(planned[-limit:] if backward else planned[:limit])], key=_sort_key
            )
        return entries[-limit:] if backward else entries[:limit]

    async def month(
        self, filters: Filters, now: datetime, month: date, zone: str
    ) -> dict[date, DayCount]:
        """The calendar's figures: per local day (in ``zone``) of ``month``, the messages the
        filters ask for and, without a state filter, the ones that will never go out."""
        tz = ZoneInfo(zone)
        first = datetime(month.year, month.month, 1, tzinfo=tz)
        following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=tz)
        bounded = Filters(
            campaign=filters.campaign,
            audience=filters.audience,
            zone=filters.zone,
            locale=filters.locale,
            status=filters.status,
            start=max(first, filters.start) if filters.start else first,
            end=min(following, filters.end) if filters.end else following,
        )
        going: dict[date, int] = defaultdict(int)
        gone: dict[date, int] = defaultdict(int)
        # Hours, not days, are counted in the database: every zone's day is a run of whole
        # UTC hours (but for half-hour zones, placed by the hour's start).
        if _hourly(bounded):
            hours = await self._going_hour_counts(bounded)
        elif _hourly(replace(bounded, status=None)) and bounded.status == WAITING:
            hours = await self._waiting_hour_counts(bounded, now)
        else:
            hours = await self._row_counts(bounded)
        for at, n, left_out in hours:
            day = at.astimezone(tz).date()
            going[day] += n
            gone[day] += left_out
        if filters.status in (None, "", "planned"):
            # The list's window when it covers the month: one plan kept for both.
            until = following if following > now + PLAN_HORIZON else None
            for row in await self.planned(now, until):
                if self._plan_matches(row, bounded):
                    going[row.due_utc.astimezone(tz).date()] += row.count
        return {
            day: DayCount(going.get(day, 0), gone.get(day, 0))
            for day in sorted({*going, *gone})
            if going.get(day, 0) or gone.get(day, 0)
        }

    async def days(
        self, filters: Filters, now: datetime, month: date, zone: str
    ) -> dict[date, int]:
        """Messages per local day (in ``zone``) of ``month``, as :meth:`month` counts them."""
        counts = await self.month(filters, now, month, zone)
        return {day: c.messages for day, c in counts.items() if c.messages}

    def _hour_of(self, column: Any) -> Any:
        # SQLite keeps times as "YYYY-MM-DD HH:MM:SS.ffffff" text: its first 13 characters
        # are the hour, and cutting them is several times cheaper than strftime parsing
        # every row of a month. PostgreSQL groups by the truncated time itself (formatting
        # each row's hour as text cost a third of the query): its text starts the same way.
        if self.db.dialect == "sqlite":
            return sa.func.substr(column, 1, 13)
        return sa.func.date_trunc("hour", column)

    def _kept_hours(self, bounded: Filters, start: datetime) -> sa.Select[Any]:
        """The kept hourly counts of ``[start, bounded.end)`` under the filters it holds, as
        (hour, count, 0) for a union with outbox rows."""
        assert bounded.end is not None
        where = [H.hour >= start, H.hour < bounded.end, _shown(H.campaign_id, H.step_id)]
        if bounded.campaign:
            where.append(H.campaign_id == bounded.campaign)
        if bounded.audience:
            where.append(self._audience_condition(bounded.audience, H.campaign_id, H.step_id))
        return sa.select(
            self._hour_of(H.hour).label("hour"), H.count.label("n"), sa.literal(0).label("gone")
        ).where(*where)

    def _rows_per_hour(
        self, bounded: Filters, *where: sa.ColumnElement[bool], sign: int, gone: int
    ) -> sa.Select[Any]:
        """Outbox rows per hour as (hour, ``sign`` each, ``gone`` each), for a union with
        the kept counts."""
        conditions = [*where, _shown(D.campaign_id, D.step_id)]
        if bounded.campaign:
            conditions.append(D.campaign_id == bounded.campaign)
        if bounded.audience:
            conditions.append(self._audience_condition(bounded.audience, D.campaign_id, D.step_id))
        hour = self._hour_of(D.due_at)
        return (
            sa.select(
                hour.label("hour"),
                (sign * sa.func.count()).label("n"),
                (gone * sa.func.count()).label("gone"),
            )
            .where(*conditions)
            .group_by(hour)
        )

    async def _hours(self, parts: sa.Subquery) -> list[tuple[datetime, int, int]]:
        """The union ``parts`` summed per hour: (hour, messages, never sent)."""
        total, gone = sa.func.sum(parts.c.n), sa.func.sum(parts.c.gone)
        query = (
            sa.select(parts.c.hour, total, gone)
            .group_by(parts.c.hour)
            .having(sa.or_(total > 0, gone > 0))
        )
        hours: list[tuple[datetime, int, int]] = []
        async with self.db.session() as session:
            for at, n, left_out in (await session.execute(query)).all():
                hours.append((_hour_start(at), int(n), int(left_out)))
        return hours

    async def _going_hour_counts(self, bounded: Filters) -> list[tuple[datetime, int, int]]:
        """Messages per UTC hour from ``delivery_hour`` (migration 0026): a month is a few
        hundred rows there, where the outbox holds hundreds of thousands. It counts every
        state; the cancelled and skipped rows (few, read from the (status, due_at) index)
        are taken out, and counted apart: they never go out."""
        assert bounded.start is not None and bounded.end is not None
        kept = self._kept_hours(bounded, bounded.start)
        left_out = self._rows_per_hour(
            bounded,
            D.status.in_(NEVER_SENT),
            D.due_at >= bounded.start,
            D.due_at < bounded.end,
            sign=-1,
            gone=1,
        )
        return await self._hours(sa.union_all(kept, left_out).subquery())

    async def _waiting_hour_counts(
        self, bounded: Filters, now: datetime
    ) -> list[tuple[datetime, int, int]]:
        """Waiting messages per UTC hour, in one statement (one snapshot). ``delivery_hour``
        counts every status, and keeping a count per status there would make each send update
        a counter that every sender shares. But a waiting row is due soon or late: before the
        current hour, the waiting rows themselves are counted (the few the outbox has not
        sent yet); from it on, where nearly every row waits, the hour's kept count less the
        rows that no longer wait (sent early, skipped, cancelled: few), both read from the
        (status, due_at) index. The same figures as counting the waiting rows, which read
        every one of them (hundreds of thousands in a busy month)."""
        assert bounded.start is not None and bounded.end is not None
        split = min(max(now.replace(minute=0, second=0, microsecond=0), bounded.start), bounded.end)
        kept = self._kept_hours(bounded, split)
        parts = sa.union_all(
            self._rows_per_hour(
                bounded,
                D.status == WAITING,
                D.due_at >= bounded.start,
                D.due_at < split,
                sign=1,
                gone=0,
            ),
            kept,
            self._rows_per_hour(
                bounded,
                D.status.in_(_NOT_WAITING),
                D.due_at >= split,
                D.due_at < bounded.end,
                sign=-1,
                gone=0,
            ),
        )
        return await self._hours(parts.subquery())

    async def _row_counts(self, bounded: Filters) -> list[tuple[datetime, int, int]]:
        """Messages per UTC hour counted from the outbox rows themselves: for what
        ``delivery_hour`` does not hold (a status, the members' zone or language, bounds
        that cut an hour)."""
        hours: list[tuple[datetime, int, int]] = []
        async with self.db.session() as session:
            for at, n, left_out in (await session.execute(self._row_count_query(bounded))).all():
                hours.append((_hour_start(at), int(n) - int(left_out), int(left_out)))
        return hours

    def _row_count_query(self, bounded: Filters) -> sa.Select[tuple[Any, int, int]]:
        """The query of :meth:`_row_counts`: the rows of each hour, and of them the ones
        that never go out (none when a state is asked for: those are what it asks)."""
        hour = self._hour_of(D.due_at)
        if bounded.status:
            left_out: Any = sa.literal(0)
        else:
            left_out = sa.func.sum(sa.case((D.status.in_(NEVER_SENT), 1), else_=0))
        return (
            sa.select(hour, sa.func.count(), left_out)
            .where(*self._outbox_conditions(bounded))
            .group_by(hour)
        )

    # ---- one entry -----------------------------------------------------------------------

    async def detail(self, entry_id: str, now: datetime) -> EntryDetail | None:
        """An entry with its message and recipients; None when there is no such entry."""
        if entry_id.startswith("d") and entry_id[1:].isdigit():
            return await self._outbox_detail(int(entry_id[1:]))
        if entry_id.startswith("p"):
            return await self._plan_detail(entry_id[1:], now)
        return None

    async def _outbox_detail(self, delivery_id: int) -> EntryDetail | None:
        async with self.db.session() as session:
            row = (
                await session.execute(
                    sa.select(*_ENTRY_COLUMNS).where(
                        D.id == delivery_id, _shown(D.campaign_id, D.step_id)
                    )
                )
            ).one_or_none()
            if row is None:
                return None
            # The same send's other messages: same step, occurrence and instant.
            same_send = (
                D.campaign_id == row.campaign_id,
                D.step_id == row.step_id,
                D.occurrence == row.occurrence,
                D.due_at == row.due_at,
            )
            siblings = list(
                (
                    await session.execute(
                        sa.select(D.recipient, D.status)
                        .where(*same_send)
                        .order_by(D.id)
                        .limit(RECIPIENTS_SHOWN + 1)
                    )
                ).all()
            )
            total = len(siblings)
            if total > RECIPIENTS_SHOWN:  # counted only past the list: how many it reaches
                total = int(
                    await session.scalar(
                        sa.select(sa.func.count()).select_from(table_of(Delivery)).where(*same_send)
                    )
                    or 0
                )
        members = await self._members([r.recipient for r in siblings] + [row.recipient])
        entry = self._outbox_entry(row, members.get(row.recipient), await self._mentioned([row]))
        message_data = row.payload.get("message")
        message = Message.from_dict(message_data) if isinstance(message_data, dict) else None
        recipients = []
        for recipient, status in siblings[:RECIPIENTS_SHOWN]:
            member = members.get(recipient)
            if member is not None:
                zone = member.timezone or self.default_timezone
                name = member.display_name or member.platform_user_id
            else:
                zone = self._campaign_zone(row.campaign_id)
                name = "#" + recipient.removeprefix("channel:")
            recipients.append(Recipient(name, zone, row.due_at.astimezone(ZoneInfo(zone)), status))
        more = max(0, total - len(recipients))
        return EntryDetail(entry, message, recipients, more)

    async def _plan_detail(self, token: str, now: datetime) -> EntryDetail | None:
        try:
            padded = token + "=" * (-len(token) % 4)
            due_text, tiebreak = json.loads(base64.urlsafe_b64decode(padded.encode()))
            due = datetime.fromisoformat(due_text)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            return None
        if due.tzinfo is None:
            return None
        rows = await self.planned(
            now, due + timedelta(seconds=1) if due >= now + PLAN_HORIZON else None
        )
        row = next((r for r in rows if r.due_utc == due and _plan_tiebreak(r) == tiebreak), None)
        campaign = self.campaigns.get(row.campaign) if row is not None else None
        step = campaign.step(row.step) if campaign is not None and row is not None else None
        if row is None or campaign is None or step is None:
            return None
        members = self._plan.members
        first = members.get(row.recipients[0]) if row.recipients else None
        message = build_message(campaign, step, row.due_utc.astimezone(ZoneInfo(row.zone)), first)
        recipients = [
            Recipient(
                (members[key].name if key in members else None) or key,
                row.zone,
                row.recipient_local,
                "planned",
            )
            for key in row.recipients[:RECIPIENTS_SHOWN]
        ]
        if row.kind != "dm":
            recipients = [Recipient(row.target, row.zone, row.recipient_local, "planned")]
        more = max(0, len(row.recipients) - RECIPIENTS_SHOWN) if row.kind == "dm" else 0
        return EntryDetail(self._plan_entry(row), message, recipients, more)


def _shown(
    campaign_id: sa.ColumnElement[str], step_id: sa.ColumnElement[str]
) -> sa.ColumnElement[bool]:
    """Leaves out the messages that follow an answer to an anonymous survey (its next
    question, its thanks): plumbing, one per member and question, to a keyed hash and emptied
    once sent; shown, they only confused, and their number a day counted the answers. (The
    bot's own rows have a campaign id starting with a dot, which no campaign file has.)"""
    return sa.not_(sa.and_(campaign_id.startswith("."), step_id == ANONYMOUS_STEP))


def _hourly(filters: Filters) -> bool:
    """Whether ``delivery_hour`` answers these filters exactly: no status (not counted
    there), no zone or language (the members', which change without the outbox knowing), and
    bounds on whole UTC hours (a half-hour zone's month starts at half past)."""
    if filters.status or filters.zone or filters.locale:
        return False
    for bound in (filters.start, filters.end):
        if bound is None:
            return False
        utc = bound.astimezone(UTC)
        if (utc.minute, utc.second, utc.microsecond) != (0, 0, 0):
            return False
    return True


def _hour_start(at: Any) -> datetime:
    """An hour as the databases return it: a time (PostgreSQL), or SQLite's text
    "YYYY-MM-DD HH" (or with a "T" if written so)."""
    if isinstance(at, datetime):
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    stamp = str(at)
    start = datetime.strptime(f"{stamp[:10]} {stamp[11:13]}", "%Y-%m-%d %H")
    return start.replace(tzinfo=UTC)


def _hour_up(when: datetime) -> datetime:
    """``when`` rounded up to the hour."""
    floor = when.replace(minute=0, second=0, microsecond=0)
    return floor if floor == when else floor + timedelta(hours=1)


def _plan_tiebreak(row: TimelineRow) -> str:
    return "/".join((row.campaign, row.step, row.occurrence, row.zone, row.locale))


def _plan_key(row: TimelineRow) -> tuple[datetime, str]:
    return (row.due_utc, _plan_tiebreak(row))


def _sort_key(entry: Entry) -> tuple[datetime, int, str]:
    return (entry.due_utc, _RANK[entry.source], entry.tiebreak)
