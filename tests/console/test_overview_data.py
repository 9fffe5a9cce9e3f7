"""The console's campaigns summaries, indicator cache and help desk figures; on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rallybot.bot.context import ReloadReport
from rallybot.campaigns.loader import LoadError
from rallybot.handlers.console.figures import IndicatorCache, help_desk
from rallybot.handlers.console.overview import campaign_summaries, file_change, set_paused
from rallybot.handlers.console.timeline import TimelineSource
from rallybot.handlers.reporting import indicators as ind
from rallybot.handlers.reporting.report import ReportData, compute
from rallybot.storage.database import Database
from rallybot.storage.helpdesk_models import HelpTicket
from rallybot.storage.outbox import insert_deliveries
from rallybot.storage.repositories import upsert_member
from tests.console.world import launch_world


async def test_campaign_summary_state_counts_next_sends_and_reload_errors(
    db: Database, tmp_path: Path
) -> None:
    bot, clock = await launch_world(db, tmp_path)
    source = TimelineSource(db, bot.campaigns, default_timezone="Europe/Paris")
    launch_file = bot.campaigns["launch"].source
    report = ReloadReport(
        errors=[
            LoadError(launch_file, 12, 3, "steps.0.at", "not a time"),
            LoadError(str(tmp_path / "campaigns" / "other.yaml"), 1, 1, "", "broken"),
        ],
        warnings=['step "a" is gone and step "b" has the same message'],
    )
    summaries, others = await campaign_summaries(db, bot.campaigns, source, clock.now(), report)
    assert [s.id for s in summaries] == ["launch"]
    launch = summaries[0]
    assert (launch.title, launch.status, launch.loaded) == ("Launch", "active", True)
    assert launch.deliveries == {"sent": 2}
    assert [(e.step, e.status) for e in launch.next_sends] == [
        ("invite", "planned"),
        ("invite", "planned"),
        ("recap", "planned"),
    ]
    assert [e.message for e in launch.errors] == ["not a time"]
    assert [e.message for e in others] == ["broken"]
    assert launch.changed is not None and launch.changed.source == "file"  # not in git

    assert await set_paused(db, "launch", True, clock.now())
    summaries, _ = await campaign_summaries(db, bot.campaigns, source, clock.now())
    assert summaries[0].status == "paused" and summaries[0].paused_at is not None
    assert summaries[0].next_sends == []  # a paused campaign sends nothing
    assert await set_paused(db, "launch", False, clock.now())
    assert not await set_paused(db, "nope", True, clock.now())


def test_file_change_reads_the_last_commit_unless_edited_since(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    path = folder / "launch.yaml"
    path.write_text("id: launch\n")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "launch.yaml")
    git(
        "-c",
        "user.name=Camille",
        "-c",
        "user.email=camille@example.com",
        "commit",
        "-qm",
        "launch",
        "--date=2026-11-02T10:00:00+01:00",
    )
    change = file_change(path)
    assert change is not None and change.source == "git" and change.commit
    path.write_text("id: launch\ntitle: edited\n")
    edited = file_change(path)
    assert edited is not None and edited.source == "file"
    assert file_change(tmp_path / "missing.yaml") is None


async def test_indicator_cache_serves_kept_figures_and_refreshes_them_in_the_background(
    db: Database,
) -> None:
    now = [datetime(2027, 3, 1, tzinfo=UTC)]
    calls: list[datetime] = []
    gate = asyncio.Event()
    template = await compute(db, ind.Scope(), now[0])

    async def computer(_db: Database, scope: ind.Scope, at: datetime) -> ReportData:
        calls.append(at)
        await gate.wait()
        return replace(template, scope=scope, generated_at=at)

    cache = IndicatorCache(db, lambda: now[0], fresh_for=timedelta(minutes=5), computer=computer)
    gate.set()
    first = await cache.get(ind.Scope())
    assert first.generated_at == now[0] and len(calls) == 1
    now[0] += timedelta(minutes=1)
    assert await cache.get(ind.Scope()) is first and len(calls) == 1  # fresh: kept
    assert (await cache.get(ind.Scope(cohort="pilote"))).scope.cohort == "pilote"
    assert len(calls) == 2  # another scope: its own figures
    now[0] += timedelta(minutes=10)
    gate.clear()
    assert await cache.get(ind.Scope()) is first  # stale: served while recomputed
    assert await cache.get(ind.Scope()) is first
    for _ in range(100):  # the recomputation reads the roster imports first
        await asyncio.sleep(0.01)
        if len(calls) >= 3:
            break
    assert len(calls) == 3  # one recomputation, not two
    gate.set()
    await asyncio.sleep(0.01)
    assert (await cache.get(ind.Scope())).generated_at == now[0]
    fresh = await cache.fresh(ind.Scope())
    assert len(calls) == 4 and fresh.generated_at == now[0]


async def test_help_desk_counts_open_unanswered_and_overdue_and_names_who_is_on_duty(
    db: Database, tmp_path: Path
) -> None:
    bot, clock = await launch_world(
        db, tmp_path, helpers="daily 00:00-23:59 h1", help_remind_minutes=30
    )
    now = clock.now()
    await upsert_member(db, "memory", "h1", now, display_name="Helper One")
    asker = await upsert_member(db, "memory", "q1", now, display_name="Asker")

    def ticket(n: int, state: str, opened: timedelta, **extra: Any) -> HelpTicket:
        return HelpTicket(
            platform="memory",
            channel_id="help",
            message_id=f"m{n}",
            asker_id=asker.id,
            excerpt=f"question {n}",
            state=state,
            opened_at=now - opened,
            last_activity_at=now - opened,
            **extra,
        )

    async with db.session() as session:
        session.add(ticket(1, "open", timedelta(hours=2)))  # overdue
        session.add(ticket(2, "open", timedelta(minutes=5)))  # not yet
        session.add(
            ticket(
                3,
                "answered",
                timedelta(hours=3),
                first_response_at=now - timedelta(hours=2),
            )
        )
        session.add(
            ticket(
                4,
                "solved",
                timedelta(hours=5),
                first_response_at=now - timedelta(hours=4),
                solved_at=now - timedelta(hours=1),
            )
        )
    desk = await help_desk(db, bot.settings, now)
    assert (desk.open, desk.unanswered, desk.overdue) == (3, 2, 1)
    assert [(t.excerpt, t.overdue, t.asker) for t in desk.tickets] == [
        ("question 4", False, "Asker"),
        ("question 3", False, "Asker"),
        ("question 1", True, "Asker"),
        ("question 2", False, "Asker"),
    ][1:]
    assert desk.on_duty == ["Helper One"]
    assert desk.times.tickets == 4
    assert desk.times.median_first_response == timedelta(hours=1)


async def test_next_sends_are_not_crowded_out_by_messages_that_will_not_go(
    db: Database, tmp_path: Path
) -> None:
    """Cancelled and skipped messages due later (a send now replaced them, a manager skipped
    them) are no next sends: they must not take the places of the ones planned."""
    bot, clock = await launch_world(db, tmp_path)
    source = TimelineSource(db, bot.campaigns, default_timezone="Europe/Paris")
    now = clock.now()
    rows = [
        {
            "campaign_id": "launch",
            "step_id": "invite",
            "recipient": f"member:{member_id}",
            "occurrence": "once",
            "due_at": now + timedelta(hours=hours),
            "grace_until": now + timedelta(hours=hours + 1),
            "status": status,
            "reason": None,
            "payload": {"message": {"text": "Hello"}, "member_id": member_id},
            "content_hash": "",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for member_id, hours, status in (
            (1, 2, "cancelled"),
            (2, 3, "skipped"),
            (3, 4, "cancelled"),
        )
    ]
    async with db.session() as session:
        assert await insert_deliveries(session, rows) == 3
    summaries, _ = await campaign_summaries(db, bot.campaigns, source, now)
    # the recap's planned messages are the next sends, two of them (one per zone: its only
    # text is English, whoever reads it), none of the messages that will not go
    assert [(e.step, e.status) for e in summaries[0].next_sends] == [("recap", "planned")] * 2
