"""The help desk page, for helpers and community managers: open, unanswered and overdue
questions, who is on duty now, and the response and resolution times of the last 30 days."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from rallybot.bot.messages import plain
from rallybot.handlers.console.figures import HELP_WINDOW, HelpDesk, help_desk
from rallybot.handlers.console.kit import (
    ConsoleState,
    Page,
    Role,
    Viewer,
    console_state,
    render,
    require,
)
from rallybot.handlers.console.words import N_

__all__ = ["HelpDeskOut", "page"]

router = APIRouter()
api = APIRouter(tags=["help desk"])


class TicketOut(BaseModel):
    """One open question (its excerpt is erased when it closes)."""

    id: int
    state: str
    private: bool
    asker: str | None
    excerpt: str
    opened_at: datetime
    first_response_at: datetime | None
    overdue: bool


class HelpTimesOut(BaseModel):
    """Response and resolution times of the questions asked in the window (seconds)."""

    window_days: int
    tickets: int
    answered: int
    solved: int
    median_first_response_seconds: float | None
    median_resolution_seconds: float | None


class HelpDeskOut(BaseModel):
    """The help desk now."""

    open: int
    unanswered: int
    overdue: int
    on_duty: list[str]
    not_found: list[str] = Field(
        description="People on duty now by the rota who match no member (as written)."
    )
    tickets: list[TicketOut]
    times: HelpTimesOut


def _out(desk: HelpDesk) -> HelpDeskOut:
    times = desk.times
    return HelpDeskOut(
        open=desk.open,
        unanswered=desk.unanswered,
        overdue=desk.overdue,
        on_duty=desk.on_duty,
        not_found=desk.not_found,
        tickets=[
            TicketOut(
                id=t.id,
                state=t.state,
                private=t.private,
                asker=t.asker,
                excerpt=plain(t.excerpt),
                opened_at=t.opened_at,
                first_response_at=t.first_response_at,
                overdue=t.overdue,
            )
            for t in desk.tickets
        ],
        times=HelpTimesOut(
            window_days=HELP_WINDOW.days,
            tickets=times.tickets,
            answered=times.answered,
            solved=times.solved,
            median_first_response_seconds=(
                times.median_first_response.total_seconds()
                if times.median_first_response is not None
                else None
            ),
            median_resolution_seconds=(
                times.median_resolution.total_seconds()
                if times.median_resolution is not None
                else None
            ),
        ),
    )


@router.get("/helpdesk", name="helpdesk", response_class=HTMLResponse)
async def helpdesk_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.HELPER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> HTMLResponse:
    """The questions waiting, who is on duty, and the desk's times."""
    desk = _out(await help_desk(state.db, state.settings, state.clock.now()))
    return render(
        request,
        viewer,
        "helpdesk.html",
        {"desk": desk, "zone": state.settings.timezone},
    )


@api.get("/helpdesk", response_model=HelpDeskOut)
async def helpdesk_api(
    viewer: Annotated[Viewer, Depends(require(Role.HELPER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> HelpDeskOut:
    """Open, unanswered and overdue questions, who is on duty, response and resolution times."""
    return _out(await help_desk(state.db, state.settings, state.clock.now()))


page = Page(name="helpdesk", title=N_("Help desk"), role=Role.HELPER, router=router, api=api)
