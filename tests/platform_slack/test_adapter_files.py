"""Files on Slack: the three steps of ``files_upload_v2`` against the fake, to a member's DM
or a channel, through the rate limiter; refusals are clear, and /rallybot stats sends its
charts to the manager who asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rallybot.bot.adapters.base import AdapterError, SentMessage, TransientSendError
from rallybot.bot.adapters.slack.limits import rate_keys
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import CommandInvoked, UserRef
from rallybot.bot.messages import Message
from rallybot.handlers.reporting.report import CHARTS
from rallybot.storage.database import Database
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import slack_adapter, slack_settings
from tests.report.seed import seed

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # a PNG signature, then arbitrary bytes
STEPS = ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(scale=50) as server:
        server.add_user("U1", "Ana")
        server.add_user("U2", "Bo")
        server.add_channel("C1", "general", ["U1", "U2"])
        server.add_channel("C9", "elsewhere", ["U1"], bot_member=False)
        yield server


def _steps(fake: FakeSlack) -> list[str]:
    return [c.method for c in fake.calls if c.method.startswith("files.") or c.method == "upload"]


async def test_a_file_goes_to_the_members_dm_in_three_steps(fake: FakeSlack, db: Database) -> None:
    async with slack_adapter(fake, db) as adapter:
        sent = await adapter.send_file(
            "U1",
            "funnel.png",
            PNG,
            Message(text="Charts of the last 4 weeks"),
            title="Adoption funnel",
            alt_text="Adoption funnel, last 4 weeks",
        )
    dm = fake.dms["U1"]
    assert _steps(fake) == STEPS
    [ticket] = fake.calls_to("files.getUploadURLExternal")
    assert ticket.params["filename"] == "funnel.png"
    assert int(ticket.params["length"]) == len(PNG)
    assert ticket.params["alt_txt"] == "Adoption funnel, last 4 weeks"
    [upload] = fake.calls_to("upload")
    assert upload.params["length"] == len(PNG)
    [shared] = fake.files
    assert shared["data"] == PNG and shared["data"].startswith(b"\x89PNG\r\n\x1a\n")
    assert shared["channel"] == dm
    assert shared["title"] == "Adoption funnel" and shared["name"] == "funnel.png"
    assert shared["initial_comment"] == "Charts of the last 4 weeks"
    assert sent == SentMessage(dm, shared["id"])
    [message] = fake.messages(dm)
    assert message["files"][0]["id"] == shared["id"]


async def test_a_file_in_a_channel_and_without_comment(fake: FakeSlack, db: Database) -> None:
    async with slack_adapter(fake, db) as adapter:
        sent = await adapter.send_file("C1", "weekly_active.png", PNG, in_channel=True)
        with pytest.raises(AdapterError, match="not_in_channel"):
            await adapter.send_file("C9", "weekly_active.png", PNG, in_channel=True)
    first = fake.files[0]
    assert (first["channel"], first["title"], first["initial_comment"]) == (
        "C1",
        "weekly_active.png",
        "",
    )
    assert sent.channel_id == "C1"
    assert len(fake.files) == 1  # the refused share left nothing behind
    assert "conversations.open" not in [c.method for c in fake.calls]


async def test_uploads_are_paced_by_the_limiter(fake: FakeSlack, db: Database) -> None:
    async with slack_adapter(fake, db) as adapter:
        for name in ("a.png", "b.png"):
            await adapter.send_file("C1", name, PNG, in_channel=True)
        buckets = adapter.limiter._buckets
        assert "tier4:files.getUploadURLExternal" in buckets
        assert "tier4:files.completeUploadExternal" in buckets
    assert rate_keys("files.completeUploadExternal", "C1") == (
        "tier4:files.completeUploadExternal",
    )
    assert not fake.calls_to("files.getUploadURLExternal", status=429)


async def test_a_missing_scope_says_how_to_fix_it(fake: FakeSlack, db: Database) -> None:
    fake.fail_next("files.completeUploadExternal", "slack_error", error="missing_scope")
    async with slack_adapter(fake, db) as adapter:
        with pytest.raises(AdapterError) as refused:
            await adapter.send_file("U1", "funnel.png", PNG)
    assert not isinstance(refused.value, TransientSendError)
    assert "missing_scope" in str(refused.value) and "files:write" in str(refused.value)
    assert fake.files == []


async def test_a_failed_upload_step_is_transient(fake: FakeSlack, db: Database) -> None:
    fake.fail_next("upload", "status_500")
    async with slack_adapter(fake, db) as adapter:
        with pytest.raises(TransientSendError, match="HTTP 500"):
            await adapter.send_file("U1", "funnel.png", PNG)
        assert fake.calls_to("files.completeUploadExternal") == []  # never shared half-done
        sent = await adapter.send_file("U1", "funnel.png", PNG)  # the next one goes through
    assert [f["id"] for f in fake.files] == [sent.message_id]


async def test_stats_sends_the_charts_to_the_managers_dm(
    fake: FakeSlack, db: Database, tmp_path: Path
) -> None:
    await seed(db)
    at = datetime(2026, 11, 22, 20, tzinfo=UTC)
    clock = SimulatedClock(at)
    settings = slack_settings(fake, admins=["slack:U1"], timezone="UTC")
    async with slack_adapter(fake, db, clock, settings=settings) as adapter:
        bot = Rallybot(settings, db, adapter, clock, campaign_paths=[])
        for event_id, user in (("s1", "U1"), ("s2", "U2")):
            await bot.handle(
                CommandInvoked(
                    event_id=event_id,
                    platform="slack",
                    user=UserRef("slack", user),
                    occurred_at=at,
                    name="stats",
                )
            )
    dm = fake.dms["U1"]
    assert [f["name"] for f in fake.files] == [f"{name}.png" for name in CHARTS]
    assert all(f["channel"] == dm for f in fake.files)
    assert all(f["data"].startswith(b"\x89PNG\r\n\x1a\n") for f in fake.files)
    texts = [m["text"] for m in fake.messages(dm) if not m.get("files")]
    # The manager running the command is not among the "invited" (issue 14).
    assert any("Entonnoir : invités 4" in t and "message privé" in t for t in texts)
    refused = [m["text"] for m in fake.messages("U2")]
    assert refused == ["« /rallybot stats » est réservé aux community managers."]
    assert all(f["channel"] != fake.dms["U2"] for f in fake.files)
