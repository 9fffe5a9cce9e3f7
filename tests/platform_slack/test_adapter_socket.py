"""Socket Mode against the fake's WebSocket stand-in: connect, receive envelopes, ack them."""

from __future__ import annotations

import time

import pytest

from rallybot.bot.adapters.base import create_adapter
from rallybot.bot.adapters.slack.adapter import SlackAdapter, SlackConfigError
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import ButtonClicked, CommandInvoked, ReactionAdded
from rallybot.storage.database import Database
from tests.platform_slack import payloads as p
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import NOW, Sink, slack_adapter, slack_settings

T0 = int(time.time())


async def test_socket_mode_receives_and_acknowledges_envelopes(db: Database) -> None:
    async with FakeSlack(scale=50) as fake:
        fake.add_user("U1", "Ana")
        fake.add_channel("C1", "general", ["U1"])
        async with slack_adapter(fake, db) as adapter:
            sink = Sink()
            await adapter.start(sink)
            assert fake.calls_to("apps.connections.open")  # asked for a WebSocket URL
            await fake.wait_for_socket()
            reaction = p.event_callback(
                p.reaction_added_event(
                    user="U1",
                    reaction="wave",
                    channel="C1",
                    ts=p.ts_at(T0),
                    event_ts=p.ts_at(T0, 1),
                ),
                event_id="Ev0SOCKET",
                event_time=T0,
            )
            first = await fake.push_envelope("events_api", reaction)
            ack = await fake.wait_for_ack(first)
            click = p.block_actions(
                user_id="U1", channel_id="C1", message_ts=p.ts_at(T0), action_id="quiz", value="b"
            )
            second = await fake.push_envelope("interactive", click)
            await fake.wait_for_ack(second)
            command = p.slash_command("campaigns", "U1", "C1")
            third = await fake.push_envelope("slash_commands", command)
            await fake.wait_for_ack(third)
            events = await sink.wait_for(3)
            await adapter.stop()
            assert all(ws.closed for ws in fake.sockets)
    assert ack["envelope_id"] == first
    by_type = {type(e): e for e in events}
    assert by_type[ReactionAdded].event_id == "Ev0SOCKET"
    assert by_type[ButtonClicked].value == "b"
    assert by_type[CommandInvoked].name == "campaigns"


async def test_the_registry_builds_it_and_missing_tokens_are_named() -> None:
    async with FakeSlack() as fake:
        common = {"db": None, "clock": SimulatedClock(NOW)}
        adapter = create_adapter("slack", settings=slack_settings(fake), http_port=0, **common)
        assert isinstance(adapter, SlackAdapter) and adapter.capabilities.confirms_sends
        with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
            create_adapter("slack", settings=slack_settings(fake, slack_bot_token=None), **common)
        with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN"):
            create_adapter("slack", settings=slack_settings(fake, slack_app_token=None), **common)
        with pytest.raises(SlackConfigError, match="xapp-"):
            create_adapter(
                "slack", settings=slack_settings(fake, slack_app_token="xoxb-1"), **common
            )
        with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
            create_adapter(
                "slack",
                settings=slack_settings(fake, slack_signing_secret=None),
                http_port=8080,
                **common,
            )


async def test_a_refused_bot_token_stops_the_start(db: Database) -> None:
    async with FakeSlack() as fake:
        settings = slack_settings(fake, slack_bot_token="xoxb-revoked")
        async with slack_adapter(fake, db, settings=settings, http_port=0) as adapter:
            with pytest.raises(SlackConfigError, match=r"refused SLACK_BOT_TOKEN \(invalid_auth\)"):
                await adapter.start(Sink())
            assert adapter.port is None  # nothing was served
