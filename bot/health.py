"""Read-only checks shared by ``/readyz``, ``/metrics`` and ``rallybot health``: nothing here
writes. Replicas are counted from the replica registry (:mod:`storage.journal`), whose
heartbeats the running bots renew."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy import make_url
from sqlalchemy.engine import Connection

from rallybot.bot import i18n
from rallybot.storage.database import Database, create_database, normalize_url
from rallybot.storage.journal_models import Replica
from rallybot.storage.migrate import head_revision
from rallybot.storage.models import CampaignState, CampaignStatus, Delivery, table_of
from rallybot.storage.models import DeliveryStatus as Status

__all__ = [
    "Backlog",
    "DatabaseStatus",
    "HealthReport",
    "OutboxSummary",
    "active_replicas",
    "check_database",
    "database_file_missing",
    "gather_health",
    "outbox_backlog",
    "outbox_summary",
    "shipped_head",
]

D = table_of(Delivery).c
S = table_of(CampaignState).c
R = table_of(Replica).c


@functools.cache
def shipped_head() -> str | None:
    """The newest schema revision this code ships (read once: the files do not change)."""
    return head_revision()


def database_file_missing(url: str) -> bool:
    """Whether ``url`` names a SQLite file that does not exist (opening it would create it)."""
    sa_url = make_url(normalize_url(url))
    if sa_url.get_backend_name() != "sqlite":
        return False
    name = sa_url.database or ""
    return bool(name) and name != ":memory:" and not Path(name).exists()


@dataclass
class DatabaseStatus:
    """Whether the database answers and its schema is the one this code expects."""

    reachable: bool
    revision: str | None = None
    head: str | None = None
    error: str | None = None

    @property
    def at_head(self) -> bool:
        """The schema is migrated to the newest revision shipped with the code."""
        return self.reachable and self.revision is not None and self.revision == self.head


async def check_database(db: Database) -> DatabaseStatus:
    """Connect, run one query, and read the schema revision; never raises."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    head = shipped_head()
    try:
        async with db.engine.connect() as connection:
            revision = await connection.run_sync(read)
    except Exception as exc:  # any driver error means "not reachable": report, never raise
        return DatabaseStatus(False, head=head, error=f"{type(exc).__name__}: {exc}")
    return DatabaseStatus(True, revision=revision, head=head)


@dataclass
class Backlog:
    """The due part of the outbox."""

    due: int = 0
    oldest_due: datetime | None = None
    lag_seconds: float = 0.0


async def outbox_backlog(db: Database, now: datetime) -> Backlog:
    """Pending deliveries of active campaigns that are due, and how late the oldest is."""
    paused = sa.select(S.id).where(S.status == CampaignStatus.paused.value)
    query = sa.select(sa.func.count(), sa.func.min(D.due_at)).where(
        D.status == Status.pending.value, D.due_at <= now, D.campaign_id.not_in(paused)
    )
    async with db.read() as session:
        count, oldest = (await session.execute(query)).one()
    if oldest is None:
        return Backlog()
    oldest = _aware(oldest)
    return Backlog(int(count), oldest, max(0.0, (now - oldest).total_seconds()))


@dataclass
class OutboxSummary:
    """Deliveries by status, and the failures of the last day."""

    by_status: dict[str, int] = field(default_factory=dict)
    failed_recently: int = 0
    last_failure: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["last_failure"] = self.last_failure.isoformat() if self.last_failure else None
        return data


async def outbox_summary(db: Database, now: datetime, *, recent: timedelta) -> OutboxSummary:
    """Counts by status; how many failed within ``recent`` of ``now``, and the last failure."""
    summary = OutboxSummary()
    async with db.read() as session:
        for status, count in await session.execute(
            sa.select(D.status, sa.func.count()).group_by(D.status)
        ):
            summary.by_status[str(status)] = int(count)
        recent_count, last = (
            await session.execute(
                sa.select(
                    sa.func.count().filter(D.updated_at >= now - recent), sa.func.max(D.updated_at)
                ).where(D.status == Status.failed.value)
            )
        ).one()
    summary.failed_recently = int(recent_count or 0)
    summary.last_failure = _aware(last) if last is not None else None
    return summary


async def active_replicas(db: Database, now: datetime, stale_after: float) -> dict[str, int]:
    """Replicas by platform whose heartbeat is at most ``stale_after`` seconds old."""
    query = (
        sa.select(R.platform, sa.func.count())
        .where(R.heartbeat_at >= now.timestamp() - stale_after)
        .group_by(R.platform)
    )
    async with db.read() as session:
        return {str(platform): int(n) for platform, n in await session.execute(query)}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class HealthReport:
    """What ``rallybot health`` found: errors make it fail, warnings only inform."""

    checked_at: datetime
    database: dict[str, Any] = field(default_factory=dict)
    outbox: dict[str, Any] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``error``, ``warning`` or ``ok``."""
        return "error" if self.errors else "warning" if self.warnings else "ok"

    @property
    def exit_code(self) -> int:
        """1 when something is broken (the database, its schema); 0 otherwise, warnings
        included: an orchestrator restarts or alerts on 1, a person reads the warnings."""
        return 1 if self.errors else 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``--format json``)."""
        return {
            "status": self.status,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "database": self.database,
            "outbox": self.outbox,
            "replicas": self.replicas,
            "errors": self.errors,
            "warnings": self.warnings,
        }


async def gather_health(
    url: str,
    now: datetime,
    *,
    stale_after: float,
    max_lag: float = 300.0,
    recent: timedelta = timedelta(hours=24),
    locale: str | None = None,
) -> HealthReport:
    """Check the database at ``url`` without changing it: reachable, schema at head, the
    outbox's backlog and failures, the live replicas. Problems are worded in ``locale``'s
    language (English by default, as JSON readers expect)."""
    report = HealthReport(checked_at=now)
    safe_url = make_url(normalize_url(url)).render_as_string(hide_password=True)
    report.database = {"url": safe_url, "reachable": False, "revision": None}
    report.database["head"] = shipped_head()
    if database_file_missing(url):
        # Translators: the command stays as it is.
        missing = i18n.gettext(
            locale, "the database file of {url} does not exist (run: rallybot db upgrade)"
        )
        report.errors.append(missing.format(url=safe_url))
        return report
    db = create_database(url)
    try:
        status = await check_database(db)
        report.database.update(reachable=status.reachable, revision=status.revision)
        if not status.reachable:
            silent = i18n.gettext(locale, "the database does not answer: {error}")
            report.errors.append(silent.format(error=status.error))
            return report
        if not status.at_head:
            behind = i18n.gettext(
                locale,
                "the schema is at revision {revision}, this version needs {head} (run: rallybot "
                "db upgrade)",
            )
            revision = status.revision or i18n.gettext(locale, "none")
            report.errors.append(behind.format(revision=revision, head=status.head))
            return report  # its tables may not be the ones read below
        try:
            summary = await outbox_summary(db, now, recent=recent)
            backlog = await outbox_backlog(db, now)
            report.replicas = await active_replicas(db, now, stale_after)
        except Exception as exc:  # a schema from another version may lack a column
            unread = i18n.gettext(locale, "could not read the outbox: {error}")
            report.errors.append(unread.format(error=type(exc).__name__))
            return report
    finally:
        await db.dispose()
    report.outbox = {
        **summary.to_json(),
        "due": backlog.due,
        "lag_seconds": round(backlog.lag_seconds, 1),
    }
    hours = recent.total_seconds() / 3600
    if summary.failed_recently:
        failed = i18n.ngettext(
            locale,
            "{n} delivery failed in the last {hours} h ({total} in all): see the logs and "
            "rallybot campaign list",
            "{n} deliveries failed in the last {hours} h ({total} in all): see the logs and "
            "rallybot campaign list",
            summary.failed_recently,
        )
        report.warnings.append(
            failed.format(
                n=summary.failed_recently,
                hours=f"{hours:.0f}",
                total=summary.by_status.get("failed", 0),
            )
        )
    if backlog.lag_seconds > max_lag:
        waited = i18n.gettext(
            locale,
            "the oldest due message has waited {minutes} min ({due} due): is a bot running, or "
            "is a platform limiting it?",
        )
        minutes = f"{backlog.lag_seconds / 60:.0f}"
        report.warnings.append(waited.format(minutes=minutes, due=backlog.due))
    if not report.replicas:
        # Translators: a replica is one running copy of the bot; its heartbeat a regular write.
        nobody = i18n.gettext(locale, "no running bot: no replica renewed its heartbeat lately")
        report.warnings.append(nobody)
    return report
