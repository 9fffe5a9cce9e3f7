"""The Discord adapter's sends against the fake REST API: nonces, webhooks, DMs, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from discord.http import Route
from pydantic import SecretStr

from rallybot.bot.adapters.base import (
    Adapter,
    AdapterError,
    SentMessage,
    TransientSendError,
    create_adapter,
)
from rallybot.bot.adapters.discord.adapter import WEBHOOK_NAME, DiscordAdapter, DiscordStartError
from rallybot.bot.adapters.discord.render import nonce_for
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.messages import Button, Message, Sender

from .adapter_support import (
    ALICE,
    BOB,
    CHANNEL,
    GUILD,
    Recorder,
    build_world,
    close_adapter,
    custom_ids,
    discord_settings,
    start_adapter,
)
from .fake_discord import FakeDiscord

SEND = "POST /channels/{channel_id}/messages"
CEO = Sender(name="The CEO", icon_url="https://connect.example.com/assets/ceo.png")


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


async def test_a_post_carries_the_key_s_nonce_with_enforce_nonce(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    sent = await adapter.post(str(CHANNEL), Message(text="Save the date!"), idempotency_key="k1")
    (call,) = fake.calls_to(SEND)
    assert call.json["nonce"] == nonce_for("k1")
    assert call.json["enforce_nonce"] is True
    (stored,) = fake.messages_in(CHANNEL)
    assert stored["content"] == "Save the date!"
    assert sent == SentMessage(str(CHANNEL), stored["id"])


async def test_a_retried_send_with_the_same_key_does_not_duplicate(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    # The first answer is lost after Discord created the message (connection dropped).
    fake.inject_error(503, message="Service Unavailable", route=SEND, after=True)
    with pytest.raises(TransientSendError):
        await adapter.post(str(CHANNEL), Message(text="Once"), idempotency_key="k2")
    assert len(fake.messages_in(CHANNEL)) == 1
    assert await adapter.find_sent(str(CHANNEL), "k2") is None  # the send was not confirmed
    retried = await adapter.post(str(CHANNEL), Message(text="Once"), idempotency_key="k2")
    (stored,) = fake.messages_in(CHANNEL)
    assert retried.message_id == stored["id"]
    assert await adapter.find_sent(str(CHANNEL), "k2") == retried
    other = await adapter.post(str(CHANNEL), Message(text="Once"), idempotency_key="k3")
    assert other.message_id != retried.message_id


async def test_a_named_sender_goes_through_one_channel_webhook(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    first = await adapter.post(
        str(CHANNEL),
        Message(text="We are live.", title="Connect is open", sender=CEO),
        idempotency_key="ceo",
    )
    second = await adapter.post(
        str(CHANNEL), Message(text="And one more thing.", sender=CEO), idempotency_key="ceo-2"
    )
    assert len(fake.calls_to("POST /channels/{channel_id}/webhooks")) == 1
    (hook,) = fake.webhooks.values()
    assert hook["name"] == WEBHOOK_NAME
    executions = fake.calls_to("POST /webhooks/{webhook_id}/{webhook_token}")
    assert len(executions) == 2
    assert all(c.query.get("wait") in {"true", "1"} for c in executions)
    stored = fake.messages_in(CHANNEL)
    assert [m["id"] for m in stored] == [first.message_id, second.message_id]
    assert stored[0]["author"]["username"] == "The CEO"
    assert stored[0]["_avatar_url"] == CEO.icon_url
    assert stored[0]["webhook_id"] == hook["id"]
    assert stored[0]["embeds"][0]["title"] == "Connect is open"
    assert fake.calls_to(SEND) == []  # never as the bot itself


async def test_a_restarted_adapter_reuses_the_existing_webhook(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await adapter.post(str(CHANNEL), Message(text="one", sender=CEO))
    again = await start_adapter(fake, Recorder())
    try:
        await again.post(str(CHANNEL), Message(text="two", sender=CEO))
    finally:
        await close_adapter(again)
    assert len(fake.webhooks) == 1
    assert len(fake.calls_to("POST /channels/{channel_id}/webhooks")) == 1


async def test_edits_of_webhook_and_bot_messages(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    by_hook = await adapter.post(str(CHANNEL), Message(text="draft", sender=CEO))
    by_bot = await adapter.post(str(CHANNEL), Message(text="draft 2"))
    await adapter.update(by_hook, Message(text="final", sender=CEO))
    await adapter.update(by_bot, Message(text="final 2"))
    assert [m["content"] for m in fake.messages_in(CHANNEL)] == ["final", "final 2"]


async def test_direct_messages_open_the_dm_channel_once(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    invite = Message(
        text="You are one of the pioneers!",
        buttons=(Button(label="Count me in", action_id="pilot-rsvp", value="yes"),),
    )
    first = await adapter.send_direct(str(ALICE), invite, idempotency_key="dm-1")
    await adapter.send_direct(str(ALICE), Message(text="Welcome!"), idempotency_key="dm-2")
    assert len(fake.calls_to("POST /users/@me/channels")) == 1
    stored = fake.dms_to(ALICE)
    assert [m["content"] for m in stored] == ["You are one of the pioneers!", "Welcome!"]
    assert first.channel_id == str(fake.dm_channel_of(ALICE))
    assert custom_ids(stored[0]) == ["rb:pilot-rsvp:yes"]
    nonces = [c.json["nonce"] for c in fake.calls_to(SEND)]
    assert nonces == [nonce_for("dm-1"), nonce_for("dm-2")]
    # The view was not kept in memory: clicks are handled from the custom id alone.
    assert adapter.client._connection._view_store.persistent_views == []


async def test_pin_reaction_and_reply(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    sent = await adapter.post(str(CHANNEL), Message(text="Pin me"))
    await adapter.pin(sent)
    await adapter.add_reaction(str(CHANNEL), sent.message_id, "🎉")
    reply = await adapter.reply(str(CHANNEL), sent.message_id, Message(text="Thanks!"))
    assert fake.pins[CHANNEL] == [int(sent.message_id)]
    original, answer = fake.messages_in(CHANNEL)
    assert original["reactions"][0]["emoji"]["name"] == "🎉"
    assert answer["id"] == reply.message_id
    (_, reply_call) = fake.calls_to(SEND)
    assert reply_call.json["message_reference"]["message_id"] == int(sent.message_id)


async def test_profiles_and_channel_members(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    profile = await adapter.fetch_profile(str(ALICE))
    assert profile is not None
    assert profile.display_name == "Alice"
    assert (profile.timezone, profile.locale) == (None, None)  # Discord has neither
    assert await adapter.fetch_profile("999") is None
    members = await adapter.channel_members(str(CHANNEL))
    assert sorted(members) == sorted([str(ALICE), str(BOB)])


async def test_refusals_are_permanent_and_name_the_target(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    fake.block_dms(BOB)
    with pytest.raises(AdapterError) as refused:
        await adapter.send_direct(str(BOB), Message(text="hi"), idempotency_key="x")
    assert not isinstance(refused.value, TransientSendError)
    assert str(BOB) in str(refused.value)
    with pytest.raises(AdapterError) as unknown:
        await adapter.post("424242", Message(text="hi"))
    assert not isinstance(unknown.value, TransientSendError)
    assert "424242" in str(unknown.value)
    with pytest.raises(AdapterError, match="not a Discord channel id"):
        await adapter.post("general", Message(text="hi"))


async def test_server_errors_are_transient(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    fake.inject_error(503, message="Service Unavailable", route=SEND)
    with pytest.raises(TransientSendError):
        await adapter.post(str(CHANNEL), Message(text="hi"), idempotency_key="t")
    assert fake.messages_in(CHANNEL) == []


def test_missing_token_or_guild_is_a_clear_start_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISCORD_TOKEN", "DISCORD_GUILD_IDS"):
        monkeypatch.delenv(name, raising=False)
    clock = SimulatedClock(datetime(2026, 9, 1, tzinfo=UTC))
    with pytest.raises(DiscordStartError, match="DISCORD_TOKEN"):
        DiscordAdapter(
            settings=Settings(_env_file=None, discord_guild_ids=[GUILD]),  # type: ignore[call-arg]
            clock=clock,
        )
    with pytest.raises(DiscordStartError, match="DISCORD_GUILD_IDS"):
        DiscordAdapter(
            settings=Settings(_env_file=None, discord_token="t"),  # type: ignore[call-arg]
            clock=clock,
        )


async def test_a_refused_token_is_a_clear_start_error(fake: FakeDiscord) -> None:
    settings = discord_settings(fake)
    settings.discord_token = SecretStr("not-the-token")
    adapter = DiscordAdapter(settings=settings, clock=SimulatedClock(datetime.now(UTC)))
    try:
        with pytest.raises(DiscordStartError, match="refused the token"):
            await adapter.start(Recorder())
    finally:
        await adapter.stop()
    assert fake.base_url == Route.BASE  # DISCORD_API_URL took effect
    assert fake.calls[-1].status == 401


async def test_the_discord_platform_is_registered(fake: FakeDiscord) -> None:
    adapter = create_adapter(
        "discord",
        settings=discord_settings(fake),
        db=None,
        clock=SimulatedClock(datetime.now(UTC)),
        http_port=None,
    )
    try:
        assert isinstance(adapter, DiscordAdapter)
        assert isinstance(adapter, Adapter)
        assert adapter.capabilities.idempotent_send and adapter.capabilities.ephemeral
    finally:
        await adapter.stop()


async def test_a_webhook_post_interrupted_before_its_record_is_not_resent(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    announcement = Message(text="We are live.", title="Connect is open", sender=CEO)
    first = await adapter.post(str(CHANNEL), announcement, idempotency_key="launch/ceo")
    await adapter.post(str(CHANNEL), Message(text="Something else"), idempotency_key="other")
    # The process died before the outbox recorded the send; a new one retries the row.
    again = await start_adapter(fake, Recorder())
    try:
        assert await again.find_sent(str(CHANNEL), "launch/ceo") is None  # a retry, then:
        resent = await again.post(str(CHANNEL), announcement, idempotency_key="launch/ceo")
        # An identical announcement that is not a retry goes out normally.
        repeat = await again.post(str(CHANNEL), announcement, idempotency_key="launch/ceo-2")
    finally:
        await close_adapter(again)
    assert resent == first
    assert repeat != first
    executions = fake.calls_to("POST /webhooks/{webhook_id}/{webhook_token}")
    assert len(executions) == 2
    assert [m["content"] for m in fake.messages_in(CHANNEL)] == ["", "Something else", ""]
