"""The application: wires storage, campaigns, planner, outbox, router, handlers and an adapter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rallybot.bot import notices, reloads
from rallybot.bot.adapters.base import Adapter, AdapterError, event_recorded
from rallybot.bot.budget import SharedBudget
from rallybot.bot.channels import ChannelSync, sync_channel_members
from rallybot.bot.clock import Clock, SimulatedClock
from rallybot.bot.commands import CommandSpec, catalogue
from rallybot.bot.community import members_by_email
from rallybot.bot.community import overlay as overlay_community
from rallybot.bot.community import resolve as resolve_community
from rallybot.bot.config import Settings
from rallybot.bot.context import ReloadReport
from rallybot.bot.events import (
    ButtonClicked,
    CommandInvoked,
    Event,
    FormSubmitted,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from rallybot.bot.feature import Feature, ordered
from rallybot.bot.inbox import Inbox
from rallybot.bot.journal import JournalCodecError, decode_event, dedup_id, encode_event
from rallybot.bot.logs import log_context
from rallybot.bot.messages import Message
from rallybot.bot.metrics import METRICS
from rallybot.bot.outbox import MISSED, Dispatcher, DispatchStats, Gate, Render
from rallybot.bot.ratelimit import RateLimiter
from rallybot.bot.router import Router
from rallybot.bot.teams import TeamSync, sync_teams
from rallybot.bot.views import member_view
from rallybot.bot.waves import Waves, opened_waves
from rallybot.campaigns.community import Community, load_community
from rallybot.campaigns.loader import (
    CampaignLoadError,
    LoadError,
    is_community_file,
    load_campaign,
)
from rallybot.campaigns.planner import MemberView, PlannedDelivery, plan
from rallybot.campaigns.roster import member_fields
from rallybot.campaigns.rules import is_rules_file
from rallybot.campaigns.schema import Campaign
from rallybot.storage import journal as journal_store
from rallybot.storage import outbox
from rallybot.storage.batching import GroupCommit
from rallybot.storage.database import Database
from rallybot.storage.models import CampaignStatus, Delivery, DeliveryStatus, Member
from rallybot.storage.repositories import (
    ImportCounts,
    RosterSource,
    advance_planned_through,
    channel_memberships,
    get_flag,
    get_member_by_platform_id,
    get_or_create_state,
    import_members,
    list_members,
    list_states,
    member_memo,
    prefetch_members,
)
from rallybot.storage.secret import server_secret

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from rallybot.campaigns.roster import RosterEntry

__all__ = ["Kernel", "ReloadReport", "campaign_files", "outbox_row"]

F = TypeVar("F", bound=Feature)

log = logging.getLogger("rallybot.app")

RELOAD_FLAG = "reload"
HANDLER_CONCURRENCY = 8
"""How many inbound events the features handle at the same time (each may hold a connection)."""
INTERACTIVE_EVENTS = (CommandInvoked, ButtonClicked, FormSubmitted)
"""Events someone waits an answer to: :meth:`Rallybot.accept` returns once they are handled."""
GROUPED_EVENTS = (ReactionAdded, ReactionRemoved)
"""Events handled a group of members at a time, in one transaction with the closing of their
journal rows: they come in bursts, and their features only write to the database. Every other
event is handled alone, its journal row closed in the transaction of its effects too."""
GROUP_SIZE = 64
"""How many members' events one transaction handles at most (on SQLite it holds the write
turn meanwhile: the recording of new events waits for it)."""
MUST_SEND_GRACE = timedelta(days=365)
"""How late a ``must_send: true`` step may still go out (after a pause or an outage)."""
SHUTDOWN_GRACE_SECONDS = 20.0
"""How long a stopping bot keeps handling the events it already accepted."""
SIMULATED_SLACK_SECONDS = 5.0
"""On a simulated clock running at a speed, how many real seconds a due message may still wait
for a dispatch pass past its grace (at least :data:`SIMULATED_SLACK_TICKS` dispatch intervals):
at ``--speed 3600`` one real second is a simulated hour, the whole default grace, less than a
pass may take to come, so every message would otherwise be skipped."""
SIMULATED_SLACK_TICKS = 3
PACED_LEAD_SECONDS = 0.05
"""On a simulated clock running at a speed, how many real seconds before a message's due time
the dispatcher claims it, to send it when the clock gets there: at ``--speed 3600`` the claim's
few milliseconds would make it a simulated minute late."""
SIMULATED_LOOKAHEAD_TICKS = 2
"""On a simulated clock running at a speed, the planner looks ahead at least this many planning
intervals (real seconds at that speed): a message is in the outbox before it is due, not
written a simulated day late by the next pass."""
JOURNAL_MAX_ATTEMPTS = 5
"""How many processes may take up a recorded event before it is given up (an event that
kills the process handling it must not kill every replica in turn)."""
JOURNAL_PURGE_BEATS = 60
"""Handled journal rows older than ``RALLYBOT_JOURNAL_KEEP_HOURS`` go every this many
heartbeats."""


def campaign_files(paths: Sequence[Path]) -> list[Path]:
    """The campaign files named by ``paths`` (folders give their ``*.yaml`` and ``*.yml``)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"}))
        else:
            files.append(path)
    return files


class Kernel:
    """One bot process, with the features it is given (in the order :func:`bot.feature.ordered`
    puts them). Several may run against one PostgreSQL database."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        adapter: Adapter,
        clock: Clock,
        *,
        features: Sequence[Feature],
        command_order: Sequence[str] = (),
        campaign_paths: Sequence[Path] | None = None,
        worker_id: str | None = None,
        limiter: RateLimiter | None = None,
        local_admins: Sequence[str] = (),
    ) -> None:
        self.settings = settings
        # What the environment says, before the community file is laid over it at reload.
        self.base_settings = settings
        self._community: Community | None = None  # the last good community file
        self.db = db
        self.adapter = adapter
        self.clock = clock
        self.campaign_paths = list(campaign_paths or [settings.campaigns_dir])
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"
        self.local_admins = set(local_admins)
        self.campaigns: dict[str, Campaign] = {}
        self._by_source: dict[str, Campaign] = {}
        self.router = Router()
        # The inbound journal: a burst's events recorded in one transaction; each event's
        # journal row closed in the transaction of its effects, reactions a group at a time
        # (see bot/inbox.py, storage/journal.py).
        self._claims: GroupCommit[Event, int | None] = GroupCommit(self._record_batch)
        self._handler_slots = asyncio.Semaphore(HANDLER_CONCURRENCY)
        self.community_warnings = True
        """Whether finding the community file's people logs those not found: off while a
        start still has rosters to import (they may bring them; see :mod:`bot.runner`)."""
        self.inbox = Inbox(
            self._handle_recorded,
            workers=HANDLER_CONCURRENCY,
            handle_group=self._handle_group,
            groupable=lambda event: isinstance(event, GROUPED_EVENTS),
            max_group=GROUP_SIZE,
        )
        self._replica_task: asyncio.Task[None] | None = None
        self.dispatcher = Dispatcher(
            db,
            adapter,
            clock,
            worker_id=self.worker_id,
            lease=timedelta(seconds=settings.lease_seconds),
            batch=settings.dispatch_batch,
            limiter=limiter,
        )
        # The platform's allowance, shared with the other replicas (bot/budget.py): the
        # adapter's own limiter paces every call it makes; a dispatcher limiter, else.
        self.budget = SharedBudget(
            db,
            self.worker_id,
            adapter.platform,
            getattr(adapter, "limiter", None) or limiter,
            interval=settings.heartbeat_seconds,
        )
        self._replan_from: datetime | None = None
        self._last_plan_at: datetime | None = None
        self._plan_requested = asyncio.Event()
        # Runs a planning pass at once when one is asked for (set by the scheduler on a
        # running simulated clock, where waiting for the next pass is hours of its time).
        self._plan_soon: Callable[[], None] | None = None
        # Set when a planning pass writes rows, or a feature's next event is known: a
        # dispatch loop asleep until a later due time looks again (see dispatch_loop).
        self._dispatch_wake = asyncio.Event()
        self._feature_due: datetime | None = None
        self._reload_seen: datetime | None = None
        self._absences: dict[str, datetime] = {}  # campaign id -> its file missing since
        self._reloaded = False
        self.last_reload: ReloadReport | None = None  # the last reload's report
        self._command_names: set[str] = set()
        self._members_cache: tuple[tuple[int, datetime | None], list[MemberView]] | None = None
        self.features: tuple[Feature, ...] = tuple(ordered(features))
        self._by_type: dict[type[Feature], Feature] = {type(f): f for f in self.features}
        # The one catalogue of /rallybot subcommands, from the features' declarations, in the
        # order the help and Discord show them (``command_order``, then the features' order).
        self.commands: tuple[CommandSpec, ...] = catalogue(self.features, command_order)
        self._command_names = {spec.name for spec in self.commands}
        declare = getattr(adapter, "declare_commands", None)
        if callable(declare):  # a platform that declares its commands up front (Discord)
            declare(self.commands)
        self._file_kinds = [kind for f in self.features for kind in f.file_kinds]
        for feature in self.features:
            for subscription in feature.subscriptions():
                self.router.add(
                    subscription.event,
                    subscription.handler,
                    transactional=subscription.transactional,
                )
        # Every direct message, whichever feature wrote it, waits for its member's wave, then
        # for the features' gates (journey nudges: task_done, daily cap).
        self.waves = Waves(db, clock, self._view, worker_id=self.worker_id)
        gates = [gate for f in self.features for gate in f.gates(self)]
        self.dispatcher.gate = self.waves.wrap(_first_verdict(gates) if gates else None)
        renders = [render for f in self.features for render in f.renders(self)]
        if renders:  # leaderboard steps, written when sent
            self.dispatcher.render = _in_turn(renders)

    def feature(self, kind: type[F]) -> F:
        """This bot's instance of the feature class ``kind`` (its state: quiz banks, FAQ...);
        LookupError when the bot runs without it."""
        found = self._by_type.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"this bot runs without the {kind.__name__} feature")
        return found

    def http_routes(self) -> list[BaseRoute]:
        """The HTTP routes the features serve (added to the bot's HTTP server)."""
        return [route for f in self.features for route in f.routes(self)]

    # ---- campaign files -------------------------------------------------------------------

    async def _apply_community(self, paths: list[Path], report: ReloadReport) -> None:
        """Lay the community file over the settings (a broken file keeps the last good one)."""
        if not paths:
            return
        for extra in paths[1:]:
            message = f"a second community file: one community per bot (the first is {paths[0]})"
            report.errors.append(LoadError(str(extra), 1, 1, "community", message))
        try:
            community = load_community(paths[0])
        except CampaignLoadError as exc:
            report.errors.extend(exc.errors)
            for error in exc.errors:
                log.error("community file error: %s", error)
            return
        self._community = community
        await self._resolve_community()

    async def _resolve_community(self) -> None:
        """Find the community file's people on the platform and lay the file over the
        settings. E-mails the platform cannot look up are found among the members (the console
        platform's come from the rosters): after a roster import too, for the members it
        brought."""
        if self._community is None:
            return
        platform = self.adapter.platform
        members = members_by_email(self.db, platform)
        resolved = await resolve_community(
            self._community,
            self.adapter,
            platform,
            members=members,
            warn=self.community_warnings,
        )
        self.settings = overlay_community(self.base_settings, resolved)

    async def resolve_community(self) -> None:
        """Find the community file's people again (after the rosters a start imports), and say
        who is still not found."""
        await self._resolve_community()

    async def reload(self) -> ReloadReport:
        """Read the campaign files again and bring the outbox in line with them.

        A broken file keeps its last good version running. Pending messages of removed
        steps are cancelled, those of edited steps are rewritten; sent ones never go again.
        A missing file holds its campaign and is forgiven for ``RALLYBOT_FILE_ABSENT_MINUTES``;
        cancelled messages come back with their step (see :mod:`bot.reloads`).
        """
        now = self.clock.now()
        report = ReloadReport()
        new_by_source: dict[str, Campaign] = {}
        feature_files: dict[str, list[Path]] = {kind.name: [] for kind in self._file_kinds}
        files = campaign_files(self.campaign_paths)
        await self._apply_community([p for p in files if is_community_file(p)], report)
        for path in files:
            # A points rules file may sit beside the campaigns: RALLYBOT_RULES reads it.
            if is_community_file(path) or is_rules_file(path):
                continue
            kind = next((k for k in self._file_kinds if k.matches(path)), None)
            if kind is not None:  # a feature's file (a quiz bank, a FAQ), not a campaign
                feature_files[kind.name].append(path)
                continue
            source = str(path)
            try:
                campaign = load_campaign(path, default_quiet_hours=self.settings.quiet)
            except (CampaignLoadError, MemoryError, RecursionError, OSError) as exc:
                # Whatever a file does to the loader, the bot keeps its last good version.
                errors = (
                    exc.errors
                    if isinstance(exc, CampaignLoadError)
                    else [LoadError(source, 1, 1, "", f"cannot be read ({type(exc).__name__})")]
                )
                report.errors.extend(errors)
                previous = self._by_source.get(source)
                if previous is not None:
                    new_by_source[source] = previous
                    report.kept.append(previous.id)
                for error in errors:
                    log.error("campaign file error: %s", error)
                continue
            new_by_source[source] = campaign
        new: dict[str, Campaign] = {}
        for campaign in new_by_source.values():
            if campaign.id in new:
                report.errors.append(
                    LoadError(
                        campaign.source,
                        1,
                        1,
                        "id",
                        f'campaign id "{campaign.id}" is also used by {new[campaign.id].source}',
                    )
                )
                continue
            new[campaign.id] = campaign
        cancelled: dict[tuple[str, str], int] = {}  # for the metrics
        for campaign in new.values():
            await get_or_create_state(
                self.db,
                campaign.id,
                campaign.spec.title,
                campaign.source,
                campaign.content_hash,
                now,
            )
            if campaign.id in self._absences:
                await reloads.forget_absence(self.db, campaign.id, now)
                log.info("campaign %s: its file is back", campaign.id)
            previous = self.campaigns.get(campaign.id)
            if previous is not None:
                report.warnings.extend(reloads.rename_warnings(previous, campaign))
            await reloads.carry_renames(self.db, campaign, now)
            report.restored += await reloads.restore_cancelled(self.db, campaign, now)
            report.cancelled += await outbox.cancel_pending(
                self.db,
                campaign.id,
                [s.id for s in campaign.steps],
                reloads.STEP_REMOVED,
                now,
                by_step=cancelled,
            )
            report.replanned += await outbox.delete_stale_pending(
                self.db, campaign.id, {s.id: s.content_hash for s in campaign.steps}
            )
            if campaign.id not in report.kept:
                report.loaded.append(campaign.id)
        # A campaign whose file is missing is held, not cancelled: a move, a checkout or a
        # deploy puts it back in a moment (see bot/reloads.py). At start, the database names
        # the campaigns whose file went away while the bot was stopped.
        missing = set(self.campaigns) - set(new)
        if not self._reloaded:
            missing |= set(reloads.absent_sources(await list_states(self.db), set(new)))
        for campaign_id in sorted(missing):
            report.removed.append(campaign_id)
            await reloads.note_absence(self.db, campaign_id, now)
        self._absences = await reloads.load_absences(self.db)
        self._reloaded = True
        report.cancelled += await self._cancel_absent(now)
        for (campaign_id, step_id), count in cancelled.items():
            METRICS.delivery(campaign_id, step_id, "cancelled", count)
        self.campaigns = new
        self._by_source = new_by_source
        # The outbox gate knows the waves from the first reload, before any planning pass.
        self.waves.campaigns = tuple(new.values())
        self.waves.opened = await opened_waves(self.db)
        for feature in self.features:  # their files, once the campaigns they check are in
            report.errors.extend(await feature.reload(self, feature_files))
        if self._last_plan_at is not None:
            self._replan_from = now - self.settings.grace
        log.info("reload: %s", report.summary().splitlines()[0])
        for warning in report.warnings:
            log.warning("reload: %s", warning)
        self.last_reload = report  # the console shows its errors and warnings
        return report

    async def _cancel_absent(self, now: datetime) -> int:
        """Cancel the messages of campaigns whose file has been missing for too long."""
        grace = timedelta(minutes=self.settings.file_absent_minutes)
        done = await reloads.cancel_absent(self.db, self._absences, now, grace)
        return sum(done.values())

    # ---- members --------------------------------------------------------------------------

    async def import_roster(
        self,
        entries: Sequence[RosterEntry],
        platform: str,
        *,
        progress: Callable[[int], None] | None = None,
        source: RosterSource | None = None,
    ) -> ImportCounts:
        """Create or update members from roster entries (ids: the entry id, else its email),
        all in one transaction (with ``source``, the file they were read from, kept)."""
        counts = await import_members(
            self.db,
            platform,
            [member_fields(entry) for entry in entries],
            self.clock.now(),
            progress=progress,
            secret_key=self.settings.secret_key,  # an erased person is not imported again
            source=source,
        )
        await self._resolve_community()
        self.request_plan()
        return counts

    async def member_join_date(self, platform: str, user_id: str) -> datetime | None:
        """When a member joined, if known."""
        member = await get_member_by_platform_id(self.db, platform, user_id)
        return member.joined_at if member is not None else None

    async def _member_rows(self) -> list[tuple[MemberView, Member]]:
        rows = await list_members(self.db)
        channels = await channel_memberships(self.db, [m.id for m in rows if m.id is not None])
        return [(self._view(m, channels.get(m.id or 0, set())), m) for m in rows]

    @staticmethod
    def _view(member: Member, channels: set[str]) -> MemberView:
        return member_view(member, channels)

    # ---- ticks ----------------------------------------------------------------------------

    def _simulated(self, real_seconds: float) -> timedelta:
        """``real_seconds`` in the time of a simulated clock running at a speed; zero on the
        system clock and on a simulated clock that only moves when told to."""
        speed = self.clock.speed if isinstance(self.clock, SimulatedClock) else 0.0
        return timedelta(seconds=real_seconds * speed)

    def lateness_slack(self) -> timedelta:
        """How much later than its grace a due message may still go: nothing on the system
        clock; on a running simulated clock, the few real seconds a dispatch pass may take to
        come, at its speed."""
        settings = self.settings
        ticks = SIMULATED_SLACK_TICKS * settings.dispatch_interval_seconds
        return self._simulated(max(SIMULATED_SLACK_SECONDS, ticks))

    def lookahead(self) -> timedelta:
        """How far ahead a planning pass writes the outbox (``RALLYBOT_LOOKAHEAD_SECONDS``, and
        on a running simulated clock at least a few planning intervals at its speed)."""
        settings = self.settings
        passes = self._simulated(SIMULATED_LOOKAHEAD_TICKS * settings.plan_interval_seconds)
        return max(timedelta(seconds=settings.lookahead_seconds), passes)

    def request_plan(self) -> None:
        """Ask for a planning pass soon (a member joined, a roster was imported)."""
        self._plan_requested.set()
        if self._plan_soon is not None:
            self._plan_soon()

    def plan_soon_with(self, run_now: Callable[[], None]) -> None:
        """How the scheduler runs a planning pass at once when :meth:`request_plan` asks."""
        self._plan_soon = run_now

    def channel_ids(self, campaign: Campaign) -> dict[str, str]:
        """Logical channel name -> platform channel id (settings override the file)."""
        return {**campaign.spec.channels, **self.settings.channel_map}

    async def plan_tick(self) -> int:
        """Write the deliveries due up to now + lookahead into the outbox; returns new rows."""
        self._plan_requested.clear()
        now = self.clock.now()
        await self._check_reload_flag()
        if self._absences:
            await self._cancel_absent(now)
        until = now + self.lookahead()
        rows = await self._member_rows()
        members = [view for view, _ in rows]
        if self._last_plan_at is None:
            changed = frozenset(v.key for v in members)
        else:
            since_change = self._last_plan_at - timedelta(seconds=1)
            changed = frozenset(v.key for v, m in rows if m.updated_at >= since_change)
        campaigns = list(self.campaigns.values())
        changed |= self.waves.update(
            campaigns,
            await opened_waves(self.db),
            {c.id: self.channel_ids(c) for c in campaigns},
            rows,
        )
        added = 0
        for campaign in list(self.campaigns.values()):
            state, _created = await get_or_create_state(
                self.db,
                campaign.id,
                campaign.spec.title,
                campaign.source,
                campaign.content_hash,
                now,
            )
            if state.status == CampaignStatus.paused.value:
                continue
            start = state.planned_through or (now - self.settings.grace)
            if self._replan_from is not None:
                start = min(start, self._replan_from)
            if self._last_plan_at is None:
                # The first pass of a process plans the grace window again: a run killed
                # between a reload's rewrite of an edited step (its pending rows deleted) and
                # its next pass would otherwise lose them. Rows already there are kept as they
                # are (the insert ignores existing keys).
                start = min(start, now - self.settings.grace)
            deliveries = plan(
                campaign,
                members,
                start,
                until,
                default_timezone=self.settings.timezone,
                channel_ids=self.channel_ids(campaign),
                full_members=changed,
                openings=self.waves.by_member,
            )
            batch = [self._row(d, now) for d in deliveries]
            if batch:
                async with self.db.session() as session:
                    added += await outbox.insert_deliveries(session, batch)
            await advance_planned_through(self.db, campaign.id, until)
        self._replan_from = None
        self._last_plan_at = now
        if added:
            self._dispatch_wake.set()
        return added

    def delivery_row(self, delivery: PlannedDelivery, now: datetime) -> dict[str, Any]:
        """The outbox row of a planned delivery (the planner's, and ``/rallybot send``'s)."""
        return self._row(delivery, now)

    def _row(self, delivery: PlannedDelivery, now: datetime) -> dict[str, Any]:
        message = delivery.message()
        for feature in self.features:  # a survey's button gets its key made with the secret
            message = feature.prepare(self, message, delivery.occurrence)
        return outbox_row(delivery, now, self.settings, message, slack=self.lateness_slack())

    async def dispatch_tick(
        self, *, drain: bool = False, sweep: bool = True, until: datetime | None = None
    ) -> DispatchStats:
        """Send what is due, batch after batch while they come back full; with ``drain``,
        until nothing due is left. :meth:`dispatch_loop` runs the overdue sweep and the
        features' ticks itself (``sweep=False``), and may name a due time just ahead to claim
        the rows of beforehand and send on time (``until``, see :meth:`Dispatcher.run_once`).

        A full batch means more is due: the next one starts at once. Waiting for the next
        tick cost a fan-out half its speed: a batch that took a little longer than the
        interval made the scheduler skip that tick (one run at a time), and the dispatcher
        sat idle until the one after. The overdue sweep and the features' ticks run first,
        and again every dispatch interval while the batches go on.
        """
        interval = self.settings.dispatch_interval_seconds
        total = DispatchStats()
        swept_at: float | None = None
        while True:
            if sweep and (swept_at is None or time.monotonic() - swept_at >= interval):
                swept_at = time.monotonic()
                total.skipped += await self._sweep_and_tick()
            size = self.dispatcher.claim_size()
            stats = await self.dispatcher.run_once(until=until)
            for name in (
                "claimed",
                "sent",
                "recovered",
                "skipped",
                "retried",
                "failed",
                "lost_claims",
            ):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            if stats.claimed == 0 or (not drain and stats.claimed < size):
                return total

    def paced(self) -> bool:
        """True on a simulated clock that runs by itself (a speed above 0): its time goes by
        faster than the real time the scheduler counts in."""
        return isinstance(self.clock, SimulatedClock) and self.clock.speed > 0

    async def dispatch_loop(self) -> None:
        """Send what is due, again and again, until the dispatcher stops: on a running
        simulated clock, in place of the dispatch tick every real interval.

        At ``--speed 3600`` a pass every real second is a pass every simulated hour, and a
        message due at 09:00 would leave at up to 10:00. Between passes, this loop sleeps until
        the next due time (a pending row, a feature's next event) converted to real time, at
        most a dispatch interval, and wakes at once when a planning pass writes rows. At such
        a speed every real millisecond is seconds of lateness: a pass claims the rows a little
        ahead (:data:`PACED_LEAD_SECONDS`) and sends them when the clock reaches their time,
        and the overdue sweep and the features' ticks run beside it (every dispatch interval,
        and when a feature's event has come), never in the way of a send.
        """
        interval = self.settings.dispatch_interval_seconds
        swept_at: float | None = None
        sweeping: asyncio.Task[None] | None = None
        target: datetime | None = None  # the due time the next pass sends, claimed ahead
        try:
            while not self.dispatcher.stopping:
                self._dispatch_wake.clear()  # before the pass: rows written during it count
                began = self.clock.now()
                try:
                    await self.dispatch_tick(sweep=False, until=target)
                    feature_due = self._feature_due
                    if (sweeping is None or sweeping.done()) and (
                        swept_at is None
                        or time.monotonic() - swept_at >= interval
                        or (feature_due is not None and feature_due <= self.clock.now())
                    ):
                        swept_at = time.monotonic()
                        sweeping = asyncio.create_task(self._paced_sweep(interval))
                    wait, target = await self._real_wait(began, interval)
                except Exception:  # as the scheduler does with a failing tick: try again later
                    log.exception("the dispatch pass failed; trying again in %g s", interval)
                    wait, target = interval, None
                if target is not None:
                    wait -= PACED_LEAD_SECONDS  # claim ahead, send on time
                if wait > 0:
                    try:
                        await asyncio.wait_for(self._dispatch_wake.wait(), wait)
                    except TimeoutError:
                        pass
                    else:  # new rows, maybe due now: a pass at once, holding nothing back
                        target = None
        finally:
            if sweeping is not None:
                with contextlib.suppress(Exception):
                    await sweeping

    async def _paced_sweep(self, interval: float) -> None:
        """The overdue sweep and the features' ticks, then when a feature next has something
        to do (within the coming ``interval`` real seconds): :meth:`dispatch_loop` wakes for
        it."""
        try:
            await self._sweep_and_tick()
            speed = self.clock.speed if isinstance(self.clock, SimulatedClock) else 0.0
            now = self.clock.now()
            horizon = now + timedelta(seconds=interval * speed)
            events: list[datetime] = []
            for feature in self.features:  # quiz windows, help reminders, digests...
                when = await feature.next_event_time(self, horizon)
                if when is not None and when > now:  # one already due was just ticked
                    events.append(when)
            self._feature_due = min(events, default=None)
            if self._feature_due is not None:
                self._dispatch_wake.set()  # the loop may be asleep past it
        except Exception:
            log.exception("the overdue sweep or a feature's tick failed; the outbox goes on")

    async def _real_wait(self, began: datetime, cap: float) -> tuple[float, datetime | None]:
        """Real seconds until the next thing due (a row due after ``began``, the start of the
        pass just made; a feature's event to come), at most ``cap``; and the due time of the
        next row when it comes first within them. A row due before the pass and still there is
        not this process's to send now (another's claim, a paused campaign): waking for it
        again and again would spin."""
        speed = self.clock.speed if isinstance(self.clock, SimulatedClock) else 0.0
        if speed <= 0:
            return cap, None
        row_due = await outbox.next_due(self.db, after=began)
        # A feature event already come is the sweep's (started by the loop, it wakes the loop
        # when done): waiting for it would spin meanwhile.
        feature_due = self._feature_due
        if feature_due is not None and feature_due <= self.clock.now():
            feature_due = None
        upcoming = [when for when in (row_due, feature_due) if when is not None]
        if not upcoming:
            return cap, None
        first = min(upcoming)
        # now, after the query: at this speed its few milliseconds are simulated seconds
        ahead = (first - self.clock.now()).total_seconds() / speed
        if ahead >= cap:
            return cap, None
        return max(ahead, 0.0), first if first == row_due else None

    async def _sweep_and_tick(self) -> int:
        """Skip what is past its grace window, then run the features' ticks; how many were
        skipped."""
        now = self.clock.now()
        missed: dict[tuple[str, str], int] = {}
        skipped = await outbox.skip_overdue(
            self.db,
            now,
            f"{MISSED}the bot could not send it within the grace window "
            "(it was stopped or the campaign paused)",
            by_step=missed if METRICS.enabled else None,
            slack=self.lateness_slack(),
        )
        for (campaign_id, step_id), count in missed.items():
            METRICS.delivery(campaign_id, step_id, "skipped", count)
        for feature in self.features:  # quiz windows, help reminders, digests, rounds...
            for tick in feature.ticks():
                try:  # a failing feature never stops the campaign messages below
                    await tick(self)
                except Exception:
                    log.exception("the %s tick failed; the outbox goes on", feature.name)
        return skipped

    async def reap_tick(self) -> int:
        """Return expired claims (from crashed processes) to the queue."""
        count = await outbox.reap_expired(self.db, self.clock.now())
        if count:
            log.warning("took back the delivery claims of a stopped process: %d", count)
        return count

    async def retention_tick(self) -> int:
        """Run every feature's retention ticks (:meth:`bot.feature.Feature.retention_ticks`),
        in feature order: data kept past its retention period is deleted. Returns how many
        records they deleted; a failing one is logged and never stops the others."""
        deleted = 0
        for feature in self.features:
            for tick in feature.retention_ticks():
                try:
                    deleted += await tick(self)
                except Exception:
                    log.exception("the %s retention tick failed", feature.name)
        return deleted

    async def channels_tick(self) -> ChannelSync:
        """Read the members of the campaign channels from the platform (:mod:`bot.channels`):
        channel audiences and reach follow the platform, not only the joins seen running."""
        channels = {
            c for campaign in self.campaigns.values() for c in self.channel_ids(campaign).values()
        }
        result = await sync_channel_members(self.db, self.adapter, self.adapter.platform, channels)
        if result.added or result.removed:
            self.request_plan()  # channel audiences may have changed
        return result

    async def teams_tick(self) -> TeamSync | None:
        """Give members the team of their platform group (``RALLYBOT_TEAM_GROUPS``, see
        :mod:`bot.teams`); None when the feature is off or the platform cannot be read."""
        try:
            result = await sync_teams(
                self.db,
                self.adapter,
                self.adapter.platform,
                self.settings.team_groups,
                self.clock.now(),
            )
        except AdapterError as exc:
            log.warning("teams from platform groups: could not read the groups (%s)", exc)
            return None
        if result is not None and result.changed:
            self.request_plan()  # team audiences may have changed
        return result

    async def _check_reload_flag(self) -> None:
        flag = await get_flag(self.db, RELOAD_FLAG)
        if flag is None:
            return
        if self._reload_seen is None:
            self._reload_seen = flag.updated_at
            return
        if flag.updated_at > self._reload_seen:
            self._reload_seen = flag.updated_at
            await self.reload()

    # ---- events ---------------------------------------------------------------------------

    async def _record_batch(self, events: Sequence[Event]) -> list[int | None]:
        # Deduplicated on a keyed hash of the platform's id, never the id itself (it may hold
        # the person's platform id); the secret is read once and kept.
        secret = await server_secret(self.db, self.settings.secret_key)
        items = [
            journal_store.Recorded(
                event.platform,
                dedup_id(secret, event.platform, event.event_id),
                getattr(event, "kind", type(event).__name__),
                event.user.key,
                encode_event(event),
            )
            for event in events
        ]
        return await journal_store.record(self.db, items, self.worker_id, self.clock.now())

    async def handle(self, event: Event) -> None:
        """Record ``event`` and have the features handle it; returns once they have.

        Recording goes with the other events arriving meanwhile (one transaction for a burst);
        a retry or a duplicate is dropped there. In-process adapters (memory, console) and
        direct callers use this; platform adapters get :meth:`accept`."""
        with log_context(event=event.event_id, platform=event.platform):
            journal_id = await self._record(event)
            if journal_id is None:
                return
            await self._handle_group([(event, journal_id)])

    async def _handle_group(self, items: Sequence[tuple[Event, int | None]]) -> None:
        """:meth:`_handle_events`, then send at once the notices it queued (their rows are
        committed by then; a failure here leaves them to the dispatch loop)."""
        with notices.collecting() as queued:
            await self._handle_events(items)
        if queued:
            try:
                await self.dispatcher.send_now(queued)
            except Exception:
                log.warning("could not send notices at once (%d); the outbox will", len(queued))

    async def _handle_events(self, items: Sequence[tuple[Event, int | None]]) -> None:
        """Handle one event, or different members' events, so that a crash leaves their
        database effects and the closing of their journal rows both or neither.

        The handlers that may do more than write to the database (a command's private answer)
        run first, side by side and outside any transaction: they act on what they find, so an
        event taken up again after a crash repeats nothing they did. Then the transactional
        handlers (points, activity, challenges, the help desk: their messages are outbox rows)
        run for every event in one transaction that also closes the journal rows (a failure
        spoils it: see :meth:`storage.database.Database.shared`). When it fails, each event is
        tried in a transaction of its own; one that still fails is handled once more in one
        transaction with a savepoint around each handler: a handler that fails again is
        logged and its writes undone, and the others' writes are committed with the closing
        of the row."""
        # Only the events some such handler takes: a burst of reactions has none, and a
        # coroutine, a handler slot and the log fields for each would cost it for nothing.
        answering = [
            self._handle_recorded(event, transactional=False)
            for event, _ in items
            if self.router.has(type(event), transactional=False)
        ]
        if answering:
            await asyncio.gather(*answering)
        try:
            await self._handle_together(items)
            return
        except Exception as exc:
            if len(items) > 1:
                log.warning(
                    "a group of %d events failed (%s); handling them one by one",
                    len(items),
                    type(exc).__name__,
                )
            else:
                failed = items[0][0]
                log.warning(
                    "%s event %s failed in a transaction (%s); handling it feature by feature",
                    type(failed).__name__,
                    failed.event_id,
                    type(exc).__name__,
                )
        for event, journal_id in items:
            with log_context(event=event.event_id, platform=event.platform):
                if len(items) > 1:
                    try:
                        await self._handle_together([(event, journal_id)])
                        continue
                    except Exception as exc:
                        log.warning(
                            "%s event %s failed in a transaction (%s); handling it feature "
                            "by feature",
                            type(event).__name__,
                            event.event_id,
                            type(exc).__name__,
                        )
                await self._handle_together([(event, journal_id)], isolated=True)

    async def _handle_together(
        self, items: Sequence[tuple[Event, int | None]], *, isolated: bool = False
    ) -> None:
        if self.db.shared_transaction() is None and not any(
            self.router.has(type(event), transactional=True) for event, _ in items
        ):
            # No feature writes for these events: closing their rows is the transaction's
            # only work, and mark_handled does it in one statement (on SQLite on the direct
            # writer, where a shared session costs a dozen hand-overs to aiosqlite's thread,
            # each a thread wake-up that competes with the recording of new events; on
            # PostgreSQL in one round trip instead of four).
            closed = [journal_id for _, journal_id in items if journal_id is not None]
            await journal_store.mark_handled(self.db, closed, self.clock.now())
            return
        async with self.db.shared() as shared:
            each = shared.savepoint if isolated else shared.guard
            # Writes may wait for the group's end, except when each handler's are undone alone.
            shared.grouped = not isolated
            with member_memo():  # the group's members read in one query, then from the memo
                if any(self.router.has(type(event), transactional=True) for event, _ in items):
                    by_platform: dict[str, list[str]] = {}
                    for event, _ in items:
                        by_platform.setdefault(event.platform, []).append(event.user.id)
                    for platform, user_ids in by_platform.items():
                        await prefetch_members(self.db, platform, user_ids)
                for event, _ in items:
                    await self._handle_recorded(event, transactional=True, each=each)
            closed = [journal_id for _, journal_id in items if journal_id is not None]
            await journal_store.close_in(shared.session, closed, self.clock.now())

    async def accept(self, event: Event) -> None:
        """The platform adapters' event sink: record ``event`` itself in the inbound journal
        (with the burst, in one durable transaction), then return, so that the platform is told
        "received" only once the event survives a crash; the features handle it soon after, in
        its member's order (see :mod:`bot.inbox`), and the journal row is closed then.

        Commands, clicks and form submissions are the exception: this returns once they are
        handled, because the platform expects their answer (a Discord interaction response);
        the adapter acknowledges them as soon as they are recorded, through
        :func:`~bot.adapters.base.when_recorded`."""
        with log_context(event=event.event_id, platform=event.platform):
            journal_id = await self._record(event)
        await event_recorded()  # the adapter may acknowledge it now (see when_recorded)
        if journal_id is not None:
            handled = self.inbox.put(event, journal_id)
            if isinstance(event, INTERACTIVE_EVENTS):
                await handled

    async def idle(self) -> None:
        """Wait until every accepted event has been handled."""
        await self.inbox.idle()

    async def recover_journal(self, *, own: bool) -> int:
        """Queue the recorded events nobody handled: those of dead replicas (and with ``own``,
        those an earlier life of this worker id left), in recording order; how many."""
        rows = await journal_store.adopt(
            self.db, self.worker_id, live_since=self.budget.live_since(), own=own
        )
        given_up: list[int] = []
        for row in rows:
            if row.attempts > JOURNAL_MAX_ATTEMPTS:
                log.error(
                    "gave up on recorded event %d: %d processes stopped while handling it",
                    row.id,
                    row.attempts - 1,
                )
                given_up.append(row.id)
                continue
            try:
                event = decode_event(row.payload)
            except JournalCodecError as exc:
                log.error("cannot read recorded event %d: %s", row.id, exc)
                given_up.append(row.id)
                continue
            self.inbox.put(event, row.id)
        await journal_store.mark_handled(self.db, given_up, self.clock.now())
        taken = len(rows) - len(given_up)
        if taken:
            log.warning("handling recorded events a stopped process had not handled: %d", taken)
        return taken

    async def purge_journal(self) -> int:
        """Forget the journal rows handled more than ``RALLYBOT_JOURNAL_KEEP_HOURS`` ago."""
        keep = timedelta(hours=self.settings.journal_keep_hours)
        return await journal_store.purge(self.db, self.clock.now() - keep)

    async def start_replica(self) -> None:
        """Join the replica registry (the shared send budget), take up what an earlier life
        left in the journal, and keep a heartbeat until :meth:`shutdown`."""
        if self._replica_task is not None:
            return
        await self.budget.start()
        await self.recover_journal(own=True)
        self._replica_task = asyncio.get_running_loop().create_task(
            self._replica_loop(), name="replica-heartbeat"
        )

    async def _replica_loop(self) -> None:
        beats = 0
        while True:
            await asyncio.sleep(self.budget.interval)
            try:
                await self.budget.beat()
                await self.recover_journal(own=False)
                beats += 1
                if beats % JOURNAL_PURGE_BEATS == 0:
                    await self.purge_journal()
            except Exception:  # a database hiccup: the next heartbeat tries again
                log.exception("the replica heartbeat failed")

    async def stop_replica(self) -> None:
        """Stop the heartbeat and leave the registry (the others take this share)."""
        task, self._replica_task = self._replica_task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self.budget.stop()

    async def _record(self, event: Event) -> int | None:
        """Record ``event`` with the burst; its journal id, None for a platform retry or a
        duplicate."""
        kind = getattr(event, "kind", type(event).__name__)
        METRICS.event(event.platform, kind, "received")
        journal_id = await self._claims.submit(event)
        if journal_id is not None:
            return journal_id
        METRICS.event(event.platform, kind, "deduplicated")
        log.info("dropped duplicate %s event %s", type(event).__name__, event.event_id)
        return None

    async def _handle_recorded(
        self,
        event: Event,
        *,
        transactional: bool | None = None,
        each: Callable[[], contextlib.AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        """Run the features on ``event``: all of them, or (``transactional``) only those that
        only write to the database, or only the others (see :meth:`_handle_group`); ``each``
        wraps every handler (a savepoint)."""
        # Set here, not only in accept: inbox workers outlive the event that started them.
        with log_context(event=event.event_id, platform=event.platform):
            # A burst cannot take every database connection; a group's transaction holds one
            # already, for all its events.
            slot = (
                contextlib.nullcontext()
                if self.db.shared_transaction() is not None
                else self._handler_slots
            )
            async with slot:
                started = time.perf_counter()
                kind = getattr(event, "kind", type(event).__name__)
                try:
                    with member_memo():
                        await self.router.handle(
                            event, self, transactional=transactional, each=each
                        )
                except BaseException:
                    METRICS.event(event.platform, kind, "failed")
                    raise
                if METRICS.enabled and transactional is not False:  # counted once an event
                    METRICS.handled_in(event.platform, kind, time.perf_counter() - started)
                    METRICS.event(event.platform, kind, "handled")

    def is_admin(self, user: UserRef) -> bool:
        """Whether ``user`` is a community manager."""
        return self.settings.is_admin(user.key) or user.id in self.local_admins

    def handles_command(self, name: str) -> bool:
        """Whether a feature declares the command ``name``."""
        return name in self._command_names

    async def answer(self, event: CommandInvoked, text: str) -> None:
        """Reply privately to the person who ran a command.

        Platforms with private command replies (a Slack ephemeral message, a Discord
        ephemeral interaction response) provide ``respond``; the others get a direct message.
        """
        respond = getattr(self.adapter, "respond", None)
        if respond is not None:
            await respond(event, Message(text=text))
        else:
            await self.adapter.send_direct(event.user.id, Message(text=text))

    # ---- simulated time -------------------------------------------------------------------

    async def next_event_time(self, horizon: datetime) -> datetime | None:
        """The next instant something is due: a pending row, or a planned delivery."""
        now = self.clock.now()
        candidates: list[datetime] = []
        pending = await outbox.next_due(self.db)
        if pending is not None:
            candidates.append(pending)
        for feature in self.features:
            due = await feature.next_event_time(self, horizon)
            if due is not None:
                candidates.append(max(due, now))
        members = [view for view, _ in await self._member_rows()]
        states = {s.id: s for s in await list_states(self.db)}
        for campaign in self.campaigns.values():
            state = states.get(campaign.id)
            if state is not None and state.status == CampaignStatus.paused.value:
                continue
            start = max(now, state.planned_through) if state and state.planned_through else now
            first = min(
                (
                    d.due_at
                    for d in plan(
                        campaign,
                        members,
                        start,
                        horizon,
                        default_timezone=self.settings.timezone,
                        channel_ids=self.channel_ids(campaign),
                        openings=self.waves.by_member,
                    )
                ),
                default=None,
            )
            if first is not None:
                candidates.append(first)
        return min(candidates) if candidates else None

    async def advance_to(self, target: datetime) -> DispatchStats:
        """Move a simulated clock to ``target``, sending everything due on the way, in order."""
        if not isinstance(self.clock, SimulatedClock):
            raise TypeError("advance_to needs a simulated clock")
        total = DispatchStats()
        while True:
            await self.reap_tick()
            await self.plan_tick()
            stats = await self.dispatch_tick(drain=True)
            total.sent += stats.sent
            total.skipped += stats.skipped
            total.recovered += stats.recovered
            now = self.clock.now()
            upcoming = await self.next_event_time(target)
            if upcoming is None or upcoming > target:
                break
            self.clock.set(max(upcoming, now + timedelta(seconds=1)))
        self.clock.set(target)
        return total

    # ---- life cycle -----------------------------------------------------------------------

    async def start_adapter(self) -> None:
        """Connect the adapter: platform adapters hand events to :meth:`accept`; in-process
        ones (``inline_events = True``: memory, console) to :meth:`handle`, and wait."""
        inline = bool(getattr(self.adapter, "inline_events", False))
        await self.start_replica()
        await self.adapter.start(self.handle if inline else self.accept)

    async def shutdown(self) -> None:
        """Stop sending, hand back unsent claims, disconnect, then finish the events already
        accepted."""
        self.dispatcher.stop()
        await outbox.release_all(self.db, self.worker_id, self.clock.now())
        await self.adapter.stop()
        try:
            await asyncio.wait_for(self.inbox.idle(), timeout=SHUTDOWN_GRACE_SECONDS)
        except TimeoutError:
            log.warning("stopped with inbound events not handled: %d", len(self.inbox))
        await self.stop_replica()  # last: what is left unhandled is at once another's


def outbox_row(
    delivery: PlannedDelivery,
    now: datetime,
    settings: Settings,
    message: Message | None = None,
    *,
    slack: timedelta = timedelta(0),
) -> dict[str, Any]:
    """The outbox row of a planned delivery, as the planner writes it (also for a console
    that runs without the bot, on its database); ``message``: the delivery's message as the
    features prepared it (:meth:`bot.feature.Feature.prepare`), else as planned; ``slack``:
    how much later than its grace it may still go (:meth:`Kernel.lateness_slack`)."""
    grace = delivery.grace(settings.grace)
    if delivery.step.spec.must_send:
        grace = MUST_SEND_GRACE  # late rather than never
    if message is None:
        message = delivery.message()
    payload: dict[str, Any] = {"message": message.to_dict()}
    marker = delivery.render_marker()
    if marker is not None:  # filled in when sent: see Dispatcher.render
        payload["render"] = marker
    if delivery.member is None:
        logical = delivery.recipient.split(":", 1)[1]
        channels = {**delivery.campaign.spec.channels, **settings.channel_map}
        payload["channel"] = channels.get(logical, logical)
    else:
        payload["member_id"] = int(delivery.member.key)
        unless = delivery.step.spec.unless
        if unless:
            payload["unless"] = [unless] if isinstance(unless, str) else list(unless)
    overdue = delivery.due_at < now - grace - slack
    return {
        "campaign_id": delivery.campaign.id,
        "step_id": delivery.step.id,
        "recipient": delivery.recipient,
        "occurrence": delivery.occurrence,
        "due_at": delivery.due_at,
        "grace_until": delivery.due_at + grace,
        "status": DeliveryStatus.skipped.value if overdue else DeliveryStatus.pending.value,
        "reason": (
            f"{MISSED}due {delivery.due_at:%Y-%m-%d %H:%M} UTC, more than {_human(grace)} "
            "before the bot could send it (it was stopped or the campaign paused)"
            if overdue
            else None
        ),
        "payload": payload,
        "content_hash": delivery.step.content_hash,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _first_verdict(gates: Sequence[Gate]) -> Gate:
    """One gate asking ``gates`` in turn: the first verdict (not None) is the answer."""

    async def gate(row: Delivery, member: Member) -> object:
        for each in gates:
            verdict = await each(row, member)
            if verdict is not None:
                return verdict
        return None

    return gate


def _in_turn(renders: Sequence[Render]) -> Render:
    """One render passing the message through ``renders`` in turn."""

    async def render(row: Delivery, message: Message) -> Message:
        for each in renders:
            message = await each(row, message)
        return message

    return render


def _human(delta: timedelta) -> str:
    """A grace period in English, for the stored reason of a missed delivery."""
    minutes = int(delta.total_seconds() // 60)
    if minutes % 1440 == 0 and minutes:
        count, unit = minutes // 1440, "day"
    elif minutes % 60 == 0 and minutes:
        count, unit = minutes // 60, "hour"
    else:
        count, unit = minutes, "minute"
    return f"{count} {unit}{'' if count == 1 else 's'}"
