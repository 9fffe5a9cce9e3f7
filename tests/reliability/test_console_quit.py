"""Quitting the console (``/quit`` or Ctrl-C) while messages go out, then starting again: no
traceback, nothing shown twice, and ``campaign list`` counts exactly what was shown."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot import formats
from rallybot.storage.database import Database, create_database
from rallybot.storage.models import Member
from tests.reliability.processes import ROOT, count_sent

MEMBERS = 1500
CAMPAIGN = """\
id: welcome-all
title: Welcome everyone
timezone: UTC
milestones:
  launch: {launch:%Y-%m-%d %H:%M}
audiences:
  all: everyone
steps:
  - id: hello
    for: all
    at: launch
    quiet_hours: false  # the test may run at night
    dm: "Connect is open, {{first_name}}!"
"""
SHOWN = re.compile(r"✉ to (UC\d{5})")


async def _seed(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.session() as session:
        await session.execute(
            sa.insert(Member),
            [
                {
                    "platform": "console",
                    "platform_user_id": f"UC{i:05d}",
                    "display_name": f"Member {i}",
                    "first_name": f"Member{i}",
                    "groups": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(MEMBERS)
            ],
        )


def _console(env: dict[str, str], out: Path, err: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "rallybot.bot", "run", "--platform", "console", "--no-watch"]
    with out.open("w") as stdout, err.open("w") as stderr:
        return subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )


async def _quit_when(
    db: Database, proc: subprocess.Popen[str], sent: int, within: float, ending: str = "quit"
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and proc.poll() is None:
        if await count_sent(db, "hello") >= sent:
            break
        await asyncio.sleep(0.02)
    if ending == "ctrl-c":
        proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
        return
    assert proc.stdin is not None
    proc.stdin.write("/quit\n")
    proc.stdin.flush()


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["quit", "ctrl-c"])
async def test_quitting_the_console_during_sends_then_restarting(
    db_url: str, tmp_path: Path, ending: str
) -> None:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    launch = datetime.now(UTC).replace(second=0, microsecond=0)  # due now, within the grace
    (campaigns / "welcome.yaml").write_text(CAMPAIGN.format(launch=launch), encoding="utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "RALLYBOT_CAMPAIGNS_DIR": str(campaigns),
        "RALLYBOT_LOG_LEVEL": "WARNING",
        "RALLYBOT_DISPATCH_BATCH": str(MEMBERS),  # one batch: the quit lands in the middle of it
        "COLUMNS": "200",
        "RALLYBOT_LOCALE": "en",
    }
    db = create_database(db_url)
    outs = [tmp_path / "out-1.txt", tmp_path / "out-2.txt"]
    errs = [tmp_path / "err-1.txt", tmp_path / "err-2.txt"]
    try:
        await _seed(db)
        first = _console(env, outs[0], errs[0])
        await _quit_when(db, first, 100, within=90, ending=ending)  # during the fan-out
        assert first.wait(timeout=60) == 0, errs[0].read_text()
        sent_at_quit = await count_sent(db, "hello")
        second = _console(env, outs[1], errs[1])
        await _quit_when(db, second, MEMBERS, within=120)
        assert second.wait(timeout=60) == 0, errs[1].read_text()
    finally:
        await db.dispose()
    shown = [SHOWN.findall(path.read_text(encoding="utf-8")) for path in outs]
    assert 0 < len(shown[0]) < MEMBERS, "the quit did not come during the sends"
    everyone = shown[0] + shown[1]
    assert len(everyone) == len(set(everyone)) == MEMBERS  # nothing twice, nobody left out
    assert sent_at_quit == len(shown[0])  # what the first run showed, it recorded
    for path in errs + outs:
        text = path.read_text(encoding="utf-8")
        assert "Traceback" not in text and "CancelledError" not in text, text[-2000:]
    listing = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "rallybot.bot", "campaign", "list"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    row = next(line for line in listing.stdout.splitlines() if "welcome-all" in line)
    assert f" {formats.number('en', MEMBERS)} " in row  # Sent: every message shown, once
