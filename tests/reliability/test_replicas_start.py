"""Three ``rallybot run`` started together on an empty PostgreSQL database: one migrates under
the lock, the other two wait for it; all three serve, each under its own worker id."""

from __future__ import annotations

import os
import re
import signal
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import make_url

from rallybot.storage.migrate import current_revision, head_revision, run_blocking
from tests.conftest import DEFAULT_PG_URL, _create_pg_database, _drop_pg_database
from tests.platform_slack.fake_slack import FakeSlack
from tests.reliability.processes import slack_bot, slack_env


@pytest.fixture
def empty_pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database with nothing in it (no schema)."""
    request.getfixturevalue("_pg_database_url")  # skips (or fails on CI) without PostgreSQL
    admin = os.environ.get("RALLYBOT_TEST_PG_URL", DEFAULT_PG_URL)
    name = f"rallybot_start_{uuid.uuid4().hex[:8]}"
    run_blocking(_create_pg_database(admin, name))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        run_blocking(_drop_pg_database(admin, name))


@pytest.mark.slow
async def test_three_replicas_started_together_on_an_empty_database_all_serve(
    empty_pg_url: str, tmp_path: Path
) -> None:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    logs = [tmp_path / f"replica-{i}.log" for i in range(3)]
    async with FakeSlack(scale=10.0) as fake:
        env = slack_env(fake, empty_pg_url, campaigns, RALLYBOT_LOG_LEVEL="INFO")
        with ExitStack() as stack:
            bots = [stack.enter_context(slack_bot(env, log)) for log in logs]
            for bot in bots:
                await bot.wait_ready(within=120)
            assert all(bot.poll() is None for bot in bots)  # all three alive and serving
            codes = []
            for bot in bots:
                bot.send_signal(signal.SIGTERM)
            for bot in bots:
                codes.append(bot.wait(timeout=60))
    texts = [log.read_text(errors="replace") for log in logs]
    assert codes == [0, 0, 0], "\n----\n".join(t[-2000:] for t in texts)
    # The schema was migrated once, by one of them, and is at head.
    assert sum("migrating the database schema from empty" in t for t in texts) == 1
    assert sum("another process is migrating the database" in t for t in texts) <= 2
    assert current_revision(empty_pg_url) == head_revision()
    # Each serves under its own worker id (its host's slots 1, 2 and 3).
    ids = {m.group(1) for t in texts for m in re.finditer(r"rallybot running on slack as (\S+)", t)}
    assert len(ids) == 3, ids
    for text in texts:
        assert "Traceback" not in text and "UniqueViolation" not in text
