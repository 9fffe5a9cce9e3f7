"""The whole bot on Discord: the shipped example campaign on a simulated clock, against the
fake REST API, on SQLite and PostgreSQL; restarts, global 429s and duplicate gateway events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from discord.http import Route

from rallybot.bot.adapters.discord.adapter import DiscordAdapter
from rallybot.bot.adapters.discord.render import nonce_for
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import ButtonClicked, Event, ReactionAdded
from rallybot.bot.messages import Button, Message
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery
from rallybot.storage.repositories import get_member_by_platform_id, upsert_member

from . import payloads
from .adapter_support import (
    ALICE,
    BOB,
    CHANNEL,
    GUILD,
    PEOPLE,
    Recorder,
    build_world,
    close_adapter,
    command,
    custom_ids,
    discord_settings,
    ready_client,
    start_adapter,
    tasks_settle,
)
from .fake_discord import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "campaigns" / "examples" / "en" / "connect-launch.yaml"
LAUNCH = datetime(2026, 9, 15, 8, 30, tzinfo=UTC)  # 09:30 in London (summer time)
SEND = "POST /channels/{channel_id}/messages"
PILOTS = {334_000_000_000_000_000 + i: f"Pilot {i}" for i in range(1, 6)}


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    monkeypatch.setattr(Route, "BASE", Route.BASE)  # restored after the test
    # scale: per-route windows 50 times shorter, so a test's bursts wait milliseconds
    async with FakeDiscord(scale=50.0) as server:
        yield server


async def add_pilots(db: Database, people: dict[int, str], joined: datetime) -> None:
    for user_id, name in people.items():
        await upsert_member(
            db,
            "discord",
            str(user_id),
            joined,
            display_name=name,
            first_name=name.split()[0],
            cohort="pilot",
            joined_at=joined,
            timezone="Europe/London",
            locale="en",
        )


async def make_bot(
    fake: FakeDiscord, db: Database, clock: SimulatedClock, people: dict[int, str]
) -> tuple[Rallybot, DiscordAdapter]:
    settings = discord_settings(
        fake, channel_map={"announcements": str(CHANNEL)}, admins=[f"discord:{BOB}"]
    )
    client = await ready_client(fake, people)
    adapter = DiscordAdapter(settings=settings, db=db, clock=clock, client=client)
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[EXAMPLE])
    await bot.reload()
    await bot.start_adapter()
    return bot, adapter


async def sent_rows(db: Database) -> list[Delivery]:
    async with db.session() as s:
        return list((await s.execute(sa.select(Delivery))).scalars().all())


def messages_everywhere(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [m for channel in fake.messages.values() for m in channel.values()]


async def test_the_example_campaign_runs_on_discord_once_per_delivery(
    fake: FakeDiscord, db: Database
) -> None:
    people = {ALICE: "Alice", BOB: "Bob", **PILOTS}
    build_world(fake, people)
    clock = SimulatedClock(LAUNCH - timedelta(days=31))
    bot, adapter = await make_bot(fake, db, clock, people)
    try:
        await add_pilots(db, PILOTS, LAUNCH)
        await bot.advance_to(LAUNCH + timedelta(days=8))
    finally:
        await bot.shutdown()
        await adapter.client.close()

    rows = await sent_rows(db)
    assert Counter(r.status for r in rows) == Counter({"sent": len(rows)})
    pilots = len(PILOTS)
    assert Counter(r.step_id for r in rows) == {
        "teaser-1": 1,
        "teaser-2": 1,
        "teaser-3": 1,
        "teaser-4": 1,
        "teaser-eve": 1,
        "ceo-announcement": 1,
        "digest": 1,  # Monday 21 September
        "pilot-invitation": pilots,
        "welcome": pilots,
        "profile-nudge": pilots,
        "mobile-app": pilots,
    }
    # Every delivery reached Discord exactly once: one message per sent row, no more.
    everything = messages_everywhere(fake)
    assert len(everything) == len(rows)
    assert sorted(m["id"] for m in everything) == sorted(r.platform_message_id for r in rows)
    # Channel posts went to the mapped channel, in order; the CEO through the webhook, pinned.
    posts = fake.messages_in(CHANNEL)
    post_rows = sorted((r for r in rows if r.recipient.startswith("channel:")), key=_due)
    assert [m["id"] for m in posts] == [r.platform_message_id for r in post_rows]
    ceo = next(m for m in posts if m.get("webhook_id"))
    spec = example_step("ceo-announcement")
    assert ceo["author"]["username"] == spec["sender"]["name"]
    assert ceo["_avatar_url"] == spec["sender"]["icon"]
    assert ceo["embeds"][0]["title"] == spec["title"]
    assert fake.pins[CHANNEL] == [int(ceo["id"])]
    assert all("{" not in m["content"] for m in everything)  # placeholders filled in
    # Each pilot got each of the four direct messages once, the invitation with its button.
    for user_id in PILOTS:
        dms = fake.dms_to(user_id)
        assert len(dms) == 4
        (button,) = custom_ids(dms[0])
        assert button.startswith("rb:pilot-rsvp:")
        assert "Pilot" in dms[0]["content"]  # the first name filled in
    assert fake.dms_to(ALICE) == []  # not in the pilot cohort
    # Every keyed send carried its nonce.
    nonces = {c.json.get("nonce") for c in fake.calls_to(SEND)}
    assert {nonce_for(r.key) for r in rows if r.step_id != "ceo-announcement"} == nonces


def example_step(step_id: str) -> dict[str, Any]:
    """A step of the shipped example, as written in the file."""
    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    step: dict[str, Any] = next(s for s in spec["steps"] if s["id"] == step_id)
    return step


def _due(row: Delivery) -> datetime:
    return row.due_at


async def test_a_global_429_during_a_fan_out_loses_and_duplicates_nothing(
    fake: FakeDiscord, db: Database
) -> None:
    pilots = {335_000_000_000_000_000 + i: f"Pioneer {i}" for i in range(1, 41)}
    build_world(fake, pilots)
    invitation_time = LAUNCH - timedelta(days=7) + timedelta(hours=1, minutes=30)
    clock = SimulatedClock(invitation_time - timedelta(minutes=1))
    bot, adapter = await make_bot(fake, db, clock, pilots)
    try:
        await add_pilots(db, pilots, LAUNCH)
        # Short global 429s that discord.py waits out itself, then one longer than its
        # patience (30 s) that comes back to the outbox as a TransientSendError.
        fake.force_429(scope="global", retry_after=0.2, times=3, route=SEND)
        fake.force_429(scope="global", retry_after=45.0, times=1, route=SEND)
        await bot.advance_to(invitation_time + timedelta(minutes=5))
    finally:
        await bot.shutdown()
        await adapter.client.close()
    assert fake.count_429("global") == 4
    rows = [r for r in await sent_rows(db) if r.step_id == "pilot-invitation"]
    assert len(rows) == 40
    assert Counter(r.status for r in rows) == Counter({"sent": 40})
    assert max(r.attempts for r in rows) == 2  # the one that hit the long 429 went again
    for user_id in pilots:
        assert len(fake.dms_to(user_id)) == 1, user_id


async def test_a_button_still_works_after_a_restart(fake: FakeDiscord) -> None:
    build_world(fake)
    first = await start_adapter(fake, Recorder())
    invite = Message(
        text="Count me in?",
        buttons=(Button(label="Count me in", action_id="pilot-rsvp", value="yes"),),
    )
    sent = await first.send_direct(str(ALICE), invite, idempotency_key="invite/alice")
    await close_adapter(first)

    sink = Recorder()
    second = await start_adapter(fake, sink)  # a new client: no view registered anywhere
    try:
        (stored,) = fake.dms_to(ALICE)
        (button,) = custom_ids(stored)
        dm = payloads.dm_channel(int(sent.channel_id), ALICE, "Alice")
        message = {k: v for k, v in stored.items() if not k.startswith("_")}
        interaction_id = click_in_dm(fake, second, button, dm, message)
        (event,) = await sink.wait_for(1)
        await tasks_settle()  # acknowledged once the handlers are done
    finally:
        await close_adapter(second)
    assert isinstance(event, ButtonClicked)
    assert (event.action_id, event.value) == ("pilot-rsvp", "yes")
    assert event.message_id == sent.message_id
    assert event.channel.is_direct
    assert event.event_id == str(interaction_id)
    assert fake.interaction_responses[0]["type"] == 6


def click_in_dm(
    fake: FakeDiscord,
    adapter: DiscordAdapter,
    custom_id: str,
    dm: dict[str, Any],
    message: dict[str, Any],
) -> int:
    from .adapter_support import click

    return click(
        fake, adapter.client, custom_id=custom_id, user_id=ALICE, channel=dm, message=message
    )


async def test_a_duplicate_command_interaction_is_answered_once(
    fake: FakeDiscord, db: Database
) -> None:
    build_world(fake)
    clock = SimulatedClock(LAUNCH)
    bot, adapter = await make_bot(fake, db, clock, {})
    try:
        interaction_id = payloads.snowflake()
        for _ in range(2):  # the gateway delivers the same interaction twice
            command(
                fake,
                adapter.client,
                "pause",
                user_id=BOB,
                options={"campaign": "connect-launch"},
                interaction_id=interaction_id,
            )
            await tasks_settle()
    finally:
        await bot.shutdown()
        await adapter.client.close()
    followups = [r for r in fake.interaction_responses if r["type"] == "followup"]
    assert [f["data"]["content"] for f in followups] == [  # the bot's default language
        "La campagne « connect-launch » est maintenant en pause."
    ]
    assert fake.dm_channel_of(BOB) is None


async def test_a_duplicate_reaction_event_acts_once(fake: FakeDiscord, db: Database) -> None:
    build_world(fake)
    clock = SimulatedClock(LAUNCH)
    bot, adapter = await make_bot(fake, db, clock, {})
    seen: list[Event] = []

    async def on_reaction(event: ReactionAdded, ctx: object) -> None:
        seen.append(event)

    bot.router.add(ReactionAdded, on_reaction)
    try:
        data = payloads.reaction_add(
            user_id=ALICE,
            channel_id=CHANNEL,
            message_id=payloads.snowflake(),
            emoji="🎉",
            guild_id=GUILD,
            user_name="Alice",
        )
        for _ in range(2):  # a resumed gateway session replays the event
            payloads.dispatch(adapter.client, "MESSAGE_REACTION_ADD", data)
            await tasks_settle()
        other = {**data, "user_id": str(BOB), "member": payloads.member(BOB, "Bob")}
        payloads.dispatch(adapter.client, "MESSAGE_REACTION_ADD", other)
        await tasks_settle()
    finally:
        await bot.shutdown()
        await adapter.client.close()
    assert [e.user.id for e in seen] == [str(ALICE), str(BOB)]


async def test_a_member_joining_the_server_is_recorded(fake: FakeDiscord, db: Database) -> None:
    build_world(fake)
    clock = SimulatedClock(LAUNCH)
    bot, adapter = await make_bot(fake, db, clock, {})
    newcomer = 336_000_000_000_000_001
    fake.add_member(GUILD, newcomer, "Chloé Petit")
    try:
        data = payloads.member_add(GUILD, newcomer, "Chloé Petit", joined_at=LAUNCH)
        for _ in range(2):  # replayed after a gateway resume: one member, one join date
            payloads.dispatch(adapter.client, "GUILD_MEMBER_ADD", data)
            await tasks_settle()
    finally:
        await bot.shutdown()
        await adapter.client.close()
    member = await get_member_by_platform_id(db, "discord", str(newcomer))
    assert member is not None
    assert member.display_name == "Chloé Petit"
    assert member.joined_at == LAUNCH
    async with db.session() as s:
        joins = (
            await s.execute(
                sa.text("SELECT count(*) FROM inbound_event WHERE kind = 'member_joined'")
            )
        ).scalar_one()
    assert joins == 1


async def test_pause_suggests_the_campaigns_while_typing(fake: FakeDiscord, db: Database) -> None:
    build_world(fake)
    bot, adapter = await make_bot(fake, db, SimulatedClock(LAUNCH), {})
    interaction_id = payloads.snowflake()
    fake.add_interaction(interaction_id, "tok", CHANNEL, type=4)
    data = payloads.command_interaction(
        interaction_id=interaction_id,
        token="tok",
        subcommand="pause",
        user_id=BOB,
        channel=payloads.text_channel(CHANNEL, GUILD, "announcements"),
        options={"campaign": "conn"},
        guild_id=GUILD,
    )
    data["type"] = 4  # APPLICATION_COMMAND_AUTOCOMPLETE
    data["data"]["options"][0]["options"][0]["focused"] = True
    try:
        payloads.dispatch(adapter.client, "INTERACTION_CREATE", data)
        await tasks_settle()
    finally:
        await bot.shutdown()
        await adapter.client.close()
    (answer,) = fake.interaction_responses
    assert answer["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    assert [c["value"] for c in answer["data"]["choices"]] == ["connect-launch"]
    assert answer["data"]["choices"][0]["name"].startswith("connect-launch (active)")


async def test_kudos_with_a_picked_member_reaches_the_points_handler(
    fake: FakeDiscord, db: Database
) -> None:
    build_world(fake)
    clock = SimulatedClock(LAUNCH)
    await add_pilots(db, PEOPLE, LAUNCH - timedelta(days=1))
    bot, adapter = await make_bot(fake, db, clock, {})
    try:
        command(
            fake,
            adapter.client,
            "kudos",
            user_id=ALICE,
            options={"reason": "great demo"},
            user_options={"member": (BOB, PEOPLE[BOB])},
        )
        await tasks_settle()
    finally:
        await bot.shutdown()
        await adapter.client.close()
    followups = [r for r in fake.interaction_responses if r["type"] == "followup"]
    assert len(followups) == 1
    assert followups[0]["data"]["content"].startswith("Kudos sent to Bob")
