"""Helpers for the Discord adapter tests: a client wired to the fake REST API, no gateway.

The client logs in over REST to :class:`FakeDiscord` (``static_login``: the HTTP session and
``GET /users/@me``), then :func:`payloads.prime` gives its state the bot user and the
server as READY and GUILD_CREATE would. Gateway events are then injected with
:func:`payloads.dispatch`. The adapter receives this client, sees it already has a user, and
neither logs in again nor opens a gateway connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import discord

from rallybot.bot.adapters.base import event_recorded
from rallybot.bot.adapters.discord.adapter import DiscordAdapter, build_client
from rallybot.bot.assembly import commands
from rallybot.bot.clock import Clock, SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import Event

from . import payloads
from .fake_discord import FakeDiscord

GUILD = 111_000_000_000_000_001
CHANNEL = 222_000_000_000_000_001  # #announcements
HELP_CHANNEL = 222_000_000_000_000_002
TOKEN = "fake-token"
ALICE = 333_000_000_000_000_001
BOB = 333_000_000_000_000_002
PEOPLE = {ALICE: "Alice", BOB: "Bob"}


def build_world(fake: FakeDiscord, people: dict[int, str] | None = None) -> None:
    """One server with two text channels and some members, on the fake REST side."""
    fake.add_guild(GUILD, "Acme")
    fake.add_channel(GUILD, CHANNEL, "announcements")
    fake.add_channel(GUILD, HELP_CHANNEL, "help")
    for user_id, name in (people or PEOPLE).items():
        fake.add_member(GUILD, user_id, name)


def guild_payload(people: dict[int, str] | None = None) -> dict[str, Any]:
    """The GUILD_CREATE matching :func:`build_world`."""
    everyone = people or PEOPLE
    return payloads.guild_create(
        GUILD,
        "Acme",
        channels=[
            payloads.text_channel(CHANNEL, GUILD, "announcements"),
            payloads.text_channel(HELP_CHANNEL, GUILD, "help", position=1),
        ],
        members=[
            payloads.member(payloads.BOT_ID, "Rallybot", bot=True),
            *(payloads.member(uid, name) for uid, name in everyone.items()),
        ],
    )


def discord_settings(fake: FakeDiscord, **extra: Any) -> Settings:
    """Settings pointing the adapter at the fake (``DISCORD_API_URL``)."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url="sqlite://",
        discord_token=fake.token,
        discord_guild_ids=[GUILD],
        discord_api_url=fake.base_url,
        **extra,
    )


async def ready_client(fake: FakeDiscord, people: dict[int, str] | None = None) -> discord.Client:
    """A client logged in to the fake over REST and primed with the server: no gateway."""
    client = build_client()
    await client._async_setup_hook()
    discord.http.Route.BASE = fake.base_url
    await client.http.static_login(fake.token)
    await payloads.prime(client, guilds=[guild_payload(people)])
    return client


class Recorder:
    """An event sink that records events and lets a test await the next ones."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        await event_recorded()  # as the bot's sink: recorded, the adapter may acknowledge it
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait_for(self, count: int) -> list[Event]:
        """Wait (5 seconds at most) until ``count`` events arrived in all; returns them."""
        async with asyncio.timeout(5.0), self._changed:
            await self._changed.wait_for(lambda: len(self.events) >= count)
        return list(self.events)


async def start_adapter(
    fake: FakeDiscord,
    sink: Any,
    *,
    clock: Clock | None = None,
    settings: Settings | None = None,
    people: dict[int, str] | None = None,
    **options: Any,
) -> DiscordAdapter:
    """A started adapter on a fresh primed client (close it with :func:`close_adapter`); its
    ``/rallybot`` declares the shipped features' catalogue unless ``commands`` says else."""
    client = await ready_client(fake, people)
    options.setdefault("commands", commands())
    adapter = DiscordAdapter(
        settings=settings or discord_settings(fake),
        clock=clock or SimulatedClock(datetime(2026, 9, 1, 9, 0, tzinfo=UTC)),
        client=client,
        **options,
    )
    await adapter.start(sink)
    return adapter


async def close_adapter(adapter: DiscordAdapter) -> None:
    """Stop the adapter and close its injected client's HTTP session."""
    await adapter.stop()
    await adapter.client.close()


async def tasks_settle() -> None:
    """Let listener tasks scheduled by a dispatch run to completion."""
    pending = [
        t
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task()
        and t.get_name().startswith(("discord.py: ", "CommandTree-invoker"))
    ]
    if pending:
        await asyncio.wait(pending, timeout=5.0)


def click(
    fake: FakeDiscord,
    client: discord.Client,
    *,
    custom_id: str,
    user_id: int,
    channel: dict[str, Any],
    message: dict[str, Any],
    interaction_id: int | None = None,
    guild_id: int | None = None,
) -> int:
    """Deliver a button click (declared to the fake so it can be acknowledged)."""
    interaction_id = interaction_id or payloads.snowflake()
    token = f"tok-{interaction_id}"
    if interaction_id not in fake.interactions:
        fake.add_interaction(
            interaction_id, token, int(channel["id"]), message_id=int(message["id"]), type=3
        )
    payloads.dispatch(
        client,
        "INTERACTION_CREATE",
        payloads.component_interaction(
            interaction_id=interaction_id,
            token=token,
            custom_id=custom_id,
            user_id=user_id,
            user_name=PEOPLE.get(user_id, "member"),
            channel=channel,
            message=message,
            guild_id=guild_id,
        ),
    )
    return interaction_id


def command(
    fake: FakeDiscord,
    client: discord.Client,
    subcommand: str,
    *,
    user_id: int,
    options: dict[str, payloads.OptionValue] | None = None,
    user_options: dict[str, tuple[int, str]] | None = None,
    interaction_id: int | None = None,
    channel_id: int = HELP_CHANNEL,
    group: str | None = None,
) -> int:
    """Deliver ``/rallybot [group] <subcommand>`` in a server channel."""
    interaction_id = interaction_id or payloads.snowflake()
    token = f"tok-{interaction_id}"
    if interaction_id not in fake.interactions:
        fake.add_interaction(interaction_id, token, channel_id, type=2)
    payloads.dispatch(
        client,
        "INTERACTION_CREATE",
        payloads.command_interaction(
            interaction_id=interaction_id,
            token=token,
            subcommand=subcommand,
            user_id=user_id,
            user_name=PEOPLE.get(user_id, "member"),
            channel=payloads.text_channel(channel_id, GUILD, "help"),
            options=options,
            user_options=user_options,
            guild_id=GUILD,
            group=group,
        ),
    )
    return interaction_id


def custom_ids(message: dict[str, Any]) -> Sequence[str]:
    """The custom ids of a stored message's buttons."""
    return [
        c["custom_id"]
        for row in message.get("components", [])
        for c in row.get("components", [])
        if "custom_id" in c
    ]
