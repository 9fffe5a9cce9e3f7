"""Serving the console: in the bot (mounted or on its own port), alone, and one-time links."""

from __future__ import annotations

import logging
import socket
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app as cli
from rallybot.bot.feature import NotServed
from rallybot.bot.http import HttpServer, Readiness, add_probes
from rallybot.bot.metrics import Metrics
from rallybot.bot.runner import run_bot
from rallybot.handlers.console.kit import Role, role_of
from rallybot.handlers.console.serve import LinkRefused, attach_to_bot, make_link, roster_state
from rallybot.storage.migrate import upgrade
from rallybot.storage.repositories import upsert_member
from tests.console.conftest import (
    HELPER,
    MANAGER,
    MEMBER,
    ConsoleEnv,
    console_settings,
    load_examples,
)


async def test_a_link_for_the_only_manager_signs_in_once(
    console: ConsoleEnv, client: httpx.AsyncClient
) -> None:
    url = await make_link(console.settings, console.db, console.clock, None, None)
    assert url.startswith("https://testserver/console/signin/link/")
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits
    signed = await client.post("/signin/link", data={"token": token})
    assert signed.status_code == 303
    assert (await client.get("/api/audit")).status_code == 200


async def test_a_link_names_a_manager_and_the_port(console: ConsoleEnv) -> None:
    settings = console_settings(console_url=None, admins=[MANAGER, "discord:7"], http_port=8081)
    with pytest.raises(LinkRefused, match="--manager"):
        await make_link(settings, console.db, console.clock, None, None)
    with pytest.raises(LinkRefused, match="neither a community manager"):
        await make_link(settings, console.db, console.clock, MEMBER, None)
    url = await make_link(settings, console.db, console.clock, "discord:7", 9000)
    assert url.startswith("http://127.0.0.1:9000/console/signin/link/")
    url = await make_link(settings, console.db, console.clock, MANAGER, None)
    assert url.startswith("http://127.0.0.1:8081/console/signin/link/")


COMMUNITY = """community: connect
managers: [lead@example.com, gone@example.com]
"""


async def test_a_link_offers_people_not_the_files_e_mails(
    console: ConsoleEnv, tmp_path: Path
) -> None:
    # The community file names its managers by e-mail; the console platform finds them among
    # the roster's members. One is in the roster (console:lead), the other in none.
    (tmp_path / "community.yaml").write_text(COMMUNITY, encoding="utf-8")
    settings = console_settings(campaigns_dir=tmp_path, admins=[])
    with pytest.raises(LinkRefused) as refused:
        await make_link(settings, console.db, console.clock, None, None)
    text = refused.value.text("en")
    assert "no roster lists lead@example.com, gone@example.com" in text
    assert "any:" not in text  # placeholders are no one to sign in as
    with pytest.raises(LinkRefused, match="not a platform:id key"):
        await make_link(settings, console.db, console.clock, "any:gone@example.com", None)
    await upsert_member(
        console.db, "console", "lead", console.clock.now(), email="Lead@example.com"
    )
    url = await make_link(settings, console.db, console.clock, None, None)  # the only person
    assert "/signin/link/" in url
    with pytest.raises(LinkRefused, match="not a platform:id key"):
        await make_link(settings, console.db, console.clock, "any:gone@example.com", None)
    # the console served alone knows them the same way, so the link signs them in
    state = await roster_state(settings, console.db, console.clock)
    assert role_of(state.settings, "console:lead") is Role.MANAGER
    assert role_of(state.settings, "console:gone") is Role.MEMBER


async def test_several_managers_are_offered_by_their_keys(
    console: ConsoleEnv, tmp_path: Path
) -> None:
    (tmp_path / "community.yaml").write_text(COMMUNITY, encoding="utf-8")
    await upsert_member(
        console.db, "console", "lead", console.clock.now(), email="lead@example.com"
    )
    settings = console_settings(campaigns_dir=tmp_path, admins=["slack:U1"])
    with pytest.raises(LinkRefused) as refused:
        await make_link(settings, console.db, console.clock, None, None)
    # gone@example.com is in no roster: not offered as any:gone@example.com
    assert refused.value.text("en").endswith("--manager, one of: slack:U1, console:lead")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("own_port", [False, True])
async def test_the_bot_serves_the_console(console: ConsoleEnv, own_port: bool) -> None:
    server = HttpServer("127.0.0.1", 0)
    add_probes(server, Readiness(), Metrics())
    await server.start()
    port = _free_port() if own_port else None
    settings = console_settings(console_port=port, console_url=None)
    bot = SimpleNamespace(db=console.db, settings=settings, campaigns=load_examples())
    own = await attach_to_bot(settings, server, bot, console.clock)  # type: ignore[arg-type]
    try:
        assert (own is not None) == own_port
        base = own.url if own is not None else server.url
        async with httpx.AsyncClient() as http:
            page = await http.get(f"{base}/console/signin")
            assert page.status_code == 200 and "Sign in" in page.text
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
            probe = await http.get(f"{server.url}/healthz")  # the probes stay where they were
            assert probe.status_code == 200
            if own is not None:
                root = await http.get(f"{own.url}/")
                assert root.headers["location"] == "/console/"
    finally:
        if own is not None:
            await own.stop()
        await server.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("own_port", [False, True])
async def test_the_bot_sends_the_bare_console_address_to_the_public_one(
    console: ConsoleEnv, own_port: bool
) -> None:
    public = "http://intranet.example.com/tools/rallybot/console"
    server = HttpServer("127.0.0.1", 0)
    await server.start()
    port = _free_port() if own_port else None
    settings = console_settings(console_port=port, console_url=public)
    bot = SimpleNamespace(db=console.db, settings=settings, campaigns=load_examples())
    own = await attach_to_bot(settings, server, bot, console.clock)  # type: ignore[arg-type]
    try:
        base = own.url if own is not None else server.url
        async with httpx.AsyncClient() as http:
            bare = await http.get(f"{base}/console")  # what a proxy forwards for the prefix
            assert bare.status_code == 307
            assert bare.headers["location"] == f"{public}/"
            if own is not None:
                root = await http.get(f"{own.url}/")
                assert root.headers["location"] == f"{public}/"
    finally:
        if own is not None:
            await own.stop()
        await server.stop()


def test_console_link_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "rallybot.db"
    upgrade(f"sqlite:///{database}")
    monkeypatch.chdir(tmp_path)
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "RALLYBOT_ADMINS": "slack:U1",
        "RALLYBOT_CAMPAIGNS_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(
        cli, ["--locale", "en", "console", "link", "--port", "8099"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8099/console/signin/link/" in result.output
    refused = CliRunner().invoke(
        cli, ["--locale", "en", "console", "link", "--manager", "slack:U2"], env=env
    )
    assert refused.exit_code == 1
    assert "neither a community manager" in refused.output


def test_console_link_refuses_a_database_that_is_not_the_bots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DATABASE_URL pointing elsewhere (here: no file yet): no database made, no useless link
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "rallybot.db"
    env = {
        "DATABASE_URL": f"sqlite:///{elsewhere}",
        "RALLYBOT_ADMINS": "slack:U1",
        "RALLYBOT_CAMPAIGNS_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(cli, ["--locale", "en", "console", "link"], env=env)
    assert result.exit_code == 1
    assert "has no Rallybot tables, so it is not the bot's" in result.output
    assert "/signin/link/" not in result.output
    assert not elsewhere.exists()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_bot_on_a_simulated_clock_keeps_real_time_for_sign_in(console: ConsoleEnv) -> None:
    """`rallybot run --clock simulated --speed 3600` plays a day in 24 s: a session must still
    last real hours, a link printed by `rallybot console link` (real time) must work, and the
    audit log must say when things really happened."""
    from datetime import timedelta

    from rallybot.bot.clock import SystemClock, utcnow

    server = HttpServer("127.0.0.1", 0)
    await server.start()
    settings = console_settings(console_url=None, http_port=server.port)
    bot = SimpleNamespace(db=console.db, settings=settings, campaigns=load_examples())
    await attach_to_bot(settings, server, bot, console.clock)  # type: ignore[arg-type]
    try:
        url = await make_link(settings, console.db, SystemClock(), MANAGER, server.port)
        token = url.rsplit("/", 1)[1]
        async with httpx.AsyncClient(base_url=f"{server.url}/console") as http:
            signed = await http.post("/signin/link", data={"token": token})
            assert signed.status_code == 303, signed.text
            console.clock.advance(timedelta(days=2))  # two simulated days: minutes of real time
            audit = await http.get("/api/audit")
            assert audit.status_code == 200, audit.text
            entries = audit.json()["entries"]
            assert entries, audit.text
            at = entries[0]["at"]
            assert abs((utcnow() - datetime.fromisoformat(at)).total_seconds()) < 600, at
    finally:
        await server.stop()


async def test_start_up_lines_say_the_bound_address_and_what_is_served(
    console: ConsoleEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = console_settings(console_host="0.0.0.0", console_port=_free_port(), console_url=None)
    bot = SimpleNamespace(db=console.db, settings=settings, campaigns=load_examples())
    own = await attach_to_bot(settings, None, bot, console.clock)  # type: ignore[arg-type]
    assert own is not None
    try:
        lines = [r.getMessage() for r in caplog.records if "listening" in r.getMessage()]
        assert lines, caplog.text
        for line in lines:
            assert f"http://0.0.0.0:{own.port}" in line
            assert "127.0.0.1" not in line and "/healthz" not in line and "/metrics" not in line
            assert "/console" in line
    finally:
        await own.stop()


async def test_a_helper_gets_a_link_to_the_help_desk(
    console: ConsoleEnv, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """On the console platform a link is the only way in: a helper gets one too, and lands on
    the help desk (the only pages a helper sees)."""
    # (the settings' rota, not the example community file's: that one names other helpers)
    settings = console_settings(campaigns_dir=tmp_path)
    url = await make_link(settings, console.db, console.clock, HELPER, None)
    token = url.rsplit("/", 1)[1]
    signed = await client.post("/signin/link", data={"token": token})
    assert signed.status_code == 303, signed.text
    home = await client.get("/", follow_redirects=True)
    assert home.status_code == 200 and str(home.url).endswith("/helpdesk"), home.url
    assert (await client.get("/campaigns")).status_code == 403


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_taken_console_port_stops_the_console_not_the_bot(
    console: ConsoleEnv, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        settings = console_settings(console_port=port, console_url=None, locale="fr")
        bot = SimpleNamespace(db=console.db, settings=settings, campaigns=load_examples())
        with pytest.raises(NotServed) as refused:
            await attach_to_bot(settings, None, bot, console.clock)  # type: ignore[arg-type]
    said = refused.value.text("fr")
    assert said.startswith(
        f"La console web est arrêtée : le port {port} sur 127.0.0.1 est déjà pris par un "
        "autre programme."
    )
    assert "RALLYBOT_CONSOLE_PORT" in said
    # in the logs (English), the same words
    assert f"port {port} on 127.0.0.1 is already taken" in str(refused.value)


async def test_a_console_sharing_no_server_says_so(console: ConsoleEnv) -> None:
    settings = console_settings(console_url=None, locale="de")
    bot = SimpleNamespace(db=console.db, settings=settings, campaigns=load_examples())
    with pytest.raises(NotServed) as refused:
        await attach_to_bot(settings, None, bot, console.clock)  # type: ignore[arg-type]
    said = refused.value.text("de")
    assert said.startswith("Die Web-Konsole ist aus") and "RALLYBOT_CONSOLE_PORT" in said


async def test_rallybot_run_says_in_french_that_the_console_port_is_taken(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c.yaml").write_text(
        "id: c\ntitle: C\ntimezone: Europe/Paris\nsteps:\n"
        "  - id: hello\n    at: 2030-01-01 09:00\n    post: general\n    text: Bonjour\n",
        encoding="utf-8",
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        settings = console_settings(
            database_url=db_url, console_port=port, console_url=None, locale="fr"
        )
        server = HttpServer("127.0.0.1", 0)
        code = await run_bot(
            settings,
            platform="console",
            campaign_paths=[tmp_path / "c.yaml"],
            watch=False,
            interactive=False,
            stop_after=1.0,
            server=server,
        )
    assert code == 0  # the bot ran on, without its console, as without its probes
    err = capsys.readouterr().err
    assert f"La console web est arrêtée : le port {port} sur 127.0.0.1 est déjà pris" in err
    assert "Le bot tourne sans la console" in err and "RALLYBOT_CONSOLE_PORT" in err


def test_rallybot_console_refuses_a_taken_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "rallybot.db"
    upgrade(f"sqlite:///{database}")
    monkeypatch.chdir(tmp_path)
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "RALLYBOT_ADMINS": "slack:U1",
        "RALLYBOT_CAMPAIGNS_DIR": str(tmp_path),
        "RALLYBOT_LOCALE": "fr",
    }
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        result = CliRunner().invoke(
            cli, ["console", "--host", "127.0.0.1", "--port", str(port)], env=env
        )
    assert result.exit_code == 2, result.output
    assert (
        f"La console ne peut pas démarrer : le port {port} sur 127.0.0.1 est déjà pris par un "
        "autre programme. Choisissez un port libre avec --port ou RALLYBOT_CONSOLE_PORT."
    ) in " ".join(result.output.split())
