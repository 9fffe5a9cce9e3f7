"""Gateway payloads fed through a real discord.py client's parsers fire the real events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord.http import Route

from rallybot.bot.adapters.discord.invite import required_intents
from rallybot.bot.adapters.discord.render import custom_id, parse_custom_id

from .fake_discord import FakeDiscord
from .payloads import (
    BOT_ID,
    command_interaction,
    component_interaction,
    dispatch,
    dm_channel,
    guild_create,
    member,
    member_add,
    member_update,
    message_create,
    prime,
    reaction_add,
    reaction_remove,
    snowflake,
    text_channel,
)

GUILD = 111_000_000_000_000_001
CHANNEL = 222_000_000_000_000_001
ALICE = 333_000_000_000_000_001
TOKEN = "fake-token"


class Recorder:
    """Collects the events a client dispatches, awaitable one by one."""

    def __init__(self, client: discord.Client, *events: str) -> None:
        self.queues: dict[str, asyncio.Queue[tuple[Any, ...]]] = {}
        for event in events:
            queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
            self.queues[event] = queue

            async def listener(*args: Any, _queue: asyncio.Queue[tuple[Any, ...]] = queue) -> None:
                _queue.put_nowait(args)

            setattr(client, f"on_{event}", listener)  # what @client.event does

    async def next(self, event: str) -> tuple[Any, ...]:
        return await asyncio.wait_for(self.queues[event].get(), timeout=5)

    def empty(self, event: str) -> bool:
        return self.queues[event].empty()


def _guild() -> dict[str, Any]:
    return guild_create(
        GUILD,
        "Acme",
        channels=[text_channel(CHANNEL, GUILD, "annonces")],
        members=[member(BOT_ID, "Rallybot", bot=True), member(ALICE, "Alice")],
    )


@pytest.fixture
async def client() -> AsyncIterator[discord.Client]:
    bot = discord.Client(intents=required_intents())
    async with bot:
        await prime(bot, guilds=[_guild()])
        yield bot


async def test_guild_create_primes_the_state(client: discord.Client) -> None:
    guild = client.get_guild(GUILD)
    assert guild is not None and guild.name == "Acme" and guild.chunked
    assert isinstance(guild.get_channel(CHANNEL), discord.TextChannel)
    alice = guild.get_member(ALICE)
    assert alice is not None and alice.display_name == "Alice"
    assert client.user is not None and client.user.id == BOT_ID


async def test_a_reaction_on_an_uncached_message_fires_on_raw_reaction_add(
    client: discord.Client,
) -> None:
    events = Recorder(client, "raw_reaction_add", "reaction_add", "raw_reaction_remove")
    message_id = snowflake()
    dispatch(
        client,
        "MESSAGE_REACTION_ADD",
        reaction_add(
            user_id=ALICE,
            channel_id=CHANNEL,
            message_id=message_id,
            emoji="🎉",
            guild_id=GUILD,
            user_name="Alice",
            message_author_id=BOT_ID,
        ),
    )
    (raw,) = await events.next("raw_reaction_add")
    assert isinstance(raw, discord.RawReactionActionEvent)
    assert (raw.user_id, raw.channel_id, raw.message_id) == (ALICE, CHANNEL, message_id)
    assert raw.guild_id == GUILD
    assert str(raw.emoji) == "🎉"
    assert raw.type is discord.ReactionType.normal and raw.burst is False
    assert raw.member is not None and raw.member.display_name == "Alice"
    assert raw.message_author_id == BOT_ID
    assert events.empty("reaction_add")  # the message was not cached: only the raw event

    dispatch(
        client,
        "MESSAGE_REACTION_REMOVE",
        reaction_remove(
            user_id=ALICE, channel_id=CHANNEL, message_id=message_id, emoji="🎉", guild_id=GUILD
        ),
    )
    (removed,) = await events.next("raw_reaction_remove")
    assert removed.event_type == "REACTION_REMOVE"
    assert (removed.user_id, removed.message_id, str(removed.emoji)) == (ALICE, message_id, "🎉")


async def test_a_custom_emoji_and_a_burst_reaction(client: discord.Client) -> None:
    events = Recorder(client, "raw_reaction_add")
    payload = reaction_add(
        user_id=ALICE,
        channel_id=CHANNEL,
        message_id=snowflake(),
        emoji="rocket",
        emoji_id=444,
        guild_id=GUILD,
        burst=True,
    )
    dispatch(client, "MESSAGE_REACTION_ADD", payload)
    (raw,) = await events.next("raw_reaction_add")
    assert raw.emoji.id == 444 and raw.emoji.name == "rocket"
    assert raw.burst is True and raw.type is discord.ReactionType.burst


async def test_messages_in_a_channel_and_in_a_dm(client: discord.Client) -> None:
    events = Recorder(client, "message")
    dispatch(
        client,
        "MESSAGE_CREATE",
        message_create(
            message_id=snowflake(),
            channel_id=CHANNEL,
            author_id=ALICE,
            author_name="Alice",
            content="How do I log in?",
            guild_id=GUILD,
        ),
    )
    (posted,) = await events.next("message")
    assert posted.content == "How do I log in?"
    assert posted.channel.id == CHANNEL and posted.guild.id == GUILD
    assert isinstance(posted.author, discord.Member) and posted.author.id == ALICE

    dm_id = snowflake()
    dispatch(
        client,
        "MESSAGE_CREATE",
        message_create(
            message_id=snowflake(),
            channel_id=dm_id,
            author_id=ALICE,
            author_name="Alice",
            content="b",
        ),
    )
    (direct,) = await events.next("message")
    assert isinstance(direct.channel, discord.DMChannel) and direct.channel.id == dm_id
    assert direct.guild is None and direct.content == "b"


async def test_a_member_join_fires_on_member_join(client: discord.Client) -> None:
    events = Recorder(client, "member_join")
    newcomer = snowflake()
    dispatch(client, "GUILD_MEMBER_ADD", member_add(GUILD, newcomer, "Bob"))
    (joined,) = await events.next("member_join")
    assert joined.id == newcomer and joined.guild.id == GUILD
    assert joined.display_name == "Bob"
    assert client.get_guild(GUILD).get_member(newcomer) is not None  # type: ignore[union-attr]


async def test_a_button_click_fires_on_interaction_with_its_custom_id(
    client: discord.Client,
) -> None:
    events = Recorder(client, "interaction")
    button_message = message_create(
        message_id=snowflake(),
        channel_id=CHANNEL,
        author_id=BOT_ID,
        author_name="Rallybot",
        content="Ready?",
        guild_id=GUILD,
        bot=True,
    )
    cid = custom_id("quiz", "lancement-connect/quiz-1:b")
    dispatch(
        client,
        "INTERACTION_CREATE",
        component_interaction(
            interaction_id=snowflake(),
            token="tok",
            custom_id=cid,
            user_id=ALICE,
            user_name="Alice",
            channel=text_channel(CHANNEL, GUILD, "annonces"),
            message=button_message,
            guild_id=GUILD,
        ),
    )
    (interaction,) = await events.next("interaction")
    assert isinstance(interaction, discord.Interaction)
    assert interaction.type is discord.InteractionType.component
    assert interaction.data is not None
    assert parse_custom_id(interaction.data["custom_id"]) == (  # type: ignore[typeddict-item]
        "quiz",
        "lancement-connect/quiz-1:b",
    )
    assert interaction.user.id == ALICE and isinstance(interaction.user, discord.Member)
    assert interaction.message is not None and interaction.message.id == int(button_message["id"])
    assert interaction.channel is not None and interaction.channel.id == CHANNEL
    assert interaction.guild_id == GUILD


async def test_a_button_click_in_a_dm(client: discord.Client) -> None:
    events = Recorder(client, "interaction")
    dm_id = snowflake()
    dispatch(
        client,
        "INTERACTION_CREATE",
        component_interaction(
            interaction_id=snowflake(),
            token="tok",
            custom_id="rb:ok:",
            user_id=ALICE,
            user_name="Alice",
            channel=dm_channel(dm_id, ALICE, "Alice"),
            message=message_create(
                message_id=snowflake(),
                channel_id=dm_id,
                author_id=BOT_ID,
                author_name="Rallybot",
                content="Welcome",
                bot=True,
            ),
        ),
    )
    (interaction,) = await events.next("interaction")
    assert interaction.guild_id is None
    assert isinstance(interaction.user, discord.User) and interaction.user.id == ALICE
    assert isinstance(interaction.channel, discord.DMChannel)


async def test_a_slash_command_fires_on_interaction_with_its_options(
    client: discord.Client,
) -> None:
    events = Recorder(client, "interaction")
    dispatch(
        client,
        "INTERACTION_CREATE",
        command_interaction(
            interaction_id=snowflake(),
            token="tok",
            subcommand="points",
            options={"member": "Alice", "limit": 5},
            user_id=ALICE,
            channel=text_channel(CHANNEL, GUILD, "annonces"),
            guild_id=GUILD,
        ),
    )
    (interaction,) = await events.next("interaction")
    assert interaction.type is discord.InteractionType.application_command
    data = interaction.data
    assert data is not None and data["name"] == "rallybot"
    [sub] = data["options"]
    assert sub["name"] == "points" and sub["type"] == 1
    assert {o["name"]: (o["type"], o["value"]) for o in sub["options"]} == {
        "member": (3, "Alice"),
        "limit": (4, 5),
    }


async def test_an_interaction_answered_against_the_fake_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """End to end: a client logged in on the fake REST defers a click it received."""
    async with FakeDiscord(token=TOKEN, application_id=BOT_ID) as fake:
        fake.add_guild(GUILD, "Acme")
        fake.add_channel(GUILD, CHANNEL, "annonces")
        monkeypatch.setattr(Route, "BASE", fake.base_url)
        bot = discord.Client(intents=required_intents())
        async with bot:
            await bot.login(TOKEN)
            await prime(bot, guilds=[_guild()])
            answered = asyncio.Event()

            async def on_interaction(interaction: discord.Interaction) -> None:
                await interaction.response.defer()
                answered.set()

            bot.event(on_interaction)
            interaction_id = snowflake()
            fake.add_interaction(interaction_id, "tok", CHANNEL)
            dispatch(
                bot,
                "INTERACTION_CREATE",
                component_interaction(
                    interaction_id=interaction_id,
                    token="tok",
                    custom_id="rb:ok:1",
                    user_id=ALICE,
                    channel=text_channel(CHANNEL, GUILD, "annonces"),
                    message=message_create(
                        message_id=snowflake(),
                        channel_id=CHANNEL,
                        author_id=BOT_ID,
                        author_name="Rallybot",
                        content="x",
                        guild_id=GUILD,
                    ),
                    guild_id=GUILD,
                ),
            )
            await asyncio.wait_for(answered.wait(), timeout=5)
        assert fake.interaction_responses == [
            {"interaction_id": interaction_id, "type": 6, "data": {}}
        ]


async def test_a_member_update_fires_on_member_update_and_on_user_update(
    client: discord.Client,
) -> None:
    events = Recorder(client, "member_update", "user_update")
    dispatch(client, "GUILD_MEMBER_UPDATE", member_update(GUILD, ALICE, "Alice", nick="Ali"))
    before, after = await events.next("member_update")
    assert before.nick is None and after.nick == "Ali" and after.display_name == "Ali"
    assert events.empty("user_update")  # the account did not change
    # A new account avatar: discord.py updates the user the member objects share, so only
    # on_user_update tells the before from the after.
    avatar = "a" * 32
    data = member_update(GUILD, ALICE, "Alice", nick="Ali", avatar=avatar)
    dispatch(client, "GUILD_MEMBER_UPDATE", data)
    old_user, new_user = await events.next("user_update")
    assert old_user.avatar is None and new_user.avatar is not None
    assert new_user.avatar.key == avatar
    before, after = await events.next("member_update")
    assert before.avatar == after.avatar  # the shared user: no difference seen here
