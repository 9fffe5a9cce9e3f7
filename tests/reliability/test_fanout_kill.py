"""``kill -9`` of a real ``rallybot run`` in the middle of a 1,000-DM fan-out, then a restart:
nothing lost, nothing sent twice, and the restarted process (the same worker id: its host's
first slot) takes back its claims at once instead of waiting for their lease.

How long the whole takes against an uninterrupted fan-out (the issue's 1.5 times) is measured
by ``python -m bench.recovery_bench``, not asserted here: on this two-core machine the same
uninterrupted fan-out took 21 s in one run and 40 to 46 s in the next, so a timed assertion
failed or passed by luck (see the performance rule in the developers' guide)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from rallybot.storage.database import create_database
from tests.platform_slack.fake_slack import FakeSlack
from tests.reliability.processes import (
    count_claimed,
    count_sent,
    keys_seen,
    seed_fanout,
    slack_bot,
    slack_env,
    stop,
    wait_sent,
)

DMS = 1000
SCALE = 10.0  # Slack's limits x 10 on both sides: about 95 DMs a second


@pytest.mark.slow
async def test_kill_9_during_a_fan_out_loses_nothing_and_recovers_at_once(
    db_url: str, tmp_path: Path
) -> None:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    db = create_database(db_url)
    try:
        async with FakeSlack(scale=SCALE) as fake:
            env = slack_env(fake, db_url, campaigns)

            # The reference: the same fan-out, uninterrupted.
            await seed_fanout(db, fake, DMS, "calm")
            calm_log = tmp_path / "calm.log"
            with slack_bot(env, calm_log) as bot:
                await bot.wait_ready()
                await wait_sent(db, "calm", DMS, bot, calm_log, within=120)
                assert stop(bot) == 0
            assert "Traceback" not in calm_log.read_text()

            # The same again, killed with SIGKILL part of the way and restarted at once.
            await seed_fanout(db, fake, DMS, "killed")
            first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
            with slack_bot(env, first_log) as first:
                await first.wait_ready()
                # Not a multiple of the claim size: the kill lands while claims are in hand.
                await wait_sent(db, "killed", DMS * 2 // 5 + 37, first, first_log, within=120)
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=30)
            at_kill = await count_sent(db, "killed")
            in_hand = await count_claimed(db, "killed")
            with slack_bot(env, second_log) as second:
                await second.wait_ready()
                await wait_sent(db, "killed", DMS, second, second_log, within=180)
                assert stop(second) == 0
            keys = keys_seen(fake, "killed")
    finally:
        await db.dispose()
    restarted = second_log.read_text()
    assert at_kill < DMS and in_hand > 0, "the kill came when no claim was in hand"
    assert len(keys) == DMS, f"{DMS - len(keys)} lost"
    assert sum(n - 1 for n in keys.values()) == 0, "sent twice"
    # The same worker id came back and took its claims at once, without waiting for a lease.
    assert "claim(s) left by the previous run of" in restarted, restarted[-3000:]
    assert "whose process stopped" not in restarted  # nothing waited for a lease to run out
    assert "another replica" not in restarted
    assert "Traceback" not in restarted
