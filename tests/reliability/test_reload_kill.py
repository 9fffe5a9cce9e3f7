"""``kill -9`` of a real ``rallybot run`` during a reload: a step's text was edited, the reload
deleted its pending messages to plan them anew, and the process died before its next planning
pass. The restarted process plans them again: each member gets the new text, once."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.storage.database import Database, create_database
from rallybot.storage.models import Delivery, table_of
from tests.platform_slack.fake_slack import FakeSlack
from tests.reliability.processes import keys_seen, seed_members, slack_bot, slack_env, wait_sent

D = table_of(Delivery).c
MEMBERS = 200
LAUNCH = datetime(2026, 12, 1, 10, 0)
LEAD = 50  # simulated seconds between the first start and the launch
SPEED = 2.0

CAMPAIGN = """\
id: reload-kill
title: Reload under a kill
timezone: UTC
milestones:
  launch: 2026-12-01 10:00
audiences:
  all: everyone
steps:
  - id: hello
    for: all
    at: launch
    dm: "Hello {{first_name}}, {version}"
"""


async def _rows(db: Database) -> int:
    async with db.read() as session:
        query = sa.select(sa.func.count()).where(D.step_id == "hello", D.status == "pending")
        return int((await session.execute(query)).scalar_one())


async def _wait_rows(db: Database, wanted: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await _rows(db) == wanted:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{await _rows(db)} pending rows, expected {wanted}")


@pytest.mark.slow
async def test_kill_9_right_after_a_reload_rewrote_a_step_loses_nothing(
    db_url: str, tmp_path: Path
) -> None:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    path = campaigns / "launch.yaml"
    path.write_text(CAMPAIGN.format(version="version one"), encoding="utf-8")
    db = create_database(db_url)
    start = LAUNCH - timedelta(seconds=LEAD)
    try:
        async with FakeSlack(scale=10.0) as fake:
            await seed_members(db, fake, MEMBERS)
            env = slack_env(fake, db_url, campaigns, RALLYBOT_PLAN_INTERVAL="30")
            clock = ["--clock", "simulated", "--speed", str(SPEED)]
            first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
            began = time.monotonic()
            with slack_bot(env, first_log, *clock, "--start", f"{start:%Y-%m-%d %H:%M:%S}Z") as bot:
                await _wait_rows(db, MEMBERS, within=60)  # planned at the first pass
                path.write_text(CAMPAIGN.format(version="version two"), encoding="utf-8")
                bot.send_signal(signal.SIGHUP)  # reload: the edited step's rows are rewritten
                await _wait_rows(db, 0, within=30)
                bot.send_signal(signal.SIGKILL)  # before the next pass plans them anew
                bot.wait(timeout=30)
            elapsed = timedelta(seconds=(time.monotonic() - began) * SPEED)
            assert start + elapsed < LAUNCH, "the machine was too slow to test anything"
            restart = start + elapsed
            args = [*clock, "--start", f"{restart:%Y-%m-%d %H:%M:%S}Z"]
            with slack_bot(env, second_log, *args) as again:
                await wait_sent(db, "hello", MEMBERS, again, second_log, within=120)
                again.send_signal(signal.SIGTERM)
                assert again.wait(timeout=60) == 0
            keys = keys_seen(fake, "hello")
            texts = [m.get("text", "") for _, m in fake.all_messages()]
    finally:
        await db.dispose()
    assert len(keys) == MEMBERS and set(keys.values()) == {1}
    assert sum("version two" in t for t in texts) == MEMBERS
    assert not any("version one" in t for t in texts)
    assert "Traceback" not in second_log.read_text()
