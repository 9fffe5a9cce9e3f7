"""Gateway payloads injected through discord.py's parsers: reactions, buttons, commands.

The client's REST calls (acknowledgements, follow-ups, command sync) go to the fake Discord
REST API; no gateway connection is made.
"""

from __future__ import annotations

import asyncio

import pytest

from rallybot.bot.adapters.base import event_recorded
from rallybot.bot.adapters.discord import adapter as discord_adapter
from rallybot.bot.adapters.discord.adapter import DiscordAdapter
from rallybot.bot.adapters.discord.render import custom_id
from rallybot.bot.events import (
    ButtonClicked,
    CommandInvoked,
    MemberProfile,
    ProfileChanged,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from rallybot.bot.messages import Message

from . import payloads
from .adapter_support import (
    ALICE,
    BOB,
    CHANNEL,
    GUILD,
    HELP_CHANNEL,
    Recorder,
    click,
    command,
    tasks_settle,
)
from .fake_discord import FakeDiscord


def _announcement(fake: FakeDiscord, message_id: int | None = None) -> dict[str, object]:
    return payloads.message_create(
        message_id=message_id or payloads.snowflake(),
        channel_id=CHANNEL,
        author_id=payloads.BOT_ID,
        author_name="Rallybot",
        content="Count me in?",
        guild_id=GUILD,
        bot=True,
    )


async def test_start_syncs_rallybot_with_its_subcommands(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    commands = fake.commands[(fake.application_id, GUILD)]
    assert [c["name"] for c in commands] == ["rallybot"]
    subcommands = {o["name"]: o for o in commands[0]["options"]}
    assert {"help", "campaigns", "pause", "resume", "reload"} <= set(subcommands)
    assert all(o["description"] for o in subcommands.values())
    for name in ("pause", "resume"):
        (param,) = subcommands[name]["options"]
        assert param["name"] == "campaign"
        assert param["required"] is True
        assert "campaigns" in param["description"]
        assert param["autocomplete"] is True  # campaign ids suggested while typing


async def test_a_reaction_on_an_uncached_message_becomes_reaction_added(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    message_id = payloads.snowflake()  # never seen by the client: not in its cache
    payloads.dispatch(
        adapter.client,
        "MESSAGE_REACTION_ADD",
        payloads.reaction_add(
            user_id=ALICE,
            channel_id=CHANNEL,
            message_id=message_id,
            emoji="🎉",
            guild_id=GUILD,
            user_name="Alice",
            message_author_id=payloads.BOT_ID,
        ),
    )
    payloads.dispatch(
        adapter.client,
        "MESSAGE_REACTION_REMOVE",
        payloads.reaction_remove(
            user_id=ALICE, channel_id=CHANNEL, message_id=message_id, emoji="🎉", guild_id=GUILD
        ),
    )
    added, removed = await sink.wait_for(2)
    assert isinstance(added, ReactionAdded)
    assert isinstance(removed, ReactionRemoved)
    assert added.message_id == removed.message_id == str(message_id)
    assert added.emoji == removed.emoji == "🎉"
    assert added.user.id == str(ALICE)
    assert added.user.name == "Alice"
    assert added.channel.id == str(CHANNEL)
    assert added.author is not None and added.author.id == str(payloads.BOT_ID)
    assert added.event_id != removed.event_id


async def test_a_redelivered_reaction_keeps_its_event_id(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    data = payloads.reaction_add(
        user_id=BOB,
        channel_id=CHANNEL,
        message_id=payloads.snowflake(),
        emoji="party",
        emoji_id=444_000_000_000_000_001,
        guild_id=GUILD,
    )
    payloads.dispatch(adapter.client, "MESSAGE_REACTION_ADD", data)
    payloads.dispatch(adapter.client, "MESSAGE_REACTION_ADD", data)
    first, second = await sink.wait_for(2)
    assert first.event_id == second.event_id
    assert isinstance(first, ReactionAdded) and first.emoji == "party"


async def test_the_bot_s_own_reactions_are_ignored(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    payloads.dispatch(
        adapter.client,
        "MESSAGE_REACTION_ADD",
        payloads.reaction_add(
            user_id=payloads.BOT_ID,
            channel_id=CHANNEL,
            message_id=payloads.snowflake(),
            guild_id=GUILD,
            user_name="Rallybot",
        ),
    )
    await tasks_settle()
    assert sink.events == []


async def test_a_button_click_is_handed_over_then_acknowledged(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    adapter, sink = running
    answered_before: list[int] = []

    async def sink_checking_ack(event: object) -> None:
        # not answered yet: a handler may still answer with a form
        answered_before.append(len(fake.interaction_responses))
        await sink(event)  # type: ignore[arg-type]

    adapter._sink = sink_checking_ack
    message = _announcement(fake)
    interaction_id = click(
        fake,
        adapter.client,
        custom_id=custom_id("pilot-rsvp", "yes"),
        user_id=ALICE,
        channel=payloads.text_channel(CHANNEL, GUILD, "announcements"),
        message=message,
        guild_id=GUILD,
    )
    (event,) = await sink.wait_for(1)
    await tasks_settle()
    assert isinstance(event, ButtonClicked)
    assert event.event_id == str(interaction_id)
    assert (event.action_id, event.value) == ("pilot-rsvp", "yes")
    assert event.message_id == message["id"]
    assert event.channel.id == str(CHANNEL)
    assert event.user.id == str(ALICE)
    assert answered_before == [0]
    (ack,) = fake.interaction_responses
    assert ack["type"] == 6  # deferred update: no visible change to the message


async def test_a_click_whose_handlers_are_slow_is_acknowledged_in_time(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter, _ = running
    monkeypatch.setattr(discord_adapter, "CLICK_ACK_GRACE", 0.05)
    release = asyncio.Event()
    acknowledged_while_running = asyncio.Event()

    async def slow_sink(event: object) -> None:
        await event_recorded()  # as the bot's sink says once the click is in its journal
        await fake.wait_for_responses(1)  # the grace ran out: acknowledged anyway
        acknowledged_while_running.set()
        await release.wait()

    adapter._sink = slow_sink
    click(
        fake,
        adapter.client,
        custom_id=custom_id("pilot-rsvp", "yes"),
        user_id=ALICE,
        channel=payloads.text_channel(CHANNEL, GUILD, "announcements"),
        message=_announcement(fake),
        guild_id=GUILD,
    )
    async with asyncio.timeout(5.0):
        await acknowledged_while_running.wait()
    release.set()
    await tasks_settle()
    (ack,) = fake.interaction_responses  # once: the end of the handlers sends no second one
    assert ack["type"] == 6


async def test_a_click_that_cannot_be_recorded_is_not_acknowledged(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord never sends an interaction twice: one the bot could not record is left
    unanswered, so that the member sees it failed and clicks again."""
    adapter, _ = running
    monkeypatch.setattr(discord_adapter, "CLICK_ACK_GRACE", 0.05)
    tried = asyncio.Event()

    async def failing_sink(event: object) -> None:
        tried.set()
        raise ConnectionError("the database is unreachable")

    adapter._sink = failing_sink
    click(
        fake,
        adapter.client,
        custom_id=custom_id("pilot-rsvp", "yes"),
        user_id=ALICE,
        channel=payloads.text_channel(CHANNEL, GUILD, "announcements"),
        message=_announcement(fake),
        guild_id=GUILD,
    )
    async with asyncio.timeout(5.0):
        await tried.wait()
    await asyncio.sleep(0.2)  # well past the grace
    await tasks_settle()
    assert fake.interaction_responses == []


async def test_components_that_are_not_ours_are_ignored(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    adapter, sink = running
    click(
        fake,
        adapter.client,
        custom_id="someone-elses-button",
        user_id=ALICE,
        channel=payloads.text_channel(CHANNEL, GUILD, "announcements"),
        message=_announcement(fake),
        guild_id=GUILD,
    )
    await tasks_settle()
    assert sink.events == []
    assert fake.interaction_responses == []


async def test_a_command_is_deferred_privately_and_answered_privately(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    adapter, sink = running
    interaction_id = command(
        fake, adapter.client, "pause", user_id=BOB, options={"campaign": "connect-launch"}
    )
    (event,) = await sink.wait_for(1)
    assert isinstance(event, CommandInvoked)
    assert event.event_id == str(interaction_id)
    assert (event.name, event.args) == ("pause", ("connect-launch",))
    assert event.user.id == str(BOB)
    assert event.channel is not None and event.channel.id == str(HELP_CHANNEL)
    (ack,) = fake.interaction_responses
    assert ack["type"] == 5  # deferred channel message ("thinking")
    assert int(ack["data"]["flags"]) & 64  # ephemeral

    await adapter.respond(event, Message(text='Campaign "connect-launch" is now paused.'))
    followup = fake.interaction_responses[-1]
    assert followup["type"] == "followup"
    assert followup["data"]["content"] == 'Campaign "connect-launch" is now paused.'
    assert int(followup["data"]["flags"]) & 64
    assert fake.dm_channel_of(BOB) is None  # not a DM


async def test_an_unknown_interaction_answer_falls_back_to_a_dm(
    fake: FakeDiscord, running: tuple[DiscordAdapter, Recorder]
) -> None:
    adapter, _ = running
    event = CommandInvoked(
        event_id="12345",
        platform="discord",
        user=UserRef("discord", str(ALICE)),
        occurred_at=adapter.clock.now(),
        name="help",
    )
    await adapter.respond(event, Message(text="Rallybot commands: ..."))
    assert [m["content"] for m in fake.dms_to(ALICE)] == ["Rallybot commands: ..."]


async def test_a_nickname_or_an_avatar_becomes_profile_changed(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    assert (await adapter.fetch_profile(str(ALICE))) == MemberProfile(
        user_id=str(ALICE), display_name="Alice", profile_complete=False
    )
    # A new role is no profile change.
    role = 555_000_000_000_000_001
    payloads.dispatch(
        adapter.client,
        "GUILD_MEMBER_UPDATE",
        payloads.member_update(GUILD, ALICE, "Alice", roles=[role]),
    )
    await tasks_settle()
    assert sink.events == []
    # Alice takes a server nickname; Bob uploads an account avatar.
    payloads.dispatch(
        adapter.client,
        "GUILD_MEMBER_UPDATE",
        payloads.member_update(GUILD, ALICE, "Alice", nick="Ali", roles=[role]),
    )
    payloads.dispatch(
        adapter.client,
        "GUILD_MEMBER_UPDATE",
        payloads.member_update(GUILD, BOB, "Bob", avatar="b" * 32),
    )
    nick, avatar = await sink.wait_for(2)
    await tasks_settle()
    assert len(sink.events) == 2
    assert isinstance(nick, ProfileChanged) and isinstance(avatar, ProfileChanged)
    assert nick.user == UserRef("discord", str(ALICE), name="Ali")
    assert nick.profile == MemberProfile(
        user_id=str(ALICE), display_name="Ali", profile_complete=True
    )
    assert avatar.user.id == str(BOB) and avatar.profile.profile_complete
    assert nick.event_id.startswith(f"profile:{GUILD}:{ALICE}:") and nick.event_id != (
        avatar.event_id
    )
    # fetch_profile reads the same completeness.
    profile = await adapter.fetch_profile(str(BOB))
    assert profile is not None and profile.profile_complete
