"""``rallybot run --clock simulated --speed 3600``, as the tutorial runs it: a simulated hour
goes by every real second, and what is due is sent, not skipped."""

from __future__ import annotations

import asyncio
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.config import Settings
from rallybot.bot.runner import run_bot, simulated_start
from rallybot.storage.database import create_database
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
