"""Check a draft: a campaign, quiz, FAQ, rules or community file pasted or uploaded, read by
the same hardened loaders as ``rallybot validate``; its errors and warnings shown against
its lines, and for a campaign the timeline it would produce for the current members.
Nothing is saved: the files stay in git."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from rallybot.bot.messages import plain
from rallybot.campaigns.drafts import KINDS, DraftIssue, DraftKind, DraftReport, check_draft
from rallybot.campaigns.loader import MAX_FILE_BYTES, field_places
from rallybot.campaigns.words import Text
from rallybot.campaigns.words import render as render_words
from rallybot.handlers.console.act_kit import console_of
from rallybot.handlers.console.act_services import current_members
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
from rallybot.handlers.console.words import N_, gettext

__all__ = ["DraftIn", "DraftIssueOut", "DraftResult", "DraftTimelineRow", "page"]

router = APIRouter()
api = APIRouter(tags=["drafts"])


Kind = Literal["auto", "campaign", "quiz", "faq", "rules", "community"]


class DraftIn(BaseModel):
    """A draft to check: its text, the name it is shown under, its kind (None: from its
    keys)."""

    text: str = Field(max_length=MAX_FILE_BYTES)
    # A file name holds no control character (PostgreSQL refuses a NUL in the audit log).
    name: str = Field(
        default="draft.yaml", min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    )
    kind: DraftKind | None = None


class DraftIssueOut(BaseModel):
    """An error or a warning at a line and column of the draft."""

    severity: Literal["error", "warning"]
    line: int
    column: int
    field: str
    message: str


class DraftTimelineRow(BaseModel):
    """A line of the timeline the draft would produce."""

    step: str
    due_utc: datetime
    due_local: datetime
    kind: str
    target: str
    count: int
    zone: str
    locale: str
    preview: str


class DraftResult(BaseModel):
    """What checking a draft found (nothing is saved)."""

    name: str
    kind: DraftKind
    ok: bool
    errors: list[DraftIssueOut]
    warnings: list[DraftIssueOut]
    timeline: list[DraftTimelineRow]
    timeline_total: int


def _result(report: DraftReport) -> DraftResult:
    return DraftResult(
        name=report.source,
        kind=report.kind,
        ok=report.ok,
        errors=[DraftIssueOut(**issue.__dict__) for issue in report.errors],
        warnings=[DraftIssueOut(**issue.__dict__) for issue in report.warnings],
        timeline=[
            DraftTimelineRow(
                step=row.step,
                due_utc=row.due_utc,
                due_local=row.due_local,
                kind=row.kind,
                target=row.target,
                count=row.count,
                zone=row.zone,
                locale=row.locale,
                preview=plain(row.preview),  # shown as it is: without the member marks
            )
            for row in report.timeline
        ],
        timeline_total=report.timeline_total,
    )


async def _check(
    state: ConsoleState,
    viewer: Viewer,
    raw: str | bytes,
    name: str,
    kind: DraftKind | None,
    *,
    pasted: bool = False,
) -> tuple[DraftReport, int]:
    console = console_of(state)
    members = await current_members(console)
    settings = console.settings
    report = check_draft(
        raw,
        name,
        kind=kind,
        members=members,
        default_timezone=settings.timezone,
        default_quiet_hours=settings.quiet,
    )
    # A text pasted on the page has no name of its own: its kind alone (the audit page says
    # "the pasted text"), not the loader's stand-in file name.
    await audit(state, viewer, "check draft", report.kind if pasted else f"{report.kind} {name}")
    return report, len(members)


# The loader's messages about the whole file, as the page says them of a pasted text (the
# loader speaks of a file: the command line and an upload read one). Keyed by the loader's
# English message id; the parameters are the loader's.
_OF_PASTED_TEXT = {
    "the file is empty: a campaign needs at least id, title and steps": N_(
        "the text is empty: a campaign needs at least id, title and steps"
    ),
    "the file is empty: a quiz bank needs at least bank, title and questions": N_(
        "the text is empty: a quiz bank needs at least bank, title and questions"
    ),
    "the file is empty: a FAQ needs at least faq and entries": N_(
        "the text is empty: a FAQ needs at least faq and entries"
    ),
    "the file is empty: write at least one key (points:, daily_caps:, badges:...)": N_(
        "the text is empty: write at least one key (points:, daily_caps:, badges:...)"
    ),
    "the file is empty: a community file needs at least community: (its id)": N_(
        "the text is empty: a community file needs at least community: (its id)"
    ),
    "the file should be a mapping of keys ({keys}), not {kind}": N_(
        "the text should be a mapping of keys ({keys}), not {kind}"
    ),
    "this is not a text file (it contains binary data)": N_(
        "this is not plain text (it contains binary data)"
    ),
    "the file nests more than {depth} levels deep": N_(
        "the text nests more than {depth} levels deep"
    ),
    "the file expands to too many values (aliases used to build a huge document?)": N_(
        "the text expands to too many values (aliases used to build a huge document?)"
    ),
}


def _message(message: str, locale: str, pasted: bool) -> str:
    """A loader or check message in ``locale``'s language; of a pasted text, one that speaks
    of "the file" speaks of "the text" instead."""
    if pasted and isinstance(message, Text) and message.template in _OF_PASTED_TEXT:
        words = gettext(locale, _OF_PASTED_TEXT[message.template])
        params = message.params.items()
        return words.format(
            **{k: render_words(v, locale) if isinstance(v, str) else v for k, v in params}
        )
    return render_words(message, locale)


def _in_language(report: DraftReport, locale: str, *, pasted: bool = False) -> DraftReport:
    """``report`` as the page shows it: its errors and warnings in the viewer's language (the
    loader and the checks keep them translatable; of a pasted text, "the text" rather than
    "the file") and where she reads them in her file ("step 2 (id teaser-1), field at", not
    the loader's ``steps[1].at``), its extracts without the member marks."""
    place = field_places("\n".join(report.lines))

    def shown(issues: list[DraftIssue]) -> list[DraftIssue]:
        return [
            replace(i, message=_message(i.message, locale, pasted), field=place(i.field, locale))
            for i in issues
        ]

    return replace(
        report,
        errors=shown(report.errors),
        warnings=shown(report.warnings),
        timeline=[replace(row, preview=plain(row.preview)) for row in report.timeline],
    )


def _form(request: Request, viewer: Viewer, state: ConsoleState, **context: object) -> HTMLResponse:
    values: dict[str, object] = {
        "kinds": ["auto", *KINDS],
        "chosen": "auto",
        "text": "",
        "report": None,
        "max_bytes": MAX_FILE_BYTES,
        **context,
    }
    return render(request, viewer, "drafts.html", values)


@router.get("/drafts", name="drafts", response_class=HTMLResponse)
async def drafts_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> HTMLResponse:
    """The form: paste a text or choose a file."""
    return _form(request, viewer, state)


@router.post("/drafts", name="drafts_check", response_class=HTMLResponse)
async def drafts_check(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    text: Annotated[str, Form(max_length=MAX_FILE_BYTES)] = "",
    kind: Annotated[Kind, Form()] = "auto",
    file: UploadFile | None = None,
) -> HTMLResponse:
    """Check the pasted text, or the uploaded file when one is chosen."""
    raw: str | bytes = text
    # A pasted text has no file name: the loader needs one for its messages (the API's
    # default), the page says "the pasted text" instead.
    name = "draft.yaml"
    pasted = True
    if file is not None and file.filename:
        pasted = False
        # One byte over the limit is enough for the loader to say the file is too big.
        raw = await file.read(MAX_FILE_BYTES + 1)
        name = file.filename[:200]
    if not raw:
        return _form(request, viewer, state, missing=True, chosen=kind)
    chosen_kind = None if kind == "auto" else kind
    report, members = await _check(state, viewer, raw, name, chosen_kind, pasted=pasted)
    shown = text if isinstance(raw, str) else ""
    return _form(
        request,
        viewer,
        state,
        report=_in_language(report, viewer.locale, pasted=pasted),
        members=members,
        chosen=kind,
        text=shown,
        pasted=pasted,
    )


@api.post("/drafts", response_model=DraftResult)
async def drafts_api(
    draft: DraftIn,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> DraftResult:
    """Check a draft: every error and warning at its line, and for a campaign the timeline
    it would produce for the current members. Nothing is saved."""
    report, _ = await _check(state, viewer, draft.text, draft.name, draft.kind)
    return _result(report)


page = Page(name="drafts", title=N_("Check a draft"), role=Role.MANAGER, router=router, api=api)
