"""The bot's HTTP server: liveness, readiness before migrations, while starting and shutting
down, route registration, and uvicorn leaving the bot's signal handlers alone."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from rallybot.bot.config import Settings
from rallybot.bot.http import HttpServer, Readiness, add_probes
from rallybot.bot.metrics import Metrics
from rallybot.bot.runner import run_bot
from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import downgrade, upgrade
from tests.ops.scenario import CAMPAIGN


async def get(server: HttpServer, path: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(server.url + path)


async def test_readyz_is_503_before_the_migrations_and_200_after(db_url: str) -> None:
    downgrade(db_url, "base")  # an empty database, as before `rallybot db upgrade`
    db = create_database(db_url)
    try:
        readiness = Readiness(db=db, started=True)
        async with HttpServer("127.0.0.1", 0) as server:
            add_probes(server, readiness, Metrics(process=False))
            # Routes added after the start are served too (adapters register theirs late).
            assert (await get(server, "/healthz")).status_code == 200
            answer = await get(server, "/readyz")
            assert answer.status_code == 503
            assert "rallybot db upgrade" in answer.json()["failed"]["schema"]
            await asyncio.to_thread(upgrade, db_url)
            answer = await get(server, "/readyz")
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"ready": True, "failed": {}}
    finally:
        await db.dispose()
        await asyncio.to_thread(upgrade, db_url)  # the session's database stays migrated


async def test_readyz_follows_the_life_cycle_and_the_platform(db: Database) -> None:
    connected = True
    readiness = Readiness(db=db, platform_connected=lambda: connected)
    metrics = Metrics(process=False)
    async with HttpServer("127.0.0.1", 0) as server:
        add_probes(server, readiness, metrics)
        answer = await get(server, "/readyz")
        assert answer.status_code == 503 and answer.json()["failed"] == {"bot": "starting"}
        readiness.started = True
        assert (await get(server, "/readyz")).status_code == 200
        assert b"rallybot_ready 1.0" in metrics.render()
        connected = False
        answer = await get(server, "/readyz")
        assert answer.status_code == 503 and answer.json()["failed"] == {
            "platform": "not connected"
        }
        connected = True
        readiness.stopping = True
        answer = await get(server, "/readyz")
        assert answer.status_code == 503 and "shutdown" in answer.json()["failed"]
        assert b"rallybot_ready 0.0" in metrics.render()
        assert (await get(server, "/healthz")).status_code == 200  # alive while stopping


async def test_an_unreachable_database_is_not_ready() -> None:
    db = create_database("postgresql://nobody@127.0.0.1:1/none")
    try:
        readiness = Readiness(db=db, started=True)
        ready, details = await readiness.check()
    finally:
        await db.dispose()
    assert not ready and details["failed"]["database"].startswith("unreachable")


async def test_a_path_is_served_once_and_the_server_stops_cleanly() -> None:
    server = HttpServer("127.0.0.1", 0)
    add_probes(server, Readiness(), Metrics(process=False))
    with pytest.raises(ValueError, match="/healthz is already served"):
        add_probes(server, Readiness(), Metrics(process=False))
    await server.start()
    port = server.port
    await server.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{port}/healthz")


async def test_requests_are_parsed_by_httptools() -> None:
    # uvicorn falls back to h11 (pure Python) without httptools: every Slack event, probe and
    # console page would cost a third more of the bot's one core.
    async with HttpServer("127.0.0.1", 0) as server:
        assert server._server is not None
        assert server._server.config.http_protocol_class.__name__ == "HttpToolsProtocol"
        assert (await get(server, "/healthz")).status_code == 404


async def test_a_busy_port_is_an_os_error() -> None:
    async with HttpServer("127.0.0.1", 0) as first:
        assert first.port is not None
        with pytest.raises(OSError):
            await HttpServer("127.0.0.1", first.port).start()


async def test_uvicorn_leaves_the_bot_signal_handlers_alone() -> None:
    def handler(signum: int, frame: object) -> None:
        return None

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        async with HttpServer("127.0.0.1", 0) as server:
            await asyncio.sleep(0.05)  # serving
            assert (await get(server, "/healthz")).status_code == 404  # no route yet
            assert signal.getsignal(signal.SIGTERM) is handler
            assert signal.getsignal(signal.SIGINT) is handler
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


async def test_rallybot_run_serves_the_probes_on_the_console(db_url: str, tmp_path: Path) -> None:
    campaign = tmp_path / "ops-check.yaml"
    campaign.write_text(CAMPAIGN, encoding="utf-8")
    settings = Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]
    server = HttpServer("127.0.0.1", 0)
    run = asyncio.create_task(
        run_bot(
            settings,
            platform="console",
            campaign_paths=[campaign],
            watch=False,
            interactive=False,
            stop_after=3.0,
            server=server,
        )
    )
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(200):
                if server.port is not None:
                    answer = await client.get(server.url + "/readyz")
                    if answer.status_code == 200:
                        break
                await asyncio.sleep(0.02)
            assert answer.status_code == 200, answer.text
            metrics = await client.get(server.url + "/metrics")
            assert "rallybot_outbox_lag_seconds" in metrics.text
    finally:
        assert await run == 0
    assert server.port is not None
    with pytest.raises(httpx.ConnectError):  # stopped with the bot
        async with httpx.AsyncClient() as client:
            await client.get(server.url + "/healthz")


async def test_an_application_can_be_mounted_beside_the_probes() -> None:
    async def hello(request: Request) -> Response:
        return PlainTextResponse("console")

    console = Starlette(routes=[Route("/", hello)])
    server = HttpServer("127.0.0.1", 0)
    add_probes(server, Readiness(), Metrics(process=False))
    server.mount("/console", console)
    with pytest.raises(ValueError, match="/console is already served"):
        server.mount("/console", console)
    async with server:
        assert (await get(server, "/console/")).text == "console"
        assert (await get(server, "/healthz")).status_code == 200


@pytest.mark.parametrize(("trusted", "client"), [(None, "203.0.113.7"), ("10.0.0.7", "127.0.0.1")])
async def test_the_trusted_proxies_are_the_servers_own(trusted: str | None, client: str) -> None:
    # FORWARDED_ALLOW_IPS from the settings (.env, --env-file), not only the environment
    async def who(request: Request) -> Response:
        return PlainTextResponse(request.client.host if request.client else "-")

    server = HttpServer("127.0.0.1", 0, forwarded_allow_ips=trusted)
    server.add_route("/who", who)
    async with server, httpx.AsyncClient() as http:
        answer = await http.get(f"{server.url}/who", headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.text == client
