"""Members: search, onboarding progress, opt-out state; erase someone on request (confirmed,
audited: the same erasure as ``rallybot member forget``); upload a roster, read as
``rallybot roster import`` reads it and applied all or nothing, with its problems row by
row. Personal data: community managers only."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from rallybot.campaigns.roster import DATE_FORMATS
from rallybot.handlers.console.act_kit import console_of, form_key
from rallybot.handlers.console.act_services import (
    ROSTER_MAX_BYTES,
    MemberRow,
    RosterOutcome,
    erase,
    import_roster,
    search_members,
)
from rallybot.handlers.console.kit import (
    ConsoleState,
    Page,
    Role,
    Viewer,
    audit,
    console_state,
    render,
    require,
)
from rallybot.handlers.console.sources import indicator_cache
from rallybot.handlers.console.words import N_, gettext
from rallybot.handlers.privacy.service import FORGOTTEN
from rallybot.storage.repositories import get_member

__all__ = ["ErasedOut", "MemberOut", "MembersOut", "ProgressOut", "RosterOut", "page"]

router = APIRouter()
api = APIRouter(tags=["members"])

PAGE_SIZE = 50
MemberId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class ProgressOut(BaseModel):
    """A member's onboarding journey of one campaign."""

    campaign: str
    done: int
    total: int
    completed: bool


class MemberOut(BaseModel):
    """A member (personal data: managers only)."""

    id: int
    platform: str
    user_id: str
    name: str
    email: str | None
    team: str | None
    cohort: str | None
    joined_at: datetime | None
    opted_out: bool
    left_at: datetime | None
    onboarding: list[ProgressOut]


class MembersOut(BaseModel):
    """A page of members matching a search, and how many match."""

    members: list[MemberOut]
    total: int


class ErasedOut(BaseModel):
    """Whether the member was erased."""

    erased: bool


class RosterOut(BaseModel):
    """A roster upload: its problems (nothing imported) or what it changed."""

    imported: bool
    problems: list[str]
    members: int
    created: int
    updated: int
    unchanged: int
    erased: int = 0
    """Rows naming a person erased on request: not imported again."""


def _member_out(row: MemberRow) -> MemberOut:
    return MemberOut(
        **{k: v for k, v in row.__dict__.items() if k != "onboarding"},
        onboarding=[ProgressOut(**p.__dict__) for p in row.onboarding],
    )


def _roster_out(outcome: RosterOutcome) -> RosterOut:
    return RosterOut(
        imported=outcome.imported,
        problems=outcome.problems,
        members=outcome.members,
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        erased=outcome.erased,
    )


def _platforms(state: ConsoleState) -> list[str]:
    settings = state.settings
    found = [
        name
        for name, token in (
            ("slack", settings.slack_bot_token),
            ("discord", settings.discord_token),
        )
        if token is not None
    ]
    return [*found, "console"]


async def _page(
    request: Request,
    viewer: Viewer,
    state: ConsoleState,
    q: str = "",
    offset: int = 0,
    **context: object,
) -> HTMLResponse:
    rows, total = await search_members(console_of(state), q, limit=PAGE_SIZE, offset=offset)
    seen = Counter(row.name.lower() for row in rows)
    values: dict[str, object] = {
        "q": q,
        "rows": rows,
        "homonyms": {name for name, n in seen.items() if n > 1},
        "total": total,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
        "platforms": _platforms(state),
        "date_formats": DATE_FORMATS,
        "roster": None,
        "notice": None,
        "problem": None,
        **context,
    }
    return render(request, viewer, "members.html", values)


@router.get("/members", name="members", response_class=HTMLResponse)
async def members_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """Members matching the search (name, e-mail, id, team, cohort), by name."""
    return await _page(request, viewer, state, q, offset)


@router.get("/members/{member_id}/erase", name="members_erase_confirm")
async def erase_confirm(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    member_id: MemberId,
) -> HTMLResponse:
    """Ask before erasing: who, and that it cannot be undone."""
    member = await get_member(state.db, member_id)
    if member is None or member.forgotten:
        raise HTTPException(404, gettext(viewer.locale, "No such member (or erased already)."))
    values = {"member": member, "key": form_key()}
    return render(request, viewer, "members_erase.html", values)


@router.post("/members/{member_id}/erase", name="members_erase", response_class=HTMLResponse)
async def erase_member_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    member_id: MemberId,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Erase the member once the manager has ticked the confirmation."""
    if confirm != "yes":
        return await _page(
            request,
            viewer,
            state,
            problem=gettext(viewer.locale, "Tick the confirmation to erase."),
        )
    erased = await _erase(state, viewer, member_id)
    if not erased.erased:
        problem = gettext(viewer.locale, "No such member (or erased already).")
        return await _page(request, viewer, state, problem=problem)
    notice = gettext(viewer.locale, "The member was erased.")
    return await _page(request, viewer, state, notice=notice)


async def _erase(state: ConsoleState, viewer: Viewer, member_id: int) -> ErasedOut:
    erased = await erase(console_of(state), member_id, viewer.key)
    if erased:
        # Who and when, never whom: the erasure's own audit says the same. A manager who
        # erased themselves is "forgotten" here too, like their earlier entries.
        if viewer.member_id == member_id:
            viewer = dataclasses.replace(viewer, key=FORGOTTEN)
        await audit(state, viewer, "erase", "a member")
    return ErasedOut(erased=erased)


async def _roster(
    request: Request,
    state: ConsoleState,
    viewer: Viewer,
    file: UploadFile,
    platform: str,
    date_format: str,
    dry_run: bool,
    *,
    api: bool = False,
) -> RosterOutcome:
    if platform not in _platforms(state):
        message = gettext(viewer.locale, "platform: one of {names}").format(
            names=", ".join(_platforms(state))
        )
        # The API answers as its document says: FastAPI's shape of a validation error.
        detail = [{"loc": ["body", "platform"], "msg": message, "type": "value_error"}]
        raise HTTPException(422, detail if api else message)
    raw = await file.read(ROSTER_MAX_BYTES + 1)
    name = (file.filename or "roster.csv")[:200]
    outcome = await import_roster(
        console_of(state),
        raw,
        name,
        platform=platform,
        date_format=date_format,
        dry_run=dry_run,
        locale=viewer.locale,
    )
    if outcome.imported:
        # Who is counted changed: the Indicators page computes its figures again (another
        # process's cache sees the import in the database, see handlers.console.figures).
        indicator_cache(request, state).clear()
        await audit(
            state,
            viewer,
            "roster import",
            f"{name}: {outcome.created} created, {outcome.updated} updated"
            + (f", {outcome.erased} erased on request skipped" if outcome.erased else ""),
        )
    return outcome


@router.post("/members/roster", name="members_roster", response_class=HTMLResponse)
async def roster_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    file: UploadFile | None = None,
    platform: Annotated[str, Form(max_length=16)] = "console",
    date_format: Annotated[Literal["auto", "day-first", "month-first"], Form()] = "auto",
    dry_run: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Upload a roster: its problems row by row (nothing imported), or what it changed."""
    if file is None or not file.filename:
        return await _page(request, viewer, state, problem=gettext(viewer.locale, "Choose a file."))
    try:
        outcome = await _roster(
            request, state, viewer, file, platform, date_format, dry_run == "yes"
        )
    except HTTPException as exc:
        return await _page(request, viewer, state, problem=str(exc.detail))
    return await _page(request, viewer, state, roster=outcome)


@api.get("/members", response_model=MembersOut)
async def members_api(
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
) -> MembersOut:
    """Members whose name, e-mail, id, team or cohort contains ``q`` (any case, with or
    without accents), by name, with their onboarding."""
    rows, total = await search_members(console_of(state), q, limit=limit, offset=offset)
    return MembersOut(members=[_member_out(row) for row in rows], total=total)


@api.post("/members/{member_id}/erase", response_model=ErasedOut)
async def erase_api(
    member_id: MemberId,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> ErasedOut:
    """Erase a member as ``rallybot member forget`` does (``erased`` False: no such member)."""
    return await _erase(state, viewer, member_id)


@api.post("/members/roster", response_model=RosterOut)
async def roster_api(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    file: UploadFile,
    platform: Annotated[str, Form(max_length=16)] = "console",
    date_format: Annotated[Literal["auto", "day-first", "month-first"], Form()] = "auto",
    dry_run: Annotated[bool, Form()] = False,
) -> RosterOut:
    """Import a roster all or nothing (``imported`` False: its ``problems``, row by row)."""
    outcome = await _roster(request, state, viewer, file, platform, date_format, dry_run, api=True)
    return _roster_out(outcome)


page = Page(name="members", title=N_("Members"), role=Role.MANAGER, router=router, api=api)
