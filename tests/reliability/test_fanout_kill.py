"""``kill -9`` of a real ``rallybot run`` in the middle of a 1,000-DM fan-out, then a restart:
nothing lost, nothing sent twice, the restarted process (the same worker id: its host's first
slot) takes back its claims at once instead of waiting for their lease, and the killed fan-out
finishes within 1.5 times the uninterrupted one (issue 13).

Both times are counted from the moment the process is ready (``/readyz``), as
``python -m bench.recovery_bench`` counts them, and compared within the same test: a ratio,
not a time. The uninterrupted fan-out runs before and after the killed one, and the slower of
the two is the reference: on a shared two-core machine the load of other work changes within
a minute, and moved the ratio from 1.0 to 2.1 between two runs of the same code. A restart
that waited for a lease (two minutes) still fails, and so does one that sent its part at half
its share (about 1.6).

The check was left out while the uninterrupted fan-out took 21 s in one run and 40 to 46 s in
the next (a batch a little longer than the dispatch tick made the scheduler skip the next
tick, and each 429 held every post back for a second); with those causes removed it runs near
the allowance, about 11 s on a quiet machine."""

from __future__ import annotations

import signal
import time
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
RECOVERY_RATIO = 1.5  # the promise: killed and restarted within 1.5x uninterrupted


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
                ready = await bot.wait_ready()
                calm = await wait_sent(db, "calm", DMS, bot, calm_log, within=120) - ready
                assert stop(bot) == 0
            assert "Traceback" not in calm_log.read_text()

            refused = [len(fake.calls_to("chat.postMessage", status=429))]  # by phase
            # The same again, killed with SIGKILL part of the way and restarted at once.
            await seed_fanout(db, fake, DMS, "killed")
            first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
            with slack_bot(env, first_log) as first:
                ready = await first.wait_ready()
                # Not a multiple of the claim size: the kill lands while claims are in hand.
                await wait_sent(db, "killed", DMS * 2 // 5 + 37, first, first_log, within=120)
                first.send_signal(signal.SIGKILL)
                before_kill = time.monotonic() - ready
                first.wait(timeout=30)
            at_kill = await count_sent(db, "killed")
            in_hand = await count_claimed(db, "killed")
            with slack_bot(env, second_log) as second:
                ready = await second.wait_ready()
                after_restart = await wait_sent(db, "killed", DMS, second, second_log, 180) - ready
                assert stop(second) == 0
            keys = keys_seen(fake, "killed")
            refused.append(len(fake.calls_to("chat.postMessage", status=429)) - sum(refused))

            # The reference again, after: the machine's load during the killed run lies
            # between the two (other work on a shared machine changes from minute to minute).
            await seed_fanout(db, fake, DMS, "calm-after")
            after_log = tmp_path / "after.log"
            with slack_bot(env, after_log) as bot:
                ready = await bot.wait_ready()
                calm_after = await wait_sent(db, "calm-after", DMS, bot, after_log, 120) - ready
                assert stop(bot) == 0
            refused.append(len(fake.calls_to("chat.postMessage", status=429)) - sum(refused))
    finally:
        await db.dispose()
    restarted = second_log.read_text()
    assert at_kill < DMS and in_hand > 0, "the kill came when no claim was in hand"
    assert len(keys) == DMS, f"{DMS - len(keys)} lost"
    assert sum(n - 1 for n in keys.values()) == 0, "sent twice"
    # The same worker id came back and took its claims at once, without waiting for a lease.
    assert "claims left by the previous run of" in restarted, restarted[-3000:]
    assert "whose process stopped" not in restarted  # nothing waited for a lease to run out
    assert "another replica" not in restarted
    assert "Traceback" not in restarted
    killed = before_kill + after_restart
    reference = max(calm, calm_after)
    figures = (
        f"uninterrupted {calm:.2f} s before and {calm_after:.2f} s after, killed and restarted "
        f"{killed:.2f} s ({before_kill:.2f} + {after_restart:.2f}): ratio {killed / reference:.3f}"
        f"; answers of 429 before, killed, after: {refused}"
    )
    print(f"recovery: {figures}")
    assert killed <= RECOVERY_RATIO * reference, figures
