"""``rallybot run --clock simulated --speed 3600``, as the tutorial runs it: a simulated hour
goes by every real second, and what is due is sent, not skipped."""

from __future__ import annotations

import asyncio
import io
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from rich.console import Console

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import Clock, SimulatedClock, SystemClock
from rallybot.bot.config import Settings
from rallybot.bot.runner import run_bot, simulated_start
from rallybot.bot.scheduler import JOB_IDS, build_scheduler
from rallybot.storage import outbox
from rallybot.storage.database import Database, create_database
from rallybot.storage.models import Delivery

CAMPAIGN = """\
id: speedy
title: Speedy
timezone: UTC
milestones:
  launch: 2026-09-28 08:00
channels:
  news: general
steps:
  - id: first
    at: launch
    post: news
    text: "One."
  - id: second
    at: launch + 2h
    post: news
    text: "Two."
  - id: third
    at: launch + 4h
    post: news
    text: "Three."
"""


async def _statuses(url: str) -> dict[str, str]:
    db = create_database(url)
    try:
        async with db.session() as session:
            rows = await session.execute(sa.select(Delivery.step_id, Delivery.status))
            return {step: status for step, status in rows}
    finally:
        await db.dispose()


def test_a_simulated_clock_at_speed_3600_sends_what_is_due(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One real second is the whole default grace (an hour) at this speed: the planner must
    write the messages before they are due, and a pass coming a second late must not skip them."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "speedy.yaml").write_text(textwrap.dedent(CAMPAIGN), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = asyncio.run(
        run_bot(
            Settings(),
            platform="memory",
            campaign_paths=[folder],
            simulated=True,
            start="2026-09-28 07:00Z",
            speed=3600,
            watch=False,
            interactive=False,
            stop_after=6.5,  # up to 13:30, simulated
        )
    )
    assert code == 0
    statuses = asyncio.run(_statuses(db_url))
    assert statuses == {"first": "sent", "second": "sent", "third": "sent"}


def test_start_is_read_in_the_communitys_zone_unless_it_says_its_offset() -> None:
    paris = simulated_start("2026-09-28 06:00", "Europe/Paris")
    assert paris.astimezone(UTC) == datetime(2026, 9, 28, 4, 0, tzinfo=UTC)
    assert simulated_start("2026-09-28 06:00+02:00", "America/New_York").astimezone(
        UTC
    ) == datetime(2026, 9, 28, 4, 0, tzinfo=UTC)
    assert simulated_start("2026-09-28 06:00Z", "Europe/Paris") == datetime(
        2026, 9, 28, 6, 0, tzinfo=UTC
    )


def test_run_refuses_an_unreadable_start_in_words(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rallybot.bot.cli import app

    result = CliRunner().invoke(
        app,
        ["--locale", "fr", "run", "--clock", "simulated", "--start", "lundi 6h"],
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}",
            "RALLYBOT_TIMEZONE": "Europe/Paris",
        },
    )
    assert result.exit_code == 2
    assert "Impossible de lire --start « lundi 6h »" in result.output
    assert "Traceback" not in result.output


ON_THE_MINUTE = """\
id: punctual
title: Punctual
timezone: UTC
milestones:
  launch: 2026-09-28 07:30
channels:
  news: general
steps:
  - id: first
    at: launch
    post: news
    text: "One."
  - id: second
    at: launch + 7m
    post: news
    text: "Two."
  - id: third
    at: launch + 14m
    post: news
    text: "Three."
  - id: fourth
    at: launch + 23m
    post: news
    text: "Four."
"""


async def _lateness(url: str) -> dict[str, float]:
    db = create_database(url)
    try:
        async with db.session() as session:
            rows = await session.execute(
                sa.select(Delivery.step_id, Delivery.due_at, Delivery.sent_at)
            )
            return {
                step: (sent - due).total_seconds() if sent is not None else float("inf")
                for step, due, sent in rows
            }
    finally:
        await db.dispose()


def test_on_a_fast_clock_a_message_leaves_at_its_simulated_minute(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatch pass every few real seconds would be one every simulated quarter of an
    hour or more: the messages would leave minutes late, at whatever pass came next. The
    dispatcher wakes at their due times instead, so each leaves within a simulated minute
    (measured on the simulated clock, whatever the pass interval). At ``--speed 3600`` a
    simulated minute is 17 real milliseconds, less than a busy machine may stall a process:
    a tenth of that speed leaves a minute room for it."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "punctual.yaml").write_text(ON_THE_MINUTE, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("RALLYBOT_DISPATCH_INTERVAL", "3")  # a pass every 18 simulated minutes
    code = asyncio.run(
        run_bot(
            Settings(),
            platform="memory",
            campaign_paths=[folder],
            simulated=True,
            start="2026-09-28 07:00Z",  # five real seconds to start up
            speed=360,  # a simulated hour every ten real seconds
            watch=False,
            interactive=False,
            stop_after=10.0,  # to 08:00 at least, simulated
        )
    )
    assert code == 0
    late = asyncio.run(_lateness(db_url))
    assert set(late) == {"first", "second", "third", "fourth"}
    assert all(0 <= seconds <= 60 for seconds in late.values()), late


@pytest.mark.parametrize(
    ("clock", "trigger"),
    [
        (SystemClock(), IntervalTrigger),  # the real clock: a pass every real second, as ever
        (SimulatedClock(datetime(2026, 9, 28, tzinfo=UTC)), IntervalTrigger),  # /advance moves it
        (SimulatedClock(datetime(2026, 9, 28, tzinfo=UTC), speed=3600), DateTrigger),
    ],
    ids=["system", "standing-still", "speed-3600"],
)
def test_only_a_running_simulated_clock_replaces_the_dispatch_tick_with_the_loop(
    tmp_path: Path, clock: Clock, trigger: type
) -> None:
    """The loop that wakes at due times serves a simulated clock that runs by itself; the real
    clock keeps its dispatch tick every RALLYBOT_DISPATCH_INTERVAL, no busier than before."""
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    settings = Settings(_env_file=None, database_url=url)
    bot = Rallybot(
        settings, create_database(url), MemoryAdapter(), clock, campaign_paths=[tmp_path]
    )
    job = build_scheduler(bot).get_job(JOB_IDS[1])
    assert job is not None
    assert isinstance(job.trigger, trigger)
    if trigger is IntervalTrigger:
        assert job.trigger.interval.total_seconds() == settings.dispatch_interval_seconds


def test_a_console_run_on_a_simulated_clock_says_which_times_are_simulated(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "speedy.yaml").write_text(textwrap.dedent(CAMPAIGN), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("RALLYBOT_LOCALE", "en")
    out = io.StringIO()
    code = asyncio.run(
        run_bot(
            Settings(),
            platform="console",
            campaign_paths=[folder],
            simulated=True,
            start="2026-09-28 07:00Z",
            speed=3600,
            watch=False,
            interactive=False,
            console=Console(file=out, width=200),
            stop_after=0.5,
        )
    )
    assert code == 0
    assert "Simulated clock: it is Mon, Sep 28, " in out.getvalue()
    assert "(x3,600). The messages show its time; the log lines, real time." in out.getvalue()


async def test_the_loop_waits_for_what_comes_not_for_a_row_it_could_not_send(
    db: Database, tmp_path: Path
) -> None:
    """A row due before the pass and still pending is not this process's to send now (a
    paused campaign, another replica's): the loop sleeps its interval rather than spin on it,
    and wakes for the next row due, claimed ahead."""
    start = datetime(2026, 9, 28, 8, 0, tzinfo=UTC)
    bot = Rallybot(
        Settings(_env_file=None, database_url="sqlite:///unused.db"),
        db,
        MemoryAdapter(),
        SimulatedClock(start, speed=3600),
        campaign_paths=[tmp_path],
    )

    def row(step: str, due: datetime) -> dict[str, object]:
        return {
            "campaign_id": "c",
            "step_id": step,
            "recipient": "channel:news",
            "occurrence": "once",
            "due_at": due,
            "grace_until": due + timedelta(hours=1),
            "status": "pending",
            "payload": {"message": {"text": "x"}, "channel": "C1"},
            "content_hash": "",
            "attempts": 0,
            "created_at": start,
            "updated_at": start,
        }

    async with db.session() as session:
        await outbox.insert_deliveries(session, [row("stale", start - timedelta(minutes=5))])
    began = bot.clock.now()
    assert await bot._real_wait(began, 1.0) == (1.0, None)
    due = began + timedelta(minutes=30)  # half a real second ahead
    async with db.session() as session:
        await outbox.insert_deliveries(session, [row("next", due)])
    wait, target = await bot._real_wait(began, 1.0)
    assert target == due
    assert 0 < wait <= 0.5


async def test_a_join_on_a_running_simulated_clock_is_planned_at_once(
    tmp_path: Path,
) -> None:
    """Asked for a planning pass (a member joined, a roster imported), a running simulated
    clock gets it at once: the next pass 30 real seconds later is 30 simulated hours at
    --speed 3600. The real clock waits for its pass."""
    url = f"sqlite:///{tmp_path / 'soon.db'}"
    settings = Settings(_env_file=None, database_url=url)
    for clock, moved in (
        (SimulatedClock(datetime(2026, 9, 28, tzinfo=UTC), speed=3600), True),
        (SystemClock(), False),
    ):
        bot = Rallybot(
            settings, create_database(url), MemoryAdapter(), clock, campaign_paths=[tmp_path]
        )
        scheduler = build_scheduler(bot)
        scheduler.start(paused=True)
        try:
            job = scheduler.get_job(JOB_IDS[0])
            assert job is not None
            later = datetime.now(UTC) + timedelta(minutes=5)
            job.modify(next_run_time=later)
            bot.request_plan()
            job = scheduler.get_job(JOB_IDS[0])
            assert job is not None
            assert (job.next_run_time < later) is moved, clock
        finally:
            scheduler.shutdown(wait=False)
            await bot.db.dispose()
