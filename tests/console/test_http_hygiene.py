"""The console's HTTP hygiene: no cache for personal data, HSTS as configured, HEAD answered,
over-size uploads refused with 413 however they come, and failures answered with a proper
page (or JSON), the security headers and a short log line."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import exc as sa_exc

from rallybot.handlers.console.app import PREFIX, create_app, standalone_app
from rallybot.handlers.console.kit import ConsoleState
from rallybot.handlers.console.security import MAX_BODY
from tests.console.conftest import BASE_URL, ConsoleClient, ConsoleEnv, console_settings


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=standalone_app(app)),  # type: ignore[arg-type]
        base_url=f"{BASE_URL}{PREFIX}",
    )


async def test_pages_and_api_answers_are_never_cached(
    client: httpx.AsyncClient, as_manager: ConsoleClient
) -> None:
    for response in [
        await as_manager.get("/members"),
        await as_manager.get("/api/members"),
        await client.get("/members"),  # the redirect to sign in
        await client.get("/signin"),
        await client.get("/nowhere"),
    ]:
        assert response.headers["cache-control"] == "no-store", response.url
    static = await client.get("/static/console.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("cache-control", "")


async def test_hsts_covers_subdomains_only_when_asked(console: ConsoleEnv) -> None:
    async with _client(console.app) as http:
        assert (await http.get("/signin")).headers["strict-transport-security"] == (
            "max-age=31536000"
        )
    settings = console_settings(console_hsts_subdomains=True)
    state = ConsoleState(settings, console.db, console.clock, load_campaigns=dict)
    async with _client(create_app(state)) as http:
        assert (await http.get("/signin")).headers["strict-transport-security"] == (
            "max-age=31536000; includeSubDomains"
        )


async def test_head_is_answered_like_get_without_a_body(
    client: httpx.AsyncClient, as_manager: ConsoleClient
) -> None:
    page = await client.head("/signin")
    assert page.status_code == 200 and page.content == b""
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    api = await as_manager.head("/api/members")
    assert api.status_code == 200 and api.content == b""
    assert (await client.head("/api/members")).status_code == 401


async def test_an_over_size_chunked_upload_gets_413(as_manager: ConsoleClient) -> None:
    boundary = "b0undary"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="roster.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        for _ in range(6):
            yield b"x" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await as_manager.post(
        "/members/roster",
        content=body(),
        headers={
            **as_manager.csrf_header(),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert MAX_BODY < 6 * 1024 * 1024


@contextlib.contextmanager
def _database_down(env: ConsoleEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def session(*args: object, **kwargs: object) -> object:
        raise sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    with monkeypatch.context() as patch:
        for name in ("session", "read", "write"):
            if hasattr(env.db, name):
                patch.setattr(env.db, name, session)
        yield


def _failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("console: ")]


async def test_a_database_outage_answers_503_with_headers_and_a_short_log(
    console: ConsoleEnv,
    as_manager: ConsoleClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    console.state.settings_ = console_settings(locale="fr")
    caplog.set_level(logging.INFO, logger="rallybot.console")
    with _database_down(console, monkeypatch):
        page = await as_manager.get("/members")
        api = await as_manager.get("/api/members")
        more = [await as_manager.get("/audit") for _ in range(5)]
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert "La base de données ne répond pas" in page.text
    assert api.status_code == 503
    assert api.json() == {"detail": "La base de données ne répond pas. Réessayez dans une minute."}
    assert api.headers["x-content-type-options"] == "nosniff"
    assert all(r.status_code == 503 for r in more)
    lines = _failures(caplog)
    assert len(lines) == 7  # one line per failure
    assert [r.exc_info is not None for r in lines] == [True] + [False] * 6  # one traceback
    assert "database unavailable" in lines[0].getMessage()
    assert "/members" in lines[0].getMessage()
    assert (await as_manager.get("/members")).status_code == 200  # recovered


async def test_a_bug_answers_500_with_headers(
    console: ConsoleEnv,
    as_manager: ConsoleClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from rallybot.handlers.console import kit

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug with a secret in its words")

    caplog.set_level(logging.INFO, logger="rallybot.console")
    monkeypatch.setattr(kit, "get_member_by_platform_id", broken)
    page = await as_manager.get("/audit")
    api = await as_manager.get("/api/audit")
    assert page.status_code == 500 and api.status_code == 500
    assert "The console could not answer this request." in page.text
    assert page.headers["content-security-policy"]
    assert api.json() == {"detail": "The console could not answer this request."}
    lines = _failures(caplog)
    assert len(lines) == 2
    assert "RuntimeError" in lines[0].getMessage()
    assert all("secret" not in r.getMessage() for r in lines)
