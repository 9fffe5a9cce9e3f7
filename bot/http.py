"""The bot's one HTTP server: probes, metrics, Slack's Events API, and later the web console.

A Starlette application served by uvicorn inside the bot's event loop. uvicorn installs no
signal handler here: the bot owns SIGTERM and SIGINT and stops the server itself. Adapters
and features add their endpoints with :meth:`HttpServer.add_route` before :meth:`start`
(Slack's HTTP mode adds ``POST /slack/events``), or mount whole applications with
:meth:`HttpServer.mount`.

The probes (:func:`add_probes`):

- ``GET /healthz``: 200 while the process runs its event loop (a liveness probe).
- ``GET /readyz``: 200 when the database answers, its schema is at the revision this code
  ships, the platform is connected and the bot is not shutting down; else 503. Both answer
  a small JSON document saying which check failed.
- ``GET /metrics``: the Prometheus text format (:mod:`bot.metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from rallybot.bot.health import check_database
from rallybot.bot.metrics import CONTENT_TYPE, Metrics, refresh_from_database
from rallybot.campaigns.words import N_, Text
from rallybot.storage.database import Database

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Endpoint",
    "HttpServer",
    "Readiness",
    "add_probes",
    "bind",
    "bind_problem",
]

log = logging.getLogger("rallybot.http")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
Endpoint = Callable[[Request], Awaitable[Response]]
_CHECK_TIMEOUT = 5.0  # a probe that cannot answer in this many seconds reports failure


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers: the bot decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port``, ready for uvicorn; OSError when it cannot be
    (:func:`bind_problem` says why to a person)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def bind_problem(host: str, port: int, exc: OSError) -> Text:
    """Why ``host``:``port`` could not be bound, kept translatable (the operator reads it in
    their language; the logs in English)."""
    if exc.errno == errno.EADDRINUSE:
        return N_("port {port} on {host} is already taken by another program", port=port, host=host)
    if exc.errno == errno.EACCES:
        return N_(
            "port {port} on {host} is not allowed for this user (ports below 1024 need privileges)",
            port=port,
            host=host,
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return N_("{host} is not an address of this machine", host=host)
    return N_(
        "port {port} on {host} cannot be opened ({problem})",
        port=port,
        host=host,
        problem=exc.strerror or str(exc),
    )


class HttpServer:
    """A Starlette app on one host and port; routes are added before :meth:`start`.

    Args:
        host: the interface to listen on (``0.0.0.0`` for every interface, in a container).
        port: the TCP port; 0 picks a free one (see :attr:`port` once started).
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        forwarded_allow_ips: str | None = None,
    ) -> None:
        """A server for ``host`` and ``port``; ``forwarded_allow_ips``: the proxies trusted
        with the client's address (FORWARDED_ALLOW_IPS; None: uvicorn reads the environment)."""
        self.host = host
        self.forwarded_allow_ips = forwarded_allow_ips
        self.requested_port = port
        self.port: int | None = None
        self.app = Starlette()
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes registered so far."""
        return self.app.router.routes

    def add_route(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        methods: Sequence[str] = ("GET",),
        name: str | None = None,
    ) -> None:
        """Serve ``endpoint`` on ``path`` for ``methods``; a path is registered once."""
        if any(getattr(route, "path", None) == path for route in self.routes):
            raise ValueError(f"{path} is already served")
        self.routes.append(Route(path, endpoint, methods=list(methods), name=name))

    def add(self, route: BaseRoute) -> None:
        """Serve a ready route (the features' :meth:`bot.feature.Feature.routes`)."""
        path = getattr(route, "path", None)
        if path is not None and any(getattr(r, "path", None) == path for r in self.routes):
            raise ValueError(f"{path} is already served")
        self.routes.append(route)

    def mount(
        self,
        path: str,
        app: ASGIApp,
        *,
        name: str | None = None,
        bare: Endpoint | None = None,
    ) -> None:
        """Serve a whole ASGI application under ``path`` (a web console, static files);
        ``bare`` answers ``path`` itself, without its final slash, which the application
        never sees (left out, the server redirects it to ``path/`` on its own address)."""
        if any(getattr(route, "path", None) == path for route in self.routes):
            raise ValueError(f"{path} is already served")
        if bare is not None:
            self.routes.append(Route(path, bare))
        self.routes.append(Mount(path, app=app, name=name))

    @property
    def url(self) -> str:
        """The server's base URL (after :meth:`start`)."""
        host = "127.0.0.1" if self.host in {"0.0.0.0", ""} else self.host
        return f"http://{host}:{self.port}"

    @property
    def listening(self) -> str:
        """The address really bound, as a URL (``http://0.0.0.0:8080`` on every interface)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def served(self) -> str:
        """The paths served so far, for the logs (``/healthz /readyz /metrics /console``)."""
        paths = [str(getattr(route, "path", "")) or "/" for route in self.routes]
        return " ".join(paths) or "nothing yet"

    async def start(self) -> None:
        """Bind the port and serve; raises OSError when the port cannot be bound."""
        if self._task is not None:
            return
        sock = bind(self.host, self.requested_port)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            access_log=False,  # probes every few seconds: noise, and Slack requests carry ids
            log_config=None,  # our logging set-up (bot.logs) formats uvicorn's lines too
            server_header=False,
            forwarded_allow_ips=self.forwarded_allow_ips,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="http-server")
        while not self._server.started:
            if self._task.done():  # failed during start-up: raise its error here
                await self._task
                raise OSError(f"the HTTP server on {self.host}:{self.port} did not start")
            await asyncio.sleep(0.01)
        log.info("HTTP server listening on %s, serving %s", self.listening, self.served())

    async def stop(self) -> None:
        """Finish the requests under way and close the port."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=10.0)
        except TimeoutError:
            self._server.force_exit = True
            await self._task
        self._server = None
        self._task = None

    async def __aenter__(self) -> HttpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@dataclass
class Readiness:
    """What ``/readyz`` checks; the bot's life cycle sets the flags.

    Args:
        db: the database to check (None: not opened yet, so not ready).
        platform_connected: whether the chat platform is connected (None: no platform check).
    """

    db: Database | None = None
    platform_connected: Callable[[], bool] | None = None
    started: bool = False  # the adapter is started, the campaigns are loaded
    stopping: bool = False
    last: dict[str, Any] = field(default_factory=dict)

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(ready, details): the details name each check and what it found."""
        checks: dict[str, Any] = {}
        if self.stopping:
            checks["shutdown"] = "shutting down"
        if self.db is None:
            checks["database"] = "not opened yet"
        else:
            try:
                status = await asyncio.wait_for(check_database(self.db), _CHECK_TIMEOUT)
            except TimeoutError:
                checks["database"] = f"no answer within {_CHECK_TIMEOUT:.0f}s"
            else:
                if not status.reachable:
                    checks["database"] = f"unreachable: {status.error}"
                elif not status.at_head:
                    checks["schema"] = (
                        f"at revision {status.revision or 'none'}, expected {status.head} "
                        "(run: rallybot db upgrade)"
                    )
        if not self.started and not self.stopping:
            checks["bot"] = "starting"
        if self.platform_connected is not None and self.started and not self.platform_connected():
            checks["platform"] = "not connected"
        ready = not checks
        self.last = {"ready": ready, "failed": checks}
        return ready, self.last


def add_probes(
    server: HttpServer,
    readiness: Readiness,
    metrics: Metrics,
    *,
    stale_after: float = 15.0,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Register ``/healthz``, ``/readyz`` and ``/metrics`` on ``server``; replicas whose
    heartbeat is older than ``stale_after`` seconds are not counted as active."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"alive": True})

    async def readyz(request: Request) -> Response:
        ready, details = await readiness.check()
        metrics.ready.set(1 if ready else 0)
        return JSONResponse(details, status_code=200 if ready else 503)

    async def metrics_endpoint(request: Request) -> Response:
        db = readiness.db
        if db is not None and not readiness.stopping:
            try:
                await asyncio.wait_for(
                    refresh_from_database(metrics, db, now(), stale_after=stale_after),
                    _CHECK_TIMEOUT,
                )
            except Exception as exc:  # the counters are still worth serving
                log.warning("metrics: could not read the outbox (%s)", type(exc).__name__)
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    server.add_route("/healthz", healthz, methods=("GET", "HEAD"), name="healthz")
    server.add_route("/readyz", readyz, methods=("GET", "HEAD"), name="readyz")
    server.add_route("/metrics", metrics_endpoint, methods=("GET",), name="metrics")
