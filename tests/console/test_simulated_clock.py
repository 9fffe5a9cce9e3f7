"""A console served by a bot on a simulated clock (``rallybot run --clock simulated``): every
page says so and what time it is there, and the times of the real clock beside the simulated
ones (a file's last change, the audit log) say they are real."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from rallybot.bot.clock import SimulatedClock, SystemClock, utcnow
from rallybot.handlers.console.app import PREFIX, create_app, standalone_app
from rallybot.handlers.console.kit import COOKIE, ConsoleState, Role, Viewer, audit
from rallybot.handlers.console.sessions import create_session, find_session
from tests.console.conftest import BASE_URL, MANAGER, ConsoleEnv, load_examples

SIMULATED = datetime(2026, 9, 28, 8, 0, tzinfo=UTC)  # 09:00 in London
PAGES = [
    "/campaigns",
    "/timeline",
    "/act",
    "/members",
    "/audit",
    "/indicators",
    "/approvals",
    "/drafts",
    "/helpdesk",
]


async def _client(env: ConsoleEnv, state: ConsoleState) -> httpx.AsyncClient:
    """A manager signed in on the console of ``state`` (sessions last real hours)."""
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=standalone_app(create_app(state))),  # type: ignore[arg-type]
        base_url=f"{BASE_URL}{PREFIX}",
        follow_redirects=False,
    )
    token = await create_session(env.db, MANAGER, utcnow(), timedelta(hours=1))
    assert await find_session(env.db, token, utcnow()) is not None
    http.cookies.set(COOKIE, token)
    return http


@pytest.fixture
async def simulated(console: ConsoleEnv) -> AsyncIterator[httpx.AsyncClient]:
    """The console as ``rallybot run --clock simulated --speed 3600`` serves it."""
    clock = SimulatedClock(SIMULATED, speed=3600)
    state = ConsoleState(
        console.settings, console.db, clock, load_campaigns=load_examples, wall=SystemClock()
    )
    async with await _client(console, state) as http:
        yield http


async def test_every_page_says_the_clock_is_simulated_and_what_time_it_is_there(
    simulated: httpx.AsyncClient,
) -> None:
    for page in PAGES:
        response = await simulated.get(page)
        assert response.status_code == 200, page
        assert 'class="sim-clock"' in response.text, page
        assert "Simulated clock: it is" in response.text, page
        assert "Sep 28, 2026" in response.text, page
        assert "(x3,600)" in response.text, page
    simulated.cookies.clear()
    signin = await simulated.get("/signin")  # before signing in too
    assert signin.status_code == 200
    assert "Simulated clock: it is" in signin.text


async def test_the_banner_speaks_the_communitys_language(console: ConsoleEnv) -> None:
    french = ConsoleState(
        console.settings.model_copy(update={"locale": "fr"}),
        console.db,
        SimulatedClock(SIMULATED, speed=3600),
        load_campaigns=load_examples,
        wall=SystemClock(),
    )
    async with await _client(console, french) as http:
        http.cookies.clear()  # the sign-in page speaks the community's language
        page = await http.get("/signin")
    assert "Horloge simulée : il est" in page.text
    assert "(x3\u202f600)" in page.text or "(x3\u00a0600)" in page.text


async def test_real_times_beside_simulated_ones_say_they_are_real(
    console: ConsoleEnv, simulated: httpx.AsyncClient
) -> None:
    campaigns = await simulated.get("/campaigns")
    assert "real time" in campaigns.text  # the file's last change, a real date
    manager = Viewer(MANAGER, None, "Morgan", Role.MANAGER, "en", "csrf")
    await audit(ConsoleState(console.settings, console.db, SystemClock()), manager, "pause", "x")
    log = await simulated.get("/audit")
    assert "When (real time)" in log.text


async def test_on_the_real_clock_nothing_is_said(as_manager: httpx.AsyncClient) -> None:
    """The test console's standing clock is no bot's simulated one: no banner, no label."""
    for page in ("/campaigns", "/audit"):
        response = await as_manager.get(page)
        assert response.status_code == 200
        assert "Simulated clock" not in response.text
        assert "real time" not in response.text
