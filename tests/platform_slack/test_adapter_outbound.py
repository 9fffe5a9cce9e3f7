"""Outbound Slack: rendering reaches the Web API, DMs are cached, errors are sorted, 429s honoured,
and an ambiguous send is confirmed through the channel history instead of being repeated."""

from __future__ import annotations

import asyncio
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.base import AdapterError, SentMessage, TransientSendError
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.messages import Button, Message, Sender
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, Member
from rallybot.storage.repositories import get_member_by_platform_id, upsert_member
from tests.platform_slack.fake_slack import FakeLimit, FakeSlack
from tests.platform_slack.harness import NOW, slack_adapter, slack_settings


@pytest.fixture
async def fake() -> FakeSlack:
    async with FakeSlack(scale=50) as server:
        server.add_user("U1", "Ana", tz="Europe/Lisbon", locale="pt-PT", title="CFO", image=True)
        server.add_user("U2", "Bo")
        server.add_user("UBOT2", "Other bot", is_bot=True)
        server.add_channel("C1", "general", ["U1", "U2"])
        server.add_channel("C2", "random", ["U1"])
        yield server


async def test_named_sender_buttons_and_metadata_reach_slack(fake: FakeSlack, db: Database) -> None:
    message = Message(
        text="We are **live**.",
        title="Connect is open",
        sender=Sender("The CEO", icon_url="https://example.com/ceo.png"),
        buttons=(Button("Discover", url="https://example.com"), Button("RSVP", action_id="rsvp")),
    )
    async with slack_adapter(fake, db) as adapter:
        sent = await adapter.post("C1", message, idempotency_key="launch/ceo/channel:annonces/once")
    [stored] = fake.messages("C1")
    assert sent == SentMessage("C1", stored["ts"])
    assert stored["username"] == "The CEO"
    assert stored["icon_url"] == "https://example.com/ceo.png"
    assert "*live*" in stored["text"]
    actions = [b for b in stored["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions[0]["elements"]] == ["Discover", "RSVP"]
    assert stored["metadata"] == {
        "event_type": "rallybot_delivery",
        "event_payload": {"key": "launch/ceo/channel:annonces/once"},
    }


async def test_reply_update_pin_and_reaction(fake: FakeSlack, db: Database) -> None:
    async with slack_adapter(fake, db) as adapter:
        sent = await adapter.post("C1", Message(text="Question of the day"))
        reply = await adapter.reply("C1", sent.message_id, Message(text="An answer"))
        await adapter.update(sent, Message(text="Question of the day (closed)"))
        await adapter.pin(sent)
        await adapter.pin(sent)  # already pinned: fine
        await adapter.add_reaction("C1", sent.message_id, ":tada:")
        await adapter.add_reaction("C1", sent.message_id, "tada")  # already there: fine
    first, second = fake.messages("C1")
    assert first["text"] == "Question of the day (closed)" and "edited" in first
    assert second["thread_ts"] == sent.message_id and reply.message_id == second["ts"]
    assert "metadata" not in first  # unkeyed sends carry no delivery metadata
    assert fake.pins == {("C1", sent.message_id)}
    assert fake.reactions[("C1", sent.message_id)] == {"tada": ["UBOT"]}


async def test_dm_channels_open_once_and_are_kept_in_the_database(
    fake: FakeSlack, db: Database
) -> None:
    await upsert_member(db, "slack", "U1", NOW, display_name="Ana")
    async with slack_adapter(fake, db) as adapter:
        first = await adapter.send_direct("U1", Message(text="Hello"))
        second = await adapter.send_direct("U1", Message(text="Again"))
    assert first.channel_id == second.channel_id == fake.dms["U1"]
    assert len(fake.calls_to("conversations.open")) == 1
    member = await get_member_by_platform_id(db, "slack", "U1")
    assert member is not None and member.dm_channel_id == fake.dms["U1"]
    # A new process (empty memory) reads the id from the database: still one open.
    async with slack_adapter(fake, db) as restarted:
        await restarted.send_direct("U1", Message(text="After a restart"))
    assert len(fake.calls_to("conversations.open")) == 1
    assert [m["text"] for m in fake.messages("U1")] == ["Hello", "Again", "After a restart"]


async def test_permanent_and_transient_errors_are_told_apart(fake: FakeSlack, db: Database) -> None:
    async with slack_adapter(fake, db) as adapter:
        with pytest.raises(AdapterError, match="CNOPE: channel_not_found") as unknown:
            await adapter.post("CNOPE", Message(text="x"))
        assert not isinstance(unknown.value, TransientSendError)
        with pytest.raises(AdapterError, match="user UBOT2: cannot_dm_bot") as bot:
            await adapter.send_direct("UBOT2", Message(text="x"))
        assert not isinstance(bot.value, TransientSendError)
        fake.channels["C2"].is_archived = True
        with pytest.raises(AdapterError, match="is_archived"):
            await adapter.post("C2", Message(text="x"))
        fake.fail_next("chat.postMessage", "status_500")
        with pytest.raises(TransientSendError):
            await adapter.post("C1", Message(text="x"))
        fake.fail_next("chat.postMessage", "drop_before")
        with pytest.raises(TransientSendError):
            await adapter.post("C1", Message(text="x"))
    assert fake.messages("C1") == []
    async with slack_adapter(fake, db, timeout=1) as impatient:
        fake.fail_next("chat.postMessage", "slow", seconds=3)
        with pytest.raises(TransientSendError, match="did not complete"):
            await impatient.post("C1", Message(text="too slow"))


async def test_an_ambiguous_send_is_found_instead_of_repeated(
    fake: FakeSlack, db: Database
) -> None:
    key = "launch/teaser/channel:annonces/once"
    async with slack_adapter(fake, db) as adapter:
        fake.fail_next("chat.postMessage", "drop_after_store")
        with pytest.raises(TransientSendError):
            await adapter.post("C1", Message(text="Teaser"), idempotency_key=key)
        [stored] = fake.messages("C1")  # Slack did store it
        found = await adapter.find_sent("C1", key)
        assert found == SentMessage("C1", stored["ts"])
        assert await adapter.find_sent("C1", "launch/other/channel:annonces/once") is None
        # For a member, the lookup goes through the DM channel.
        fake.fail_next("chat.postMessage", "drop_after_store")
        with pytest.raises(TransientSendError):
            await adapter.send_direct("U2", Message(text="Welcome"), idempotency_key="k-dm")
        found_dm = await adapter.find_sent("U2", "k-dm")
        assert found_dm is not None and found_dm.channel_id == fake.dms["U2"]
        # A reply in a thread is looked for among the thread's replies, which the channel's
        # history does not list.
        question = await adapter.post("C1", Message(text="A question"))
        fake.fail_next("chat.postMessage", "drop_after_store")
        with pytest.raises(TransientSendError):
            await adapter.reply(
                "C1", question.message_id, Message(text="Reminder"), idempotency_key="k-thread"
            )
        assert await adapter.find_sent("C1", "k-thread") is None
        found_reply = await adapter.find_sent("C1", "k-thread", thread_id=question.message_id)
        stored_reply = fake.messages("C1")[-1]
        assert stored_reply["thread_ts"] == question.message_id
        assert found_reply == SentMessage("C1", stored_reply["ts"])
    history = fake.calls_to("conversations.history") + fake.calls_to("conversations.replies")
    assert all(c.params["include_all_metadata"] in ("1", "true", True) for c in history)


CAMPAIGN = """\
id: tiny
title: Tiny
timezone: UTC
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
audiences:
  all: everyone
steps:
  - id: hello
    at: launch
    post: annonces
    text: "Hello everyone"
  - id: welcome
    for: all
    at: launch
    dm: "Welcome {first_name}"
"""


async def test_outbox_recovers_an_interrupted_send_without_a_duplicate(
    fake: FakeSlack, db: Database, tmp_path: Path
) -> None:
    campaign = tmp_path / "tiny.yaml"
    campaign.write_text(textwrap.dedent(CAMPAIGN))
    clock = SimulatedClock(NOW)
    for uid, first in (("U1", "Ana"), ("U2", "Bo")):
        await upsert_member(db, "slack", uid, NOW, first_name=first, timezone="UTC")
    async with slack_adapter(fake, db, clock) as adapter:
        settings = slack_settings(fake, channel_map={"annonces": "C1"})
        bot = Rallybot(settings, db, adapter, clock, campaign_paths=[campaign])
        await bot.reload()
        fake.fail_next("chat.postMessage", "drop_after_store", times=3)
        await bot.advance_to(NOW + timedelta(hours=2))
    assert [m["text"] for m in fake.messages("C1")] == ["Hello everyone"]
    assert [m["text"] for m in fake.messages("U1")] == ["Welcome Ana"]
    assert [m["text"] for m in fake.messages("U2")] == ["Welcome Bo"]
    async with db.session() as session:
        rows = (await session.execute(sa.select(Delivery))).scalars().all()
    assert {r.status for r in rows} == {"sent"} and len(rows) == 3
    assert {r.attempts for r in rows} == {2}  # each was interrupted once, then found
    by_ts = {m["ts"] for _, m in fake.all_messages()}
    assert {r.platform_message_id for r in rows} == by_ts


async def test_rate_limit_is_honoured_per_channel_and_nothing_is_lost(db: Database) -> None:
    # The fake allows one post a second per channel (unscaled); the adapter's own limiter is
    # scaled 100 times too generous, so Slack's 429s are what hold it back.
    async with FakeSlack(scale=1, limits={"chat.postMessage": FakeLimit(6000, 100)}) as fake:
        fake.add_channel("C1", "general")
        fake.add_channel("C2", "random")
        async with slack_adapter(fake, db, scale=100) as adapter:
            busy = [
                asyncio.create_task(
                    adapter.post("C1", Message(text=f"m{i}"), idempotency_key=f"k{i}")
                )
                for i in range(3)
            ]
            await asyncio.sleep(0)
            other = await adapter.post("C2", Message(text="elsewhere"))
            sent = await asyncio.gather(*busy)
            assert adapter.rate_limited >= 1
    assert sorted(m["text"] for m in fake.messages("C1")) == ["m0", "m1", "m2"]
    assert len({s.message_id for s in sent}) == 3
    calls = fake.calls_to("chat.postMessage")
    refused = [c for c in calls if c.status == 429]
    assert refused, "the fake should have refused some posts"
    for refusal in refused:
        retry = next(
            c
            for c in calls
            if c.time > refusal.time and c.params.get("metadata") == refusal.params["metadata"]
        )
        assert retry.time - refusal.time >= 1.0  # Retry-After: 1 was waited out
    # The other channel was not held back by C1's penalty.
    c2 = next(c for c in calls if c.params["channel"] == "C2")
    last_c1 = max(c.time for c in calls if c.params["channel"] == "C1" and c.status == 200)
    assert c2.time < last_c1 and other.channel_id == "C2"


async def test_a_429_on_an_unused_channel_holds_back_the_workspace(db: Database) -> None:
    # The workspace allows one post a second (unscaled); the adapter's limiter thinks it may
    # send about fifty. Twenty posts to twenty channels: a 429 for a channel the bot had not
    # used is the workspace's allowance, and the next channels wait out its Retry-After
    # instead of each running into it.
    async with FakeSlack(scale=1, limits={"chat.postMessage": FakeLimit(60, 1)}) as fake:
        for i in range(20):
            fake.add_channel(f"C{i}", f"room-{i}")
        async with slack_adapter(fake, db, scale=5) as adapter:
            adapter.max_rate_retries = 0  # one try each: a refusal is not retried here
            results = await asyncio.gather(
                *(
                    adapter.post(f"C{i}", Message(text="hello"), idempotency_key=f"k{i}")
                    for i in range(20)
                ),
                return_exceptions=True,
            )
    calls = fake.calls_to("chat.postMessage")
    first_refusal = min(c.time for c in calls if c.status == 429)
    # Calls granted before that answer came back may still arrive; none granted after it.
    late = [c for c in calls if first_refusal + 0.2 < c.time < first_refusal + 0.9]
    assert late == []
    assert any(isinstance(r, SentMessage) for r in results)
    assert all(isinstance(r, SentMessage | TransientSendError) for r in results)


async def test_profiles_are_read_cached_and_synchronised(fake: FakeSlack, db: Database) -> None:
    for i in range(430):
        fake.add_user(f"UX{i:04d}", f"Person {i}", tz="Asia/Tokyo", locale="ja-JP")
    async with slack_adapter(fake, db) as adapter:
        profile = await adapter.fetch_profile("U1")
        again = await adapter.fetch_profile("U1")
        assert profile is not None and again == profile
        assert profile.first_name == "Ana" and profile.timezone == "Europe/Lisbon"
        assert profile.locale == "pt-PT" and profile.profile_complete
        assert len(fake.calls_to("users.info")) == 1
        assert await adapter.fetch_profile("UNOBODY") is None
        count = await adapter.sync_members()
        members = await adapter.channel_members("C1")
    assert count == 432  # U1, U2 and 430 others; the bot is left out
    assert len(fake.calls_to("users.list")) == 3  # pages of 200
    assert sorted(members) == ["U1", "U2", "UBOT"]
    async with db.session() as session:
        stored = (await session.execute(sa.select(Member))).scalars().all()
    assert len(stored) == 432
    person = next(m for m in stored if m.platform_user_id == "UX0007")
    assert (person.first_name, person.timezone, person.profile_complete) == (
        "Person",
        "Asia/Tokyo",
        False,
    )
