"""Console fixtures: the app on both databases, signed-in clients, a live server.

``console``
    A :class:`ConsoleEnv`: the console app on the ``db_url`` database (SQLite and
    PostgreSQL), with the English example campaign loaded, a simulated clock, and settings
    where ``slack:UMANAGER`` is a community manager, ``slack:UHELPER`` a helper (always on
    duty) and ``slack:UMEMBER`` a member (all three are in the ``member`` table).
``client``
    An ``httpx.AsyncClient`` on the app (not signed in), base URL ``https://testserver``.
``as_manager``, ``as_helper``, ``as_member``
    The same client signed in as that person: :func:`sign_in` opens a session directly in
    the store and sets the cookie. They are :class:`ConsoleClient` objects: ``http.csrf``
    is the session's CSRF token, ``http.csrf_header()`` the header for a POST.
``live_console``
    The console served by uvicorn on a free port in a thread (its own database connection);
    ``live_console.url`` is its address, ``live_console.link(key)`` a one-time sign-in URL.
``chromium``
    Debian's chromium executable (installed with apt when missing and possible; under
    ``CI=true`` a missing browser fails the test instead of skipping it).
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.campaigns.schema import Campaign
from rallybot.handlers.console.app import PREFIX, create_app, standalone_app
from rallybot.handlers.console.kit import COOKIE, ConsoleState
from rallybot.handlers.console.serve import load_campaigns
from rallybot.handlers.console.sessions import create_session, create_sign_in, find_session
from rallybot.storage.database import Database, create_database
from rallybot.storage.models import Member

EXAMPLES = Path(__file__).resolve().parents[2] / "campaigns" / "examples" / "en"
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # two weeks before the example's launch
MANAGER, HELPER, MEMBER = "slack:UMANAGER", "slack:UHELPER", "slack:UMEMBER"
BASE_URL = "https://testserver"


def console_settings(**overrides: object) -> Settings:
    """Settings for console tests (nothing read from the environment's ``.env``)."""
    values: dict[str, object] = {
        "database_url": "sqlite://",
        "campaigns_dir": EXAMPLES,
        "admins": [MANAGER],
        "helpers": f"mon-sun 00:00-23:59 {HELPER}",
        "timezone": "Europe/London",
        "locale": "en",
        "console": True,
        "console_url": f"{BASE_URL}{PREFIX}",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def load_examples() -> dict[str, Campaign]:
    """The English example campaigns, by id (read as the bot reads its folder)."""
    campaigns = load_campaigns([EXAMPLES], console_settings())
    assert list(campaigns) == ["connect-launch"], list(campaigns)
    return campaigns


@dataclass
class ConsoleEnv:
    """The console under test and what it runs on."""

    db: Database
    settings: Settings
    clock: SimulatedClock
    state: ConsoleState
    app: object  # the FastAPI app (served under PREFIX by the client)


async def _add_people(db: Database) -> None:
    async with db.session() as session:
        for key, name, locale in (
            (MANAGER, "Morgan Manager", "en"),
            (HELPER, "Harper Helper", "en"),
            (MEMBER, "Mel Member", "fr"),
        ):
            platform, _, user_id = key.partition(":")
            session.add(
                Member(
                    platform=platform,
                    platform_user_id=user_id,
                    display_name=name,
                    first_name=name.split()[0],
                    locale=locale,
                    timezone="Europe/London",
                )
            )


def _env(db: Database, settings: Settings | None = None) -> ConsoleEnv:
    settings = settings or console_settings()
    clock = SimulatedClock(NOW)
    state = ConsoleState(settings, db, clock, load_campaigns=load_examples)
    return ConsoleEnv(db, settings, clock, state, create_app(state))


@pytest.fixture
async def console(db_url: str) -> AsyncIterator[ConsoleEnv]:
    """The console on ``db_url`` with the example campaign and three people."""
    db = create_database(db_url)
    try:
        await _add_people(db)
        yield _env(db)
    finally:
        await db.dispose()


def _transport(env: ConsoleEnv) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=standalone_app(env.app))  # type: ignore[arg-type]


@pytest.fixture
async def client(console: ConsoleEnv) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the console, not signed in (URLs relative to ``/console``)."""
    async with httpx.AsyncClient(
        transport=_transport(console), base_url=f"{BASE_URL}{PREFIX}", follow_redirects=False
    ) as http:
        yield http


async def sign_in(env: ConsoleEnv, http: httpx.AsyncClient, key: str) -> str:
    """Open a session for ``key`` in the store, set its cookie on ``http``; returns the
    session's CSRF token."""
    lifetime = timedelta(hours=env.settings.console_session_hours)
    token = await create_session(env.db, key, env.clock.now(), lifetime)
    http.cookies.set(COOKIE, token)
    row = await find_session(env.db, token, env.clock.now())
    assert row is not None
    return row.csrf_token


class ConsoleClient(httpx.AsyncClient):
    """A client signed in: :attr:`csrf` is its session's CSRF token, :meth:`csrf_header`
    the header that carries it (forms send it as the ``csrf_token`` field instead)."""

    csrf: str = ""

    def csrf_header(self) -> dict[str, str]:
        """``{"X-CSRF-Token": ...}`` for a POST."""
        return {"X-CSRF-Token": self.csrf}


async def _signed_in(env: ConsoleEnv, key: str) -> ConsoleClient:
    http = ConsoleClient(
        transport=_transport(env), base_url=f"{BASE_URL}{PREFIX}", follow_redirects=False
    )
    http.csrf = await sign_in(env, http, key)
    return http


@pytest.fixture
async def as_manager(console: ConsoleEnv) -> AsyncIterator[ConsoleClient]:
    """A client signed in as the community manager."""
    async with await _signed_in(console, MANAGER) as http:
        yield http


@pytest.fixture
async def as_helper(console: ConsoleEnv) -> AsyncIterator[ConsoleClient]:
    """A client signed in as a helper."""
    async with await _signed_in(console, HELPER) as http:
        yield http


@pytest.fixture
async def as_member(console: ConsoleEnv) -> AsyncIterator[ConsoleClient]:
    """A client signed in as a member (neither manager nor helper)."""
    async with await _signed_in(console, MEMBER) as http:
        yield http


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveConsole:
    """The console served for real (for the browser tests)."""

    url: str  # http://127.0.0.1:PORT/console
    env: ConsoleEnv  # its state; env.db is the test's own connection to the same database

    async def link(self, key: str = MANAGER) -> str:
        """A one-time sign-in URL for ``key``, as ``rallybot console link`` prints it."""
        token = await create_sign_in(
            self.env.db, "link", self.env.clock.now(), timedelta(minutes=15), actor=key
        )
        return f"{self.url}/signin/link/{token}"


@pytest.fixture
async def live_console(db_url: str) -> AsyncIterator[LiveConsole]:
    """The console on a free port, served by uvicorn in a thread with its own event loop
    and its own database connection (async connections belong to one loop)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}{PREFIX}"
    test_db = create_database(db_url)
    await _add_people(test_db)
    server_db = create_database(db_url)
    settings = console_settings(console_url=url)
    env = _env(server_db, settings)
    config = uvicorn.Config(
        standalone_app(env.app),  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-console", daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "the console did not start"
        yield LiveConsole(url, ConsoleEnv(test_db, settings, env.clock, env.state, env.app))
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
        await test_db.dispose()
        # server_db's connections live in the server thread's finished loop: dropped with it


def chromium_major(executable: str) -> int:
    """Chromium's major version (Playwright drives versions close to its own)."""
    out = subprocess.run([executable, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"(\d+)\.", out.stdout)
    return int(found.group(1)) if found else 0


def report_failed(request: Any, errors: list[str]) -> None:
    """Note a request the browser could not complete, unless the page itself cancelled it
    (``net::ERR_ABORTED``): a click that navigates before the favicon or a fragment has
    arrived aborts it, and nothing is broken. A refused connection or a reset still counts,
    and an answer of 400 or more is caught by the ``response`` watch."""
    failure = request.failure or ""
    if "ERR_ABORTED" not in failure:
        errors.append(f"failed: {request.url} ({failure})")


def watch_page(page: Any, errors: list[str]) -> None:
    """Note in ``errors`` what a user would see go wrong on ``page``: a console error, a script
    error, a failed request or an answer of 400 or more."""
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: report_failed(r, errors))
    page.on(
        "response", lambda r: errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None
    )


async def sign_in_with_link(page: Any, link: str) -> None:
    """Open a one-time sign-in link and press its button, as a manager does (in any language)."""
    await page.goto(link)
    await page.locator("main form button[type=submit]").click()
    await page.wait_for_url(lambda url: "/signin" not in url)


@pytest.fixture
def browser_errors() -> Iterator[list[str]]:
    """A list the browser tests fill with console errors and failed requests; it must end
    empty."""
    errors: list[str] = []
    yield errors
    assert not errors, errors
