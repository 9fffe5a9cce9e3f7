"""The HTTP Events API endpoint: signatures, translation to neutral events, deduplicated
retries, buttons, the slash command, and acknowledgements that never wait on rate limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.slack.adapter import SlackAdapter
from rallybot.bot.adapters.slack.http_guard import HANDLED_EVENTS
from rallybot.bot.adapters.slack.manifest import BOT_EVENTS
from rallybot.bot.adapters.slack.render import LINK_ACTION_PREFIX
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import (
    ButtonClicked,
    CommandInvoked,
    Event,
    HomeOpened,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ProfileChanged,
    ReactionAdded,
    ReactionRemoved,
)
from rallybot.bot.messages import Message
from rallybot.storage.database import Database
from rallybot.storage.models import InboundEvent
from tests.platform_slack import payloads as p
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import (
    NOW,
    SIGNING_SECRET,
    Sink,
    eventually,
    slack_adapter,
    slack_settings,
)
from tests.platform_slack.payloads import SlackEventPoster

T0 = int(time.time())


@dataclass
class Endpoint:
    fake: FakeSlack
    adapter: SlackAdapter
    sink: Sink
    poster: SlackEventPoster

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/slack/events"


@pytest.fixture
async def endpoint(db: Database) -> AsyncIterator[Endpoint]:
    async with FakeSlack(scale=50) as fake:
        fake.add_user("U1", "Ana")
        fake.add_channel("C1", "general", ["U1"])
        async with slack_adapter(fake, db, http_port=0) as adapter:
            sink = Sink()
            await adapter.start(sink)
            async with SlackEventPoster(SIGNING_SECRET) as poster:
                yield Endpoint(fake, adapter, sink, poster)


async def inbound_rows(db: Database) -> int:
    async with db.session() as session:
        return int(
            (
                await session.execute(sa.select(sa.func.count()).select_from(InboundEvent))
            ).scalar_one()
        )


async def test_url_verification_answers_the_challenge(endpoint: Endpoint) -> None:
    response = await endpoint.poster.post_event(endpoint.url, p.url_verification("3eZbrw1aB"))
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aB"}


@pytest.mark.parametrize("forgery", ["bad-signature", "stale-timestamp"])
async def test_forged_or_stale_requests_get_401_and_change_nothing(
    db: Database, forgery: str, tmp_path: Path
) -> None:
    async with FakeSlack(scale=50) as fake:
        clock = SimulatedClock(NOW)
        async with slack_adapter(fake, db, clock, http_port=0) as adapter:
            bot = Rallybot(slack_settings(fake), db, adapter, clock, campaign_paths=[tmp_path])
            seen: list[Event] = []

            async def on_reaction(event: ReactionAdded, ctx: object) -> None:
                seen.append(event)

            bot.router.add(ReactionAdded, on_reaction)
            await bot.start_adapter()
            url = f"http://127.0.0.1:{adapter.port}/slack/events"
            body = p.event_callback(
                p.reaction_added_event(
                    user="U1",
                    reaction="tada",
                    channel="C1",
                    ts=p.ts_at(T0),
                    event_ts=p.ts_at(T0, 1),
                ),
                event_id="Ev0FORGED",
                event_time=T0,
            )
            async with SlackEventPoster(SIGNING_SECRET) as poster:
                if forgery == "bad-signature":
                    response = await poster.post_event(url, body, secret="not-the-secret")
                else:
                    response = await poster.post_event(url, body, timestamp=int(time.time()) - 301)
                assert response.status_code == 401
                await adapter.idle()
                await bot.idle()
                assert seen == [] and await inbound_rows(db) == 0
                # The same request, properly signed, is accepted (the check above was not vacuous).
                assert (await poster.post_event(url, body)).status_code == 200
                await adapter.idle()
                await bot.idle()
            assert len(seen) == 1 and await inbound_rows(db) == 1
            await bot.shutdown()


@pytest.mark.parametrize("forgery", ["bad-signature", "stale-timestamp"])
async def test_forged_or_stale_clicks_and_commands_get_401(
    endpoint: Endpoint, forgery: str
) -> None:
    # slack-bolt no longer checks signatures itself: the guard's check is the only one, for
    # interactions and commands (which still go through slack-bolt) as for events.
    click = p.block_actions(
        user_id="U1", channel_id="C1", message_ts=p.ts_at(T0), action_id="rsvp", value="yes"
    )
    command = {"command": "/rallybot", "text": "me", "user_id": "U1", "channel_id": "C1"}
    secret = "not-the-secret" if forgery == "bad-signature" else None
    timestamp = int(time.time()) - 301 if forgery == "stale-timestamp" else None
    poster = endpoint.poster
    clicked = await poster.post_action(endpoint.url, click, timestamp=timestamp, secret=secret)
    commanded = await poster.post_command(endpoint.url, command, timestamp=timestamp, secret=secret)
    assert clicked.status_code == commanded.status_code == 401
    await endpoint.adapter.idle()
    assert endpoint.sink.events == []
    assert (await poster.post_action(endpoint.url, click)).status_code == 200
    assert len(await endpoint.sink.wait_for(1)) == 1


async def test_an_event_is_taken_without_slack_bolt_parsing_it_again(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard checked and parsed the event: it goes straight to the translation (Bolt's
    dispatch, its second parse and its listener matching cost most of an event)."""

    async def no_bolt(*args: object, **kwargs: object) -> None:
        raise AssertionError("an Events API event went through slack-bolt")

    monkeypatch.setattr(endpoint.adapter.app, "async_dispatch", no_bolt)
    body = p.event_callback(
        p.reaction_added_event(
            user="U1", reaction="tada", channel="C1", ts=p.ts_at(T0), event_ts=p.ts_at(T0, 1)
        ),
        event_id="Ev0DIRECT",
        event_time=T0,
    )
    assert (await endpoint.poster.post_event(endpoint.url, body)).status_code == 200
    [event] = await endpoint.sink.wait_for(1)
    assert isinstance(event, ReactionAdded) and event.event_id == "Ev0DIRECT"


async def test_the_bots_own_events_are_dropped_its_channel_joins_kept(endpoint: Endpoint) -> None:
    """As slack-bolt's ``ignoring_self_events`` did: the bot's own reaction, message and
    profile change are acknowledged and dropped; a member joining is kept, bot or not."""
    bot_user = endpoint.fake.bot_user_id
    ts = p.ts_at(T0)
    own = [
        p.event_callback(
            p.reaction_added_event(
                user=bot_user, reaction="eyes", channel="C1", ts=ts, event_ts=p.ts_at(T0, 1)
            ),
            event_id="Ev0OWNREACTION",
            event_time=T0,
        ),
        p.event_callback(
            p.message_event(user=bot_user, channel="C1", text="hi", ts=p.ts_at(T0, 2)),
            event_id="Ev0OWNMESSAGE",
            event_time=T0,
        ),
    ]
    kept = p.event_callback(
        p.member_joined_channel_event(user=bot_user, channel="C1", event_ts=p.ts_at(T0, 3)),
        event_id="Ev0OWNJOIN",
        event_time=T0,
    )
    for body in [*own, kept]:
        assert (await endpoint.poster.post_event(endpoint.url, body)).status_code == 200
    [event] = await endpoint.sink.wait_for(1)
    await endpoint.adapter.idle()
    assert len(endpoint.sink.events) == 1
    assert isinstance(event, MemberJoined) and event.event_id == "Ev0OWNJOIN"


async def test_events_become_neutral_events(endpoint: Endpoint) -> None:
    ts = p.ts_at(T0)
    events = [
        p.message_event(user="U1", channel="C1", text="hello", ts=ts),
        p.thread_reply_event(
            user="U1", channel="C1", text="in a thread", ts=p.ts_at(T0, 2), thread_ts=ts
        ),
        p.im_message_event(user="U1", channel="D0001", text="psst", ts=p.ts_at(T0, 3)),
        p.reaction_added_event(
            user="U1", reaction="tada", channel="C1", ts=ts, event_ts=p.ts_at(T0, 4)
        ),
        p.reaction_removed_event(
            user="U1", reaction="tada", channel="C1", ts=ts, event_ts=p.ts_at(T0, 5)
        ),
        p.member_joined_channel_event(user="U1", channel="C1", event_ts=p.ts_at(T0, 6)),
        p.team_join_event(p.user_object("U9", "zoe", "Zoé"), event_ts=p.ts_at(T0, 7)),
        p.app_mention_event(user="U1", channel="C1", text="help me", ts=p.ts_at(T0, 8)),
        p.message_changed_event(
            user="U1",
            channel="C1",
            ts=ts,
            text="hello all",
            previous_text="hello",
            edited_ts=p.ts_at(T0, 10),
        ),
        p.message_deleted_event(
            user="U1", channel="C1", deleted_ts=ts, text="hello all", event_ts=p.ts_at(T0, 11)
        ),
    ]
    ignored = [
        p.message_changed_event(  # a thread got a reply: not an edit
            user="U1", channel="C1", ts=ts, text="hello", previous_text="hello", edited_ts=None
        ),
        {
            **p.message_event(user="U1", channel="C1", text="edited", ts=ts),
            "subtype": "message_changed",
        },
        {
            **p.message_event(user="U2", channel="C1", text="beep", ts=p.ts_at(T0, 9)),
            "bot_id": "B9",
        },
    ]
    for n, event in enumerate(ignored + events):
        body = p.event_callback(event, event_id=f"Ev{n:04d}", event_time=T0 + n)
        response = await endpoint.poster.post_event(endpoint.url, body)
        assert response.status_code == 200
    received = await endpoint.sink.wait_for(len(events))
    await endpoint.adapter.idle()
    # the change without an edit, the malformed one and the bot's message are ignored
    assert len(endpoint.sink.events) == len(events)
    message, reply, direct, added, removed, joined, team_join, mention, edit, deletion = received
    assert isinstance(message, MessagePosted) and message.text == "hello"
    assert (
        message.channel.id == "C1" and not message.channel.is_direct and message.thread_id is None
    )
    assert message.user.key == "slack:U1" and message.message_id == ts
    assert isinstance(reply, MessagePosted) and reply.thread_id == ts
    assert isinstance(direct, MessagePosted) and direct.channel.is_direct
    assert isinstance(added, ReactionAdded) and (added.emoji, added.message_id) == ("tada", ts)
    assert (
        added.event_id == f"Ev{len(ignored) + 3:04d}"
        and added.author is not None
        and added.author.id == "UBOT"
    )
    assert isinstance(removed, ReactionRemoved) and removed.emoji == "tada"
    assert isinstance(joined, MemberJoined) and joined.channel is not None
    assert joined.channel.id == "C1"
    assert isinstance(team_join, MemberJoined) and team_join.channel is None
    assert team_join.user.id == "U9" and team_join.user.name == "zoe"
    assert isinstance(mention, MessagePosted) and "help me" in mention.text
    assert isinstance(edit, MessageEdited) and (edit.message_id, edit.text) == (ts, "hello all")
    assert isinstance(deletion, MessageDeleted) and deletion.message_id == ts


async def test_a_retried_event_is_handled_once(db: Database, tmp_path: Path) -> None:
    async with FakeSlack(scale=50) as fake:
        clock = SimulatedClock(NOW)
        async with slack_adapter(fake, db, clock, http_port=0) as adapter:
            bot = Rallybot(slack_settings(fake), db, adapter, clock, campaign_paths=[tmp_path])
            handled: list[Event] = []

            async def on_reaction(event: ReactionAdded, ctx: object) -> None:
                handled.append(event)

            bot.router.add(ReactionAdded, on_reaction)
            await bot.start_adapter()
            url = f"http://127.0.0.1:{adapter.port}/slack/events"
            body = p.event_callback(
                p.reaction_added_event(
                    user="U1",
                    reaction="tada",
                    channel="C1",
                    ts=p.ts_at(T0),
                    event_ts=p.ts_at(T0, 1),
                ),
                event_id="Ev0RETRY",
                event_time=T0,
            )
            async with SlackEventPoster(SIGNING_SECRET) as poster:
                first = await poster.post_event(url, body)
                # Slack did not see the answer in time and sends it again, three times.
                retries = [await poster.post_event(url, body, retry_num=n) for n in (1, 2, 3)]
            await adapter.idle()
            await bot.idle()
            assert first.status_code == 200 and all(r.status_code == 200 for r in retries)
            assert len(handled) == 1 and await inbound_rows(db) == 1
            await bot.shutdown()


async def test_button_clicks_become_button_clicked(endpoint: Endpoint) -> None:
    ts = p.ts_at(T0)
    link = p.block_actions(
        user_id="U1", channel_id="C1", message_ts=ts, action_id=f"{LINK_ACTION_PREFIX}0"
    )
    click = p.block_actions(
        user_id="U1",
        channel_id="C1",
        message_ts=ts,
        action_id="pilot-rsvp",
        value="yes",
        action_ts=p.ts_at(T0 + 5),
    )
    assert (await endpoint.poster.post_action(endpoint.url, link)).status_code == 200
    assert (await endpoint.poster.post_action(endpoint.url, click)).status_code == 200
    [event] = await endpoint.sink.wait_for(1)
    await endpoint.adapter.idle()
    assert len(endpoint.sink.events) == 1  # the link button is acknowledged and ignored
    assert isinstance(event, ButtonClicked)
    assert (event.action_id, event.value, event.message_id) == ("pilot-rsvp", "yes", ts)
    assert event.channel.id == "C1" and event.user.id == "U1"
    assert event.event_id == f"{ts}:{p.ts_at(T0 + 5)}:U1"


async def test_the_slash_command_answers_privately(db: Database, tmp_path: Path) -> None:
    async with FakeSlack(scale=50) as fake:
        fake.add_user("U1", "Ana")
        fake.add_user("U2", "Bo")
        fake.add_channel("C1", "general", ["U1"])
        fake.add_channel("C2", "other", ["U2"], bot_member=False)
        clock = SimulatedClock(NOW)
        async with slack_adapter(fake, db, clock, http_port=0) as adapter:
            bot = Rallybot(slack_settings(fake), db, adapter, clock, campaign_paths=[tmp_path])
            commands: list[CommandInvoked] = []

            async def record(event: CommandInvoked, ctx: object) -> None:
                commands.append(event)

            bot.router.add(CommandInvoked, record)
            await bot.start_adapter()
            url = f"http://127.0.0.1:{adapter.port}/slack/events"
            async with SlackEventPoster(SIGNING_SECRET) as poster:
                help_cmd = p.slash_command("", "U1", "C1")
                response = await poster.post_command(url, help_cmd)
                assert response.status_code == 200
                await adapter.idle()  # commands are handled concurrently: keep them in order
                await bot.idle()
                pause = p.slash_command("pause  connect-launch", "U1", "C1")
                assert (await poster.post_command(url, pause)).status_code == 200
                await adapter.idle()
                await bot.idle()
                # Where the bot cannot post an ephemeral message, the response_url answers.
                elsewhere = p.slash_command("help", "U1", "C1", response_url=fake.response_url("x"))
                elsewhere["channel_id"] = "C2"
                assert (await poster.post_command(url, elsewhere)).status_code == 200
            await adapter.idle()
            await bot.idle()
            await bot.shutdown()
    assert [(c.name, c.args) for c in commands] == [
        ("help", ()),
        ("pause", ("connect-launch",)),
        ("help", ()),
    ]
    assert commands[0].event_id == help_cmd["trigger_id"]
    help_reply, refusal = fake.ephemerals
    assert help_reply["user"] == "U1" and help_reply["channel"] == "C1"
    assert "/rallybot help" in help_reply["text"]
    assert "community managers" in refusal["text"]
    assert fake.responses[0]["response_type"] == "ephemeral"
    assert "/rallybot help" in fake.responses[0]["text"]
    assert fake.all_messages() == []  # nothing public


async def test_a_click_is_acknowledged_at_once_while_1000_dms_wait(db: Database) -> None:
    # Real Slack limits (scale 1): ten DMs a second at most, so a thousand are held back.
    async with FakeSlack(scale=1) as fake:
        fake.add_user("U1", "Ana")
        dms = {}
        for i in range(1000):
            fake.add_user(f"UM{i:04d}", f"Member {i}")
            dms[f"UM{i:04d}"] = fake._open_dm(f"UM{i:04d}")
        async with slack_adapter(fake, db, http_port=0, dm_channels=dms) as adapter:
            sink = Sink()
            await adapter.start(sink)
            sends = [
                asyncio.create_task(adapter.send_direct(uid, Message(text="Welcome!")))
                for uid in dms
            ]
            await eventually(lambda: adapter.limiter.waiting >= 900)
            click = p.block_actions(
                user_id="U1", channel_id="C1", message_ts=p.ts_at(T0), action_id="pilot-rsvp"
            )
            async with SlackEventPoster(SIGNING_SECRET) as poster:
                url = f"http://127.0.0.1:{adapter.port}/slack/events"
                started = time.perf_counter()
                response = await poster.post_action(url, click)
                elapsed = time.perf_counter() - started
            [event] = await sink.wait_for(1)
            held_back = adapter.limiter.waiting
            for task in sends:
                task.cancel()
            await asyncio.gather(*sends, return_exceptions=True)
    assert response.status_code == 200 and isinstance(event, ButtonClicked)
    assert elapsed < 1.0, f"the click took {elapsed:.3f}s to acknowledge"
    assert held_back >= 900  # the fan-out was still being held back by the limiter


async def test_one_members_events_keep_their_order_others_do_not_wait(db: Database) -> None:
    async with FakeSlack(scale=50) as fake, slack_adapter(fake, db, http_port=0) as adapter:
        release = asyncio.Event()
        started: list[str] = []
        handled: list[str] = []

        async def slow_sink(event: Event) -> None:
            started.append(event.event_id)
            if event.event_id == "Ev1":
                await release.wait()  # the first event of U1 takes long to record
            handled.append(event.event_id)

        await adapter.start(slow_sink)
        url = f"http://127.0.0.1:{adapter.port}/slack/events"
        async with SlackEventPoster(SIGNING_SECRET) as poster:

            async def post(n: int, user: str) -> int:
                event = p.reaction_added_event(
                    user=user,
                    reaction="tada",
                    channel="C1",
                    ts=p.ts_at(T0),
                    event_ts=p.ts_at(T0, n),
                )
                body = p.event_callback(event, event_id=f"Ev{n}", event_time=T0)
                return (await poster.post_event(url, body)).status_code

            # An event is acknowledged once the sink (the bot's recorder) has returned.
            first = asyncio.create_task(post(1, "U1"))
            await eventually(lambda: started == ["Ev1"])
            second = asyncio.create_task(post(2, "U1"))
            assert await post(3, "U2") == 200  # U2 did not wait for U1
            assert handled == ["Ev3"] and not first.done() and not second.done()
            release.set()
            assert await first == 200 and await second == 200
        await adapter.idle()
    assert handled == ["Ev3", "Ev1", "Ev2"]


async def test_a_user_change_becomes_profile_changed_and_refreshes_the_profile(
    endpoint: Endpoint,
) -> None:
    before = await endpoint.adapter.fetch_profile("U1")
    assert before is not None and not before.profile_complete
    asked = len(endpoint.fake.calls_to("users.info"))
    user = p.user_object("U1", "ana", "Ana", title="Designer", custom_image=True, locale="en-GB")
    body = p.event_callback(
        p.user_change_event(user, event_ts=p.ts_at(T0)), event_id="Ev0USRCHG", event_time=T0
    )
    response = await endpoint.poster.post_event(endpoint.url, body)
    assert response.status_code == 200
    (event,) = await endpoint.sink.wait_for(1)
    assert isinstance(event, ProfileChanged) and event.event_id == "Ev0USRCHG"
    assert event.user.id == "U1" and event.profile.profile_complete
    assert event.profile.locale == "en-GB" and event.profile.timezone == "Europe/Paris"
    # The adapter's cached profile is the new one: no users.info call, no stale answer.
    after = await endpoint.adapter.fetch_profile("U1")
    assert after == event.profile
    assert len(endpoint.fake.calls_to("users.info")) == asked


async def test_opening_the_home_tab_reaches_the_bot_over_http(endpoint: Endpoint) -> None:
    """The manifest subscribes to app_home_opened and the adapter translates it: the HTTP
    guard must let it through too, or the Home tab stays empty for every member."""
    body = {
        "type": "event_callback",
        "event_id": "Ev0HOMEHTTP",
        "event_time": T0,
        "event": {
            "type": "app_home_opened",
            "user": "U1",
            "channel": "D1",
            "tab": "home",
            "event_ts": p.ts_at(T0),
        },
    }
    assert (await endpoint.poster.post_event(endpoint.url, body)).status_code == 200
    [event] = await endpoint.sink.wait_for(1)
    assert isinstance(event, HomeOpened) and event.event_id == "Ev0HOMEHTTP"


def test_every_event_the_manifest_subscribes_to_passes_the_guard() -> None:
    subscribed = {name.split(".")[0] for name in BOT_EVENTS}  # message.im arrives as message
    assert subscribed <= HANDLED_EVENTS, subscribed - HANDLED_EVENTS
