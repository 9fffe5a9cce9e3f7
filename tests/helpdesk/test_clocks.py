"""The help channel's clocks follow the rota, and reminders and escalations always reach
someone: the helpers on duty, else the community managers, else the managers' channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.cli import app
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.rota import parse_rota
from rallybot.campaigns.roster import load_roster_text
from rallybot.storage.database import Database
from tests.helpdesk.helpers import ROTA, make_bot, post, thread_replies, ticket

SATURDAY_NIGHT = datetime(2026, 11, 7, 22, 0, tzinfo=UTC)  # Saturday 23:00 in Paris
MONDAY = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # Monday 09:00 in Paris: the rota starts


async def bot_for(
    db: Database, tmp_path: Path, clock: SimulatedClock, **settings: Any
) -> tuple[Rallybot, MemoryAdapter]:
    url = f"sqlite:///{tmp_path / 'settings.db'}"
    return await make_bot(db, tmp_path / "files", clock, database_url=url, **settings)


def test_duty_time_stops_while_nobody_is_on_duty() -> None:
    rota = parse_rota(ROTA, "Europe/Paris")
    assert rota.after_duty_time(SATURDAY_NIGHT, timedelta(minutes=30)) == MONDAY + timedelta(
        minutes=30
    )
    friday = datetime(2026, 11, 6, 16, 30, tzinfo=UTC)  # 17:30 in Paris: 30 min left on Friday
    saturday_ten = datetime(2026, 11, 7, 9, 0, tzinfo=UTC)  # the weekend slot, 10:00-12:00
    assert rota.after_duty_time(friday, timedelta(hours=1)) == saturday_ten + timedelta(minutes=30)
    within = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert rota.after_duty_time(within, timedelta(hours=2)) == within + timedelta(hours=2)
    assert parse_rota("").after_duty_time(within, timedelta(hours=2)) == within + timedelta(hours=2)


async def test_a_saturday_night_question_waits_for_monday(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(SATURDAY_NIGHT)
    bot, adapter = await bot_for(db, tmp_path, clock)
    question = post("asker", "The page does not load at all", clock)
    await adapter.push(question)
    await bot.advance_to(SATURDAY_NIGHT + timedelta(hours=3))  # 02:00: nobody woken up
    await bot.advance_to(MONDAY - timedelta(minutes=1))
    assert adapter.directs == []
    assert len(thread_replies(adapter, question.message_id)) == 1  # the welcome only
    await bot.advance_to(MONDAY + timedelta(hours=3))
    opened = await ticket(db)
    assert opened.reminded_at == MONDAY + timedelta(minutes=30)
    assert opened.escalated_at == MONDAY + timedelta(minutes=120)
    remind = thread_replies(adapter, question.message_id)[1].message.text
    assert "<@helper1>" in remind
    assert [d.target for d in adapter.directs] == ["cm"]


async def test_without_a_rota_the_reminder_names_the_managers(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(MONDAY)
    bot, adapter = await bot_for(db, tmp_path, clock, helpers="")
    question = post("asker", "The page does not load at all", clock)
    await adapter.push(question)
    await bot.advance_to(MONDAY + timedelta(minutes=31))
    remind = thread_replies(adapter, question.message_id)[1].message.text
    assert "<@cm>" in remind


async def test_with_nobody_to_name_it_goes_to_the_managers_channel(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(MONDAY)
    bot, adapter = await bot_for(
        db, tmp_path, clock, helpers="", admins=[], managers_channel="managers"
    )
    question = post("asker", "The page does not load at all", clock)
    await adapter.push(question)
    await bot.advance_to(MONDAY + timedelta(hours=3))
    posted = [d.message.text for d in adapter.sent_to("managers")]
    assert len(posted) == 2
    assert "nobody is on duty" in posted[0] and "The page does not load" in posted[0]
    assert "no answer for 120 min" in posted[1]
    texts = [r.message.text for r in thread_replies(adapter, question.message_id)]
    assert any("📣" in t for t in texts)  # the asker hears that the managers were told


EVIDENCE_CAMPAIGN = """\
id: proofs
title: Proofs
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
steps:
  - id: hello
    at: launch
    post: annonces
    text: "Hello"
challenges:
  - id: proof
    title: Show us
    goal: {kind: submit_evidence, count: 1}
    start: launch
    end: launch + 2d
    points: 30
"""


def test_validate_and_health_warn_when_nobody_would_be_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("RALLYBOT_ADMINS", "RALLYBOT_HELPERS", "RALLYBOT_MANAGERS_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RALLYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("RALLYBOT_HELP_CHANNEL", "help")
    path = tmp_path / "proofs.yaml"
    path.write_text(EVIDENCE_CAMPAIGN)
    result = CliRunner().invoke(app, ["--locale", "en", "validate", str(path)])
    assert "no community manager is named" in result.output, result.output
    assert "help questions nobody answers reach nobody" in result.output
    result = CliRunner().invoke(app, ["--locale", "en", "health"])
    assert "no community manager is named" in result.output, result.output
    monkeypatch.setenv("RALLYBOT_ADMINS", "memory:cm")
    monkeypatch.setenv("RALLYBOT_HELPERS", ROTA)
    result = CliRunner().invoke(app, ["--locale", "en", "validate", str(path)])
    assert "settings: warning" not in result.output, result.output


def test_health_counts_the_managers_the_community_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("RALLYBOT_ADMINS", "RALLYBOT_HELPERS", "RALLYBOT_MANAGERS_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RALLYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("RALLYBOT_CAMPAIGNS_DIR", str(tmp_path))
    (tmp_path / "community.yaml").write_text(
        "community: connect\nmanagers: [community@example.com]\n"
    )
    result = CliRunner().invoke(app, ["--locale", "en", "health"])
    assert "no community manager is named" not in result.output, result.output
    # The file's help channel counts too: it has no rota, and health says so.
    (tmp_path / "community.yaml").write_text(
        "community: connect\nmanagers: [slack:U1]\nhelp: {channel: help}\n"
    )
    result = CliRunner().invoke(app, ["--locale", "en", "health"])
    assert "no community manager is named" not in result.output, result.output
    assert "the help channel has no rota" in result.output, result.output


COMMUNITY = """\
community: connect
help:
  channel: help
  timezone: Europe/Paris
  rota:
    - {days: mon-fri, hours: "09:00-18:00", people: [aide@example.com, ghost@example.com]}
"""


async def test_a_rota_by_e_mail_names_the_members_a_roster_brought(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A platform that cannot look e-mails up (the console; Discord): its members come from
    # the rosters, which have e-mails.
    monkeypatch.setattr(MemoryAdapter, "lookup_by_email", None)
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "community.yaml").write_text(COMMUNITY)
    clock = SimulatedClock(MONDAY)
    bot, adapter = await bot_for(db, tmp_path, clock, helpers="")
    # Before the roster: the slot keeps its hours, its people marked as not found.
    assert bot.settings.rota.on_duty(MONDAY) == [
        "unknown:aide@example.com",
        "unknown:ghost@example.com",
    ]
    roster = "id,email,name\naide1,Aide@Example.com,Aide Un\nasker,asker@example.com,Asker\n"
    entries = load_roster_text(roster, "roster.csv", default_timezone="UTC")
    await bot.import_roster(entries, "memory")
    assert bot.settings.rota.on_duty(MONDAY) == ["memory:aide1", "unknown:ghost@example.com"]
    question = post("asker", "The page does not load at all", clock)
    await adapter.push(question)
    await bot.advance_to(MONDAY + timedelta(minutes=31))
    remind = thread_replies(adapter, question.message_id)[1].message.text
    assert "<@aide1>" in remind
    assert "ghost" not in remind and "<@cm>" not in remind  # nobody mentioned for no account
