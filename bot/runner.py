"""``rallybot run``: start storage, the adapter, the ticks and the file watch; stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from sqlalchemy import make_url

from rallybot.bot.adapters.base import create_adapter
from rallybot.bot.app import SHUTDOWN_GRACE_SECONDS, campaign_files
from rallybot.bot.assembly import Rallybot
from rallybot.bot.budget import STALE_BEATS
from rallybot.bot.clock import Clock, SimulatedClock, SystemClock
from rallybot.bot.config import Settings
from rallybot.bot.feature import NotServed
from rallybot.bot.http import HttpServer, Readiness, add_probes, bind_problem
from rallybot.bot.logs import configure_logging, set_process_fields
from rallybot.bot.metrics import METRICS
from rallybot.bot.scheduler import build_scheduler, stop_scheduler
from rallybot.campaigns import words as file_words
from rallybot.campaigns.community import roster_date_format
from rallybot.campaigns.roster import RosterLoadError, load_roster
from rallybot.storage.database import (
    Database,
    DatabaseUnreachable,
    create_database,
    wait_for_database,
)
from rallybot.storage.migrate import SchemaError, ensure_schema
from rallybot.storage.repositories import last_roster_import, roster_file_source
from rallybot.storage.worker_lock import WorkerIdInUse, WorkerLock, acquire_worker_id

__all__ = ["run_bot", "simulated_start"]

log = logging.getLogger("rallybot.run")

WORKER_LOCK_CHECK_SECONDS = 2.0
"""How often a process checks that it still holds its worker id's lock (PostgreSQL drops it
with a lost connection): the longest time two processes could both act as one worker id."""

EXIT_WORKER_ID_TAKEN = 75
"""The exit status when another process took this one's worker id (EX_TEMPFAIL: a supervisor
restarts it, and it gets a free id)."""


def _tell(message: str, shown: str) -> None:
    """Say a problem of the run to the operator: ``message`` in the logs, in English, and
    ``shown`` (the same in the operator's language) on the terminal's standard error, so that
    it is not lost among the logs."""
    log.error("%s", message)
    Console(stderr=True).print(f"✗ {shown}", style="bold red", markup=False, soft_wrap=True)


def _leave_at_once() -> None:
    """Exit now, as a crash would: no claim handed back (they may be the other process's now;
    they come back when their lease ends, checked with the platform first)."""
    import os  # noqa: PLC0415

    logging.shutdown()
    os._exit(EXIT_WORKER_ID_TAKEN)


async def keep_worker_id(
    worker: WorkerLock,
    db: Database,
    *,
    interval: float = WORKER_LOCK_CHECK_SECONDS,
    on_taken: Callable[[], None] = _leave_at_once,
) -> None:
    """Check the worker id's lock every ``interval`` seconds, until cancelled; when another
    process holds it now, log why and call ``on_taken`` (by default, leave at once)."""
    while True:
        await asyncio.sleep(interval)
        if not await worker.keep(db):
            log.error(
                "another process now runs as worker id %s (this one lost its database "
                "connection, and with it the id's lock): stopping at once so that the two never "
                "send the same claims; restarted, this process takes a free id",
                worker.worker_id,
            )
            on_taken()
            return


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
        settings.discord_token,
    ]
    secrets = [v.get_secret_value() for v in values if v is not None]
    with contextlib.suppress(Exception):  # an unparsable URL is reported elsewhere
        password = make_url(settings.database_url).password
        if password:
            secrets.append(str(password))
    return secrets


async def _import_roster_at_start(
    bot: Rallybot, path: Path, platform: str, *, default_timezone: str
) -> bool:
    """Import the roster file at ``path`` for ``platform`` at start, unless its bytes are those
    of its last import: then the changes made since to its members (a roster uploaded in the
    console, ``rallybot roster import``, a member's own choices) hold. A changed file's rows
    win, as at its first import. False when the file cannot be read (the errors logged)."""
    try:
        source = roster_file_source(path)
    except OSError:
        source = None  # load_roster below says why, as for any unreadable roster
    last = await last_roster_import(bot.db, platform, source.name) if source else None
    if source is not None and last is not None and last.digest == source.digest:
        log.info(
            "%s: unchanged since its import of %s UTC, not imported again: the changes made "
            "since to its members (in the console, by rallybot roster import) are kept",
            path.name,
            f"{last.imported_at.astimezone(UTC):%Y-%m-%d %H:%M}",
        )
        return True
    try:
        entries = load_roster(
            path,
            default_timezone=default_timezone,
            date_format=roster_date_format(bot.campaign_paths),
        )
    except RosterLoadError as exc:
        for error in exc.errors:
            log.error("%s", error)
        return False
    if last is not None:
        log.info(
            "%s: changed since its import of %s UTC, imported again: its rows replace the "
            "changes made since to the members it lists",
            path.name,
            f"{last.imported_at.astimezone(UTC):%Y-%m-%d %H:%M}",
        )
    counts = await bot.import_roster(entries, platform, source=source)
    log.info("%s: members created: %d, updated: %d", path.name, counts.created, counts.updated)
    if counts.erased:
        log.info(
            "%s: %d %s erased on request not imported again",
            path.name,
            counts.erased,
            "person" if counts.erased == 1 else "people",
        )
    return True


async def _import_campaign_rosters(bot: Rallybot) -> None:
    """On the console platform, the campaigns' own ``roster:`` files are its members (their ids
    are the console's user names), as ``plan`` and the demo read them. On Slack or Discord a
    roster's rows must be matched to accounts first (``rallybot roster import --match``)."""
    seen: set[Path] = set()
    for campaign in bot.campaigns.values():
        if not campaign.roster_path or not campaign.source:
            continue
        path = (Path(campaign.source).parent / campaign.roster_path).resolve()
        if path in seen:
            continue
        seen.add(path)
        await _import_roster_at_start(bot, path, "console", default_timezone=campaign.spec.timezone)


def simulated_start(text: str | None, zone: str) -> datetime:
    """Where ``--start`` sets the simulated clock: a date and time without an offset is read in
    the community's time zone ``zone`` (as ``plan --from`` reads the campaign's), an explicit
    offset ("+02:00", "Z") is honoured; none: now."""
    if not text:
        return datetime.now(UTC)
    when = datetime.fromisoformat(text.strip())
    return when if when.tzinfo is not None else when.replace(tzinfo=ZoneInfo(zone))


async def run_bot(
    settings: Settings,
    *,
    platform: str,
    campaign_paths: list[Path],
    roster: Path | None = None,
    simulated: bool = False,
    start: str | None = None,
    speed: float = 1.0,
    watch: bool = True,
    interactive: bool = True,
    worker_id: str | None = None,
    console: Console | None = None,
    stop_after: float | None = None,
    http_port: int | None = None,
    server: HttpServer | None = None,
    words: str | None = None,
) -> int:
    """Run until a signal (or ``stop_after`` real seconds); returns the exit code.

    ``http_port`` (Slack only) selects HTTP mode: ``/slack/events`` on the bot's HTTP server,
    which then listens on that port. The server (probes, metrics) runs in every mode but
    ``memory``, on ``RALLYBOT_HTTP_HOST``:``RALLYBOT_HTTP_PORT``; ``server`` passes a ready
    one instead (tests: port 0). ``words``: the language the operator is told in of what
    cannot be served (a port taken), besides the logs (default: the settings' locale).
    """

    configure_logging(settings.log_level, settings.log_format, _secrets(settings))
    clock: Clock
    if simulated:
        begin = simulated_start(start, settings.timezone)
        clock = SimulatedClock(begin, speed=speed)
        local = begin.astimezone(ZoneInfo(settings.timezone))
        log.info(
            "simulated clock from %s %s (%s UTC), speed %g",
            f"{local:%Y-%m-%d %H:%M}",
            settings.timezone,
            f"{begin.astimezone(UTC):%Y-%m-%d %H:%M}",
            speed,
        )
    else:
        clock = SystemClock()
    METRICS.enabled = settings.metrics
    readiness = Readiness()
    if server is None and platform != "memory":
        port = http_port if http_port is not None else settings.http_port
        server = HttpServer(
            settings.http_host, port, forwarded_allow_ips=settings.forwarded_allow_ips
        )
    if server is not None:
        add_probes(server, readiness, METRICS, stale_after=STALE_BEATS * settings.heartbeat_seconds)
        try:  # before the migrations: /readyz answers 503 while they run
            await server.start()
        except OSError as exc:
            problem = bind_problem(server.host, server.requested_port, exc)
            if http_port is not None:  # Slack's events cannot arrive: no point in starting
                _tell(
                    file_words.N_(
                        "Slack's events cannot arrive: {problem}. Choose a free port with --port.",
                        problem=problem,
                    ),
                    words or settings.locale,
                )
                return 2
            # The bot still sends and answers; the orchestrator's probes will say it is unseen.
            _tell(
                file_words.N_(
                    "No probes and no metrics: {problem}. The bot runs without them; set "
                    "RALLYBOT_HTTP_PORT (or --port) to a free port and restart it to serve them.",
                    problem=problem,
                ),
                words or settings.locale,
            )
            server = None
    try:
        # PostgreSQL may still be starting (containers, boot): wait for it, with backoff
        await wait_for_database(settings.database_url, within=settings.db_wait_seconds)
        # Under the migration lock: replicas started together migrate once; the others wait.
        await ensure_schema(settings.database_url)
    except (DatabaseUnreachable, SchemaError) as exc:
        log.error("%s", exc)
        if server is not None:
            await server.stop()
        return 2
    db = create_database(settings.database_url)
    readiness.db = db
    stop = asyncio.Event()
    bot: Rallybot | None = None

    async def on_advance(delta: timedelta) -> None:
        if bot is not None and isinstance(clock, SimulatedClock):
            await bot.advance_to(clock.now() + delta)
        else:
            log.warning("/advance needs --clock simulated")

    async def on_quit() -> None:
        stop.set()

    zone = ZoneInfo(settings.timezone)
    kwargs: dict[str, Any] = {}
    local_admins: list[str] = []
    if platform == "console":
        kwargs = {
            "console": console,
            "interactive": interactive,
            "on_advance": on_advance,
            "on_quit": on_quit,
            "show_time": lambda: clock.now().astimezone(zone),
            # the terminal says which times are simulated (the messages') and which real
            "clock_speed": clock.speed if isinstance(clock, SimulatedClock) else None,
            # the community's language, as the bot's own words (the file may set it)
            "locale": lambda: (bot.settings if bot is not None else settings).locale,
        }
        local_admins = ["you"]  # whoever sits at the console runs it
    elif platform != "memory":
        # Real platforms read their tokens from the settings and cache ids in the database.
        kwargs = {"settings": settings, "db": db, "clock": clock, "http_port": http_port}
        if platform == "slack":
            kwargs["server"] = server  # HTTP mode adds /slack/events to it
    try:
        # One live process per worker id: then the claims a killed run of this id left can
        # be taken back at once (see storage.worker_lock).
        worker = await acquire_worker_id(db, worker_id)
    except WorkerIdInUse as exc:
        log.error("%s", exc)
        await db.dispose()
        if server is not None:
            await server.stop()
        return 2
    adapter = create_adapter(platform, **kwargs)
    readiness.platform_connected = lambda: bool(getattr(adapter, "connected", True))
    bot = Rallybot(
        settings,
        db,
        adapter,
        clock,
        campaign_paths=campaign_paths,
        worker_id=worker.worker_id,
        local_admins=local_admins,
    )
    # The people of the community file may come with the rosters imported below: who is not
    # found is said once they are in (the console's members all come from rosters).
    rosters_follow = roster is not None or platform == "console"
    bot.community_warnings = not rosters_follow
    report = await bot.reload()
    for error in report.errors:
        log.error("%s", error)
    if roster is not None:
        if not await _import_roster_at_start(
            bot, roster, platform, default_timezone=settings.timezone
        ):
            await worker.release()
            await db.dispose()
            if server is not None:
                await server.stop()
            return 1
    elif platform == "console":
        await _import_campaign_rosters(bot)
    if rosters_follow:
        bot.community_warnings = True
        await bot.resolve_community()
    try:
        await bot.start_adapter()
    except BaseException:
        await worker.release()
        await db.dispose()
        if server is not None:
            await server.stop()
        raise
    await bot.dispatcher.take_back()  # a killed run of this worker id left claims: at once
    scheduler = build_scheduler(bot)
    scheduler.start()
    set_process_fields(worker=bot.worker_id, platform=platform)
    if server is not None:
        for route in bot.http_routes():  # the features' own endpoints
            server.add(route)
    # What features serve beside the chat (the web console): on the bot's server or their own.
    # One that cannot (its port taken) is said, and the bot runs on without it, as without
    # its probes.
    own_servers: list[HttpServer] = []
    for feature in bot.features:
        try:
            own = await feature.serve(bot, server)
        except NotServed as exc:
            _tell(exc.message, exc.text(words or settings.locale))
            continue
        if own is not None:
            own_servers.append(own)
    readiness.started = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(bot.reload()))

    input_closed: asyncio.Task[None] | None = None
    if platform == "console" and interactive:
        # The end of typed or piped input ends a console session, like /quit.
        input_closed = asyncio.create_task(_stop_when_closed(adapter, stop))
    keeper = asyncio.create_task(keep_worker_id(worker, db))
    watcher: asyncio.Task[None] | None = None
    if watch:
        watcher = asyncio.create_task(_watch(bot, campaign_paths, stop))
    log.info(
        "rallybot running on %s as %s; campaigns: %d",
        platform,
        bot.worker_id,
        len(bot.campaigns),
    )
    try:
        if stop_after is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), stop_after)
        else:
            await stop.wait()
    finally:
        log.info("stopping: finishing the sends under way")
        readiness.stopping = True  # /readyz answers 503 from now on: send no more traffic here
        for own in own_servers:
            await own.stop()
        # No new send; the sends under way finish and are recorded before the ticks stop
        # (APScheduler alone would cancel them halfway), then unsent claims are handed back.
        bot.dispatcher.stop()
        await stop_scheduler(scheduler, SHUTDOWN_GRACE_SECONDS)
        for task in (watcher, input_closed, keeper):
            if task is None:
                continue
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await bot.shutdown()
        await worker.release()
        await db.dispose()
        if server is not None:
            await server.stop()
        set_process_fields(worker=None, platform=None)
    return 0


async def _stop_when_closed(adapter: object, stop: asyncio.Event) -> None:
    wait_closed = getattr(adapter, "wait_closed", None)
    if wait_closed is not None:
        await wait_closed()
        stop.set()


async def _watch(bot: Rallybot, paths: list[Path], stop: asyncio.Event) -> None:
    from watchfiles import awatch  # noqa: PLC0415 (only when watching)

    existing = [p for p in paths if p.exists()]
    if not existing:
        return
    async for changes in awatch(*existing, stop_event=stop, debounce=500):
        relevant = {Path(p) for _, p in changes} & set(campaign_files(existing)) or any(
            p.endswith((".yaml", ".yml")) for _, p in changes
        )
        if relevant:
            log.info("campaign files changed: reloading")
            await bot.reload()
