"""Signatures checked by slack_sdk's verifier, and the payloads posted over loopback HTTP to
a bare slack-bolt ``AsyncApp``: bolt verifies, parses and routes them as it would Slack's."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.signature import SignatureVerifier

from tests.platform_slack import payloads as p
from tests.platform_slack.signing import sign

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_sign_matches_slack_sdk() -> None:
    body = b'{"type":"event_callback"}'
    headers = sign(SECRET, body, 1757925000)
    verifier = SignatureVerifier(SECRET, clock=FixedClock(1757925000 + 10))
    assert verifier.is_valid_request(body, headers)
    assert headers["X-Slack-Request-Timestamp"] == "1757925000"
    assert headers["X-Slack-Signature"].startswith("v0=")
    assert not verifier.is_valid_request(body + b" ", headers)
    assert not SignatureVerifier("another-secret", clock=FixedClock(1757925000)).is_valid_request(
        body, headers
    )
    stale = SignatureVerifier(SECRET, clock=FixedClock(1757925000 + 301))
    assert not stale.is_valid_request(body, headers)


def test_sign_matches_slacks_documented_example() -> None:
    # the worked example of Slack's "Verifying requests from Slack" guide
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&"
        b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F"
        b"96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = sign(SECRET, body, 1531420618)
    assert headers["X-Slack-Signature"] == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


@dataclass
class Bolt:
    """A bare bolt app behind an aiohttp server on loopback, recording what it routes."""

    url: str
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    retry_headers: list[str | None] = field(default_factory=list)


async def _authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(
        enterprise_id=None,
        team_id=p.TEAM_ID,
        bot_token="xoxb-test",
        bot_id="B0001",
        bot_user_id=p.BOT_USER_ID,
    )


@pytest.fixture
async def bolt() -> AsyncIterator[Bolt]:
    app = AsyncApp(signing_secret=SECRET, authorize=_authorize, process_before_response=True)
    state = Bolt(url="")

    def record(kind: str, payload: dict[str, Any], headers: dict[str, Any]) -> None:
        state.seen.append((kind, payload))
        retry = headers.get("x-slack-retry-num")
        state.retry_headers.append(retry[0] if retry else None)

    for event_type in (
        "message",
        "reaction_added",
        "reaction_removed",
        "member_joined_channel",
        "team_join",
        "app_mention",
    ):

        async def on_event(event: dict[str, Any], request: Any, ack: Any) -> None:
            await ack()
            record(event["type"], event, request.headers)

        app.event(event_type)(on_event)

    @app.action("pilot-rsvp")
    async def on_action(body: dict[str, Any], ack: Any, request: Any) -> None:
        await ack()
        record("block_actions", body, request.headers)

    @app.command("/rallybot")
    async def on_command(command: dict[str, Any], ack: Any, request: Any) -> None:
        await ack("ok")
        record("command", command, request.headers)

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    server = web.Application()
    server.router.add_post("/slack/events", handle)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}/slack/events"
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.fixture
async def poster() -> AsyncIterator[p.SlackEventPoster]:
    async with p.SlackEventPoster(SECRET) as client:
        yield client


async def test_url_verification_is_answered(bolt: Bolt, poster: p.SlackEventPoster) -> None:
    response = await poster.post_event(bolt.url, p.url_verification("chal-123"))
    assert response.status_code == 200
    assert response.json() == {"challenge": "chal-123"}


async def test_every_event_builder_is_routed_by_bolt(
    bolt: Bolt, poster: p.SlackEventPoster
) -> None:
    ts = p.ts_at(time.time())
    events = [
        p.message_event(user="U1", channel="C1", text="hello", ts=ts),
        p.thread_reply_event(user="U1", channel="C1", text="in thread", ts=ts, thread_ts="1.0"),
        p.im_message_event(user="U1", channel="D1", text="help", ts=ts),
        p.reaction_added_event(user="U1", reaction="tada", channel="C1", ts="1.0", event_ts=ts),
        p.reaction_removed_event(user="U1", reaction="tada", channel="C1", ts="1.0", event_ts=ts),
        p.member_joined_channel_event(user="U2", channel="C1", event_ts=ts),
        p.team_join_event(p.user_object("U3", "kim", "Kim Lee"), event_ts=ts),
        p.app_mention_event(user="U1", channel="C1", text="hi", ts=ts),
    ]
    for n, event in enumerate(events):
        envelope = p.event_callback(event, event_id=f"Ev{n:04d}", event_time=int(time.time()))
        response = await poster.post_event(bolt.url, envelope)
        assert response.status_code == 200, (event["type"], response.text)
    assert [kind for kind, _ in bolt.seen] == [e["type"] for e in events]
    assert [payload for _, payload in bolt.seen] == events


async def test_a_retry_carries_its_headers(bolt: Bolt, poster: p.SlackEventPoster) -> None:
    event = p.reaction_added_event(
        user="U1", reaction="tada", channel="C1", ts="1.0", event_ts="2.0"
    )
    envelope = p.event_callback(event, event_id="EvRETRY", event_time=int(time.time()))
    await poster.post_event(bolt.url, envelope)
    response = await poster.post_event(bolt.url, envelope, retry_num=1)
    assert response.status_code == 200
    assert bolt.retry_headers == [None, "1"]


async def test_a_button_click_is_routed_as_block_actions(
    bolt: Bolt, poster: p.SlackEventPoster
) -> None:
    payload = p.block_actions(
        user_id="U1",
        channel_id="C1",
        message_ts="1757925000.000100",
        action_id="pilot-rsvp",
        value="camp/step",
    )
    response = await poster.post_action(bolt.url, payload)
    assert response.status_code == 200
    [(kind, body)] = bolt.seen
    assert kind == "block_actions"
    assert body == payload
    assert body["actions"][0]["value"] == "camp/step"


async def test_a_slash_command_is_routed(bolt: Bolt, poster: p.SlackEventPoster) -> None:
    fields = p.slash_command("points", "U1", "C1")
    response = await poster.post_command(bolt.url, fields)
    assert response.status_code == 200
    assert response.text == "ok"
    [(kind, command)] = bolt.seen
    assert kind == "command"
    assert command["text"] == "points" and command["user_id"] == "U1"
    assert command["response_url"] == fields["response_url"]
    assert command["trigger_id"] == fields["trigger_id"]


async def test_a_bad_signature_is_refused(bolt: Bolt, poster: p.SlackEventPoster) -> None:
    envelope = p.event_callback(
        p.message_event(user="U1", channel="C1", text="x", ts="1.0"),
        event_id="EvBAD",
        event_time=int(time.time()),
    )
    response = await poster.post_event(bolt.url, envelope, secret="not-the-secret")
    assert response.status_code == 401
    fields = p.slash_command("points", "U1", "C1")
    assert (await poster.post_command(bolt.url, fields, secret="nope")).status_code == 401
    assert bolt.seen == []


async def test_a_request_older_than_five_minutes_is_refused(
    bolt: Bolt, poster: p.SlackEventPoster
) -> None:
    payload = p.block_actions(
        user_id="U1", channel_id="C1", message_ts="1.0", action_id="pilot-rsvp"
    )
    response = await poster.post_action(bolt.url, payload, timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    assert bolt.seen == []


async def test_the_body_is_what_slack_sends(poster: p.SlackEventPoster) -> None:
    captured: list[tuple[str, bytes]] = []

    async def capture(request: web.Request) -> web.Response:
        captured.append((request.content_type, await request.read()))
        return web.Response(text="")

    server = web.Application()
    server.router.add_post("/", capture)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
    try:
        await poster.post_event(url, {"a": 1})
        await poster.post_action(url, {"type": "block_actions"})
        await poster.post_command(url, {"command": "/rallybot", "text": "help me"})
    finally:
        await runner.cleanup()
    assert captured == [
        ("application/json", b'{"a":1}'),
        ("application/x-www-form-urlencoded", b"payload=%7B%22type%22%3A%22block_actions%22%7D"),
        ("application/x-www-form-urlencoded", b"command=%2Frallybot&text=help+me"),
    ]
    assert json.loads(captured[0][1]) == {"a": 1}
