"""The in-memory adapter used by scenario tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rallybot.bot.adapters.base import (
    Adapter,
    AdapterError,
    Capabilities,
    MemberProfile,
    SentMessage,
    TransientSendError,
    create_adapter,
)
from rallybot.bot.adapters.memory import Delivered, MemoryAdapter, Reaction, Updated
from rallybot.bot.events import ChannelRef, Event, MessagePosted, UserRef
from rallybot.bot.messages import Message

WHEN = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)


def hello(text: str = "hello") -> Message:
    return Message(text=text)


def test_it_is_an_adapter_created_by_the_registry() -> None:
    adapter = create_adapter("memory")
    assert isinstance(adapter, MemoryAdapter)
    assert isinstance(adapter, Adapter)
    assert adapter.platform == "memory"
    assert adapter.capabilities == Capabilities()


async def test_posts_and_directs_are_recorded_with_sequential_ids() -> None:
    adapter = MemoryAdapter()
    first = await adapter.post("C1", hello("one"), idempotency_key="k1")
    second = await adapter.send_direct("U1", hello("two"), idempotency_key="k2")
    third = await adapter.post("C2", hello("three"))
    assert first == SentMessage("C1", "m1")
    assert second == SentMessage("dm-U1", "m2")
    assert third == SentMessage("C2", "m3")
    assert adapter.posts == [
        Delivered("post", "C1", hello("one"), "k1", first),
        Delivered("post", "C2", hello("three"), None, third),
    ]
    assert adapter.directs == [Delivered("dm", "U1", hello("two"), "k2", second)]
    assert [d.kind for d in adapter.delivered] == ["post", "dm", "post"]
    assert adapter.sent_to("U1") == adapter.directs
    assert adapter.sent_to("dm-U1") == adapter.directs


async def test_reply_update_pin_and_reaction() -> None:
    adapter = MemoryAdapter()
    sent = await adapter.post("C1", hello())
    answer = await adapter.reply("C1", sent.message_id, hello("in thread"))
    assert adapter.replies == [
        Delivered("reply", "C1", hello("in thread"), None, answer, thread_id=sent.message_id)
    ]
    await adapter.update(sent, hello("edited"))
    assert adapter.updates == [Updated(sent, hello("edited"))]
    assert adapter.content_of(sent) == hello("edited")
    await adapter.pin(sent)
    await adapter.pin(sent)
    assert adapter.pins == [sent]
    assert adapter.is_pinned(sent)
    await adapter.add_reaction("C1", "user-message-7", "tada")
    assert adapter.reactions == [Reaction("C1", "user-message-7", "tada")]


async def test_update_or_pin_of_an_unknown_message_fails_for_good() -> None:
    adapter = MemoryAdapter()
    ghost = SentMessage("C1", "m404")
    with pytest.raises(AdapterError):
        await adapter.update(ghost, hello())
    with pytest.raises(AdapterError):
        await adapter.pin(ghost)


async def test_push_hands_events_to_the_sink() -> None:
    adapter = MemoryAdapter()
    event = MessagePosted(
        event_id="e1",
        platform="memory",
        user=UserRef("memory", "U1"),
        occurred_at=WHEN,
        channel=ChannelRef("memory", "C1"),
        message_id="x1",
        text="hi",
    )
    with pytest.raises(RuntimeError, match="not started"):
        await adapter.push(event)
    received: list[Event] = []

    async def sink(e: Event) -> None:
        received.append(e)

    await adapter.start(sink)
    assert adapter.started
    await adapter.push(event)
    assert received == [event]
    await adapter.stop()
    assert not adapter.started
    with pytest.raises(RuntimeError):
        await adapter.push(event)


async def test_fail_next_raises_then_recovers() -> None:
    adapter = MemoryAdapter()
    error = TransientSendError("slow down", retry_after=3)
    adapter.fail_next(2, error)
    assert adapter.pending_failures == 2
    with pytest.raises(TransientSendError) as caught:
        await adapter.post("C1", hello(), idempotency_key="k")
    assert caught.value.retry_after == 3
    with pytest.raises(TransientSendError):
        await adapter.send_direct("U1", hello())
    assert adapter.delivered == []
    sent = await adapter.post("C1", hello(), idempotency_key="k")
    assert adapter.posts[0].sent == sent
    assert adapter.pending_failures == 0


async def test_fail_next_defaults_to_a_transient_error_and_takes_any_exception() -> None:
    adapter = MemoryAdapter()
    adapter.fail_next()
    with pytest.raises(TransientSendError):
        await adapter.reply("C1", "m1", hello())
    adapter.fail_next(1, AdapterError("channel_not_found"))
    with pytest.raises(AdapterError, match="channel_not_found"):
        await adapter.post("C1", hello())


async def test_before_send_crash_sends_nothing() -> None:
    seen: list[str | None] = []

    async def crash(key: str | None) -> None:
        seen.append(key)
        raise ConnectionError("process died before the send")

    adapter = MemoryAdapter(before_send=crash)
    with pytest.raises(ConnectionError):
        await adapter.post("C1", hello(), idempotency_key="k1")
    assert seen == ["k1"]
    assert adapter.delivered == []
    assert await adapter.find_sent("C1", "k1") is None


async def test_after_send_crash_leaves_a_findable_message() -> None:
    adapter = MemoryAdapter()

    async def crash(key: str | None) -> None:
        raise ConnectionError("process died before recording")

    adapter.after_send = crash
    with pytest.raises(ConnectionError):
        await adapter.send_direct("U1", hello(), idempotency_key="k1")
    assert len(adapter.directs) == 1
    found = await adapter.find_sent("U1", "k1")
    assert found == adapter.directs[0].sent
    assert await adapter.find_sent("dm-U1", "k1") == found
    assert await adapter.find_sent("U2", "k1") is None
    assert await adapter.find_sent("U1", "other") is None


async def test_without_remembered_keys_find_sent_answers_none() -> None:
    adapter = MemoryAdapter(remembers_keys=False)
    await adapter.post("C1", hello(), idempotency_key="k1")
    assert await adapter.find_sent("C1", "k1") is None


async def test_repeated_keys_are_sent_twice_unless_the_platform_is_idempotent() -> None:
    plain = MemoryAdapter()
    await plain.post("C1", hello(), idempotency_key="k1")
    await plain.post("C1", hello(), idempotency_key="k1")
    assert len(plain.posts) == 2

    nonce = MemoryAdapter(capabilities=Capabilities(idempotent_send=True))
    first = await nonce.post("C1", hello(), idempotency_key="k1")
    again = await nonce.post("C1", hello(), idempotency_key="k1")
    assert again == first
    assert len(nonce.posts) == 1


async def test_profiles_and_channel_members() -> None:
    adapter = MemoryAdapter()
    assert await adapter.fetch_profile("U1") is None
    adapter.set_profile("U1", display_name="Alice", timezone="Europe/Paris")
    adapter.set_profile(MemberProfile("U2", first_name="Bob"), locale="fr")
    assert await adapter.fetch_profile("U1") == MemberProfile(
        "U1", display_name="Alice", timezone="Europe/Paris"
    )
    assert await adapter.fetch_profile("U2") == MemberProfile("U2", first_name="Bob", locale="fr")
    assert await adapter.channel_members("C1") == []
    adapter.set_channel_members("C1", ["U1", "U2"])
    members = await adapter.channel_members("C1")
    assert members == ["U1", "U2"]
    members.append("U3")  # a copy: the adapter's state is not changed
    assert await adapter.channel_members("C1") == ["U1", "U2"]


async def test_clear_forgets_what_was_sent() -> None:
    adapter = MemoryAdapter()
    sent = await adapter.post("C1", hello())
    await adapter.pin(sent)
    adapter.clear()
    assert adapter.delivered == [] and adapter.pins == []
    with pytest.raises(KeyError):
        adapter.content_of(sent)
