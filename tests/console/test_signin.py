"""Sign-in with Slack (OpenID Connect) and Discord (OAuth2) against a local fake provider:
a manager gets in, a member gets 403, a forged state, a replayed code, a wrong nonce or a
token signed with another key are refused; sign-in attempts are rate limited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from rallybot.handlers.console.app import PREFIX, create_app, standalone_app
from rallybot.handlers.console.kit import COOKIE
from tests.console.conftest import BASE_URL, ConsoleEnv, console_settings
from tests.console.fake_oauth import FakeProvider


@dataclass
class SignInWorld:
    fake: FakeProvider
    env: ConsoleEnv
    app: object

    def browser(self) -> httpx.AsyncClient:
        """A fresh browser (its own cookies) on the console."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=standalone_app(self.app)),  # type: ignore[arg-type]
            base_url=f"{BASE_URL}{PREFIX}",
        )

    async def to_provider(self, browser: httpx.AsyncClient, platform: str) -> str:
        """Start a sign-in; the URL the provider sends the browser back to."""
        start = await browser.get(f"/signin/{platform}", params={"next": f"{PREFIX}/audit"})
        assert start.status_code == 303, start.text
        async with self.fake.client() as provider:
            approved = await provider.get(start.headers["location"])
        assert approved.status_code == 302, approved.text
        back = approved.headers["location"]
        assert back.startswith(f"{BASE_URL}{PREFIX}/signin/{platform}/callback?")
        return back


@pytest.fixture
async def world(console: ConsoleEnv) -> AsyncIterator[SignInWorld]:
    fake = FakeProvider()
    settings = console_settings(admins=["slack:UMANAGER", "discord:1001"])
    console.state.settings_ = settings
    app = create_app(console.state, providers=[fake.slack(), fake.discord()])
    yield SignInWorld(fake, console, app)


async def test_a_manager_signs_in_with_slack(world: SignInWorld) -> None:
    async with world.browser() as browser:
        page = await browser.get("/signin")
        assert "Sign in with Slack" in page.text and "Sign in with Discord" in page.text
        back = await world.to_provider(browser, "slack")
        done = await browser.get(back)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"{PREFIX}/audit"  # where they were going
        cookie = done.headers["set-cookie"]
        assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
        audit = await browser.get("/audit")
        assert audit.status_code == 200
        assert "Signed in" in audit.text and "to the console, with Slack" in audit.text
        # the token, the code and the client secret never reach a page
        assert "secret-1" not in audit.text and "code=" not in audit.text


async def test_a_manager_signs_in_with_discord(world: SignInWorld) -> None:
    world.fake.user = "1001"
    async with world.browser() as browser:
        back = await world.to_provider(browser, "discord")
        done = await browser.get(back)
        assert done.status_code == 303, done.text
        assert (await browser.get("/api/audit")).status_code == 200


@pytest.mark.parametrize("platform", ["slack", "discord"])
async def test_a_member_gets_403_and_no_session(world: SignInWorld, platform: str) -> None:
    world.fake.user = "UMEMBER" if platform == "slack" else "2002"
    async with world.browser() as browser:
        back = await world.to_provider(browser, platform)
        refused = await browser.get(back)
        assert refused.status_code == 403
        assert "neither a community manager nor a helper" in refused.text
        assert COOKIE not in browser.cookies
        assert (await browser.get("/api/audit")).status_code == 401


async def test_a_forged_state_is_refused(world: SignInWorld) -> None:
    async with world.browser() as browser:
        back = await world.to_provider(browser, "slack")
        forged = back.replace("state=", "state=forged")
        refused = await browser.get(forged)
        assert refused.status_code == 400
        assert "did not start here" in refused.text
        assert COOKIE not in browser.cookies
    # a real state, but sent to another browser (a login CSRF): refused too
    async with world.browser() as victim:
        back = await world.to_provider(victim, "slack")
    async with world.browser() as other:
        await other.get("/signin/slack")  # has a state cookie of its own
        assert (await other.get(back)).status_code == 400
        assert COOKIE not in other.cookies


async def test_a_replayed_code_is_refused(world: SignInWorld) -> None:
    async with world.browser() as browser:
        back = await world.to_provider(browser, "slack")
        assert (await browser.get(back)).status_code == 303
    # the same callback again: its state was used
    async with world.browser() as browser:
        browser.cookies.set("rallybot_console_state", back.split("state=")[1])
        replay = await browser.get(back)
        assert replay.status_code == 400
        assert COOKIE not in browser.cookies
    # the old code with a fresh state: the provider refuses it
    async with world.browser() as browser:
        fresh = await world.to_provider(browser, "slack")
        old_code = back.split("code=")[1].split("&")[0]
        new_code = fresh.split("code=")[1].split("&")[0]
        refused = await browser.get(fresh.replace(new_code, old_code))
        assert refused.status_code == 400
        assert "invalid_grant" in refused.text
        assert COOKIE not in browser.cookies


@pytest.mark.parametrize("flaw", ["wrong_nonce", "wrong_key"])
async def test_an_id_token_that_does_not_check_out_is_refused(
    world: SignInWorld, flaw: str
) -> None:
    setattr(world.fake, flaw, True)
    async with world.browser() as browser:
        back = await world.to_provider(browser, "slack")
        refused = await browser.get(back)
        assert refused.status_code == 400
        assert "ID token is not valid" in refused.text
        assert COOKIE not in browser.cookies


async def test_sign_in_attempts_are_rate_limited(world: SignInWorld) -> None:
    async with world.browser() as browser:
        codes = [(await browser.get("/signin/slack")).status_code for _ in range(12)]
        assert codes[:10] == [303] * 10
        assert codes[10:] == [429, 429]
        assert "Too many sign-in attempts" in (await browser.get("/signin/slack")).text
        limited = await browser.post("/signin/link", data={"token": "x" * 43})
        assert limited.status_code == 429


async def test_an_unknown_provider_is_404(world: SignInWorld) -> None:
    async with world.browser() as browser:
        assert (await browser.get("/signin/github")).status_code == 404


async def test_a_manager_id_from_another_workspace_is_refused(world: SignInWorld) -> None:
    # the same user id as a manager, but signed in to another workspace: someone else
    world.fake.team = "T2"
    async with world.browser() as browser:
        back = await world.to_provider(browser, "slack")
        refused = await browser.get(back)
        assert refused.status_code == 400
        assert "from another workspace" in refused.text
        assert COOKIE not in browser.cookies


async def test_without_the_bot_token_slack_sign_in_is_refused(console: ConsoleEnv) -> None:
    # the workspace cannot be checked: nobody gets in rather than anybody
    fake = FakeProvider()
    console.state.settings_ = console_settings(admins=["slack:UMANAGER"])
    provider = fake.slack()
    provider.bot_token = ""
    world = SignInWorld(fake, console, create_app(console.state, providers=[provider]))
    async with world.browser() as browser:
        back = await world.to_provider(browser, "slack")
        refused = await browser.get(back)
        assert refused.status_code == 400
        assert "workspace is unknown" in refused.text
        assert COOKIE not in browser.cookies
