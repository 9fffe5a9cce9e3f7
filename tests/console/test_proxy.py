"""The console behind a reverse proxy: links, redirects, cookies and OAuth callbacks come from
RALLYBOT_CONSOLE_URL, never from the request's Host; without it, redirects are paths."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from rallybot.handlers.console.app import PREFIX, create_app, standalone_app
from rallybot.handlers.console.kit import ConsoleState
from rallybot.handlers.console.sessions import create_sign_in
from tests.console.conftest import MANAGER, ConsoleEnv, console_settings
from tests.console.fake_oauth import FakeProvider

PUBLIC = "https://intranet.example.com/tools/rallybot/console"
SHOWN = "/tools/rallybot/console"
# what a proxy on another machine forwards, and what a hostile client sends straight
PROXY_HEADERS = {
    "Host": "intranet.example.com",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Prefix": "/tools/rallybot",
    "X-Forwarded-For": "203.0.113.7",
}
HOSTILE = {"Host": "evil.example"}


def _browser(app: object, headers: dict[str, str]) -> httpx.AsyncClient:
    """A browser reaching the console's own server (the proxy forwards to /console)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=standalone_app(app)),  # type: ignore[arg-type]
        base_url=f"http://127.0.0.1:18081{PREFIX}",
        headers=headers,
    )


@pytest.fixture
async def proxied(console: ConsoleEnv) -> AsyncIterator[tuple[ConsoleEnv, FakeProvider]]:
    """The console with RALLYBOT_CONSOLE_URL under a path prefix, and Slack sign-in."""
    fake = FakeProvider()
    console.state.settings_ = console_settings(console_url=PUBLIC)
    console.app = create_app(console.state, providers=[fake.slack()])
    yield console, fake


async def _link_token(env: ConsoleEnv) -> str:
    return await create_sign_in(
        env.db, "link", env.clock.now(), timedelta(minutes=5), actor=MANAGER
    )


def _keep(browser: httpx.AsyncClient, response: httpx.Response) -> None:
    """Keep the cookies set, as the browser on the public address does (their path is the
    public one, which the test client's own address does not match)."""
    for cookie in response.headers.get_list("set-cookie"):
        name, _, value = cookie.split(";")[0].partition("=")
        if "Max-Age=0" in cookie or value in {"", '""'}:
            browser.cookies.delete(name)
        else:
            browser.cookies.set(name, value)


def _urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src|action|hx-post|hx-get)="([^"#][^"]*)"', page)


@pytest.mark.parametrize("headers", [PROXY_HEADERS, HOSTILE], ids=["proxy", "hostile-host"])
async def test_a_link_sign_in_behind_a_proxy_stays_on_the_public_address(
    proxied: tuple[ConsoleEnv, FakeProvider], headers: dict[str, str]
) -> None:
    env, _ = proxied
    async with _browser(env.app, headers) as browser:
        asked = await browser.get("/members", params={"q": "mel"})
        assert asked.status_code == 303
        assert asked.headers["location"] == (
            f"{PUBLIC}/signin?next=%2Ftools%2Frallybot%2Fconsole%2Fmembers%3Fq%3Dmel"
        )
        signin = await browser.get("/signin", params={"next": f"{SHOWN}/members?q=mel"})
        assert signin.status_code == 200
        assert f"Path={SHOWN}/" in signin.headers["set-cookie"]
        _keep(browser, signin)
        signed = await browser.post("/signin/link", data={"token": await _link_token(env)})
        assert signed.status_code == 303
        assert signed.headers["location"] == f"{SHOWN}/members?q=mel"  # the page asked for
        cookie = next(
            c for c in signed.headers.get_list("set-cookie") if c.startswith("rallybot_console=")
        )
        assert f"Path={SHOWN}/" in cookie and "Secure" in cookie
        _keep(browser, signed)
        for path in ("/members", "/drafts", "/campaigns"):
            page = await browser.get(path)
            assert page.status_code == 200, path
            urls = _urls(page.text)
            assert urls, path
            for url in urls:
                assert url.startswith(f"{PUBLIC}/"), (path, url)
            assert "evil.example" not in page.text and "127.0.0.1" not in page.text
        members = await browser.get("/members")
        assert f'<a href="{PUBLIC}/members" aria-current="page">' in members.text
        assert f'hx-post="{PUBLIC}/drafts' in (await browser.get("/drafts")).text
        out = await browser.post("/signout", headers={"X-CSRF-Token": "wrong"})
        assert out.status_code == 403


async def test_an_oauth_sign_in_behind_a_proxy_comes_back_to_the_public_address(
    proxied: tuple[ConsoleEnv, FakeProvider],
) -> None:
    env, fake = proxied
    async with _browser(env.app, HOSTILE) as browser:
        start = await browser.get("/signin/slack", params={"next": f"{SHOWN}/audit"})
        assert start.status_code == 303
        assert (
            f"redirect_uri={PUBLIC.replace(':', '%3A').replace('/', '%2F')}"
            in (start.headers["location"])
        )
        assert all(f"Path={SHOWN}/" in c for c in start.headers.get_list("set-cookie"))
        _keep(browser, start)
        async with fake.client() as provider:
            approved = await provider.get(start.headers["location"])
        back = approved.headers["location"]
        assert back.startswith(f"{PUBLIC}/signin/slack/callback?")
        # the proxy forwards the public address to the console's /console
        done = await browser.get(back.replace(PUBLIC, ""))
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"{SHOWN}/audit"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/tools/rallybot/console/",
        f"{SHOWN}/../../other",
        f"{PREFIX}/members",  # the server's own path is not where people see the console
        "/tools/rallybot/consolex/",
    ],
)
async def test_sign_in_goes_nowhere_outside_the_console(
    proxied: tuple[ConsoleEnv, FakeProvider], target: str
) -> None:
    env, _ = proxied
    async with _browser(env.app, PROXY_HEADERS) as browser:
        _keep(browser, await browser.get("/signin", params={"next": target}))
        signed = await browser.post("/signin/link", data={"token": await _link_token(env)})
        assert signed.headers["location"] == f"{PUBLIC}/"


async def test_without_a_public_address_redirects_do_not_name_the_host(
    console: ConsoleEnv,
) -> None:
    state = ConsoleState(
        console_settings(console_url=None), console.db, console.clock, load_campaigns=dict
    )
    async with _browser(create_app(state), HOSTILE) as browser:
        asked = await browser.get("/members")
        assert asked.status_code == 303
        assert asked.headers["location"] == f"{PREFIX}/signin?next=%2Fconsole%2Fmembers"
        home = await browser.get("/")
        assert home.headers["location"] == f"{PREFIX}/signin"
        signed = await browser.post("/signin/link", data={"token": await _link_token(console)})
        assert signed.headers["location"] == f"{PREFIX}/"
        assert "Path=/console/" in signed.headers["set-cookie"]


@pytest.mark.parametrize("public", [PUBLIC, None], ids=["public", "no-public"])
async def test_the_console_without_its_final_slash_sends_to_the_public_address(
    console: ConsoleEnv, public: str | None
) -> None:
    # The proxy forwards /tools/rallybot/console as /console: the server's own redirect to
    # /console/ lost the prefix.
    state = ConsoleState(
        console_settings(console_url=public), console.db, console.clock, load_campaigns=dict
    )
    async with _browser(create_app(state), PROXY_HEADERS) as browser:
        for path in (PREFIX, "/", f"{PREFIX}?next=x"):
            sent = await browser.get(f"http://127.0.0.1:18081{path}")
            assert sent.status_code == 307, path
            expected = f"{public}/" if public else f"{PREFIX}/"
            query = "?next=x" if "?" in path else ""
            assert sent.headers["location"] == expected + query, path
