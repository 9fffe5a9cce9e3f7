"""The campaigns page: each campaign's state, its file's last change, its next sends, its
deliveries and the errors and warnings of the last reload; pause and resume."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from rallybot.campaigns.loader import errors_as_read
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
from rallybot.handlers.console.overview import CampaignSummary, campaign_summaries, set_paused
from rallybot.handlers.console.sources import last_reload, timeline_source
from rallybot.handlers.console.words import N_, gettext

__all__ = ["CampaignOut", "CampaignsOut", "page"]

router = APIRouter()
api = APIRouter(tags=["campaigns"])


class LoadErrorOut(BaseModel):
    """A mistake in a file, at its line."""

    file: str
    line: int
    column: int
    field: str
    message: str


class NextSendOut(BaseModel):
    """One of a campaign's next sends."""

    id: str
    step: str
    due_utc: datetime
    kind: str
    target: str
    count: int
    status: str


class CampaignOut(BaseModel):
    """One campaign's state."""

    id: str
    title: str
    status: Literal["active", "paused", "absent"]
    paused_at: datetime | None
    absent_since: datetime | None
    source: str
    loaded: bool
    file_changed_at: datetime | None
    file_changed_from: Literal["git", "file"] | None
    file_commit: str | None
    deliveries: dict[str, int]
    next_sends: list[NextSendOut]
    errors: list[LoadErrorOut]


class CampaignsOut(BaseModel):
    """Every campaign, and the last reload's errors in other files and its warnings."""

    campaigns: list[CampaignOut]
    other_errors: list[LoadErrorOut]
    warnings: list[str]


def _error(e: object) -> LoadErrorOut:
    return LoadErrorOut.model_validate(e, from_attributes=True)


def _out(s: CampaignSummary) -> CampaignOut:
    status = s.status if s.status in ("active", "paused", "absent") else "active"
    return CampaignOut(
        id=s.id,
        title=s.title,
        status=status,
        paused_at=s.paused_at,
        absent_since=s.absent_since,
        source=s.source,
        loaded=s.loaded,
        file_changed_at=s.changed.at if s.changed else None,
        file_changed_from=s.changed.source if s.changed else None,
        file_commit=s.changed.commit if s.changed else None,
        deliveries=s.deliveries,
        next_sends=[
            NextSendOut(
                id=e.id,
                step=e.step,
                due_utc=e.due_utc,
                kind=e.kind,
                target=e.target,
                count=e.count,
                status=e.status,
            )
            for e in s.next_sends
        ],
        errors=[_error(e) for e in s.errors],
    )


async def _campaigns(
    request: Request, state: ConsoleState, locale: str | None = None
) -> CampaignsOut:
    """The campaigns and the last reload's problems; with ``locale`` (the page), each
    error's field where its author reads it ("step 2 (id teaser-1), field at"), else (the
    API) the loader's path itself."""
    report = last_reload(state)
    if locale is not None:
        report = replace(report, errors=errors_as_read(report.errors, locale))
    summaries, others = await campaign_summaries(
        state.db,
        state.campaigns(),
        timeline_source(request, state),
        state.clock.now(),
        report,
    )
    return CampaignsOut(
        campaigns=[_out(s) for s in summaries],
        other_errors=[_error(e) for e in others],
        warnings=list(report.warnings),
    )


@router.get("/campaigns", name="campaigns", response_class=HTMLResponse)
async def campaigns_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    done: Literal["paused", "resumed"] | None = None,
    id: str | None = None,
) -> HTMLResponse:
    """Every campaign, with pause and resume buttons."""
    found = await _campaigns(request, state, viewer.locale)
    notice = None
    if done is not None and id is not None:
        if done == "paused":
            notice = gettext(
                viewer.locale,
                "Campaign “{title}” is paused: nothing of it goes out until you resume it.",
            )
        else:
            notice = gettext(
                viewer.locale,
                "Campaign “{title}” is active again (messages past their grace window are "
                "skipped).",
            )
        # By its title, as the rest of the page names it.
        title = next((c.title for c in found.campaigns if c.id == id and c.title), id)
        notice = notice.format(title=title)
    return render(
        request,
        viewer,
        "campaigns.html",
        {
            "found": found,
            "zone": state.settings.timezone,
            "notice": notice,
        },
    )


async def _set(state: ConsoleState, viewer: Viewer, campaign_id: str, paused: bool) -> None:
    if not await set_paused(state.db, campaign_id, paused, state.clock.now()):
        raise HTTPException(
            404, gettext(viewer.locale, 'Unknown campaign "{id}".').format(id=campaign_id)
        )
    await audit(state, viewer, "pause" if paused else "resume", f"campaign:{campaign_id}")


CampaignId = Annotated[str, Path(min_length=1, max_length=100)]


@router.post("/campaigns/{campaign_id}/pause", name="campaign_pause")
async def pause_form(
    request: Request,
    campaign_id: CampaignId,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> Response:
    """Pause from the page's form, then back to the page."""
    await _set(state, viewer, campaign_id, True)
    url = request.url_for("campaigns").include_query_params(done="paused", id=campaign_id)
    return RedirectResponse(str(url), status_code=303)


@router.post("/campaigns/{campaign_id}/resume", name="campaign_resume")
async def resume_form(
    request: Request,
    campaign_id: CampaignId,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> Response:
    """Resume from the page's form, then back to the page."""
    await _set(state, viewer, campaign_id, False)
    url = request.url_for("campaigns").include_query_params(done="resumed", id=campaign_id)
    return RedirectResponse(str(url), status_code=303)


@api.get("/campaigns", response_model=CampaignsOut)
async def campaigns_api(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> CampaignsOut:
    """Every campaign's state, file, deliveries, next sends and reload errors."""
    return await _campaigns(request, state)


class StatusOut(BaseModel):
    """A campaign's state after pause or resume."""

    id: str
    status: Literal["active", "paused"]


@api.post(
    "/campaigns/{campaign_id}/pause",
    response_model=StatusOut,
    responses={404: {"description": "Unknown campaign"}},
)
async def pause_api(
    campaign_id: CampaignId,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> StatusOut:
    """Pause a campaign: nothing of it goes out until it is resumed (audited)."""
    await _set(state, viewer, campaign_id, True)
    return StatusOut(id=campaign_id, status="paused")


@api.post(
    "/campaigns/{campaign_id}/resume",
    response_model=StatusOut,
    responses={404: {"description": "Unknown campaign"}},
)
async def resume_api(
    campaign_id: CampaignId,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> StatusOut:
    """Resume a campaign (audited)."""
    await _set(state, viewer, campaign_id, False)
    return StatusOut(id=campaign_id, status="active")


page = Page(name="campaigns", title=N_("Campaigns"), role=Role.MANAGER, router=router, api=api)
