"""Signing in and out: the sign-in page, the one-time link, sign-out.

A one-time link (``rallybot console link``) opens a page with one button: following the link
signs nobody in (chat apps and mail scanners fetch links to preview them), pressing the
button does, once, before the link expires. Every sign-in and sign-out is audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

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
from rallybot.handlers.console.sessions import consume_sign_in, create_session, delete_session

__all__ = ["router", "safe_next", "start_session"]

router = APIRouter()

_WORDS = {
    "title": {"en": "Sign in", "fr": "Connexion"},
    "intro": {
        "en": "The console is for the community's managers and helpers.",
        "fr": "La console est réservée aux animateurs et aux aidants de la communauté.",
    },
    "link_title": {"en": "Sign in with this link", "fr": "Se connecter avec ce lien"},
    "link_intro": {
        "en": "This link works once and expires a few minutes after it was made.",
        "fr": "Ce lien ne sert qu'une fois et expire quelques minutes après sa création.",
    },
    "link_button": {"en": "Sign in", "fr": "Se connecter"},
    "link_bad": {
        "en": "This sign-in link is unknown, already used or expired. Ask for a new one "
        "(rallybot console link).",
        "fr": "Ce lien de connexion est inconnu, déjà utilisé ou expiré. Demandez-en un "
        "nouveau (rallybot console link).",
    },
    "no_method": {
        "en": "No sign-in is set up: ask the bot's administrator for a one-time link "
        "(rallybot console link).",
        "fr": "Aucune connexion n'est configurée : demandez un lien à usage unique à "
        "l'administrateur du bot (rallybot console link).",
    },
    "too_many": {
        "en": "Too many sign-in attempts from your address. Wait a few minutes.",
        "fr": "Trop de tentatives de connexion depuis votre adresse. Attendez quelques minutes.",
    },
    "signed_out": {"en": "You are signed out.", "fr": "Vous êtes déconnecté."},
}

SIGN_IN_LIMITED = "too_many"


def safe_next(target: str | None, request: Request) -> str:
    """Where to go after signing in: a path inside the console, never another site."""
    home = str(request.url_for("home"))
    if not target:
        return home
    parts = urlsplit(target)
    root = request.scope.get("root_path", "") or ""
    if parts.scheme or parts.netloc or not target.startswith(f"{root}/") or "\\" in target:
        return home
    return target


async def start_session(
    request: Request, state: ConsoleState, actor: str, how: str, target: str
) -> Response:
    """Open a session for ``actor``, audit the sign-in and send them on to ``target``."""
    lifetime = timedelta(hours=state.settings.console_session_hours)
    token = await create_session(state.db, actor, state.clock.now(), lifetime)
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
        path=(request.scope.get("root_path", "") or "") + "/",
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
    return render(
        request,
        None,
        "signin.html",
        {"providers": providers, "next": safe_next(next, request)},
        words=_WORDS,
    )


@router.get("/signin/link/{token}", name="signin_link", response_class=HTMLResponse)
async def link_page(request: Request, token: str) -> Response:
    """The page a one-time link opens: a button that signs in (nothing happens on GET)."""
    return render(request, None, "signin_link.html", {"token": token}, words=_WORDS)


@router.post("/signin/link", name="signin_link_use", response_class=HTMLResponse)
async def link_use(
    request: Request,
    state: Annotated[ConsoleState, Depends(console_state)],
    token: Annotated[str, Form(max_length=100)],
) -> Response:
    """Use a one-time link: a session for its manager, or a clear refusal."""
    client = request.client.host if request.client else "-"
    if not request.app.state.login_limiter.allow(client):
        return render(
            request,
            None,
            "signin.html",
            {"error": "too_many", "providers": []},
            words=_WORDS,
            status_code=429,
        )
    found = await consume_sign_in(state.db, token, {"link"}, state.clock.now())
    if found is None or found.actor is None:
        return render(
            request, None, "signin_link.html", {"error": "link_bad"}, words=_WORDS, status_code=400
        )
    return await start_session(request, state, found.actor, "link", str(request.url_for("home")))


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
    response.delete_cookie(COOKIE, path=(request.scope.get("root_path", "") or "") + "/")
    return response
