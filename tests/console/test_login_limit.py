"""The login rate limit is kept in the database: two console apps on one database (two
replicas, or ``rallybot console`` beside the bot) share it, a restart does not reset it, it
lifts after its window, and the table keeps a keyed hash of the address, never the address."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from rallybot.handlers.console.app import PREFIX, create_app, standalone_app
from rallybot.handlers.console.kit import ConsoleState
from rallybot.storage.console_models import ConsoleLoginAttempt
from rallybot.storage.database import Database, create_database
from rallybot.storage.models import table_of
from rallybot.storage.secret import server_secret
from tests.console.conftest import BASE_URL, ConsoleEnv, load_examples

ADDRESS = "203.0.113.7"
OTHER = "198.51.100.23"
ATTEMPTS = table_of(ConsoleLoginAttempt)


@pytest.fixture
async def second_db(console: ConsoleEnv, db_url: str) -> AsyncIterator[Database]:
    """Another connection pool on the same database: what a second process would open."""
    db = create_database(db_url)
    try:
        yield db
    finally:
        await db.dispose()


def _browser(app: object, address: str = ADDRESS) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(
        app=standalone_app(app),  # type: ignore[arg-type]
        client=(address, 50000),
    )
    return httpx.AsyncClient(transport=transport, base_url=f"{BASE_URL}{PREFIX}")


async def _try(app: object, address: str = ADDRESS) -> int:
    """One sign-in attempt with a one-time link that does not exist: 400, or 429 when limited."""
    async with _browser(app, address) as browser:
        response = await browser.post("/signin/link", data={"token": "x" * 43})
    return response.status_code


async def _rows(db: Database) -> list[dict[str, object]]:
    async with db.session() as session:
        result = await session.execute(sa.select(ATTEMPTS))
        return [dict(row._mapping) for row in result]


async def test_two_apps_on_one_database_share_the_limit(
    console: ConsoleEnv, second_db: Database
) -> None:
    other_state = ConsoleState(
        console.settings, second_db, console.clock, load_campaigns=load_examples
    )
    first, second = console.app, create_app(other_state)
    codes = [await _try(first) for _ in range(6)] + [await _try(second) for _ in range(4)]
    assert codes == [400] * 10
    # Both have spent the one allowance: each refuses the eleventh attempt.
    assert await _try(second) == 429
    assert await _try(first) == 429
    # Another address has its own allowance.
    assert await _try(second, OTHER) == 400
    # A restarted process (a new app, a new pool) still refuses.
    restarted = create_app(
        ConsoleState(console.settings, second_db, console.clock, load_campaigns=load_examples)
    )
    assert await _try(restarted) == 429


async def test_the_limit_lifts_after_its_window(console: ConsoleEnv) -> None:
    assert [await _try(console.app) for _ in range(10)] == [400] * 10
    console.clock.advance(timedelta(seconds=200))
    assert [await _try(console.app) for _ in range(5)] == [429] * 5  # refused ones not counted
    console.clock.advance(timedelta(seconds=101))  # 301 s after the ten attempts
    assert await _try(console.app) == 400
    # The old rows went with the window: only the last attempt is kept.
    assert len(await _rows(console.db)) == 1


async def test_the_address_is_stored_as_a_keyed_hash(console: ConsoleEnv) -> None:
    await _try(console.app)
    await _try(console.app, OTHER)
    rows = await _rows(console.db)
    secret = await server_secret(console.db, console.settings.secret_key)
    expected = {
        hmac.new(secret, f"console-login:{address}".encode(), hashlib.sha256).hexdigest()
        for address in (ADDRESS, OTHER)
    }
    assert {row["client_key"] for row in rows} == expected
    for row in rows:
        for value in row.values():
            assert ADDRESS not in str(value) and OTHER not in str(value)
    # Without the secret the key cannot be recomputed from the address alone.
    assert hashlib.sha256(f"console-login:{ADDRESS}".encode()).hexdigest() not in expected
