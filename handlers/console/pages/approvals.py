"""Approvals: challenge evidence waiting for a decision, with its text and links; approve or
reject it with a reason, which the member is told. The same decision as the Approve and
Reject buttons in chat (:func:`handlers.challenges.decide_submission`): once, audited.
Served alone, the console stores the decision and writes the member's notice into the
outbox of the bot on the same database, whose tick counts an approval."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from rallybot.handlers.challenges.service import decide_submission, decide_submission_alone
from rallybot.handlers.console.act_kit import bot_of, console_of
from rallybot.handlers.console.act_services import pending_submissions, submission_row
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
from rallybot.handlers.console.names import person_words
from rallybot.handlers.console.words import N_, gettext

__all__ = ["DecisionIn", "DecisionOut", "SubmissionOut", "SubmissionsOut", "page"]

router = APIRouter()
api = APIRouter(tags=["approvals"])

PAGE_SIZE = 50


# The decision a submission already had, as the notice names it.
_STATES = {
    # Translators: a challenge submission's state: "The submission of Ana to “Best tip” was
    # already approved."
    "approved": N_("approved"),
    "rejected": N_("rejected"),
}


class SubmissionOut(BaseModel):
    """Evidence waiting for a decision."""

    id: int
    challenge: str
    title: str
    member: str
    text: str
    links: list[str]
    submitted_at: datetime


class SubmissionsOut(BaseModel):
    """A page of evidence waiting, and how many wait in all."""

    submissions: list[SubmissionOut]
    total: int


class DecisionIn(BaseModel):
    """Approve or reject, with a reason the member is told."""

    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=500)


class DecisionOut(BaseModel):
    """The decision: ``decided`` False when it had been decided before (``state`` says how)."""

    id: int
    decided: bool
    state: str


def _no_reason(viewer: Viewer) -> str:
    """Why a rejection without a reason is refused: the member is told why, so there must be
    one."""
    return gettext(viewer.locale, "Write a reason to reject: the member is told it.")


async def _decide(
    state: ConsoleState, viewer: Viewer, submission_id: int, decision: DecisionIn
) -> DecisionOut:
    bot = bot_of(state)
    approve = decision.decision == "approve"
    reason = (decision.reason or "").strip() or None
    if not approve and reason is None:
        # The API answers as its document says: FastAPI's shape of a validation error.
        detail = [{"loc": ["body", "reason"], "msg": _no_reason(viewer), "type": "value_error"}]
        raise HTTPException(422, detail)
    if bot is not None:
        found = await decide_submission(
            bot, submission_id, approve=approve, by=viewer.key, reason=reason
        )
    else:  # alone: the bot on the same database tells the member and counts it
        found = await decide_submission_alone(
            state.db,
            state.campaigns(),
            state.clock.now(),
            submission_id,
            approve=approve,
            by=viewer.key,
            reason=reason,
            default_locale=state.settings.locale,
        )
    if found is None:
        raise HTTPException(
            404, gettext(viewer.locale, "No submission #{id}.").format(id=submission_id)
        )
    if found.decided:
        await audit(state, viewer, found.state, f"submission #{submission_id}")
    return DecisionOut(id=submission_id, decided=found.decided, state=found.state)


async def _page(
    request: Request,
    viewer: Viewer,
    state: ConsoleState,
    offset: int = 0,
    **context: object,
) -> HTMLResponse:
    rows, total = await pending_submissions(
        console_of(state), viewer.locale, limit=PAGE_SIZE, offset=offset
    )
    zone = ZoneInfo(state.settings.timezone)
    values: dict[str, object] = {
        "rows": [(row, row.submitted_at.astimezone(zone)) for row in rows],
        "total": total,
        "zone": state.settings.timezone,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
        "notice": None,
        "problem": None,
        "refused": None,  # the submission whose rejection lacked a reason
        "why": None,
        **context,
    }
    return render(request, viewer, "approvals.html", values)


@router.get("/approvals", name="approvals", response_class=HTMLResponse)
async def approvals_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    """Evidence waiting, oldest first."""
    return await _page(request, viewer, state, offset)


@router.post("/approvals/{submission_id}", name="approvals_decide", response_class=HTMLResponse)
async def approvals_decide(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    submission_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    decision: Annotated[Literal["approve", "reject"], Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    """Approve or reject one submission (a rejection needs a reason)."""
    if decision == "reject" and not reason.strip():
        return await _page(request, viewer, state, refused=submission_id, why=_no_reason(viewer))
    try:
        done = await _decide(
            state, viewer, submission_id, DecisionIn(decision=decision, reason=reason)
        )
    except HTTPException as exc:
        return await _page(request, viewer, state, problem=str(exc.detail))
    state_word = _STATES.get(done.state)
    state_name = gettext(viewer.locale, state_word) if state_word else done.state
    named = await submission_row(console_of(state), viewer.locale, submission_id)
    if done.decided and done.state == "approved":
        notice = gettext(viewer.locale, "Submission of {member} to “{challenge}” approved.")
    elif done.decided:
        notice = gettext(viewer.locale, "Submission of {member} to “{challenge}” rejected.")
    else:
        notice = gettext(
            viewer.locale, "The submission of {member} to “{challenge}” was already {state}."
        )
    notice = notice.format(
        member=person_words(named.member, viewer.locale) if named else f"#{submission_id}",
        challenge=named.title if named else "",
        state=state_name,
    )
    return await _page(request, viewer, state, notice=notice)


@api.get("/approvals", response_model=SubmissionsOut)
async def approvals_api(
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
) -> SubmissionsOut:
    """Evidence waiting for a decision, oldest first."""
    rows, total = await pending_submissions(
        console_of(state), viewer.locale, limit=limit, offset=offset
    )
    return SubmissionsOut(submissions=[SubmissionOut(**row.__dict__) for row in rows], total=total)


@api.post(
    "/approvals/{submission_id}",
    response_model=DecisionOut,
    responses={409: {"description": "Deciding needs the console served by the bot"}},
)
async def decide_api(
    submission_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    decision: DecisionIn,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> DecisionOut:
    """Approve or reject a submission, once; the member is told, with the reason."""
    return await _decide(state, viewer, submission_id, decision)


page = Page(name="approvals", title=N_("Approvals"), role=Role.MANAGER, router=router, api=api)
