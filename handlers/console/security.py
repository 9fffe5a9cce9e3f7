"""The console's protections: security headers, a body size limit, CSRF, a login rate limit.

- Every response carries a content security policy without inline scripts or styles
  (``script-src 'self'``: htmx and ``console.js`` are files of the package), refuses to be
  framed, forbids MIME sniffing and sends no referrer outside the console.
- A request body larger than :data:`MAX_BODY` is refused (413) before it is read whole.
- Every state-changing request (not GET/HEAD/OPTIONS) must carry the session's CSRF token, in
  the ``X-CSRF-Token`` header (htmx and the API) or the ``csrf_token`` form field (plain
  forms); only the sign-in routes, which carry their own single-use secret, are exempt.
- Sign-in attempts are limited per client address (:class:`LoginLimiter`).
"""

from __future__ import annotations

import hmac
import time
from collections import deque
from collections.abc import Iterable

from fastapi import HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rallybot.handlers.console.kit import current_viewer, layout_word

__all__ = [
    "CSP",
    "MAX_BODY",
    "SECURITY_HEADERS",
    "CsrfFailed",
    "LoginLimiter",
    "SecurityMiddleware",
    "check_csrf",
]

#: The largest request body accepted (uploads of campaign, roster and FAQ files included).
MAX_BODY = 5 * 1024 * 1024

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _TooLarge(Exception):
    pass


class SecurityMiddleware:
    """ASGI middleware: the security headers on every response, the body size limit."""

    def __init__(self, app: ASGIApp, *, max_body: int = MAX_BODY, https: bool = False) -> None:
        self.app = app
        self.max_body = max_body
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                response_headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    response_headers.setdefault(name, value)
                if self.https:
                    response_headers.setdefault(
                        "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
                    )
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        body = b"Request body too large."
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class CsrfFailed(HTTPException):
    """A state-changing request without the session's CSRF token."""


#: Paths (below the console's root) whose POSTs carry their own single-use secret.
CSRF_EXEMPT = ("/signin/",)


async def check_csrf(request: Request) -> None:
    """App-wide dependency: refuse a state-changing request without the session's token."""
    if request.method in _SAFE_METHODS:
        return
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    if path.startswith(CSRF_EXEMPT):
        return
    viewer = await current_viewer(request)
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    expected = viewer.csrf_token if viewer is not None else ""
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        locale = viewer.locale if viewer else None
        raise CsrfFailed(403, layout_word(locale, "forbidden_csrf"))


class LoginLimiter:
    """At most ``attempts`` sign-in attempts per client address in ``window`` seconds.

    In memory, per process: with several replicas each one counts its own (the limit is
    there to slow down guessing, which single-use 256-bit tokens already defeat).
    """

    def __init__(self, attempts: int = 10, window: float = 300.0) -> None:
        self.attempts = attempts
        self.window = window
        self._seen: dict[str, deque[float]] = {}

    def allow(self, client: str, now: float | None = None) -> bool:
        """Count an attempt from ``client``; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        seen = self._seen.setdefault(client, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.attempts:
            return False
        seen.append(now)
        if len(self._seen) > 10_000:  # forget idle clients rather than grow without end
            self._forget_idle(now, list(self._seen))
        return True

    def _forget_idle(self, now: float, clients: Iterable[str]) -> None:
        for client in clients:
            if not any(t > now - self.window for t in self._seen[client]):
                del self._seen[client]
