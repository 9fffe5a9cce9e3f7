"""Every route of every page checks the role: listed from PAGES, so a new page is covered
the day it is added. Anonymous visitors are sent to sign in (pages) or get 401 (API); a
member's session gets 403 everywhere, even with its own CSRF token; a helper's gets 403 on
every page that is not theirs."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute

from rallybot.handlers.console.kit import COOKIE, Role
from rallybot.handlers.console.pages import PAGES
from tests.console.conftest import ConsoleClient, ConsoleEnv, console_settings


def _routes() -> list[tuple[str, str, Role]]:
    """(method, path, role of its page) for every route of every page."""
    found: list[tuple[str, str, Role]] = []
    for page in PAGES:
        for prefix, router in (("", page.router), ("/api", page.api)):
            for route in router.routes:
                assert isinstance(route, APIRoute)
                path = prefix + re.sub(r"\{[^}]+\}", "1", route.path)
                found.extend((method, path, page.role) for method in sorted(route.methods))
    return found


ROUTES = _routes()


def test_the_pages_have_routes() -> None:
    assert len(ROUTES) >= 10
    assert ("GET", "/api/audit", Role.MANAGER) in ROUTES


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_anonymous_visitors_get_nothing(client: httpx.AsyncClient) -> None:
    for method, path, _ in ROUTES:
        response = await client.request(method, path)
        # a POST without a session has no CSRF token: refused before anything else
        api = path.startswith("/api/")
        expected = (401 if api else 303) if method == "GET" else 403
        assert response.status_code == expected, (method, path, response.status_code)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_member_gets_403_everywhere(as_member: ConsoleClient) -> None:
    for method, path, _ in ROUTES:
        response = await as_member.request(method, path, headers=as_member.csrf_header())
        assert response.status_code == 403, (method, path, response.status_code)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_helper_gets_403_on_the_managers_pages(as_helper: ConsoleClient) -> None:
    for method, path, role in ROUTES:
        if role is not Role.MANAGER:
            continue
        response = await as_helper.request(method, path, headers=as_helper.csrf_header())
        assert response.status_code == 403, (method, path, response.status_code)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_openapi_document_describes_the_api_only(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    paths = list(document["paths"])
    assert paths and all(path.startswith("/api/") for path in paths), paths


SECRETS = {
    "slack_bot_token": "xoxb-not-for-pages-0001",
    "slack_signing_secret": "signing-not-for-pages-0002",
    "slack_client_secret": "client-not-for-pages-0003",
    "discord_token": "discord-not-for-pages-0004",
    "discord_client_secret": "discord-client-not-for-pages-0005",
    "secret_key": "key-not-for-pages-0006",
}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_no_token_or_secret_reaches_a_page(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    console.state.settings_ = console_settings(**SECRETS)
    session_token = as_manager.cookies[COOKIE]
    shown = 0
    for method, path, _ in ROUTES:
        if method != "GET":
            continue
        response = await as_manager.get(path)
        shown += response.status_code == 200
        for secret in (*SECRETS.values(), session_token):
            assert secret not in response.text, (path, secret)
    assert shown >= 5
