"""What every console page uses: the state, who is signed in, roles, rendering, audit.

A page module (``pages/<name>.py``) builds its routes with these::

    @router.get("/audit")
    async def audit_page(
        request: Request,
        viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
        state: Annotated[ConsoleState, Depends(console_state)],
    ) -> HTMLResponse:
        return render(request, viewer, "audit.html", {"rows": ...})

State-changing routes are POSTs: the CSRF check (:mod:`.security`) runs before them, and
each records what it did with :func:`audit`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from rallybot.bot.clock import Clock, SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.context import BotContext
from rallybot.campaigns.schema import Campaign
from rallybot.handlers.console import words
from rallybot.handlers.console.sessions import find_session
from rallybot.handlers.console.words import N_, gettext, language
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.database import Database
from rallybot.storage.repositories import get_member_by_platform_id

__all__ = [
    "COOKIE",
    "ConsoleState",
    "NotSignedIn",
    "Page",
    "Role",
    "Viewer",
    "audit",
    "console_state",
    "current_viewer",
    "forbidden_word",
    "render",
    "require",
    "role_of",
    "templates",
]

#: The session cookie's name.
COOKIE = "rallybot_console"

TEMPLATES_DIR = Path(__file__).parent / "templates"
#: The Jinja2 environment of every page (autoescaping on: names and texts are members' words),
#: with the console's catalogs (see :mod:`.words`).
templates = Jinja2Templates(directory=TEMPLATES_DIR)
words.install(templates.env)

_ROLE_WORDS = {
    "MANAGER": N_("community manager"),
    "HELPER": N_("helper"),
    "MEMBER": N_("member"),
}


class Role(enum.IntEnum):
    """What a person may see: each role sees what the roles below it see."""

    MEMBER = 0  # signed in but neither manager nor helper: no page
    HELPER = 1  # the help-desk pages
    MANAGER = 2  # everything


@dataclass(frozen=True)
class Viewer:
    """The signed-in person."""

    key: str  # "slack:U0123": the platform user key (the audit log's actor)
    member_id: int | None  # their member row, when the bot knows them
    name: str
    role: Role
    locale: str
    csrf_token: str = field(repr=False)


@dataclass
class ConsoleState:
    """What the console reads: the settings, the database, the clock, the campaigns.

    Inside the bot, ``bot`` is the running bot (its live settings and campaigns);
    standalone (``rallybot console``), the campaigns come from ``load_campaigns``.
    """

    settings_: Settings
    db: Database
    clock: Clock
    bot: BotContext | None = None
    load_campaigns: Callable[[], dict[str, Campaign]] | None = None
    wall: Clock | None = None
    """The clock of sessions, sign-in links, the sign-in limit and the audit log: the real
    time even when the bot plays its campaigns on a simulated clock (None: ``clock``)."""
    _campaigns: dict[str, Campaign] | None = field(default=None, repr=False)

    def real_now(self) -> datetime:
        """Now, for what protects the console (a session's expiry is real hours, not
        simulated ones); the campaigns' "now" is ``clock.now()``."""
        return (self.wall or self.clock).now()

    def simulated(self) -> SimulatedClock | None:
        """The simulated clock the bot plays its campaigns on, when it is not the real one
        (the pages say so, and which of their times are real); None on the real clock."""
        if self.wall is not None and isinstance(self.clock, SimulatedClock):
            return self.clock
        return None

    @property
    def settings(self) -> Settings:
        """The settings in force (the bot's, which the community file may complete)."""
        return self.bot.settings if self.bot is not None else self.settings_

    def campaigns(self) -> dict[str, Campaign]:
        """The campaigns loaded, by id."""
        if self.bot is not None:
            return self.bot.campaigns
        if self._campaigns is None:
            self._campaigns = self.load_campaigns() if self.load_campaigns else {}
        return self._campaigns


def console_state(request: Request) -> ConsoleState:
    """Dependency: the console's state."""
    state = request.app.state.console
    assert isinstance(state, ConsoleState)
    return state


def role_of(settings: Settings, key: str) -> Role:
    """The role of the person ``platform:id``, from the settings in force now (so removing
    someone from RALLYBOT_ADMINS takes effect at their next request)."""
    if settings.is_admin(key):
        return Role.MANAGER
    user_id = key.partition(":")[2]
    if settings.rota.is_helper(user_id, key):
        return Role.HELPER
    return Role.MEMBER


class NotSignedIn(Exception):
    """No valid session: pages redirect to the sign-in page, the API answers 401."""


async def current_viewer(request: Request) -> Viewer | None:
    """The signed-in person, or None (no cookie, an unknown or expired session)."""
    if hasattr(request.state, "viewer"):
        found: Viewer | None = request.state.viewer
        return found
    state = console_state(request)
    token = request.cookies.get(COOKIE)
    viewer: Viewer | None = None
    row = await find_session(state.db, token, state.real_now()) if token else None
    if row is not None:
        settings = state.settings
        platform, _, user_id = row.actor.partition(":")
        member = await get_member_by_platform_id(state.db, platform, user_id)
        viewer = Viewer(
            key=row.actor,
            member_id=member.id if member is not None else None,
            name=(member.display_name or member.first_name or user_id) if member else user_id,
            role=role_of(settings, row.actor),
            locale=(member.locale if member and member.locale else settings.locale),
            csrf_token=row.csrf_token,
        )
    request.state.viewer = viewer
    return viewer


def require(role: Role) -> Callable[[Request], Coroutine[Any, Any, Viewer]]:
    """Dependency factory: the signed-in :class:`Viewer` when their role is at least
    ``role``; otherwise 401 (not signed in) or 403 (a clear page, or JSON under ``/api``)."""

    async def dependency(request: Request) -> Viewer:
        viewer = await current_viewer(request)
        if viewer is None:
            raise NotSignedIn
        if viewer.role < role or viewer.role < Role.HELPER:
            if viewer.role >= Role.HELPER:
                why = gettext(
                    viewer.locale,
                    "This page is for community managers only. Ask one of them if you need it.",
                )
            else:
                why = forbidden_word(viewer)
            raise HTTPException(403, why)
        return viewer

    return dependency


async def audit(state: ConsoleState, viewer: Viewer, action: str, target: str) -> None:
    """Record an action in the audit log: who (the viewer), what (``action`` on ``target``:
    ids, never a message's text), when."""
    async with state.db.session() as session:
        session.add(
            AuditEntry(
                at=state.real_now(), actor=viewer.key, action=action[:40], target=target[:300]
            )
        )


@dataclass(frozen=True)
class Page:
    """A console page: its routes, its JSON API, and its entry in the navigation."""

    name: str  # the route name of its main page (``url_for(name)``)
    title: str  # in English, marked with N_ and translated where shown
    role: Role  # who sees it in the navigation (its routes check too)
    router: APIRouter  # HTML pages
    api: APIRouter  # JSON, mounted under /api


def render(
    request: Request,
    viewer: Viewer | None,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A page in the layout, in the viewer's language (theirs, else the bot's
    ``RALLYBOT_LOCALE``): its template's ``_()`` and ``ngettext()`` read the console's
    catalogs for that language."""
    locale = viewer.locale if viewer else console_state(request).settings.locale
    here = request.url.path.removeprefix(request.scope.get("root_path", "") or "")
    nav = [
        {
            "title": gettext(locale, page.title),
            "url": request.url_for(page.name),
            # compared inside the console: the URL may carry a proxy's prefix
            "current": request.app.url_path_for(page.name) == here,
        }
        for page in _pages(request)
        if viewer is not None and viewer.role >= page.role
    ]
    state = console_state(request)
    simulated = state.simulated()
    values = {
        "viewer": viewer,
        "locale": locale,
        # Every page says when its "now" is a simulated clock's (base.html's banner).
        "sim_clock": None
        if simulated is None
        else {
            "now": simulated.now(),
            "zone": state.settings.timezone,
            "speed": words.number(simulated.speed, locale) if simulated.speed else None,
        },
        "lang": language(locale).replace("_", "-"),
        "nav": nav,
        "csrf_token": viewer.csrf_token if viewer else "",
        "role_word": gettext(locale, _ROLE_WORDS[viewer.role.name]) if viewer else "",
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, values, status_code=status_code)


@pass_context
def _real_time(context: Context, shown: str) -> str:
    """The ``real_time`` filter: a time of the real clock (a file's last change, a commit),
    labelled so while the pages' other times are a simulated clock's; as it is otherwise."""
    request = context.get("request")
    if request is None or console_state(request).simulated() is None:
        return shown
    # Translators: a time on the real clock, beside times on the simulated clock the bot
    # plays its campaigns on ("Oct 5, 2026, 2:32 PM real time").
    label = gettext(context.get("locale"), "{time} real time")
    return Markup(label).format(time=shown)


templates.env.filters["real_time"] = _real_time


def _pages(request: Request) -> list[Page]:
    """The pages in the navigation's order, as the app was built with them (the pages
    import this module, so it cannot import their list)."""
    pages = request.app.state.pages
    assert isinstance(pages, list)
    return pages


def forbidden_word(viewer: Viewer) -> str:
    """Why someone signed in who is neither a manager nor a helper cannot use the console."""
    return gettext(
        viewer.locale,
        "The console is for community managers and helpers only. You are signed in as {name}, "
        "who is neither.",
    ).format(name=viewer.name)
