"""The audit log page: who did what, when, from chat or from the console; newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

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
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.database import Database
from rallybot.storage.models import Member, table_of

__all__ = ["AuditPage", "AuditRow", "audit_rows", "page"]

router = APIRouter()
api = APIRouter(tags=["audit"])

PAGE_SIZE = 50


_AUDIT = table_of(AuditEntry)
_MEMBER = table_of(Member)


class AuditRow(BaseModel):
    """One recorded action."""

    id: int
    at: datetime
    actor: str  # the platform user key
    actor_name: str | None  # their display name, when the bot knows them
    action: str
    target: str


class AuditPage(BaseModel):
    """A page of the audit log, newest first; ``next_before`` fetches the following page."""

    entries: list[AuditRow]
    next_before: int | None


async def audit_rows(
    db: Database, *, before: int | None = None, limit: int = PAGE_SIZE
) -> AuditPage:
    """The ``limit`` entries older than the entry ``before`` (the newest when None)."""
    query = sa.select(_AUDIT).order_by(_AUDIT.c.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(_AUDIT.c.id < before)
    async with db.read() as session:
        rows = (await session.execute(query)).all()
        keys = {row.actor for row in rows}
        names: dict[str, str] = {}
        if keys:
            pairs = [key.partition(":") for key in keys]
            found = await session.execute(
                sa.select(
                    _MEMBER.c.platform,
                    _MEMBER.c.platform_user_id,
                    _MEMBER.c.display_name,
                    _MEMBER.c.first_name,
                ).where(
                    sa.tuple_(_MEMBER.c.platform, _MEMBER.c.platform_user_id).in_(
                        [(platform, user_id) for platform, _, user_id in pairs]
                    )
                )
            )
            for m in found:
                name = m.display_name or m.first_name
                if name:
                    names[f"{m.platform}:{m.platform_user_id}"] = name
    entries = [
        AuditRow(
            id=row.id,
            at=row.at,
            actor=row.actor,
            actor_name=names.get(row.actor),
            action=row.action,
            target=row.target,
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    return AuditPage(entries=entries, next_before=entries[-1].id if more and entries else None)


@router.get("/audit", name="audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    before: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    """The audit log, newest first, :data:`PAGE_SIZE` entries a page."""
    found = await audit_rows(state.db, before=before)
    zone = ZoneInfo(state.settings.timezone)
    rows = [(entry, entry.at.astimezone(zone)) for entry in found.entries]
    return render(
        request,
        viewer,
        "audit.html",
        {
            "rows": rows,
            "next_before": found.next_before,
            "zone": state.settings.timezone,
            "paged": before is not None,
        },
    )


@api.get("/audit", response_model=AuditPage)
async def audit_api(
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    before: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
) -> AuditPage:
    """The audit log, newest first; pass ``next_before`` as ``before`` for the next page."""
    return await audit_rows(state.db, before=before, limit=limit)


page = Page(
    name="audit",
    title=N_("Audit log"),
    role=Role.MANAGER,
    router=router,
    api=api,
)
