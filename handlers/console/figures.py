"""The console's indicators and help desk figures.

Indicators are :func:`handlers.reporting.report.compute`, the code of ``rallybot report``. On a
large community it reads millions of rows for seconds, so the console keeps each scope's result
for :data:`FRESH_FOR` and then serves it while one recomputation runs in the background:
a page shows figures "as of" their computation time and never waits but for the very first
one of a scope. A roster import (an upload on the Members page, ``rallybot roster import``, a
start's) changes who is counted at once: figures computed before it are dropped, and the next
page waits for new ones rather than show "invited 10" beside a Members page of 1,500.

The help desk view reads the open tickets and counts an unanswered question as overdue once
its reminder is due (the help desk's own clock, counted in on-duty time).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from rallybot.bot.community import ANY
from rallybot.bot.config import Settings
from rallybot.bot.rota import not_found
from rallybot.campaigns.community import person_kind
from rallybot.handlers.helpdesk.service import LIVE, reminder_due
from rallybot.handlers.reporting import service as ind
from rallybot.handlers.reporting.service import ReportData, compute
from rallybot.storage.database import Database
from rallybot.storage.helpdesk_models import HelpTicket, TicketState
from rallybot.storage.models import Member, table_of
from rallybot.storage.repositories import roster_imports_mark

__all__ = [
    "FRESH_FOR",
    "HelpDesk",
    "IndicatorCache",
    "TicketRow",
    "help_desk",
]

log = logging.getLogger("rallybot.console")

FRESH_FOR = timedelta(minutes=5)
HELP_WINDOW = timedelta(days=30)
"""The response and resolution times of the help desk page: tickets opened in this window."""
TICKETS_SHOWN = 100

T = table_of(HelpTicket).c
M = table_of(Member).c


class IndicatorCache:
    """Each scope's :class:`ReportData`, recomputed in the background once stale."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        fresh_for: timedelta = FRESH_FOR,
        computer: Callable[[Database, ind.Scope, datetime], Awaitable[ReportData]] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.fresh_for = fresh_for
        self._compute = computer or compute
        self._data: dict[ind.Scope, ReportData] = {}
        # The roster imports each scope's figures were computed after (storage.repositories):
        # another mark now means a roster was imported since, by this process or another.
        self._marks: dict[ind.Scope, object] = {}
        self._running: dict[ind.Scope, asyncio.Task[ReportData]] = {}

    def _start(self, scope: ind.Scope) -> asyncio.Task[ReportData]:
        task = self._running.get(scope)
        if task is None:
            task = asyncio.create_task(self._refresh(scope))
            self._running[scope] = task
        return task

    async def _refresh(self, scope: ind.Scope) -> ReportData:
        try:
            # Read before computing: an import committed meanwhile makes the figures stale.
            mark = await roster_imports_mark(self.db)
            data = await self._compute(self.db, scope, self.clock())
            self._data[scope] = data
            self._marks[scope] = mark
            return data
        finally:
            # A computation dropped by clear() leaves the one started since in place.
            if self._running.get(scope) is asyncio.current_task():
                del self._running[scope]

    def clear(self) -> None:
        """Drop every kept figure (a roster was imported): each scope's next page computes
        its figures again, not waiting on a computation that started before."""
        self._data.clear()
        self._marks.clear()
        self._running.clear()

    async def get(self, scope: ind.Scope) -> ReportData:
        """The scope's figures: computed now the first time and after a roster import, later
        the kept ones (a stale result is served while a fresh one is computed)."""
        data = self._data.get(scope)
        if data is not None and self._marks.get(scope) != await roster_imports_mark(self.db):
            # Who is counted changed: figures from before would contradict the Members page.
            self._data.pop(scope, None)
            self._running.pop(scope, None)
            data = None
        if data is None:
            return await asyncio.shield(self._start(scope))
        if self.clock() - data.generated_at >= self.fresh_for:
            task = self._start(scope)
            task.add_done_callback(_log_failure)
        return data

    async def fresh(self, scope: ind.Scope) -> ReportData:
        """The scope's figures computed now (for downloads, which must be exact)."""
        return await asyncio.shield(self._start(scope))


def _log_failure(task: asyncio.Task[ReportData]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("indicators: recomputation failed (%s)", type(task.exception()).__name__)


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One open help question."""

    id: int
    state: str
    private: bool
    asker: str | None
    excerpt: str
    opened_at: datetime
    first_response_at: datetime | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class HelpDesk:
    """What the help desk page shows."""

    open: int
    unanswered: int
    overdue: int
    tickets: list[TicketRow]
    on_duty: list[str]
    times: ind.HelpTimes
    not_found: list[str] = field(default_factory=list)


async def help_desk(db: Database, settings: Settings, now: datetime) -> HelpDesk:
    """Open, unanswered and overdue questions, who is on duty, response and resolution
    times of the last :data:`HELP_WINDOW`."""
    async with db.session() as session:
        rows = list(
            (
                await session.execute(
                    sa.select(HelpTicket, M.display_name)
                    .outerjoin(Member, M.id == T.asker_id)
                    .where(T.state.in_(LIVE))
                    .order_by(T.opened_at, T.id)
                )
            ).all()
        )
    tickets: list[TicketRow] = []
    for ticket, asker in rows:
        assert ticket.id is not None
        unanswered = ticket.state == TicketState.open.value
        due = reminder_due(settings, ticket) if unanswered else None
        tickets.append(
            TicketRow(
                id=ticket.id,
                state=ticket.state,
                private=ticket.private,
                asker=asker,
                excerpt=ticket.excerpt,
                opened_at=ticket.opened_at,
                first_response_at=ticket.first_response_at,
                overdue=due is not None and due <= now,
            )
        )
    times = await ind.help_times(db, ind.Scope(start=now - HELP_WINDOW, end=now))
    on_duty, not_found = await _names(db, settings.rota.on_duty(now))
    return HelpDesk(
        open=len(tickets),
        unanswered=sum(t.state == TicketState.open.value for t in tickets),
        overdue=sum(t.overdue for t in tickets),
        tickets=tickets[:TICKETS_SHOWN],
        on_duty=on_duty,
        times=times,
        not_found=not_found,
    )


async def _names(db: Database, helpers: Sequence[str]) -> tuple[list[str], list[str]]:
    """The helpers' display names where the bot knows them (rota entries are ``U1`` or
    ``slack:U1``), else the entry itself; and, apart, the people the rota names that match no
    member (as written). The console served alone takes the community file's people as found
    (``any:x@example.com``): their e-mails are looked up among the members here."""
    ids: set[str] = set()
    emails: set[str] = set()
    for entry in helpers:
        platform, sep, rest = entry.partition(":")
        if sep and platform == ANY and person_kind(rest) == "email":
            emails.add(rest.lower())
        elif not_found(entry) is None:
            ids.add(rest if sep else entry)
    async with db.read() as session:
        known = dict(
            (
                await session.execute(
                    sa.select(M.platform_user_id, M.display_name).where(M.platform_user_id.in_(ids))
                )
            ).all()
        )
        by_email: dict[str, str] = {}
        if emails:
            rows = await session.execute(
                sa.select(sa.func.lower(M.email), M.display_name, M.platform_user_id).where(
                    sa.func.lower(M.email).in_(emails), M.forgotten.is_(False)
                )
            )
            by_email = {email: name or user_id for email, name, user_id in rows.all()}
    names: list[str] = []
    missing: list[str] = []
    for entry in helpers:
        platform, sep, rest = entry.partition(":")
        person = not_found(entry)
        if person is not None:
            missing.append(person)
        elif sep and platform == ANY and person_kind(rest) == "email":
            if rest.lower() in by_email:
                names.append(by_email[rest.lower()])
            else:
                missing.append(rest)
        elif sep and platform == ANY:
            names.append(rest)  # a @handle, unknown without the platform: as written
        else:
            names.append(known.get(rest if sep else entry) or entry)
    return names, missing
