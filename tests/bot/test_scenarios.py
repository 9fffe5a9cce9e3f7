"""The whole bot on a simulated clock, on SQLite and PostgreSQL: timing, restarts, reloads.

Processes are killed for real (``os._exit``) between claim and send and between send and
record; two real processes share one PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.base import AdapterError, TransientSendError
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ChannelRef, CommandInvoked, MemberJoined, UserRef
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, Member
from rallybot.storage.repositories import upsert_member
from tests.support.file_adapter import read_sends

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_UTC = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # 09:30 in Paris (winter time)

CAMPAIGN = """\
id: launch
title: Launch
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
audiences:
  pilote: {{ cohort: pilote }}
steps:
  - id: teaser-1
    at: launch - 10d at 09:00
    post: annonces
    text: "{teaser1}"
  - id: teaser-2
    at: launch - 3d at 09:00
    post: annonces
    text: "J-{{days_to_launch}}"
  - id: announce
    at: launch
    post: annonces
    pin: true
    sender: {{ name: "The CEO" }}
    text: "We are live."
  - id: welcome
    for: pilote
    at: join + 0d at 10:00
    dm: "Bienvenue {{first_name}}"
"""


def write_campaign(
    path: Path, teaser1: str = "Save the date", extra: str = "", drop: str | None = None
) -> Path:
    text = CAMPAIGN.format(teaser1=teaser1)
    if drop is not None:
        lines = text.splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {drop}")
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("- id:")),
            len(lines),
        )
        text = "".join(lines[:start] + lines[end:])
    path.write_text(text + textwrap.indent(textwrap.dedent(extra), "  "))
    return path


class Recorder:
    """Records (delivery key, simulated time) of every send."""

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        self.sends: list[tuple[str, datetime]] = []

    def __call__(self, row: Delivery, sent: object) -> None:
        self.sends.append((row.key, self.clock.now()))


def make_bot(
    db: Database,
    campaign: Path,
    clock: SimulatedClock,
    adapter: MemoryAdapter | None = None,
    **settings: object,
) -> tuple[Rallybot, MemoryAdapter]:
    adapter = adapter or MemoryAdapter()
    options = {
        "database_url": "sqlite://",
        "quiet_hours": "21:00-08:00",
        "admins": ["memory:cm"],
        **settings,
    }
    bot = Rallybot(Settings(**options), db, adapter, clock, campaign_paths=[campaign])
    return bot, adapter


async def add_pilots(db: Database, count: int, joined: datetime, platform: str = "memory") -> None:
    for i in range(count):
        await upsert_member(
            db,
            platform,
            f"u{i}",
            joined,
            display_name=f"User {i}",
            first_name=f"User{i}",
            cohort="pilote",
            joined_at=joined,
            timezone="Europe/Paris",
        )


async def statuses(db: Database) -> Counter[str]:
    async with db.session() as s:
        rows = (await s.execute(sa.select(Delivery.status))).scalars().all()
    return Counter(rows)


async def test_campaign_plays_once_at_the_right_local_times(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(LAUNCH_UTC - timedelta(days=12))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    recorder = Recorder(clock)
    bot.dispatcher.on_sent = recorder
    await bot.reload()
    await add_pilots(db, 3, LAUNCH_UTC)
    await bot.advance_to(LAUNCH_UTC + timedelta(days=2))

    times = {key.split("/")[1] + "/" + key.split("/")[2]: when for key, when in recorder.sends}
    # teaser-1 on Oct 24 (summer time, UTC+2) and teaser-2 on Oct 31 (winter, UTC+1): 09:00 both.
    assert times["teaser-1/channel:annonces"] == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
    assert times["teaser-2/channel:annonces"] == datetime(2026, 10, 31, 8, 0, tzinfo=UTC)
    assert times["announce/channel:annonces"] == LAUNCH_UTC
    welcome = [when for key, when in recorder.sends if "/welcome/" in key]
    # Joined at 09:30: the welcome goes at the next 10:00 Paris time, the same day.
    assert welcome == [datetime(2026, 11, 3, 9, 0, tzinfo=UTC)] * 3
    assert len(recorder.sends) == len({k for k, _ in recorder.sends}) == 6
    assert [p.message.text for p in adapter.posts] == ["Save the date", "J-3", "We are live."]
    announce = adapter.posts[2]
    assert announce.message.sender is not None and announce.message.sender.name == "The CEO"
    assert adapter.is_pinned(announce.sent)
    assert sorted(d.target for d in adapter.directs) == ["u0", "u1", "u2"]
    assert adapter.directs[0].message.text.startswith("Bienvenue User")
    assert await statuses(db) == Counter({"sent": 6})
    # Running the clock further never sends anything again.
    await bot.advance_to(LAUNCH_UTC + timedelta(days=30))
    assert len(adapter.delivered) == 6


def run_worker(db_url: str, campaign: Path, sends: Path, now: datetime, *flags: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(  # noqa: PLW1510 - the return code is checked below
        [
            sys.executable,
            "-m",
            "tests.support.worker",
            db_url,
            str(campaign),
            str(sends),
            now.isoformat(),
            *flags,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode not in (0, 137):
        raise AssertionError(f"worker failed ({result.returncode}):\n{result.stderr}")
    return result.returncode


async def _seed_fanout(db: Database, tmp_path: Path, members: int) -> Path:
    campaign = write_campaign(tmp_path / "c.yaml")
    await add_pilots(db, members, LAUNCH_UTC)
    return campaign


async def test_killed_between_claim_and_send_loses_nothing(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    campaign = await _seed_fanout(db, tmp_path, 5)
    sends = tmp_path / "sends.jsonl"
    now = LAUNCH_UTC + timedelta(hours=1)  # the announce and the welcomes are due
    code = await asyncio.to_thread(
        run_worker, db_url, campaign, sends, now, "--crash-after-claim", "--worker", "first"
    )
    assert code == 137 and read_sends(sends) == []
    async with db.session() as s:
        claimed = (
            await s.execute(sa.select(sa.func.count()).where(Delivery.status == "claimed"))
        ).scalar()
    assert claimed and claimed > 0
    # A new process after the lease expired takes the claims back and sends everything once.
    later = now + timedelta(minutes=5)
    assert (
        await asyncio.to_thread(run_worker, db_url, campaign, sends, later, "--worker", "second")
        == 0
    )
    keys = [e["key"] for e in read_sends(sends)]
    assert len(keys) == len(set(keys)) == 1 + 5  # the announce + 5 welcomes (teasers missed)
    assert (await statuses(db))["sent"] == 6


@pytest.mark.parametrize("remember", [True, False], ids=["platform-remembers", "no-lookup"])
async def test_killed_between_send_and_record(
    db: Database, db_url: str, tmp_path: Path, remember: bool
) -> None:
    campaign = await _seed_fanout(db, tmp_path, 5)
    sends = tmp_path / "sends.jsonl"
    now = LAUNCH_UTC + timedelta(hours=1)
    flags = [] if remember else ["--no-remember"]
    code = await asyncio.to_thread(
        run_worker,
        db_url,
        campaign,
        sends,
        now,
        "--crash-after-send",
        "3",
        "--worker",
        "first",
        *flags,
    )
    assert code == 137 and len(read_sends(sends)) == 3
    later = now + timedelta(minutes=5)
    await asyncio.to_thread(
        run_worker, db_url, campaign, sends, later, "--worker", "second", *flags
    )
    counts = Counter(e["key"] for e in read_sends(sends))
    assert len(counts) == 6  # every delivery reached the platform
    duplicated = [k for k, n in counts.items() if n > 1]
    if remember:
        assert duplicated == []  # the platform confirmed the interrupted send
    else:
        assert len(duplicated) == 1  # only the one message in flight at the crash
    assert (await statuses(db))["sent"] == 6


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_processes_on_postgresql_deliver_each_row_once(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    campaign = await _seed_fanout(db, tmp_path, 300)
    sends = tmp_path / "sends.jsonl"
    now = LAUNCH_UTC + timedelta(hours=1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(  # noqa: ASYNC220 - two real processes are the point of this test
            [
                sys.executable,
                "-m",
                "tests.support.worker",
                db_url,
                str(campaign),
                str(sends),
                now.isoformat(),
                "--worker",
                name,
                "--batch",
                "10",
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alpha", "beta")
    ]
    for proc in procs:
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=180)
        assert proc.returncode == 0, stderr
    entries = read_sends(sends)
    counts = Counter(e["key"] for e in entries)
    assert len(counts) == 301 and max(counts.values()) == 1
    assert (await statuses(db)) == Counter({"sent": 301})
    workers = Counter(e["worker"] for e in entries)
    assert set(workers) == {"alpha", "beta"}, workers  # both really took part


async def test_reload_edits_adds_and_removes_steps(db: Database, tmp_path: Path) -> None:
    path = write_campaign(tmp_path / "c.yaml")
    clock = SimulatedClock(LAUNCH_UTC - timedelta(days=12))
    bot, adapter = make_bot(db, path, clock, lookahead_seconds=30 * 86400)
    await bot.reload()
    await bot.advance_to(datetime(2026, 10, 25, tzinfo=UTC))  # teaser-1 sent, the rest pending
    assert [p.message.text for p in adapter.posts] == ["Save the date"]
    assert (await statuses(db)) == Counter({"sent": 1, "pending": 2})

    write_campaign(
        path,
        teaser1="Edited teaser",
        drop="teaser-2",
        extra="""\
      - id: extra
        at: launch - 1d at 12:00
        post: annonces
        text: "A new step"
    """,
    )
    report = await bot.reload()
    assert report.cancelled == 1 and report.errors == []
    await bot.advance_to(LAUNCH_UTC + timedelta(days=1))
    texts = [p.message.text for p in adapter.posts]
    assert texts == ["Save the date", "A new step", "We are live."]  # nothing sent twice
    async with db.session() as s:
        cancelled = (
            (await s.execute(sa.select(Delivery).where(Delivery.status == "cancelled")))
            .scalars()
            .all()
        )
    assert [c.step_id for c in cancelled] == ["teaser-2"]
    assert cancelled[0].reason == "cancelled: the step was removed from the campaign file"


async def test_an_edited_pending_text_goes_out_in_its_new_version(
    db: Database, tmp_path: Path
) -> None:
    path = write_campaign(tmp_path / "c.yaml")
    clock = SimulatedClock(LAUNCH_UTC - timedelta(days=12))
    bot, adapter = make_bot(db, path, clock, lookahead_seconds=30 * 86400)
    await bot.reload()
    await bot.plan_tick()  # everything is in the outbox, pending
    write_campaign(path, teaser1="Second version")
    report = await bot.reload()
    assert report.replanned == 1
    await bot.advance_to(LAUNCH_UTC - timedelta(days=5))
    assert [p.message.text for p in adapter.posts] == ["Second version"]


async def test_a_broken_file_keeps_the_last_good_version(db: Database, tmp_path: Path) -> None:
    path = write_campaign(tmp_path / "c.yaml")
    clock = SimulatedClock(LAUNCH_UTC - timedelta(days=12))
    bot, adapter = make_bot(db, path, clock)
    await bot.reload()
    path.write_text(path.read_text().replace("post: annonces", "post: anonces", 1))
    report = await bot.reload()
    assert report.kept == ["launch"] and len(report.errors) == 1
    assert "unknown channel" in str(report.errors[0])
    await bot.advance_to(LAUNCH_UTC + timedelta(hours=1))
    assert len(adapter.posts) == 3


async def test_missed_deliveries_inside_the_grace_window_go_late_others_are_skipped(
    db: Database, tmp_path: Path
) -> None:
    path = write_campaign(tmp_path / "c.yaml")
    clock = SimulatedClock(LAUNCH_UTC - timedelta(days=12))
    bot, adapter = make_bot(db, path, clock, grace_minutes=60)
    await bot.reload()
    await bot.plan_tick()
    # The bot is down from J-12 until 30 minutes after teaser-2 (teaser-1 missed by days).
    clock.set(datetime(2026, 10, 31, 8, 30, tzinfo=UTC))
    restarted, _ = make_bot(db, path, clock, adapter=adapter, grace_minutes=60)
    await restarted.reload()
    await restarted.plan_tick()
    await restarted.dispatch_tick(drain=True)
    assert [p.message.text for p in adapter.posts] == ["J-3"]
    async with db.session() as s:
        skipped = (
            (await s.execute(sa.select(Delivery).where(Delivery.status == "skipped")))
            .scalars()
            .all()
        )
    assert [d.step_id for d in skipped] == ["teaser-1"]
    assert skipped[0].reason is not None and skipped[0].reason.startswith(
        "missed: due 2026-10-24 07:00 UTC"
    )
    assert "(s)" not in skipped[0].reason  # "more than 6 hours", a real plural


async def test_pause_holds_messages_and_resume_sends_them(db: Database, tmp_path: Path) -> None:
    path = write_campaign(tmp_path / "c.yaml")
    clock = SimulatedClock(LAUNCH_UTC - timedelta(days=12))
    bot, adapter = make_bot(db, path, clock, grace_minutes=24 * 60 * 30)
    await bot.reload()
    await bot.advance_to(LAUNCH_UTC - timedelta(days=11))
    admin = UserRef("memory", "cm")
    command = CommandInvoked(
        event_id="c1",
        platform="memory",
        user=admin,
        occurred_at=clock.now(),
        name="pause",
        args=("launch",),
    )
    await bot.handle(command)
    await bot.advance_to(LAUNCH_UTC - timedelta(days=4))
    assert adapter.posts == []
    await bot.handle(
        CommandInvoked(
            event_id="c2",
            platform="memory",
            user=admin,
            occurred_at=clock.now(),
            name="resume",
            args=("launch",),
        )
    )
    await bot.advance_to(LAUNCH_UTC - timedelta(days=4) + timedelta(minutes=1))
    assert [p.message.text for p in adapter.posts] == ["Save the date"]
    replies = [d.message.text for d in adapter.directs if d.target == "cm"]
    assert replies == [  # the bot's default language, French
        "La campagne « launch » est maintenant en pause.",
        "La campagne « launch » est maintenant active.",
    ]


async def test_admin_commands_need_the_role(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(LAUNCH_UTC)
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    await bot.handle(
        CommandInvoked(
            event_id="x1",
            platform="memory",
            user=UserRef("memory", "eve"),
            occurred_at=clock.now(),
            name="pause",
            args=("launch",),
        )
    )
    await bot.handle(
        CommandInvoked(
            event_id="x2",
            platform="memory",
            user=UserRef("memory", "eve"),
            occurred_at=clock.now(),
            name="frobnicate",
        )
    )
    await bot.handle(
        CommandInvoked(
            event_id="x3",
            platform="memory",
            user=UserRef("memory", "cm"),
            occurred_at=clock.now(),
            name="campaigns",
        )
    )
    texts = [d.message.text for d in adapter.directs]
    assert texts[0] == "« /rallybot pause » est réservé aux community managers."
    assert texts[1] == "Commande « frobnicate » inconnue. Essayez /rallybot help."
    assert texts[2] == "Campagnes :\n• launch — Launch — active"


async def test_a_retried_event_acts_once(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(LAUNCH_UTC)
    bot, _ = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    event = MemberJoined(
        event_id="Ev123",
        platform="memory",
        user=UserRef("memory", "newbie", "New Bie"),
        occurred_at=clock.now(),
        channel=None,
    )
    await bot.handle(event)
    clock.advance(timedelta(hours=1))
    await bot.handle(event)  # the platform retried the same event
    async with db.session() as s:
        members = (await s.execute(sa.select(Member))).scalars().all()
    assert len(members) == 1 and members[0].joined_at == LAUNCH_UTC
    channel_join = MemberJoined(
        event_id="Ev124",
        platform="memory",
        user=UserRef("memory", "newbie"),
        occurred_at=clock.now(),
        channel=ChannelRef("memory", "general"),
    )
    await bot.handle(channel_join)
    async with db.session() as s:
        member = (await s.execute(sa.select(Member))).scalar_one()
    assert member.joined_at == LAUNCH_UTC  # joining a channel does not restart the journey


async def test_rate_limited_sends_are_retried_and_broken_ones_fail(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SimulatedClock(LAUNCH_UTC - timedelta(days=10, hours=1))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    adapter.fail_next(1, TransientSendError("429 Too Many Requests", retry_after=30))
    await bot.advance_to(LAUNCH_UTC - timedelta(days=10) + timedelta(minutes=1))
    assert [p.message.text for p in adapter.posts] == ["Save the date"]
    async with db.session() as s:
        row = (
            await s.execute(sa.select(Delivery).where(Delivery.step_id == "teaser-1"))
        ).scalar_one()
    assert row.status == "sent" and row.attempts == 2
    adapter.fail_next(1, AdapterError("channel_not_found"))
    with caplog.at_level(logging.ERROR):
        await bot.advance_to(LAUNCH_UTC - timedelta(days=2))
    async with db.session() as s:
        row = (
            await s.execute(sa.select(Delivery).where(Delivery.step_id == "teaser-2"))
        ).scalar_one()
    assert row.status == "failed" and row.reason == "channel_not_found"
    assert "failed launch/teaser-2/channel:annonces/once for good" in caplog.text


async def test_opted_out_members_and_met_conditions_are_skipped(
    db: Database, tmp_path: Path
) -> None:
    path = write_campaign(
        tmp_path / "c.yaml",
        extra="""\
      - id: nudge
        for: pilote
        at: join + 1d at 10:00
        unless: profile_complete
        dm: "Complete your profile"
    """,
    )
    clock = SimulatedClock(LAUNCH_UTC - timedelta(hours=1))
    bot, adapter = make_bot(db, path, clock)
    await bot.reload()
    await add_pilots(db, 3, LAUNCH_UTC)
    await upsert_member(db, "memory", "u1", clock.now(), opted_out=True)
    await bot.advance_to(LAUNCH_UTC + timedelta(hours=2))  # welcomes planned and sent
    await upsert_member(db, "memory", "u2", clock.now(), profile_complete=True)
    await bot.advance_to(LAUNCH_UTC + timedelta(days=2))
    nudged = [d.target for d in adapter.directs if d.message.text == "Complete your profile"]
    assert nudged == ["u0"]
    welcomed = sorted(d.target for d in adapter.directs if d.message.text.startswith("Bienvenue"))
    assert welcomed == ["u0", "u2"]


async def test_shutdown_finishes_the_send_under_way_and_hands_back_the_rest(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(LAUNCH_UTC - timedelta(hours=1))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    await add_pilots(db, 5, LAUNCH_UTC)
    clock.set(LAUNCH_UTC + timedelta(minutes=40))  # the announce and 5 welcomes are due
    await bot.plan_tick()
    sends = 0

    async def stop_during_second_send(key: str | None) -> None:
        nonlocal sends
        sends += 1
        if sends == 2:
            bot.dispatcher.stop()  # SIGTERM arrives while the second message is being sent

    adapter.before_send = stop_during_second_send
    await bot.dispatch_tick()
    assert len(adapter.delivered) == 2
    assert await statuses(db) == Counter({"sent": 2, "pending": 4})
    # The next process sends the rest, once.
    successor, _ = make_bot(db, tmp_path / "c.yaml", clock, adapter=MemoryAdapter())
    await successor.reload()
    await successor.plan_tick()
    stats = await successor.dispatch_tick(drain=True)
    assert stats.sent == 4 and await statuses(db) == Counter({"sent": 6})


async def test_a_full_batch_is_followed_by_the_next_one_in_the_same_tick(
    db: Database, tmp_path: Path
) -> None:
    # A fan-out larger than a batch goes on without waiting for the next tick: the scheduler
    # skips a tick while the previous one runs, so a batch that took a little longer than the
    # interval left the dispatcher idle until the tick after (a fan-out at half speed).
    clock = SimulatedClock(LAUNCH_UTC - timedelta(hours=1))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock, dispatch_batch=2)
    await bot.reload()
    await add_pilots(db, 5, LAUNCH_UTC)
    clock.set(LAUNCH_UTC + timedelta(minutes=40))  # the announce and 5 welcomes are due
    await bot.plan_tick()
    stats = await bot.dispatch_tick()
    assert (stats.claimed, stats.sent, len(adapter.delivered)) == (6, 6, 6)
    assert await statuses(db) == Counter({"sent": 6})


async def test_an_unreachable_platform_while_confirming_an_earlier_send_retries_later(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock(LAUNCH_UTC - timedelta(days=10, hours=1))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    adapter.fail_next(1, TransientSendError("connection reset", retry_after=60))
    unreachable = [TransientSendError("timeout while reading the history")]
    original = adapter.find_sent

    async def find_sent(target: str, key: str) -> object:
        if unreachable:
            raise unreachable.pop()
        return await original(target, key)

    monkeypatch.setattr(adapter, "find_sent", find_sent)
    # attempt 1 fails; attempt 2 cannot check the history; attempt 3 checks it and sends.
    await bot.advance_to(LAUNCH_UTC - timedelta(days=10) + timedelta(minutes=5))
    assert not unreachable
    assert [p.message.text for p in adapter.posts] == ["Save the date"]
    async with db.session() as s:
        row = (
            await s.execute(sa.select(Delivery).where(Delivery.step_id == "teaser-1"))
        ).scalar_one()
    assert row.status == "sent" and row.attempts == 3


async def test_a_failing_feature_tick_does_not_stop_the_campaign(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from rallybot.handlers.quiz import feature as quiz

    async def broken(bot: object) -> None:
        raise RuntimeError("quiz state is corrupt")

    monkeypatch.setattr(quiz, "tick", broken)
    clock = SimulatedClock(LAUNCH_UTC - timedelta(days=10, hours=1))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    with caplog.at_level(logging.ERROR):
        await bot.advance_to(LAUNCH_UTC - timedelta(days=10) + timedelta(minutes=1))
    assert [p.message.text for p in adapter.posts] == ["Save the date"]
    assert "the quiz tick failed" in caplog.text
