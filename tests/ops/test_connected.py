"""What ``/readyz`` asks the platform adapters: whether events can arrive."""

from __future__ import annotations

import pytest

from rallybot.bot.http import HttpServer
from rallybot.storage.database import Database
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import Sink, slack_adapter, slack_settings


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_slack_socket_mode_is_connected_while_its_socket_is_open(
    db: Database, db_url: str
) -> None:
    async with FakeSlack(scale=50) as fake:
        settings = slack_settings(fake, database_url=db_url)
        async with slack_adapter(fake, db, settings=settings) as adapter:
            assert not adapter.connected
            await adapter.start(Sink())
            await fake.wait_for_socket()
            assert adapter.connected
            await adapter.stop()
            assert not adapter.connected


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_slack_http_mode_is_connected_while_it_accepts_events(
    db: Database, db_url: str
) -> None:
    async with FakeSlack(scale=50) as fake, HttpServer("127.0.0.1", 0) as server:
        settings = slack_settings(fake, database_url=db_url)
        async with slack_adapter(
            fake, db, settings=settings, http_port=0, server=server
        ) as adapter:
            assert not adapter.connected
            await adapter.start(Sink())
            assert adapter.connected and adapter.port == server.port
            await adapter.stop()
            assert not adapter.connected
