"""Logs an operator can search: context fields on every line of a delivery or an event, JSON
and text formats, library loggers at the configured level, and no token or message text."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rallybot.bot.config import Settings
from rallybot.bot.events import ChannelRef, ReactionAdded, UserRef
from rallybot.bot.inbox import Inbox
from rallybot.bot.logs import configure_logging, current_fields, log_context, set_process_fields
from rallybot.bot.runner import _secrets
from rallybot.storage.database import Database
from tests.ops.scenario import SECRET_TEXTS, play

log = logging.getLogger("rallybot.test")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    set_process_fields(worker=None, platform=None)
    configure_logging("WARNING", "text")


@pytest.mark.parametrize("platform", ["console", "slack", "discord"])
async def test_a_scenario_logs_no_token_nor_text_and_says_what_each_line_is_about(
    platform: str, db: Database, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json", ["not-the-real-one"])  # the fakes' tokens are not given
    set_process_fields(worker="ops-test")
    played = await play(platform, db, db_url, tmp_path)
    text = capsys.readouterr().err
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines, text
    # Neither the platform's secrets nor what the campaign or a member wrote.
    for secret in played.secrets:
        assert secret not in text
    for written in SECRET_TEXTS:
        assert written not in text
    # Each line of a delivery names its campaign, step and row; each line of an event its id.
    deliveries = [entry for entry in lines if "delivery" in entry]
    assert deliveries, lines
    for entry in deliveries:
        assert entry["campaign"] == "ops-check" and entry["step"] in {"teaser", "welcome"}
        assert entry["worker"] == "ops-test"
    failed_or_skipped = {entry["message"].split(" ", 1)[0] for entry in deliveries}
    assert "skipped" in failed_or_skipped
    if platform != "console":
        assert "failed" in failed_or_skipped
    events = [entry for entry in lines if "event" in entry]
    assert any(entry["message"].startswith("dropped duplicate") for entry in events), lines
    assert all(entry["platform"] == platform for entry in events)


def test_text_lines_end_with_their_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    set_process_fields(worker="replica-1", platform="slack")
    with log_context(campaign="launch", step="teaser", delivery=12):
        log.info("sent %s", "launch/teaser/channel:general/once")
    log.info("outside")
    first, second = capsys.readouterr().err.splitlines()
    assert first.endswith(
        "sent launch/teaser/channel:general/once "
        "[worker=replica-1 platform=slack campaign=launch step=teaser delivery=12]"
    )
    assert second.endswith("outside [worker=replica-1 platform=slack]")


async def test_concurrent_tasks_keep_their_own_fields() -> None:
    seen: dict[str, dict[str, str]] = {}

    async def work(event_id: str) -> None:
        with log_context(event=event_id, platform="discord"):
            await asyncio.sleep(0.01)  # the other task runs meanwhile
            seen[event_id] = current_fields()

    await asyncio.gather(work("e1"), work("e2"))
    assert seen["e1"]["event"] == "e1" and seen["e2"]["event"] == "e2"
    assert "event" not in current_fields()


def test_library_loggers_follow_the_configured_level() -> None:
    logging.getLogger("discord.client").setLevel(logging.INFO)  # as libraries do at import
    logging.getLogger("sqlalchemy.pool.impl").setLevel(logging.INFO)  # as echo_pool does
    configure_logging("WARNING", "text")
    assert logging.getLogger("discord.client").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("uvicorn.error").getEffectiveLevel() == logging.WARNING
    configure_logging("INFO", "text")
    assert logging.getLogger("slack_bolt.App").getEffectiveLevel() == logging.INFO
    # SQL with its parameters (message texts) and the scheduler's line per run: DEBUG only.
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("sqlalchemy.pool.impl").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("apscheduler.executors").getEffectiveLevel() == logging.WARNING
    configure_logging("DEBUG", "text")
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.DEBUG


def test_a_library_imported_later_logs_at_the_configured_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "text")
    library = logging.getLogger("bm25s")
    library.setLevel(logging.DEBUG)  # what bm25s does when a FAQ question first imports it
    library.debug("Building index from IDs objects")
    library.info("an INFO line still shows")
    err = capsys.readouterr().err
    assert "Building index" not in err and "an INFO line still shows" in err
    configure_logging("DEBUG", "text")
    library.debug("Building index from IDs objects")
    assert "Building index" in capsys.readouterr().err
    configure_logging("INFO", "text")


def test_a_tick_that_outlasts_its_interval_is_not_a_warning_each_second(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "text")
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    skipped = 'Execution of job "%s" skipped: maximum number of running instances reached (%d)'
    scheduler_log.warning(skipped, "send due deliveries", 1)
    scheduler_log.warning("Run time of job %s was missed by %s", "plan", "0:00:02")
    err = capsys.readouterr().err
    assert "maximum number of running instances" not in err
    assert "was missed by" in err  # other scheduler warnings still reach the administrator
    configure_logging("DEBUG", "text")
    scheduler_log.warning(skipped, "send due deliveries", 1)
    assert "maximum number of running instances" in capsys.readouterr().err
    configure_logging("INFO", "text")


def test_the_database_password_is_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url="postgresql://rallybot:pw-7d3f9a1c@db.internal:5432/rallybot"
    )
    configure_logging("INFO", "json", _secrets(settings))
    log.warning("could not connect with pw-7d3f9a1c")
    assert "pw-7d3f9a1c" not in capsys.readouterr().err


async def test_a_failing_event_is_logged_with_its_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def fail(event: object) -> None:
        raise RuntimeError("a feature broke")

    configure_logging("INFO", "json")
    inbox = Inbox(fail, workers=1)
    event = ReactionAdded(
        event_id="Ev0BROKEN",
        platform="slack",
        user=UserRef("slack", "U1"),
        occurred_at=datetime(2026, 11, 3, tzinfo=UTC),
        channel=ChannelRef("slack", "C1"),
        message_id="1.2",
        emoji="tada",
    )
    await inbox.put(event)
    (line,) = [json.loads(x) for x in capsys.readouterr().err.splitlines() if "failed on" in x]
    assert (line["event"], line["platform"], line["level"]) == ("Ev0BROKEN", "slack", "error")
    assert "a feature broke" in line["error"]
