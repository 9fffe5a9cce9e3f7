"""``/rallybot stats`` attaches its charts: PNG files to the manager's direct messages where
the platform takes files, drawn off the event loop; a failure is told, and the bot goes on."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from rallybot.bot.adapters.base import AdapterError, Capabilities, SentMessage, TransientSendError
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import CommandInvoked, UserRef
from rallybot.bot.messages import Message
from rallybot.handlers.reporting.report import CHARTS, ReportData, chart_pngs, chart_title
from rallybot.handlers.stats import feature as stats
from rallybot.storage.database import Database
from tests.report.seed import seed

AT = datetime(2026, 11, 22, 20, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_bot(db: Database, adapter: MemoryAdapter) -> Rallybot:
    settings = Settings(database_url="sqlite://", admins=["memory:cm"], timezone="UTC", locale="en")
    return Rallybot(settings, db, adapter, SimulatedClock(AT), campaign_paths=[])


def stats_command(user: str, event_id: str, *args: str) -> CommandInvoked:
    return CommandInvoked(
        event_id=event_id,
        platform="memory",
        user=UserRef("memory", user, user),
        occurred_at=AT,
        name="stats",
        args=args,
    )


async def test_the_manager_gets_the_summary_then_every_chart_privately(db: Database) -> None:
    await seed(db)
    adapter = MemoryAdapter()
    bot = make_bot(db, adapter)
    await bot.handle(stats_command("cm", "c1"))
    await bot.handle(stats_command("U1", "c2"))
    [answer] = [d.message.text for d in adapter.sent_to("cm")]
    assert "Funnel: invited 5 → joined 4 (80%)" in answer
    assert "sent to you as images in a direct message" in answer
    assert [f.filename for f in adapter.files] == [f"{name}.png" for name in CHARTS]
    assert all(f.target == "cm" and f.direct for f in adapter.files)
    assert all(f.content.startswith(PNG_SIGNATURE) and len(f.content) > 1000 for f in adapter.files)
    assert [f.title for f in adapter.files] == [chart_title(name) for name in CHARTS]
    first = adapter.files[0]
    assert first.message is not None and "Charts" in first.message.text
    assert first.alt_text is not None and first.alt_text.startswith("Adoption funnel, ")
    assert all(f.message is None for f in adapter.files[1:])  # one comment, not five
    # a member who is not a manager is refused, and gets no file
    assert [d.message.text for d in adapter.sent_to("U1")] == [
        '"/rallybot stats" is for community managers only.'
    ]
    assert all(f.target != "U1" for f in adapter.files)


async def test_a_bad_usage_sends_no_chart(db: Database) -> None:
    adapter = MemoryAdapter()
    bot = make_bot(db, adapter)
    await bot.handle(stats_command("cm", "c1", "cohort"))
    assert adapter.sent_to("cm")[0].message.text.startswith("Usage: /rallybot stats")
    assert adapter.files == []


async def test_the_charts_are_drawn_off_the_event_loop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []

    def drawing(data: ReportData, locale: str | None = None) -> dict[str, bytes]:
        threads.append(threading.get_ident())
        return chart_pngs(data, locale)

    monkeypatch.setattr(stats, "chart_pngs", drawing)
    adapter = MemoryAdapter()
    await make_bot(db, adapter).handle(stats_command("cm", "c1"))
    assert len(threads) == 1 and threads[0] != threading.get_ident()
    assert len(adapter.files) == len(CHARTS)


async def test_without_files_the_answer_says_where_the_charts_are(db: Database) -> None:
    adapter = MemoryAdapter(capabilities=Capabilities(files=False))
    await make_bot(db, adapter).handle(stats_command("cm", "c1"))
    [answer] = adapter.sent_to("cm")
    assert "(Charts and full tables: rallybot report --format html)" in answer.message.text
    assert adapter.files == []


@pytest.mark.parametrize(
    "failure",
    [
        AdapterError("Slack files.completeUploadExternal failed for user cm: missing_scope"),
        TransientSendError("Slack file upload of funnel.png did not complete: timeout"),
        RuntimeError("something unexpected"),
    ],
    ids=["refused", "transient", "unexpected"],
)
async def test_a_failed_upload_is_told_and_the_bot_goes_on(
    db: Database, failure: Exception
) -> None:
    adapter = MemoryAdapter()
    bot = make_bot(db, adapter)
    adapter.fail_next_files(1, failure)
    await bot.handle(stats_command("cm", "c1"))
    texts = [d.message.text for d in adapter.sent_to("cm")]
    assert len(texts) == 2
    assert texts[1].startswith(f"Could not send the chart funnel.png (0 of {len(CHARTS)} sent)")
    assert str(failure) in texts[1] and "rallybot report --format html" in texts[1]
    assert adapter.files == []  # the other charts are not tried after a failure
    # the bot keeps running: the next command sends every chart
    await bot.handle(stats_command("cm", "c2"))
    assert len(adapter.files) == len(CHARTS)


async def test_a_failure_after_some_charts_says_how_many_went(db: Database) -> None:
    class FlakyAdapter(MemoryAdapter):
        async def send_file(
            self,
            target: str,
            filename: str,
            content: bytes,
            message: Message | None = None,
            **options: Any,
        ) -> SentMessage:
            if filename == "satisfaction.png":
                raise AdapterError("upload refused")
            return await super().send_file(target, filename, content, message, **options)

    adapter = FlakyAdapter()
    await make_bot(db, adapter).handle(stats_command("cm", "c1"))
    assert [f.filename for f in adapter.files] == ["funnel.png", "weekly_active.png"]
    assert f"(2 of {len(CHARTS)} sent): upload refused" in adapter.sent_to("cm")[-1].message.text


async def test_charts_that_cannot_be_drawn_are_told(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: ReportData) -> dict[str, bytes]:
        raise ValueError("no fonts")

    monkeypatch.setattr(stats, "chart_pngs", broken)
    adapter = MemoryAdapter()
    await make_bot(db, adapter).handle(stats_command("cm", "c1"))
    texts = [d.message.text for d in adapter.sent_to("cm")]
    assert texts[-1] == "The charts could not be drawn; rallybot report --format html makes them."
    assert adapter.files == []
