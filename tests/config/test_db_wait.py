"""An unreachable database at start: retried with backoff for a configurable time, then one
line; failures that waiting cannot fix are reported at once."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import make_url

from rallybot.storage.database import DatabaseUnreachable, wait_for_database


def _refused_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_backoff_doubles_until_the_time_is_up(caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://rallybot:pw-s3cret@127.0.0.1:{_refused_port()}/rallybot"
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, "rallybot.storage"),
        pytest.raises(DatabaseUnreachable) as caught,
    ):
        await wait_for_database(url, within=1.6, first_delay=0.2)
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 6.0  # the deadline, plus a busy machine's slack
    delays = [float(r.getMessage().rsplit("retrying in ", 1)[1].split()[0]) for r in caplog.records]
    # 0.2, 0.4, 0.8, then what is left of the 1.6 s (less when attempts are slow)
    assert delays[:2] == [0.2, 0.4] and len(delays) >= 3
    assert all(later <= 2 * earlier for earlier, later in itertools.pairwise(delays))
    assert sum(delays) <= 1.6
    message = str(caught.value)
    assert "\n" not in message and "pw-s3cret" not in message
    assert message.startswith(
        f"Cannot reach the database postgresql://rallybot:***@127.0.0.1:{url.split(':')[3]}"
    )
    assert f"after 1.6 s and {len(delays) + 1} attempts" in message
    assert all("pw-s3cret" not in r.getMessage() for r in caplog.records)


async def test_no_wait_means_one_attempt() -> None:
    url = f"postgresql://rallybot@127.0.0.1:{_refused_port()}/rallybot"
    with pytest.raises(DatabaseUnreachable, match=r"Cannot reach the database .*: \[Errno"):
        await wait_for_database(url, within=0)


async def test_a_sqlite_file_that_cannot_be_opened_fails_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'rallybot.db'}"
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable) as caught:
        await wait_for_database(url, within=30)
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        f"Cannot use the database {url}: unable to open database file (does its folder exist, "
        "and may this user write there?)"
    )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_database_that_comes_up_while_waiting_is_used(db_url: str) -> None:
    """A proxy to the test server that only starts listening after a while, as PostgreSQL
    does when its container starts at the same time as the bot's."""
    target = make_url(db_url)
    port = _refused_port()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(target.host, target.port or 5432)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def open_later() -> asyncio.Server:
        await asyncio.sleep(1.0)
        return await asyncio.start_server(forward, "127.0.0.1", port)

    later = asyncio.create_task(open_later())
    url = target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    try:
        attempts = await wait_for_database(url, within=20, first_delay=0.2)
    finally:
        server = await later
        server.close()
    assert attempts >= 3  # refused at 0 s, 0.2 s and 0.6 s; through at about 1.4 s


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_missing_database_is_not_waited_for(db_url: str) -> None:
    url = make_url(db_url).set(database="rallybot_no_such_db").render_as_string(False)
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable, match='database "rallybot_no_such_db" does not exist'):
        await wait_for_database(url, within=30)
    assert time.monotonic() - started < 5


def test_commands_that_write_refuse_an_in_memory_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from rallybot.bot.cli import app

    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    for command in (["db", "upgrade"], ["campaign", "pause", "launch"]):
        result = CliRunner().invoke(app, ["--locale", "en", *command])
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            'Invalid setting DATABASE_URL="sqlite://": DATABASE_URL must start with sqlite:/// '
            "or postgresql:// (got a URL starting with 'sqlite')."
        ]
