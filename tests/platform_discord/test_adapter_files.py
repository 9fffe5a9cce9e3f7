"""Files on Discord: ``discord.File`` sends a multipart message, which the fake REST API
records with its attachment, in a member's DM or a channel; refusals are AdapterErrors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from discord.http import Route

from rallybot.bot.adapters.base import AdapterError, SentMessage
from rallybot.bot.adapters.discord.adapter import DiscordAdapter
from rallybot.bot.messages import Message

from .adapter_support import ALICE, CHANNEL, Recorder, build_world, close_adapter, start_adapter
from .fake_discord import FakeDiscord

SEND = "POST /channels/{channel_id}/messages"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    monkeypatch.setattr(Route, "BASE", Route.BASE)  # restored after the test
    async with FakeDiscord() as server:
        build_world(server)
        yield server


@pytest.fixture
async def adapter(fake: FakeDiscord) -> AsyncIterator[DiscordAdapter]:
    started = await start_adapter(fake, Recorder())
    try:
        yield started
    finally:
        await close_adapter(started)


async def test_a_file_reaches_the_members_dm_as_a_multipart_attachment(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    sent = await adapter.send_file(
        str(ALICE),
        "funnel.png",
        PNG,
        Message(text="Charts of the last 4 weeks"),
        title="Adoption funnel",
        alt_text="Adoption funnel, last 4 weeks",
    )
    dm = fake.dm_channel_of(ALICE)
    assert dm is not None
    [message] = fake.dms_to(ALICE)
    assert sent == SentMessage(str(dm), message["id"])
    assert message["content"] == "Charts of the last 4 weeks"
    [attachment] = message["attachments"]
    assert attachment["filename"] == "funnel.png"
    assert attachment["size"] == len(PNG)
    assert attachment["description"] == "Adoption funnel, last 4 weeks"
    [stored] = fake.attachments
    assert stored["data"] == PNG and stored["data"].startswith(b"\x89PNG\r\n\x1a\n")
    assert stored["channel_id"] == str(dm) and stored["message_id"] == message["id"]
    [call] = [c for c in fake.calls_to(SEND) if c.status == 200]
    assert call.json["attachments"][0]["filename"] == "funnel.png"  # the payload_json part


async def test_a_file_in_a_channel_without_comment_shows_its_title(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    sent = await adapter.send_file(
        str(CHANNEL), "help.png", PNG, title="Help desk", in_channel=True
    )
    [message] = fake.messages_in(CHANNEL)
    assert sent == SentMessage(str(CHANNEL), message["id"])
    assert message["content"] == "**Help desk**"
    assert [a["filename"] for a in message["attachments"]] == ["help.png"]
    await adapter.send_file(str(CHANNEL), "points.png", PNG, in_channel=True)  # file only
    assert fake.messages_in(CHANNEL)[-1]["content"] == ""
    assert len(fake.attachments) == 2


async def test_a_refused_upload_is_an_adapter_error(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    fake.inject_error(403, code=50013, message="Missing Permissions", route=SEND)
    with pytest.raises(AdapterError, match=r"help\.png.*Missing Permissions"):
        await adapter.send_file(str(CHANNEL), "help.png", PNG, in_channel=True)
    assert fake.attachments == []
    with pytest.raises(AdapterError, match="not a Discord channel id"):
        await adapter.send_file("general", "help.png", PNG, in_channel=True)
