"""Signing in and out: the sign-in page, the one-time link, sign-out.

A one-time link (``rallybot console link``) opens a page with one button: following the link
signs nobody in (chat apps and mail scanners fetch links to preview them), pressing the
button does, once, before the link expires. Every sign-in and sign-out is audited.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rallybot.handlers.console.address import cookie_path, public_root
from rallybot.handlers.console.kit import (
    COOKIE,
    ConsoleState,
    Role,
    Viewer,
    audit,
    console_state,
    current_viewer,
    render,
    role_of,
)
from rallybot.handlers.console.oauth import Provider, SignInFailed, new_secret
from rallybot.handlers.console.sessions import (
    consume_sign_in,
    create_session,
    create_sign_in,
    delete_session,
)
from rallybot.handlers.console.words import N_, gettext

__all__ = ["router", "safe_next", "start_session"]

router = APIRouter()
log = logging.getLogger("rallybot.console")


#: The cookie that ties an OAuth sign-in to the browser that started it (its state).
STATE_COOKIE = "rallybot_console_state"
#: Where to go once signed in (a path of the console, checked again on the way back).
NEXT_COOKIE = "rallybot_console_next"

SIGN_IN_LIMITED = "too_many"


def safe_next(target: str | None, request: Request) -> str:
    """Where to go after signing in: a path inside the console, never another site."""
    home = str(request.url_for("home"))
    if not target:
        return home
    parts = urlsplit(target)
    root = public_root(request)
    if parts.scheme or parts.netloc or not target.startswith(f"{root}/") or "\\" in target:
        return home
    if ".." in parts.path.split("/"):  # a browser would leave the console's path
        return home
    return target


async def start_session(
    request: Request, state: ConsoleState, actor: str, how: str, target: str
) -> Response:
    """Open a session for ``actor``, audit the sign-in and send them on to ``target``."""
    lifetime = timedelta(hours=state.settings.console_session_hours)
    token = await create_session(state.db, actor, state.real_now(), lifetime)
    role = role_of(state.settings, actor)
    viewer = Viewer(key=actor, member_id=None, name=actor, role=role, locale="", csrf_token="")
    await audit(state, viewer, "sign-in", f"console ({how})")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, token, lifetime)
    return response


def set_session_cookie(
    request: Request, response: Response, token: str, lifetime: timedelta
) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure on an HTTPS console."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path=cookie_path(request),
        secure=request.app.state.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def _locale(state: ConsoleState) -> str:
    return state.settings.locale


@router.get("/signin", name="signin", response_class=HTMLResponse)
async def signin_page(
    request: Request,
    state: Annotated[ConsoleState, Depends(console_state)],
    next: str | None = None,
) -> Response:
    """The sign-in page: a button per configured platform."""
    viewer = await current_viewer(request)
    if viewer is not None and viewer.role >= Role.HELPER:
        return RedirectResponse(safe_next(next, request), status_code=303)
    providers = request.app.state.providers
    target = safe_next(next, request)
    response = render(request, None, "signin.html", {"providers": providers, "next": target})
    if next:
        # a one-time link opened later in this browser goes on to the page asked for
        response.set_cookie(NEXT_COOKIE, target, **_cookie(request, timedelta(hours=1)))
    return response


def _cookie(request: Request, lifetime: timedelta) -> dict[str, Any]:
    """The attributes of the sign-in's short-lived cookies."""
    return {
        "path": cookie_path(request),
        "max_age": int(lifetime.total_seconds()),
        "secure": request.app.state.secure_cookies,
        "httponly": True,
        "samesite": "lax",  # sent on the platform's redirect back (a top-level navigation)
    }


@router.get("/signin/link/{token}", name="signin_link", response_class=HTMLResponse)
async def link_page(request: Request, token: str) -> Response:
    """The page a one-time link opens: a button that signs in (nothing happens on GET)."""
    return render(request, None, "signin_link.html", {"token": token})


@router.post("/signin/link", name="signin_link_use", response_class=HTMLResponse)
async def link_use(
    request: Request,
    state: Annotated[ConsoleState, Depends(console_state)],
    token: Annotated[str, Form(max_length=100)],
) -> Response:
    """Use a one-time link: a session for its manager, or a clear refusal."""
    client = request.client.host if request.client else "-"
    if not await request.app.state.login_limiter.allow(client):
        return render(
            request,
            None,
            "signin.html",
            {"error": _error(request, "too_many"), "providers": []},
            status_code=429,
        )
    found = await consume_sign_in(state.db, token, {"link"}, state.real_now())
    if found is None or found.actor is None or role_of(state.settings, found.actor) < Role.HELPER:
        return render(
            request,
            None,
            "signin_link.html",
            {"error": _error(request, "link_bad")},
            status_code=400,
        )
    target = safe_next(request.cookies.get(NEXT_COOKIE), request)
    response = await start_session(request, state, found.actor, "link", target)
    response.delete_cookie(NEXT_COOKIE, path=cookie_path(request))
    return response


@router.post("/signout", name="signout")
async def signout(
    request: Request,
    state: Annotated[ConsoleState, Depends(console_state)],
) -> Response:
    """End the session (CSRF-checked like every POST) and go back to the sign-in page."""
    viewer = await current_viewer(request)
    token = request.cookies.get(COOKIE, "")
    if viewer is not None and token:
        await delete_session(state.db, token)
        await audit(state, viewer, "sign-out", "console")
    response = RedirectResponse(str(request.url_for("signin")), status_code=303)
    response.delete_cookie(COOKIE, path=cookie_path(request))
    return response


def _provider(request: Request, name: str) -> Provider:
    for provider in request.app.state.providers:
        if provider.name == name:
            assert isinstance(provider, Provider)
            return provider
    raise HTTPException(404, gettext(_locale(console_state(request)), "No such sign-in."))


async def _limited(request: Request) -> bool:
    client = request.client.host if request.client else "-"
    return not await request.app.state.login_limiter.allow(client)


_ERRORS = {
    "too_many": N_("Too many sign-in attempts from your address. Wait a few minutes."),
    "link_bad": N_(
        "This sign-in link is unknown, already used or expired. Ask the bot's administrator "
        "for a new one (they make it with: rallybot console link)."
    ),
    "state_bad": N_("This sign-in did not start here, or took too long. Please start again."),
    # Translators: why is the platform's own error code, in English.
    "provider_failed": N_("The sign-in did not succeed: {why}. Please start again."),
    "not_allowed": N_(
        "You are signed in on {platform} as {key}, who is neither a community manager nor a "
        "helper: the console is not for you. A community manager can add you (RALLYBOT_ADMINS, "
        "or the community file)."
    ),
}


def _error(request: Request, key: str, /, **values: object) -> str:
    """Nobody is signed in on these pages: the bot's language."""
    return gettext(_locale(console_state(request)), _ERRORS[key]).format(**values)


def _refuse(request: Request, error: str, status: int, /, **values: object) -> Response:
    response = render(
        request,
        None,
        "signin.html",
        {"error": _error(request, error, **values), "providers": []},
        status_code=status,
    )
    root = cookie_path(request)
    response.delete_cookie(STATE_COOKIE, path=root)
    response.delete_cookie(NEXT_COOKIE, path=root)
    return response


@router.get("/signin/{provider}", name="signin_start")
async def oauth_start(
    request: Request,
    provider: str,
    state: Annotated[ConsoleState, Depends(console_state)],
    next: str | None = None,
) -> Response:
    """Send the browser to the platform's sign-in page."""
    chosen = _provider(request, provider)
    if await _limited(request):
        return _refuse(request, "too_many", 429)
    nonce, verifier = new_secret(), new_secret()
    lifetime = timedelta(minutes=10)
    oauth_state = await create_sign_in(
        state.db, chosen.name, state.real_now(), lifetime, nonce=nonce, verifier=verifier
    )
    redirect_uri = str(request.url_for("signin_callback", provider=chosen.name))
    try:
        url = await chosen.authorize_url(redirect_uri, oauth_state, nonce, verifier)
    except SignInFailed as exc:
        return _refuse(request, "provider_failed", 502, why=str(exc))
    response = RedirectResponse(url, status_code=303)
    cookie = _cookie(request, lifetime)
    response.set_cookie(STATE_COOKIE, oauth_state, **cookie)
    response.set_cookie(NEXT_COOKIE, safe_next(next, request), **cookie)
    return response


@router.get("/signin/{provider}/callback", name="signin_callback")
async def oauth_callback(
    request: Request,
    provider: str,
    state: Annotated[ConsoleState, Depends(console_state)],
) -> Response:
    """The platform sends the browser back here: check the state, ask who signed in, and
    open a session for a manager or a helper (anyone else: 403, no session)."""
    chosen = _provider(request, provider)
    if await _limited(request):
        return _refuse(request, "too_many", 429)
    sent_state = request.query_params.get("state", "")
    code = request.query_params.get("code", "")
    kept = request.cookies.get(STATE_COOKIE, "")
    # the state must be the one this browser was given, unused and recent: a forged or
    # replayed callback (a code pushed into someone else's browser) stops here
    if not sent_state or not kept or not hmac.compare_digest(sent_state, kept):
        return _refuse(request, "state_bad", 400)
    pending = await consume_sign_in(state.db, sent_state, {chosen.name}, state.real_now())
    if pending is None or pending.nonce is None or pending.verifier is None:
        return _refuse(request, "state_bad", 400)
    if not code:
        why = request.query_params.get("error", "no code")[:80]
        return _refuse(request, "provider_failed", 400, why=why)
    redirect_uri = str(request.url_for("signin_callback", provider=chosen.name))
    try:
        key = await chosen.identify(code, redirect_uri, pending.nonce, pending.verifier)
    except SignInFailed as exc:
        log.info("console sign-in with %s failed: %s", chosen.name, exc)
        return _refuse(request, "provider_failed", 400, why=str(exc))
    if role_of(state.settings, key) < Role.HELPER:
        log.info("console sign-in with %s refused: neither manager nor helper", chosen.name)
        return _refuse(request, "not_allowed", 403, platform=chosen.name.title(), key=key)
    target = safe_next(request.cookies.get(NEXT_COOKIE), request)
    response = await start_session(request, state, key, chosen.name, target)
    root = cookie_path(request)
    response.delete_cookie(STATE_COOKIE, path=root)
    response.delete_cookie(NEXT_COOKIE, path=root)
    return response
