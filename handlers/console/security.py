"""The console's protections: security headers, a body size limit, CSRF, a login rate limit.

- Every response carries a content security policy without inline scripts or styles
  (``script-src 'self'``: htmx and ``console.js`` are files of the package), refuses to be
  framed, forbids MIME sniffing and sends no referrer outside the console.
- No page or API answer is kept in a cache (:data:`NO_STORE`): they carry personal data.
- A request body larger than :data:`MAX_BODY` is refused (413) before it is read whole,
  whether it announces its length or comes in chunks.
- An unhandled error answers with a page (or JSON) of the app, with these headers.
- Every state-changing request (not GET/HEAD/OPTIONS) must carry the session's CSRF token, in
  the ``X-CSRF-Token`` header (htmx and the API) or the ``csrf_token`` form field (plain
  forms); only the sign-in routes, which carry their own single-use secret, are exempt.
- Sign-in attempts are limited per client address (:class:`LoginLimiter`), in the database:
  every process serving the console shares the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import sqlalchemy as sa
from fastapi import HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rallybot.handlers.console.kit import ConsoleState, current_viewer
from rallybot.handlers.console.words import gettext
from rallybot.storage.console_models import ConsoleLoginAttempt
from rallybot.storage.models import table_of
from rallybot.storage.secret import server_secret

__all__ = [
    "CSP",
    "MAX_BODY",
    "NO_STORE",
    "SECURITY_HEADERS",
    "UPLOAD_MAX_BYTES",
    "CsrfFailed",
    "LoginLimiter",
    "SecurityMiddleware",
    "check_csrf",
    "megabytes",
]

log = logging.getLogger("rallybot.console")

#: The largest file the console takes in an upload (a roster; a campaign draft has the
#: campaign files' own, smaller limit). The one figure the pages and the docs give.
UPLOAD_MAX_BYTES = 5 * 1024 * 1024
#: The largest request body accepted: a file of :data:`UPLOAD_MAX_BYTES` and the form around
#: it (its other fields, the multipart framing), so that a file within the limit gets in.
MAX_BODY = UPLOAD_MAX_BYTES + 64 * 1024


def megabytes(size: int) -> str:
    """A size in whole megabytes as the pages say it ("5")."""
    return f"{size / (1024 * 1024):g}"


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

_ATTEMPTS = table_of(ConsoleLoginAttempt)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


#: Pages and API answers may carry members' names and words: no cache keeps them (the Back
#: button after Sign out shows nothing); static files may be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

#: What the console answers when it fails: (scope, exception) -> a response of the app.
ErrorPage = Callable[[Scope, Exception], Awaitable[Response]]
TooLargePage = Callable[[Scope], Awaitable[Response]]


class _TooLarge(Exception):
    pass


async def _nothing() -> Message:
    # a refused body is not read: a response drawn for it receives nothing
    return {"type": "http.request", "body": b"", "more_body": False}


class SecurityMiddleware:
    """ASGI middleware: the security headers on every response (errors included), no cache
    for anything but static files, the body size limit, HEAD answered as GET without a body.

    Args:
        https: the console's public address is https: send HSTS.
        hsts_subdomains: HSTS covers the host's subdomains too (only when asked: it forces
            HTTPS on every site under the host for a year).
        error_page: the answer to an unhandled exception (else a plain 500).
        too_large_page: the answer to a body over the limit, a page in the reader's words
            (else a plain 413).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int = MAX_BODY,
        https: bool = False,
        hsts_subdomains: bool = False,
        error_page: ErrorPage | None = None,
        too_large_page: TooLargePage | None = None,
    ) -> None:
        self.app = app
        self.too_large_page = too_large_page
        self.max_body = max_body
        self.https = https
        self.hsts = "max-age=31536000" + ("; includeSubDomains" if hsts_subdomains else "")
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body:
            await self._refuse(scope, send)
            return
        head = scope["method"] == "HEAD"
        if head:  # every page and API read answers HEAD: the GET's headers, no body
            scope["method"] = "GET"
        inside = scope["path"].removeprefix(scope.get("root_path", "") or "")
        cacheable = inside.startswith("/static/")
        received = 0
        started = False
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    too_large = True
                    raise _TooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if too_large:
                return  # the app's answer to a body it could not read whole: 413 below
            if message["type"] == "http.response.start":
                started = True
                response_headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    response_headers.setdefault(name, value)
                if not cacheable:
                    for name, value in NO_STORE.items():
                        response_headers[name] = value
                if self.https:
                    response_headers.setdefault("Strict-Transport-Security", self.hsts)
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _TooLarge:
            if started:
                raise
        except Exception as exc:
            if started or self.error_page is None:
                raise
            response = await self.error_page(scope, exc)
            await response(scope, receive, send_with_headers)
            return
        if too_large and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        """413: the app's page saying the limit in the reader's words, else plain words."""
        if self.too_large_page is not None:
            try:
                response = await self.too_large_page(scope)
            except Exception:  # the page cannot be drawn (no database...): the plain answer
                log.warning("console: the page of a too large upload could not be drawn")
            else:
                for name, value in SECURITY_HEADERS.items():
                    response.headers.setdefault(name, value)
                for name, value in NO_STORE.items():
                    response.headers[name] = value
                if self.https:
                    response.headers.setdefault("Strict-Transport-Security", self.hsts)
                await response(scope, _nothing, send)
                return
        body = b"Request body too large."
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        headers += [(k.lower().encode(), v.encode()) for k, v in NO_STORE.items()]
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
        why = gettext(
            locale,
            "This form has expired or did not come from the console. Reload the page and try "
            "again.",
        )
        raise CsrfFailed(403, why)


class LoginLimiter:
    """At most ``attempts`` sign-in attempts per client address in ``window`` seconds, counted
    in the database: every process serving the console on it (replicas, ``rallybot console``
    beside the bot) shares one limit, and a restart does not reset it.

    Rows keep a keyed hash of the address (HMAC-SHA-256 with the server secret, as inbound
    event ids are kept), never the address; those older than the window are deleted as new
    attempts come.
    """

    def __init__(self, state: ConsoleState, attempts: int = 10, window: float = 300.0) -> None:
        self.state = state
        self.attempts = attempts
        self.window = timedelta(seconds=window)

    async def client_key(self, client: str) -> str:
        """The keyed hash stored for the address ``client``."""
        secret = await server_secret(self.state.db, self.state.settings.secret_key)
        return hmac.new(secret, f"console-login:{client}".encode(), hashlib.sha256).hexdigest()

    async def allow(self, client: str) -> bool:
        """Count an attempt from ``client``; False when it is over the limit."""
        key = await self.client_key(client)
        now = self.state.real_now()
        since = now - self.window
        # The attempt is written (and committed) before the count: two processes racing
        # each see the other's row, so together they never let more than ``attempts`` by.
        async with self.state.db.session() as session:
            await session.execute(sa.delete(_ATTEMPTS).where(_ATTEMPTS.c.attempted_at <= since))
            added = await session.execute(
                sa.insert(_ATTEMPTS)
                .values(client_key=key, attempted_at=now)
                .returning(_ATTEMPTS.c.id)
            )
            row_id = added.scalar_one()
        count = sa.select(sa.func.count()).where(
            _ATTEMPTS.c.client_key == key, _ATTEMPTS.c.attempted_at > since
        )
        async with self.state.db.session() as session:
            seen = int(await session.scalar(count) or 0)
            if seen <= self.attempts:
                return True
            # A refused attempt does not count: the limit lifts a window after the last
            # attempt that went through, however often the client keeps trying.
            await session.execute(sa.delete(_ATTEMPTS).where(_ATTEMPTS.c.id == row_id))
        return False
