"""The reach of a campaign post names the post by the words it went out with (issue 17): a
teaser's ``D-{days_to_launch}`` read "D-7" when it was sent, and still does after the launch,
on the indicators page, in the HTML report and in reach.csv; the CSV names the channel as the
console does (``#announcements``), the ids mode keeps the raw values."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rallybot.bot.messages import Message
from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.report import compute, write_csv
from rallybot.handlers.reporting.titles import titles_of
from rallybot.storage.outbox import insert_deliveries
from tests.console.conftest import ConsoleClient, ConsoleEnv

SENT = datetime(2026, 9, 8, 7, 0, tzinfo=UTC)  # launch - 7 days, 09:00 in Paris
AFTER_LAUNCH = datetime(2026, 9, 16, 10, 0, tzinfo=UTC)
TEXT = "D-7. A question about Connect? The help channel opens on launch day."


@pytest.fixture
async def teaser_sent(console: ConsoleEnv) -> None:
    """The example's teaser-4 went out a week before the launch; the console's now is after
    the launch (where the step's words, filled in today, would read "D--1")."""
    post = {
        "campaign_id": "connect-launch",
        "step_id": "teaser-4",
        "recipient": "channel:announcements",
        "occurrence": "once",
        "due_at": SENT,
        "grace_until": SENT,
        "status": "sent",
        "reason": None,
        "payload": {"message": Message(text=TEXT).to_dict()},
        "content_hash": "",
        "attempts": 1,
        "sent_at": SENT,
        "platform_message_id": "M1",
        "platform_channel_id": "C1",
        "created_at": SENT,
        "updated_at": SENT,
    }
    async with console.db.session() as session:
        await insert_deliveries(session, [post])
    console.clock.set(AFTER_LAUNCH)


@pytest.mark.usefixtures("teaser_sent")
async def test_a_post_is_named_by_the_words_it_was_sent_with(as_manager: ConsoleClient) -> None:
    page = (await as_manager.get("/indicators")).text
    assert "D-7. A question about Connect?" in page
    assert "D--1" not in page
    report = (await as_manager.get("/indicators/report.html")).text
    assert "D-7. A question about Connect?" in report and "teaser-4" not in report
    archive = zipfile.ZipFile(io.BytesIO((await as_manager.get("/indicators/report.zip")).content))
    data = archive.read("reach.csv")
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert row[header.index("Step")] == TEXT
    assert row[header.index("Channel")] == "#announcements"
    api = (await as_manager.get("/api/indicators")).json()
    assert api["reach"][0]["sent_text"] == TEXT


@pytest.mark.usefixtures("teaser_sent")
async def test_scripts_keep_the_step_and_channel_ids(console: ConsoleEnv, tmp_path: Path) -> None:
    data = await compute(console.db, Scope(), AFTER_LAUNCH)
    titles = titles_of(console.state.campaigns())
    write_csv(data, tmp_path, None, titles)
    raw = (tmp_path / "reach.csv").read_text(encoding="utf-8").splitlines()
    assert raw[1].split(",")[2:5] == ["teaser-4", "once", "C1"]
