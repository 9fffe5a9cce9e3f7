"""The console's application: :func:`create_app` builds it, :func:`console_url` says where.

The app is a FastAPI application, always served under ``/console``: mounted on the bot's
HTTP server (:mod:`rallybot.bot.http`) when it shares its host and port, or alone
(:func:`standalone_app`, ``rallybot console``) with ``/`` sending visitors there. The HTML
pages and the JSON API (under ``/api``, described at ``/api/openapi.json``) come from the
modules listed in :data:`rallybot.handlers.console.pages.PAGES`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup, escape
from sqlalchemy import exc as sa_exc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount, Route
from starlette.types import Scope

from rallybot.bot.config import Settings
from rallybot.campaigns.loader import MAX_FILE_BYTES
from rallybot.handlers.console import names, signin  # noqa: F401 (names: the pages' globals)
from rallybot.handlers.console.address import PublicAddress, here
from rallybot.handlers.console.kit import (
    ConsoleState,
    NotSignedIn,
    Role,
    Viewer,
    console_state,
    current_viewer,
    forbidden_word,
    render,
)
from rallybot.handlers.console.oauth import Provider, providers_from_settings
from rallybot.handlers.console.pages import PAGES
from rallybot.handlers.console.security import (
    UPLOAD_MAX_BYTES,
    LoginLimiter,
    SecurityMiddleware,
    check_csrf,
    megabytes,
)
from rallybot.handlers.console.words import N_, gettext, ngettext

__all__ = ["PREFIX", "console_url", "create_app", "standalone_app", "to_console"]

log = logging.getLogger("rallybot.console")

#: Where the console lives on its server.
PREFIX = "/console"
STATIC_DIR = Path(__file__).parent / "static"


def console_url(settings: Settings) -> str:
    """The console's public address: RALLYBOT_CONSOLE_URL, else its own host and port (or
    the bot's HTTP server's) followed by ``/console``."""
    if settings.console_url:
        return settings.console_url
    host = settings.console_host or settings.http_host
    port = settings.console_port or settings.http_port
    if host in {"0.0.0.0", "::", ""}:
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{PREFIX}"


def _is_api(request: Request) -> bool:
    path = request.url.path.removeprefix(request.scope.get("root_path", "") or "")
    return path == "/api" or path.startswith("/api/")


API_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in, or the session expired"},
    403: {"description": "Not for this role, or a POST without the session's CSRF token"},
    404: {"description": "No such campaign, step, entry, member or submission"},
}
"""What any API route may answer besides its own, in the OpenAPI document."""


def create_app(state: ConsoleState, *, providers: list[Provider] | None = None) -> FastAPI:
    """The console for ``state`` (serve it under :data:`PREFIX`).

    Args:
        state: the settings, database, clock and campaigns the pages read.
        providers: the sign-in providers offered (Slack, Discord); by default those the
            settings configure.
    """
    secure = urlsplit(console_url(state.settings)).scheme == "https"
    app = FastAPI(
        title="Rallybot console",
        version="1",
        docs_url=None,  # the interactive docs load scripts from a CDN: the CSP forbids them
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(check_csrf)],
    )
    app.state.console = state
    app.state.pages = PAGES  # the layout's navigation (see kit.render)
    app.state.secure_cookies = secure
    app.state.providers = (
        providers if providers is not None else providers_from_settings(state.settings)
    )
    app.state.login_limiter = LoginLimiter(state)
    app.add_middleware(
        SecurityMiddleware,
        https=secure,
        hsts_subdomains=state.settings.console_hsts_subdomains,
        error_page=_FailurePage(),
        too_large_page=_too_large_page,
    )
    # outermost: the error pages the security layer renders link to the public address too
    app.add_middleware(PublicAddress, base=state.settings.console_url)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(signin.router, include_in_schema=False)
    for page in PAGES:
        app.include_router(page.router, include_in_schema=False)  # the API is documented
        app.include_router(page.api, prefix="/api", responses=API_RESPONSES)

    @app.get("/", name="home", include_in_schema=False)
    async def home(request: Request) -> Response:
        viewer = await current_viewer(request)
        if viewer is None:
            return RedirectResponse(str(request.url_for("signin")), status_code=303)
        for page in PAGES:
            if viewer.role >= page.role and viewer.role >= Role.HELPER:
                return RedirectResponse(str(request.url_for(page.name)), status_code=303)
        return _forbidden(request, forbidden_word(viewer))

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": gettext(console_state(request).settings.locale, "Please sign in.")},
                status_code=401,
            )
        url = request.url_for("signin").include_query_params(next=here(request))
        return RedirectResponse(str(url), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or request.method not in {"GET", "HEAD", "POST"}:
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        viewer = await current_viewer(request)  # an unknown path ran no dependency
        message = str(exc.detail)
        if message == HTTPStatus(exc.status_code).phrase:  # Starlette's own English words
            message = _stock_message(viewer, request, exc.status_code)
        return _forbidden(request, message, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        # the errors name fields and what they expect; the input is left out (it may hold
        # a token or a member's words)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        if _is_api(request):
            return JSONResponse({"detail": errors}, status_code=422)
        # a page (an address edited by hand): a page in the reader's language, naming the
        # fields as the address writes them
        viewer = await current_viewer(request)
        fields = sorted({str(e["loc"][-1]) for e in errors if e["loc"]})
        return _forbidden(request, _bad_fields(viewer, request, fields), status_code=422)

    return app


async def _too_large_page(scope: Scope) -> Response:
    """413 for a body over the limit (the middleware refuses it before reading it): the
    limit in the reader's language, a page with the way back, or JSON under ``/api``."""
    request = Request(scope)
    try:
        viewer = await current_viewer(request)
    except Exception:  # the database does not answer: the console's language then
        viewer = None
    locale = _locale_of(viewer, request)
    path = request.url.path.removeprefix(request.scope.get("root_path", "") or "")
    # a campaign draft has the campaign files' own, smaller limit: the page says that one
    drafts = path.startswith(("/drafts", "/api/drafts"))
    size = megabytes(MAX_FILE_BYTES if drafts else UPLOAD_MAX_BYTES)
    if path.startswith(("/members/roster", "/api/members/roster")):
        # Translators: the page after a roster upload over the console's limit; {size} is
        # in megabytes ("5").
        words = N_(
            "This file is too large: this page takes files up to {size} MB. Import a larger "
            "roster with the command rallybot roster import."
        )
    else:
        # Translators: the page after an upload over the console's limit; {size} is in
        # megabytes ("5").
        words = N_("This file is too large: this page takes files up to {size} MB.")
    message = gettext(locale, words).format(size=size)
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=413)
    return _forbidden(request, message, status_code=413)


class _FailurePage:
    """The answer to an unhandled error: 503 when the database does not answer, else 500; a
    page in the reader's language, or JSON under ``/api``. The log gets one line per failure;
    the traceback at most once a minute for each kind of error (an outage fails every
    request: a traceback each would flood the log)."""

    TRACEBACK_EVERY = 60.0

    def __init__(self) -> None:
        self.last_traceback: dict[str, float] = {}

    async def __call__(self, scope: Scope, exc: Exception) -> Response:
        request = Request(scope)
        unavailable = _database_down(exc)
        status = 503 if unavailable else 500
        kind = type(exc).__name__
        now = time.monotonic()
        shown = now - self.last_traceback.get(kind, -self.TRACEBACK_EVERY) >= self.TRACEBACK_EVERY
        if shown:
            self.last_traceback[kind] = now
        # the exception's name only: its text may quote a query's values
        log.error(
            "console: %s %s answered %d (%s)",
            request.method,
            _route_of(request),
            status,
            "database unavailable" if unavailable else kind,
            exc_info=exc if shown else None,
        )
        viewer = getattr(request.state, "viewer", None)
        locale = _locale_of(viewer, request)
        message = (
            gettext(locale, "The database is not answering. Try again in a minute.")
            if unavailable
            else gettext(locale, "The console could not answer this request.")
        )
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        try:
            return _forbidden(request, message, status_code=status)
        except Exception:  # the page itself cannot be drawn: the words alone
            return PlainTextResponse(message, status_code=status)


def _database_down(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (not a bug of a page)."""
    if isinstance(exc, sa_exc.DBAPIError) and (
        exc.connection_invalidated
        or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    ):
        return True
    if isinstance(exc, sa_exc.TimeoutError | ConnectionError | TimeoutError):
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and _database_down(cause)


def _route_of(request: Request) -> str:
    """The route's template (``/members/{member_id}``), not the path: paths carry tokens."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "-"


def _forbidden(request: Request, message: str, *, status_code: int = 403) -> Response:
    # also every other error page: the template heads it by its status
    viewer = getattr(request.state, "viewer", None)
    return render(
        request,
        viewer,
        "error.html",
        {"message": message, "status": status_code},
        status_code=status_code,
    )


def _locale_of(viewer: Viewer | None, request: Request) -> str:
    return viewer.locale if viewer else console_state(request).settings.locale


def _stock_message(viewer: Viewer | None, request: Request, status_code: int) -> str:
    """What an error page says when Starlette raised the error with its own words."""
    locale = _locale_of(viewer, request)
    if status_code == 404:
        return gettext(locale, "There is no such page in the console.")
    if status_code == 405:
        return gettext(locale, "This page cannot be used that way.")
    return gettext(locale, "The console could not answer this request.")


def _bad_fields(viewer: Viewer | None, request: Request, fields: list[str]) -> Markup:
    """What a page says of an address whose values it cannot use (the fields as code)."""
    locale = _locale_of(viewer, request)
    named = Markup(", ").join(Markup("<code>{}</code>").format(field) for field in fields)
    return escape(
        ngettext(
            locale,
            "The address has a value this page cannot use: {fields}. Go back and choose it "
            "from the page.",
            "The address has values this page cannot use: {fields}. Go back and choose them "
            "from the page.",
            len(fields),
        )
    ).format(fields=named)


def to_console(console: FastAPI) -> Callable[[Request], Awaitable[Response]]:
    """What sends a visitor of the console's server root, or of ``/console`` without its
    final slash, to the console: ``RALLYBOT_CONSOLE_URL`` followed by ``/``, else the path
    ``/console/`` on this server. Behind a proxy the request's own address has lost the
    public prefix, so it cannot be the redirect's."""

    async def redirect(request: Request) -> Response:
        base = console.state.console.settings.console_url
        target = f"{base.rstrip('/')}/" if base else f"{PREFIX}/"
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{target}{query}", status_code=307)

    return redirect


def standalone_app(console: FastAPI) -> Starlette:
    """The console alone on its server (``rallybot console``): under ``/console``, with
    ``/`` and ``/console`` sending there (:func:`to_console`)."""
    root = to_console(console)

    async def not_found(request: Request, exc: Exception) -> Response:
        # a path the console's own routes never see (one holding a line break: the mount
        # does not match it): the API still answers in JSON, as its document says
        if request.url.path.startswith(f"{PREFIX}/api/"):
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return PlainTextResponse("Not Found", status_code=404)

    return Starlette(
        routes=[Route("/", root), Route(PREFIX, root), Mount(PREFIX, app=console)],
        exception_handlers={404: not_found},
    )
