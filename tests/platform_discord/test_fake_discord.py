"""The fake Discord REST API, driven by discord.py's own HTTP client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from discord.http import HTTPClient, Route, handle_message_parameters

from rallybot.bot.adapters.discord.render import nonce_for, render_message
from rallybot.bot.messages import Button, Message

from .fake_discord import FakeDiscord

GUILD = 111_000_000_000_000_001
CHANNEL = 222_000_000_000_000_001
USER = 333_000_000_000_000_001
TOKEN = "fake-token"
SEND = "POST /channels/{channel_id}/messages"


def _world(fake: FakeDiscord) -> None:
    fake.add_guild(GUILD, "Acme")
    fake.add_channel(GUILD, CHANNEL, "annonces")
    fake.add_member(GUILD, USER, "Alice")


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as server:
        _world(server)
        monkeypatch.setattr(Route, "BASE", server.base_url)
        yield server


@pytest.fixture
async def http(fake: FakeDiscord) -> AsyncIterator[HTTPClient]:
    client = HTTPClient(asyncio.get_running_loop())
    me = await client.static_login(TOKEN)
    assert int(me["id"]) == fake.application_id
    yield client
    await client.close()


def _params(text: str, nonce: str | None = None) -> discord.http.MultipartParameters:
    return handle_message_parameters(content=text, nonce=nonce)


async def test_login_with_a_wrong_token_fails(fake: FakeDiscord) -> None:
    client = HTTPClient(asyncio.get_running_loop())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.static_login("wrong")
    finally:
        await client.close()
    assert fake.calls[-1].status == 401


async def test_a_repeated_nonce_returns_the_existing_message(
    fake: FakeDiscord, http: HTTPClient
) -> None:
    nonce = nonce_for("campaign/step/channel:annonces")
    first = await http.send_message(CHANNEL, params=_params("Hello", nonce))
    again = await http.send_message(CHANNEL, params=_params("Hello", nonce))
    assert first["id"] == again["id"]
    assert again["nonce"] == nonce
    assert [m["content"] for m in fake.messages_in(CHANNEL)] == ["Hello"]
    other = await http.send_message(CHANNEL, params=_params("Hello", nonce_for("other")))
    assert other["id"] != first["id"]
    assert len(fake.messages_in(CHANNEL)) == 2


async def test_a_nonce_without_enforce_nonce_does_not_deduplicate(
    fake: FakeDiscord, http: HTTPClient
) -> None:
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=CHANNEL)
    await http.request(route, json={"content": "a", "nonce": "n1"})
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=CHANNEL)
    await http.request(route, json={"content": "a", "nonce": "n1"})
    assert len(fake.messages_in(CHANNEL)) == 2


async def test_a_lost_answer_then_a_retry_with_the_same_nonce_sends_once(
    fake: FakeDiscord, http: HTTPClient
) -> None:
    fake.inject_error(503, message="Service Unavailable", route=SEND, after=True)
    nonce = nonce_for("k1")
    with pytest.raises(discord.DiscordServerError):
        await http.send_message(CHANNEL, params=_params("Once", nonce))
    assert len(fake.messages_in(CHANNEL)) == 1  # Discord created it; the answer was lost
    retried = await http.send_message(CHANNEL, params=_params("Once", nonce))
    assert retried["id"] == fake.messages_in(CHANNEL)[0]["id"]
    assert len(fake.messages_in(CHANNEL)) == 1


@pytest.mark.parametrize("scope", ["global", "user", "shared"])
async def test_a_forced_429_is_retried_by_discord_py(
    fake: FakeDiscord, http: HTTPClient, scope: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake.force_429(scope=scope, retry_after=0.05, times=1, route=SEND)  # type: ignore[arg-type]
    sent = await http.send_message(CHANNEL, params=_params("after 429"))
    assert fake.count_429(scope) == 1
    assert [m["id"] for m in fake.messages_in(CHANNEL)] == [sent["id"]]
    statuses = [c.status for c in fake.calls_to(SEND)]
    assert statuses == [429, 200]
    assert "responded with 429" in caplog.text
    if scope == "global":
        assert "Global rate limit has been hit" in caplog.text


async def test_429_answers_look_like_discord_s(fake: FakeDiscord) -> None:
    fake.force_429(scope="global", retry_after=1.5)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}/channels/{CHANNEL}/messages",
            json={"content": "x"},
            headers={"Authorization": f"Bot {TOKEN}"},
        ) as response,
    ):
        assert response.status == 429
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Via"]
        assert response.headers["Retry-After"] == "2"
        assert response.headers["X-RateLimit-Scope"] == "global"
        assert response.headers["X-RateLimit-Global"] == "true"
        assert await response.json() == {
            "message": "You are being rate limited.",
            "retry_after": 1.5,
            "global": True,
        }


async def test_route_buckets_are_honoured_without_a_single_429(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Five per window per channel: discord.py reads the headers and waits by itself."""
    caplog.set_level(logging.DEBUG, logger="discord.http")
    async with FakeDiscord(token=TOKEN, route_limits={SEND: (5, 0.3)}) as fake:
        _world(fake)
        monkeypatch.setattr(Route, "BASE", fake.base_url)
        http = HTTPClient(asyncio.get_running_loop())
        await http.static_login(TOKEN)
        try:
            await asyncio.gather(
                *(http.send_message(CHANNEL, params=_params(f"m{i}")) for i in range(12))
            )
        finally:
            await http.close()
        assert len(fake.messages_in(CHANNEL)) == 12
        assert fake.count_429() == 0
        assert "has found its initial rate limit bucket hash" in caplog.text
        assert "exhausted" in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        first = fake.calls_to(SEND)[0]
        later = fake.calls_to(SEND)[5]
        assert later.time - first.time >= 0.25  # the sixth waited for the bucket's reset


async def test_a_fan_out_beyond_the_global_limit_loses_nothing_when_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Thirty channels at once against 15 requests per second (5/s scaled by 3).

    discord.py retries a global 429 itself, but only five times per request: concurrent
    sends far beyond the limit can end in ``HTTPException(429)``. Such a send created
    nothing, and sending it again with the same nonce (what the outbox does) delivers
    every message exactly once.
    """
    async with FakeDiscord(token=TOKEN, global_limit=5, scale=3.0) as fake:
        fake.add_guild(GUILD)
        channels = [CHANNEL + i for i in range(30)]
        for cid in channels:
            fake.add_channel(GUILD, cid, f"c{cid}")
        monkeypatch.setattr(Route, "BASE", fake.base_url)
        http = HTTPClient(asyncio.get_running_loop())
        await http.static_login(TOKEN)
        pending = list(channels)
        rounds = 0
        try:
            while pending and rounds < 20:
                rounds += 1
                results = await asyncio.gather(
                    *(
                        http.send_message(cid, params=_params("hi", nonce_for(str(cid))))
                        for cid in pending
                    ),
                    return_exceptions=True,
                )
                failed = [r for r in results if isinstance(r, BaseException)]
                assert all(
                    isinstance(r, discord.HTTPException) and r.status == 429 for r in failed
                ), failed
                pending = [cid for cid, r in zip(pending, results, strict=True) if r in failed]
        finally:
            await http.close()
        assert pending == []
        assert fake.count_429("global") >= 1
        assert all(len(fake.messages_in(cid)) == 1 for cid in channels)
        accepted = sorted(c.time for c in fake.calls if c.status == 200)
        # never more than 15 accepted in any one-second window
        assert all(sum(1 for t in accepted if start <= t < start + 1.0) <= 15 for start in accepted)


async def test_dm_pin_reaction_and_edit(fake: FakeDiscord, http: HTTPClient) -> None:
    dm = await http.start_private_message(USER)
    assert dm["type"] == 1
    assert (await http.start_private_message(USER))["id"] == dm["id"]
    sent = await http.send_message(int(dm["id"]), params=_params("Welcome"))
    assert [m["content"] for m in fake.dms_to(USER)] == ["Welcome"]

    post = await http.send_message(CHANNEL, params=_params("Pin me"))
    await http.pin_message(CHANNEL, int(post["id"]))
    await http.add_reaction(CHANNEL, int(post["id"]), "🎉")
    await http.add_reaction(CHANNEL, int(post["id"]), "🎉")
    edited = await http.edit_message(
        CHANNEL, int(post["id"]), params=handle_message_parameters(content="Edited")
    )
    assert edited["content"] == "Edited" and edited["edited_timestamp"]
    stored = await http.get_message(CHANNEL, int(post["id"]))
    assert stored["pinned"] is True
    assert stored["reactions"][0]["count"] == 1 and stored["reactions"][0]["me"] is True
    assert "nonce" not in stored
    assert fake.pins[CHANNEL] == [int(post["id"])]
    assert sent["channel_id"] == dm["id"]


async def test_a_user_with_closed_dms_gets_50007(fake: FakeDiscord, http: HTTPClient) -> None:
    fake.block_dms(USER)
    dm = await http.start_private_message(USER)
    with pytest.raises(discord.Forbidden) as info:
        await http.send_message(int(dm["id"]), params=_params("Hello"))
    assert info.value.code == 50007


async def test_discord_validation_rejects_what_discord_rejects(
    fake: FakeDiscord, http: HTTPClient
) -> None:
    with pytest.raises(discord.HTTPException) as info:
        await http.send_message(CHANNEL, params=_params("x" * 2001))
    assert info.value.code == 50035
    with pytest.raises(discord.HTTPException) as info:
        await http.send_message(CHANNEL, params=handle_message_parameters(content=""))
    assert info.value.code == 50006
    with pytest.raises(discord.NotFound):
        await http.send_message(999, params=_params("x"))


async def test_the_rendered_message_is_accepted(fake: FakeDiscord, http: HTTPClient) -> None:
    message = Message(
        text="y" * 5000,
        title="Launch",
        context="ctx",
        buttons=tuple(Button(f"b{i}", action_id="go", value=str(i)) for i in range(25)),
    )
    rendered = render_message(message)
    params = handle_message_parameters(
        content=rendered.content or None,
        embeds=rendered.embeds,
        view=rendered.view,
        nonce=nonce_for("big"),
    )
    sent = await http.send_message(CHANNEL, params=params)
    assert len(sent["components"]) == 5
    assert sent["embeds"][0]["title"] == "Launch"


async def test_webhook_named_sender_and_its_edits(fake: FakeDiscord, http: HTTPClient) -> None:
    hook = await http.create_webhook(CHANNEL, name="Rallybot")
    assert [h["id"] for h in await http.channel_webhooks(CHANNEL)] == [hook["id"]]
    async with aiohttp.ClientSession() as session:
        webhook = discord.Webhook.partial(int(hook["id"]), hook["token"], session=session)
        sent = await webhook.send(
            "From the CEO",
            username="Camille",
            avatar_url="https://img.example/c.png",
            wait=True,
        )
        assert sent.author.name == "Camille"
        assert sent.webhook_id == int(hook["id"])
        with pytest.raises(discord.Forbidden) as info:  # the bot cannot edit it directly
            await http.edit_message(
                CHANNEL, sent.id, params=handle_message_parameters(content="nope")
            )
        assert info.value.code == 50005
        edited = await webhook.edit_message(sent.id, content="Edited by the webhook")
        assert edited.content == "Edited by the webhook"
    [stored] = fake.messages_in(CHANNEL)
    assert stored["_avatar_url"] == "https://img.example/c.png"
    assert stored["content"] == "Edited by the webhook"
    webhook_calls = [c for c in fake.calls if c.route.startswith("POST /webhooks/")]
    assert webhook_calls and webhook_calls[0].query["wait"] in {"1", "true"}


async def test_interaction_callback_followup_and_double_ack(
    fake: FakeDiscord, http: HTTPClient
) -> None:
    fake.add_interaction(777, "itoken", CHANNEL)
    route = Route(
        "POST",
        "/interactions/{webhook_id}/{webhook_token}/callback",
        webhook_id=777,
        webhook_token="itoken",
    )
    answer = await http.request(route, json={"type": 4, "data": {"content": "Got it", "flags": 64}})
    assert answer["interaction"]["response_message_ephemeral"] is True
    assert answer["resource"]["message"]["content"] == "Got it"
    with pytest.raises(discord.HTTPException) as info:
        again = Route(
            "POST",
            "/interactions/{webhook_id}/{webhook_token}/callback",
            webhook_id=777,
            webhook_token="itoken",
        )
        await http.request(again, json={"type": 6})
    assert info.value.code == 40060
    followup = Route(
        "POST",
        "/webhooks/{webhook_id}/{webhook_token}",
        webhook_id=fake.application_id,
        webhook_token="itoken",
    )
    sent = await http.request(followup, json={"content": "More"}, params={"wait": "true"})
    assert sent["content"] == "More"
    assert [r["type"] for r in fake.interaction_responses] == [4, "followup"]


async def test_an_interaction_acknowledged_too_late_is_unknown(
    http: HTTPClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeDiscord(token=TOKEN, interaction_deadline=0.0) as fake:
        _world(fake)
        monkeypatch.setattr(Route, "BASE", fake.base_url)
        fake.add_interaction(1, "t", CHANNEL)
        route = Route(
            "POST",
            "/interactions/{webhook_id}/{webhook_token}/callback",
            webhook_id=1,
            webhook_token="t",
        )
        with pytest.raises(discord.NotFound) as info:
            await http.request(route, json={"type": 6})
        assert info.value.code == 10062


async def test_guild_commands_bulk_overwrite(fake: FakeDiscord, http: HTTPClient) -> None:
    payload = [{"name": "rallybot", "description": "Rallybot", "type": 1, "options": []}]
    result = await http.bulk_upsert_guild_commands(fake.application_id, GUILD, payload)
    assert [c["name"] for c in result] == ["rallybot"]
    assert dict(result[0]).get("guild_id") == str(GUILD)
    again = await http.bulk_upsert_guild_commands(fake.application_id, GUILD, payload)
    assert len(fake.commands[(fake.application_id, GUILD)]) == 1
    assert again[0]["name"] == "rallybot"
    with pytest.raises(discord.Forbidden):
        await http.bulk_upsert_guild_commands(fake.application_id, 42, payload)


async def test_members_and_users(fake: FakeDiscord, http: HTTPClient) -> None:
    members = await http.get_members(GUILD, 1000, None)
    assert {m["user"]["id"] for m in members} == {str(USER), str(fake.application_id)}
    member = await http.get_member(GUILD, USER)
    assert member["user"]["global_name"] == "Alice"
    with pytest.raises(discord.NotFound):
        await http.get_member(GUILD, 5)
    assert (await http.get_user(USER))["id"] == str(USER)
