"""Members: search, onboarding progress, opt-out state; erase someone on request (confirmed,
audited: the same erasure as ``rallybot member forget``); upload a roster, read as
``rallybot roster import`` reads it and applied all or nothing, with its problems row by
row. Personal data: community managers only."""

from __future__ import annotations

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
    word,
)
from rallybot.storage.repositories import get_member

__all__ = ["ErasedOut", "MemberOut", "MembersOut", "ProgressOut", "RosterOut", "page"]

router = APIRouter()
api = APIRouter(tags=["members"])

PAGE_SIZE = 50
MemberId = Annotated[int, Path(ge=1, le=2_147_483_647)]

_WORDS = {
    "title": {"en": "Members", "fr": "Membres"},
    "intro": {
        "en": "Search the members the bot knows: their onboarding, whether they opted out. "
        "Erase someone who asks for it, or upload a roster.",
        "fr": "Cherchez parmi les membres que le bot connaît : leur accueil, s'ils se sont "
        "désinscrits. Effacez quelqu'un qui le demande, ou envoyez une liste de membres.",
    },
    "search": {
        "en": "Search by name, e-mail or id",
        "fr": "Chercher par nom, e-mail ou identifiant",
    },
    "find": {"en": "Search", "fr": "Chercher"},
    "found": {"en": "{n} member(s).", "fr": "{n} membre(s)."},
    "none": {"en": "No member matches.", "fr": "Aucun membre ne correspond."},
    "name": {"en": "Name", "fr": "Nom"},
    "email": {"en": "E-mail", "fr": "E-mail"},
    "team": {"en": "Team, cohort", "fr": "Équipe, cohorte"},
    "onboarding": {"en": "Onboarding", "fr": "Accueil"},
    "state": {"en": "Messages", "fr": "Messages"},
    "opted_out": {"en": "opted out", "fr": "désinscrit"},
    "left": {"en": "left the roster", "fr": "sorti de la liste"},
    "active": {"en": "receives them", "fr": "les reçoit"},
    "done": {"en": "{campaign}: done", "fr": "{campaign} : terminé"},
    "progress": {
        "en": "{campaign}: {done} of {total} task(s)",
        "fr": "{campaign} : {done} tâche(s) sur {total}",
    },
    "progress_unknown": {
        "en": "{campaign}: {done} task(s) done",
        "fr": "{campaign} : {done} tâche(s) faite(s)",
    },
    "not_started": {"en": "not started", "fr": "pas commencé"},
    "erase": {"en": "Erase…", "fr": "Effacer…"},
    "more": {"en": "Next", "fr": "Suivants"},
    "erase_title": {"en": "Erase a member", "fr": "Effacer un membre"},
    "erase_question": {
        "en": "Erase {name} ({user_id} on {platform})? Their personal data is erased "
        "everywhere, as “forget me” does; the indicators stay right. This cannot be undone.",
        "fr": "Effacer {name} ({user_id} sur {platform}) ? Ses données personnelles sont "
        "effacées partout, comme le fait « oublie-moi » ; les indicateurs restent justes. "
        "C'est définitif.",
    },
    "erase_confirm": {
        "en": "I confirm: this person asked to be erased, or has left",
        "fr": "Je confirme : cette personne a demandé à être effacée, ou est partie",
    },
    "erase_yes": {"en": "Erase for good", "fr": "Effacer définitivement"},
    "cancel": {"en": "Cancel", "fr": "Annuler"},
    "erased": {"en": "The member was erased.", "fr": "Le membre a été effacé."},
    "not_confirmed": {
        "en": "Tick the confirmation to erase.",
        "fr": "Cochez la confirmation pour effacer.",
    },
    "unknown": {
        "en": "No such member (or erased already).",
        "fr": "Aucun membre de ce nom (ou déjà effacé).",
    },
    "roster": {"en": "Upload a roster", "fr": "Envoyer une liste de membres"},
    "roster_intro": {
        "en": "A CSV or Excel roster, read as rallybot roster import reads it: every row is "
        "checked first, and nothing is imported if one has a problem.",
        "fr": "Une liste CSV ou Excel, lue comme la lit rallybot roster import : chaque ligne "
        "est vérifiée d'abord, et rien n'est importé si l'une a un problème.",
    },
    "roster_file": {"en": "Roster file", "fr": "Fichier de la liste"},
    "platform": {"en": "Platform of the id column", "fr": "Plateforme de la colonne id"},
    "date_format": {"en": "Dates read as", "fr": "Dates lues en"},
    "dry_run": {"en": "Only check, import nothing", "fr": "Vérifier seulement, ne rien importer"},
    "upload": {"en": "Upload", "fr": "Envoyer"},
    "roster_problems": {
        "en": "{n} problem(s): nothing imported.",
        "fr": "{n} problème(s) : rien n'a été importé.",
    },
    "roster_checked": {
        "en": "{n} member(s), no problem found (nothing imported).",
        "fr": "{n} membre(s), aucun problème (rien n'a été importé).",
    },
    "roster_done": {
        "en": "{created} member(s) created, {updated} updated, {unchanged} unchanged.",
        "fr": "{created} membre(s) créé(s), {updated} mis à jour, {unchanged} inchangé(s).",
    },
    "roster_missing": {"en": "Choose a file.", "fr": "Choisissez un fichier."},
}


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
    values: dict[str, object] = {
        "q": q,
        "rows": rows,
        "total": total,
        "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
        "platforms": _platforms(state),
        "date_formats": DATE_FORMATS,
        "roster": None,
        "notice": None,
        "problem": None,
        **context,
    }
    return render(request, viewer, "members.html", values, words=_WORDS)


@router.get("/members", name="members", response_class=HTMLResponse)
async def members_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """Members matching the search, by name."""
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
        raise HTTPException(404, word(_WORDS, viewer.locale, "unknown"))
    values = {"member": member, "key": form_key()}
    return render(request, viewer, "members_erase.html", values, words=_WORDS)


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
            request, viewer, state, problem=word(_WORDS, viewer.locale, "not_confirmed")
        )
    erased = await _erase(state, viewer, member_id)
    key = "erased" if erased.erased else "unknown"
    if not erased.erased:
        return await _page(request, viewer, state, problem=word(_WORDS, viewer.locale, key))
    return await _page(request, viewer, state, notice=word(_WORDS, viewer.locale, key))


async def _erase(state: ConsoleState, viewer: Viewer, member_id: int) -> ErasedOut:
    erased = await erase(console_of(state), member_id, viewer.key)
    if erased:
        # Who and when, never whom: the erasure's own audit says the same.
        await audit(state, viewer, "erase", "a member")
    return ErasedOut(erased=erased)


async def _roster(
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
        message = f"platform: one of {', '.join(_platforms(state))}"
        # The API answers as its document says: FastAPI's shape of a validation error.
        detail = [{"loc": ["body", "platform"], "msg": message, "type": "value_error"}]
        raise HTTPException(422, detail if api else message)
    raw = await file.read(ROSTER_MAX_BYTES + 1)
    name = (file.filename or "roster.csv")[:200]
    outcome = await import_roster(
        console_of(state), raw, name, platform=platform, date_format=date_format, dry_run=dry_run
    )
    if outcome.imported:
        await audit(
            state,
            viewer,
            "roster import",
            f"{name}: {outcome.created} created, {outcome.updated} updated",
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
        return await _page(
            request, viewer, state, problem=word(_WORDS, viewer.locale, "roster_missing")
        )
    try:
        outcome = await _roster(state, viewer, file, platform, date_format, dry_run == "yes")
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
    """Members whose name, e-mail or id contains ``q``, by name, with their onboarding."""
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
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    file: UploadFile,
    platform: Annotated[str, Form(max_length=16)] = "console",
    date_format: Annotated[Literal["auto", "day-first", "month-first"], Form()] = "auto",
    dry_run: Annotated[bool, Form()] = False,
) -> RosterOut:
    """Import a roster all or nothing (``imported`` False: its ``problems``, row by row)."""
    return _roster_out(await _roster(state, viewer, file, platform, date_format, dry_run, api=True))


page = Page(name="members", title=_WORDS["title"], role=Role.MANAGER, router=router, api=api)
