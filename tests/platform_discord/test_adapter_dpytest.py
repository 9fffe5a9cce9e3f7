"""The Discord adapter's inbound messages, DMs and member joins, driven by dpytest.

dpytest replaces the client's HTTP and connection state with fakes and feeds messages and
member joins through discord.py's own dispatch, so these tests see the events exactly as
the gateway would deliver them to the adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import discord
import discord.ext.test as dpytest
import pytest

from rallybot.bot.adapters.discord.adapter import DiscordAdapter, build_intents
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import Event, MemberJoined, MessagePosted


class Sink:
    """Collects the events the adapter hands over."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
async def harness() -> AsyncIterator[tuple[DiscordAdapter, Sink, dpytest.RunnerConfig]]:
    client = discord.Client(intents=build_intents())
    await client._async_setup_hook()  # binds the client to the running loop, as login does
    dpytest.configure(client, members=["alice", "bob"])
    config = dpytest.get_config()
    guild = config.guilds[0]
    settings = Settings(discord_guild_ids=[guild.id], _env_file=None)  # type: ignore[call-arg]
    clock = SimulatedClock(datetime(2026, 9, 1, 9, 0, tzinfo=UTC))
    adapter = DiscordAdapter(settings=settings, clock=clock, client=client, sync_commands=False)
    sink = Sink()
    await adapter.start(sink)
    try:
        yield adapter, sink, config
    finally:
        await adapter.stop()
        await dpytest.empty_queue()


async def test_a_channel_message_becomes_message_posted(
    harness: tuple[DiscordAdapter, Sink, dpytest.RunnerConfig],
) -> None:
    _, sink, config = harness
    channel = config.channels[0]
    alice = config.members[0]
    sent = await dpytest.message("Where is the help channel?", channel=channel, member=alice)
    assert len(sink.events) == 1
    event = sink.events[0]
    assert isinstance(event, MessagePosted)
    assert event.text == "Where is the help channel?"
    assert event.event_id == event.message_id == str(sent.id)
    assert event.channel.id == str(channel.id)
    assert event.channel.is_direct is False
    assert event.user.id == str(alice.id)
    assert event.user.is_bot is False
    assert event.platform == "discord"


async def test_a_direct_message_is_marked_direct(
    harness: tuple[DiscordAdapter, Sink, dpytest.RunnerConfig],
) -> None:
    _, sink, config = harness
    bob = config.members[1]
    dm = await bob.create_dm()
    await dpytest.message("stop", channel=dm, member=bob)
    assert len(sink.events) == 1
    event = sink.events[0]
    assert isinstance(event, MessagePosted)
    assert event.channel.is_direct is True
    assert event.channel.id == str(dm.id)
    assert event.text == "stop"
    assert event.user.id == str(bob.id)


async def test_messages_from_the_bot_itself_are_ignored(
    harness: tuple[DiscordAdapter, Sink, dpytest.RunnerConfig],
) -> None:
    adapter, sink, config = harness
    channel = config.channels[0]
    me = channel.guild.get_member(adapter.client.user.id)
    assert me is not None
    await dpytest.message("an echo of our own post", channel=channel, member=me)
    await dpytest.message("a member's question", channel=channel, member=config.members[0])
    assert [e.text for e in sink.events if isinstance(e, MessagePosted)] == ["a member's question"]


async def test_a_member_join_becomes_member_joined_with_a_stable_id(
    harness: tuple[DiscordAdapter, Sink, dpytest.RunnerConfig],
) -> None:
    _, sink, config = harness
    member = await dpytest.member_join(config.guilds[0], name="carol")
    await dpytest.run_all_events()
    joins = [e for e in sink.events if isinstance(e, MemberJoined)]
    assert len(joins) == 1
    join = joins[0]
    assert join.user.id == str(member.id)
    assert join.user.name == member.display_name
    assert join.channel is None
    assert join.event_id.startswith(f"member_joined:{config.guilds[0].id}:{member.id}:")


async def test_events_from_other_servers_are_ignored() -> None:
    client = discord.Client(intents=build_intents())
    await client._async_setup_hook()  # binds the client to the running loop, as login does
    dpytest.configure(client, guilds=2)
    config = dpytest.get_config()
    ours, other = config.guilds
    settings = Settings(discord_guild_ids=[ours.id], _env_file=None)  # type: ignore[call-arg]
    clock = SimulatedClock(datetime(2026, 9, 1, 9, 0, tzinfo=UTC))
    adapter = DiscordAdapter(settings=settings, clock=clock, client=client, sync_commands=False)
    sink = Sink()
    await adapter.start(sink)
    try:
        other_channel = next(
            c for c in config.channels if c.guild == other and c.type.name == "text"
        )
        our_channel = next(c for c in config.channels if c.guild == ours and c.type.name == "text")
        other_member = next(m for m in config.members if m.guild == other)
        our_member = next(m for m in config.members if m.guild == ours)
        await dpytest.message("elsewhere", channel=other_channel, member=other_member)
        await dpytest.member_join(other, name="stranger")
        await dpytest.message("here", channel=our_channel, member=our_member)
        await dpytest.run_all_events()
        assert [getattr(e, "text", None) for e in sink.events] == ["here"]
    finally:
        await adapter.stop()
        await dpytest.empty_queue()
