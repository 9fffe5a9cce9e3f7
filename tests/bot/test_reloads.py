"""Reloads that forgive a moment's absence: files moved away and back, git checkouts, renames.

Nothing lost, nothing sent twice: every test counts the sends per delivery key.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.cli import app
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.runner import _watch
from rallybot.storage.database import Database
from rallybot.storage.models import CampaignState, Delivery
from rallybot.storage.repositories import upsert_member

LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # 09:30 in Paris

CAMPAIGN = """\
id: launch
title: Launch
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
steps:
  - id: teaser
    at: launch - 3d at 09:00
    post: annonces
    text: "Soon"
  - id: announce
    at: launch
    post: annonces
    text: "We are live"
  - id: welcome
    at: launch + 1d at 10:00
    dm: "Welcome {first_name}"
  - id: follow-up
    at: launch + 3d at 10:00
    dm: "How is it going?"
"""

WELCOME = '  - id: welcome\n    at: launch + 1d at 10:00\n    dm: "Welcome {first_name}"\n'

OTHER = """\
id: digest
title: Digest
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
steps:
  - id: recap
    at: launch + 2d at 11:00
    post: annonces
    text: "Recap"
"""


class Sends:
    """Every send, by delivery key."""

    def __init__(self, bot: Rallybot) -> None:
        self.keys: Counter[str] = Counter()
        bot.dispatcher.on_sent = lambda row, sent: self.keys.update([row.key])

    def steps(self) -> Counter[str]:
        return Counter(key.split("/")[1] for key in self.keys)


def make_bot(db: Database, paths: list[Path], clock: SimulatedClock, tmp: Path) -> Rallybot:
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'settings.db'}",
        quiet_hours="21:00-08:00",
        admins=["memory:cm"],
        lookahead_seconds=7 * 86400,  # everything is in the outbox, pending, well ahead
    )
    return Rallybot(settings, db, MemoryAdapter(), clock, campaign_paths=paths)


async def add_members(db: Database, count: int) -> None:
    for i in range(count):
        await upsert_member(
            db,
            "memory",
            f"u{i}",
            LAUNCH - timedelta(days=30),
            first_name=f"M{i}",
            joined_at=LAUNCH - timedelta(days=30),
            timezone="Europe/Paris",
        )


async def rows(db: Database) -> list[Delivery]:
    async with db.session() as session:
        return list((await session.execute(sa.select(Delivery))).scalars())


async def status_of(db: Database, campaign_id: str) -> str:
    async with db.session() as session:
        state = await session.get(CampaignState, campaign_id)
        assert state is not None
        return state.status


async def test_a_file_moved_away_and_back_loses_nothing(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    path = folder / "launch.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(days=4))
    bot = make_bot(db, [folder], clock, tmp_path)
    sends = Sends(bot)
    await add_members(db, 3)
    await bot.reload()
    await bot.advance_to(LAUNCH - timedelta(minutes=1))
    assert sends.steps() == Counter({"teaser": 1})

    aside = tmp_path / "launch.yaml.bak"
    shutil.move(path, aside)  # moved away for a moment, as an editor or a script does
    report = await bot.reload()
    assert report.removed == ["launch"] and report.cancelled == 0
    assert await status_of(db, "launch") == "absent"
    await bot.advance_to(LAUNCH + timedelta(seconds=3))
    assert sends.steps() == Counter({"teaser": 1})  # held while the file is away
    assert {r.status for r in await rows(db)} == {"sent", "pending"}

    shutil.move(aside, path)
    report = await bot.reload()
    assert report.loaded == ["launch"] and report.cancelled == 0
    assert await status_of(db, "launch") == "active"
    await bot.advance_to(LAUNCH + timedelta(days=5))
    assert sends.steps() == Counter({"teaser": 1, "announce": 1, "welcome": 3, "follow-up": 3})
    assert max(sends.keys.values()) == 1
    assert {r.status for r in await rows(db)} == {"sent"}


async def test_a_step_removed_then_put_back_comes_back_once(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH)
    bot = make_bot(db, [path], clock, tmp_path)
    sends = Sends(bot)
    await add_members(db, 3)
    await bot.reload()
    await bot.advance_to(LAUNCH + timedelta(hours=1))
    assert "welcome" in {r.step_id for r in await rows(db) if r.status == "pending"}

    # The file is there and parses, without the step: its messages are cancelled...
    path.write_text(CAMPAIGN.replace(WELCOME, ""))
    report = await bot.reload()
    assert report.cancelled == 3
    # ...and come back when the step does, before their grace ends: sent once.
    path.write_text(CAMPAIGN)
    await bot.reload()
    await bot.advance_to(LAUNCH + timedelta(days=2))
    assert sends.steps()["welcome"] == 3 and max(sends.keys.values()) == 1
    assert {r.status for r in await rows(db) if r.step_id == "welcome"} == {"sent"}


async def test_a_file_away_longer_than_the_setting_is_cancelled_and_comes_back_in_grace(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    path = folder / "launch.yaml"
    path.write_text(CAMPAIGN)
    # 10:05 Paris the day after launch: the welcomes (10:00) are due, not sent yet
    clock = SimulatedClock(LAUNCH + timedelta(days=1, minutes=35))
    bot = make_bot(db, [folder], clock, tmp_path)
    sends = Sends(bot)
    await add_members(db, 2)
    await bot.reload()
    await bot.plan_tick()
    path.unlink()
    await bot.reload()
    clock.set(clock.now() + timedelta(minutes=9))
    await bot.plan_tick()
    assert {r.status for r in await rows(db)} == {"pending"}  # 9 minutes: forgiven
    clock.set(clock.now() + timedelta(minutes=2))
    await bot.plan_tick()
    cancelled = [r for r in await rows(db) if r.status == "cancelled"]
    assert len(cancelled) == 4  # follow-up x2 and the welcomes still in their grace
    assert {r.reason for r in cancelled} == {"cancelled: the campaign file was removed"}

    path.write_text(CAMPAIGN)  # back, within the welcomes' hour of grace
    report = await bot.reload()
    assert report.restored == 4
    await bot.advance_to(LAUNCH + timedelta(days=5))
    assert sends.steps() == Counter({"welcome": 2, "follow-up": 2})
    assert max(sends.keys.values()) == 1


async def test_a_file_that_comes_back_after_its_grace_stays_cancelled(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    path = folder / "launch.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(minutes=30))
    bot = make_bot(db, [folder], clock, tmp_path)
    sends = Sends(bot)
    await bot.reload()
    await bot.plan_tick()
    path.unlink()
    await bot.reload()
    clock.set(LAUNCH + timedelta(hours=2))  # the announcement's hour of grace is over
    await bot.plan_tick()
    path.write_text(CAMPAIGN)
    report = await bot.reload()
    assert report.restored == 0
    await bot.advance_to(LAUNCH + timedelta(hours=3))
    assert sends.steps() == Counter()
    announce = [r for r in await rows(db) if r.step_id == "announce"]
    assert [r.status for r in announce] == ["cancelled"]


async def test_a_file_removed_while_the_bot_was_stopped_is_held_then_cancelled(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    path = folder / "launch.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(hours=1))
    first = make_bot(db, [folder], clock, tmp_path)
    await first.reload()
    await first.plan_tick()
    path.unlink()
    second = make_bot(db, [folder], clock, tmp_path)  # a restart
    sends = Sends(second)
    report = await second.reload()
    assert report.removed == ["launch"]
    await second.advance_to(LAUNCH + timedelta(minutes=5))
    assert sends.steps() == Counter()  # held, not sent behind the administrator's back
    await second.advance_to(LAUNCH + timedelta(minutes=11))
    assert {r.status for r in await rows(db)} == {"cancelled"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            *args,
        ],
        check=True,
        capture_output=True,
    )


async def test_a_git_checkout_of_another_branch_and_back(db: Database, tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed for this test")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "launch.yaml").write_text(CAMPAIGN)
    (repo / "digest.yaml").write_text(OTHER)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "campaigns")
    git(repo, "checkout", "-q", "-b", "draft")
    # The other branch: the follow-up step is gone and the digest file does not exist.
    (repo / "launch.yaml").write_text(CAMPAIGN.split("  - id: follow-up", maxsplit=1)[0])
    git(repo, "rm", "-q", "digest.yaml")
    git(repo, "commit", "-q", "-am", "draft")
    git(repo, "checkout", "-q", "main")

    clock = SimulatedClock(LAUNCH + timedelta(days=1, hours=2, minutes=50))
    bot = make_bot(db, [repo], clock, tmp_path)
    sends = Sends(bot)
    await add_members(db, 3)
    await bot.reload()
    await bot.plan_tick()
    git(repo, "checkout", "-q", "draft")
    report = await bot.reload()
    assert report.removed == ["digest"]
    assert report.cancelled == 3  # follow-up: the file is there and has no such step
    clock.set(clock.now() + timedelta(minutes=5))
    await bot.plan_tick()
    git(repo, "checkout", "-q", "main")
    report = await bot.reload()
    assert report.restored == 3 and report.cancelled == 0 and report.removed == []
    await bot.advance_to(LAUNCH + timedelta(days=5))
    assert sends.steps() == Counter({"follow-up": 3, "recap": 1})
    assert max(sends.keys.values()) == 1
    assert {r.status for r in await rows(db) if r.due_at > clock.now() - timedelta(days=4)} == {
        "sent"
    }


async def test_a_renamed_step_is_neither_resent_nor_lost(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH + timedelta(days=1))
    bot = make_bot(db, [path], clock, tmp_path)
    sends = Sends(bot)
    await add_members(db, 3)
    await bot.reload()
    await bot.advance_to(LAUNCH + timedelta(days=2))
    assert sends.steps() == Counter({"welcome": 3})
    renamed = CAMPAIGN.replace("- id: welcome\n", "- id: hello\n    renamed_from: welcome\n")
    renamed = renamed.replace("- id: follow-up\n", "- id: check-in\n    renamed_from: follow-up\n")
    path.write_text(renamed)
    report = await bot.reload()
    assert report.cancelled == 0 and report.warnings == []
    await bot.advance_to(LAUNCH + timedelta(days=5))
    # The welcomes are not sent again under their new id; the follow-ups go once, renamed.
    assert sends.steps() == Counter({"welcome": 3, "check-in": 3})
    steps = Counter(r.step_id for r in await rows(db))
    assert steps == Counter({"hello": 3, "check-in": 3})  # the history follows the new id


async def test_a_rename_without_renamed_from_is_warned_about(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(days=10))
    bot = make_bot(db, [path], clock, tmp_path)
    await bot.reload()
    path.write_text(CAMPAIGN.replace("- id: welcome\n", "- id: hello\n"))
    report = await bot.reload()
    assert len(report.warnings) == 1
    assert 'add "renamed_from: welcome" to "hello"' in report.warnings[0]
    assert "warning:" in report.summary()


def test_validate_warns_about_a_rename_against_the_committed_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    path = repo / "launch.yaml"
    path.write_text(CAMPAIGN)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "campaign")
    path.write_text(CAMPAIGN.replace("- id: welcome\n", "- id: hello\n"))
    env = {"RALLYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}", "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["--locale", "en", "validate", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert 'add "renamed_from: welcome" to "hello"' in result.output
    path.write_text(CAMPAIGN.replace("- id: welcome\n", "- id: hello\n    renamed_from: welcome\n"))
    result = CliRunner().invoke(app, ["--locale", "en", "validate", str(path)], env=env)
    assert result.exit_code == 0 and "renamed_from" not in result.output, result.output


async def test_the_file_watch_holds_a_moved_file_and_lets_it_go_when_it_is_back(
    db: Database, tmp_path: Path
) -> None:
    """The real watcher of ``rallybot run``: a file moved out of the folder for a moment."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    path = folder / "launch.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(days=1))
    bot = make_bot(db, [folder], clock, tmp_path)
    await bot.reload()
    await bot.plan_tick()
    pending = len(await rows(db))
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch(bot, [folder], stop))

    async def until(status: str) -> None:
        for _ in range(100):
            if await status_of(db, "launch") == status:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the campaign never became {status}")

    try:
        await asyncio.sleep(0.5)  # the watch is set up
        shutil.move(path, tmp_path / "launch.yaml")
        await until("absent")
        shutil.move(tmp_path / "launch.yaml", path)
        await until("active")
    finally:
        stop.set()
        await watcher
    assert [r.status for r in await rows(db)] == ["pending"] * pending
