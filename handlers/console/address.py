"""Where the console is, as people see it: the base of every link, redirect and cookie path.

The console is served under ``/console`` on its server; a reverse proxy may show it
elsewhere (``https://intranet.example.com/tools/rallybot/console``, RALLYBOT_CONSOLE_URL)
and forward to ``/console``. :class:`PublicAddress` makes ``request.url_for`` (in the code and
the templates) build URLs from that setting, never from the request's ``Host`` header, so
a client cannot send people elsewhere by sending another ``Host``. Without the setting (local
use) URLs are built from the request as before, but redirects are sent as paths (no host).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PublicAddress", "cookie_path", "here", "public_root"]


class PublicAddress:
    """ASGI middleware of the console app: URLs built for this request use ``base`` (the
    console's public address) when given; redirects never name the request's own host."""

    def __init__(self, app: ASGIApp, *, base: str | None) -> None:
        self.app = app
        self.base = urlsplit(base.rstrip("/")) if base else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # url_for: paths from the console's own routes ("/members"), on the console's root
        scope["router"] = scope["app"].router
        if self.base is None:
            scope["app_root_path"] = scope.get("root_path", "")
            await self.app(scope, receive, self._paths_only(scope, send))
            return
        scope["app_root_path"] = self.base.path
        scope["scheme"] = self.base.scheme
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        headers.append((b"host", self.base.netloc.encode("latin-1")))
        scope["headers"] = headers
        await self.app(scope, receive, send)

    @staticmethod
    def _paths_only(scope: Scope, send: Send) -> Send:
        """Send redirects to this server as paths: the browser keeps the host it used."""
        origin = str(Request(scope).base_url.replace(path=""))

        async def send_paths(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                location = headers.get("location", "")
                if location.startswith(f"{origin}/"):
                    headers["location"] = location.removeprefix(origin)
            await send(message)

        return send_paths


def public_root(request: Request) -> str:
    """The path people see the console's root at (``/console``, or the path of
    RALLYBOT_CONSOLE_URL), without a trailing slash."""
    root = request.scope.get("app_root_path", request.scope.get("root_path", "")) or ""
    return str(root).rstrip("/")


def cookie_path(request: Request) -> str:
    """The path the console's cookies are sent back on: its public root."""
    return f"{public_root(request)}/"


def here(request: Request) -> str:
    """This request's address as people see it: a path with its query."""
    inside = request.url.path.removeprefix(request.scope.get("root_path", "") or "")
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public_root(request)}{inside}{query}"
