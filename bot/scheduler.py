"""Periodic ticks (plan, dispatch, reap) on APScheduler 3's AsyncIOScheduler.

The scheduler holds no durable state: jobs live in memory with stable ids, and everything
that must survive a restart is in our own tables. That is what makes several replicas safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from rallybot.bot.channels import CHANNEL_SYNC_SECONDS
from rallybot.bot.teams import TEAM_SYNC_SECONDS

if TYPE_CHECKING:
    from rallybot.bot.app import Kernel

__all__ = ["CHANNELS_JOB_ID", "JOB_IDS", "TEAMS_JOB_ID", "build_scheduler", "stop_scheduler"]

log = logging.getLogger("rallybot.run")

JOB_IDS = ("rallybot.plan", "rallybot.dispatch", "rallybot.reap", "rallybot.retention")
TEAMS_JOB_ID = "rallybot.teams"
CHANNELS_JOB_ID = "rallybot.channels"
"""The channel membership sync (bot.channels): at start, then every 15 minutes."""
"""The team sync's job, scheduled only when ``RALLYBOT_TEAM_GROUPS`` is set."""


def build_scheduler(app: Kernel) -> AsyncIOScheduler:
    """A scheduler with the three ticks of ``app``; call ``start()`` inside the event loop."""
    settings = app.settings
    scheduler = AsyncIOScheduler(timezone=UTC)
    common = {
        "max_instances": 1,
        "coalesce": True,
        "replace_existing": True,
        "next_run_time": datetime.now(UTC),
        "misfire_grace_time": None,
    }
    scheduler.add_job(
        app.plan_tick,
        "interval",
        seconds=settings.plan_interval_seconds,
        id=JOB_IDS[0],
        name="plan due deliveries",
        **common,
    )
    if app.paced():
        # A member who joins, a roster imported: planned at once, not at the next pass (30
        # real seconds are 30 simulated hours at --speed 3600). On the real clock the pass
        # comes soon enough, and passes back to back during a wave of joins would be costly.
        def plan_now() -> None:
            with contextlib.suppress(JobLookupError):  # stopping: no more passes
                scheduler.modify_job(JOB_IDS[0], next_run_time=datetime.now(UTC))

        app.plan_soon_with(plan_now)
        # A simulated clock running by itself: one job that runs until the dispatcher stops,
        # waking at each due time (a tick every real second would be late by a simulated
        # hour at --speed 3600). The ticks under way are waited for on stopping, as any tick.
        scheduler.add_job(
            app.dispatch_loop,
            "date",
            run_date=datetime.now(UTC),
            id=JOB_IDS[1],
            name="send due deliveries at their simulated time",
            max_instances=1,
            replace_existing=True,
            misfire_grace_time=None,
        )
    else:
        scheduler.add_job(
            app.dispatch_tick,
            "interval",
            seconds=settings.dispatch_interval_seconds,
            id=JOB_IDS[1],
            name="send due deliveries",
            **common,
        )
    scheduler.add_job(
        app.reap_tick,
        "interval",
        seconds=max(settings.lease_seconds / 4, 1.0),
        id=JOB_IDS[2],
        name="take back expired claims",
        **common,
    )
    scheduler.add_job(
        app.retention_tick,
        "interval",
        seconds=3600,
        id=JOB_IDS[3],
        name="purge data older than the retention setting",
        **common,
    )
    scheduler.add_job(
        app.channels_tick,
        "interval",
        seconds=CHANNEL_SYNC_SECONDS,
        id=CHANNELS_JOB_ID,
        name="channel members from the platform",
        **common,
    )
    if settings.team_groups:
        scheduler.add_job(
            app.teams_tick,
            "interval",
            seconds=TEAM_SYNC_SECONDS,
            id=TEAMS_JOB_ID,
            name="teams from platform groups",
            **common,
        )
    return scheduler


async def stop_scheduler(scheduler: AsyncIOScheduler, grace: float) -> bool:
    """Start no new tick, let the ticks under way finish (up to ``grace`` seconds), then shut
    the scheduler down; False if some tick had to be cut short.

    APScheduler's own ``shutdown`` cancels the running ticks: a dispatch pass cancelled between
    a send and its record would leave a message shown but not recorded (and sent again at the
    next start), with a ``CancelledError`` traceback in the log.
    """
    if not scheduler.running:
        return True
    scheduler.pause()
    executor = scheduler._lookup_executor("default")  # no public way to see the running jobs
    running = [f for f in getattr(executor, "_pending_futures", ()) if not f.done()]
    finished = True
    if running:
        _, late = await asyncio.wait(running, timeout=grace)
        if late:
            finished = False
            log.warning("stopped the ticks still running after %.0f s: %d", grace, len(late))
    scheduler.shutdown(wait=False)
    return finished
