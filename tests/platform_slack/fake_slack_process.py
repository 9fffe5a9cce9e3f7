"""The fake Slack in a process of its own, for tests that measure rates against its limits.

In a thread of the test's process, the fake shares the interpreter lock with the bots: when
the bots keep the lock busy, the fake reads the calls that arrived meanwhile late and all at
once, and its buckets (which count calls when they are read) see a burst that no bot sent.
Slack reads calls on its own machines; so does this fake, in its own process. What it saw is
brought back by :meth:`FakeSlackProcess.collect`.

A process of its own is not enough on a loaded machine of two cores: the fake may still wait
a few hundred milliseconds for a core, then read a backlog at once. The bots' HTTP sessions
therefore stamp each call with the moment it was sent (:func:`stamping_session`), and the
fake judges its limits at that moment (:data:`~tests.platform_slack.fake_slack.SENT_AT`).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

import aiohttp

from tests.platform_slack.fake_slack import SENT_AT, FakeCall, FakeLimit, FakeSlack

__all__ = ["FakeSlackProcess", "stamping_session"]

_START_TIMEOUT = 60.0


async def _stamp(
    _session: aiohttp.ClientSession, _context: object, params: aiohttp.TraceRequestStartParams
) -> None:
    params.headers[SENT_AT] = repr(time.monotonic())


def stamping_session() -> aiohttp.ClientSession:
    """An HTTP session like the Slack adapter's own, that stamps every call with the moment
    it is sent; give it to an adapter (``adapter.web.session = ...``) before its start."""
    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(_stamp)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64), trace_configs=[trace])


def _serve(conn: Connection, scale: float, users: Sequence[str]) -> None:
    """The child: a fake with ``users`` (and a DM with each), serving until told to stop."""

    async def main() -> None:
        async with FakeSlack(scale=scale) as fake:
            dms = {}
            for user_id in users:
                fake.add_user(user_id, f"Member {user_id}")
                dms[user_id] = fake._open_dm(user_id)
            conn.send(
                {
                    "api_url": fake.api_url,
                    "bot_token": fake.bot_token,
                    "app_token": fake.app_token,
                    "limits": fake.limits,
                    "dms": dms,
                }
            )
            loop = asyncio.get_running_loop()
            while True:
                # The pipe is read in a thread: the event loop stays free to serve the calls.
                order = await loop.run_in_executor(None, conn.recv)
                if order == "collect":
                    conn.send((fake.calls, fake.all_messages()))
                else:
                    return

    asyncio.run(main())


class FakeSlackProcess:
    """A :class:`FakeSlack` with ``users`` served by a child process (``spawn``: nothing of
    the test's state, threads or event loop is copied into it).

    Use it as a context manager; :attr:`api_url`, :attr:`bot_token`, :attr:`app_token`,
    :attr:`limits` and :attr:`dms` (user id -> DM channel id) are known once entered, and
    :attr:`calls` and :meth:`all_messages` after :meth:`collect`.
    """

    def __init__(self, *, scale: float, users: Sequence[str]) -> None:
        self._scale = scale
        self._users = list(users)
        self._conn: Connection | None = None
        self._process: Any = None
        self.api_url = ""
        self.bot_token = ""
        self.app_token = ""
        self.limits: dict[str, FakeLimit] = {}
        self.dms: dict[str, str] = {}
        self.calls: list[FakeCall] = []
        self._messages: list[tuple[str, dict[str, Any]]] = []

    def __enter__(self) -> FakeSlackProcess:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, self._scale, self._users), name="fake-slack", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(_START_TIMEOUT):
            self._process.kill()
            raise RuntimeError("the fake Slack's process did not start")
        ready = parent.recv()
        self.api_url = ready["api_url"]
        self.bot_token = ready["bot_token"]
        self.app_token = ready["app_token"]
        self.limits = ready["limits"]
        self.dms = ready["dms"]
        return self

    def collect(self) -> None:
        """Bring back every call the fake received and every message it holds, so far."""
        assert self._conn is not None, "not started"
        self._conn.send("collect")
        self.calls, self._messages = self._conn.recv()

    def all_messages(self) -> list[tuple[str, dict[str, Any]]]:
        """Every (channel id, message) the fake held at the last :meth:`collect`."""
        return self._messages

    def calls_to(self, method: str, *, status: int | None = None) -> list[FakeCall]:
        """The collected calls of ``method`` (optionally only those answered ``status``)."""
        return [
            c for c in self.calls if c.method == method and (status is None or c.status == status)
        ]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):  # the child is gone already
                self._conn.send("stop")
            self._conn.close()
        if self._process is not None:
            self._process.join(30)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
