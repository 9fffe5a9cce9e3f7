"""The audit log page: who did what, when, from chat or from the console; newest first.

The database keeps each action as an id (``pause``, ``sign-in``) and its target as the code
wrote it (``campaign:connect-launch``, ``console (link)``): the page translates both when it
shows them (:func:`describe`), names a loaded campaign by its title and a step by its words
(as the timeline does), and a person by their display name; the JSON API gives them as
stored."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from rallybot.campaigns.schema import Campaign
from rallybot.handlers.console.act_kit import console_of
from rallybot.handlers.console.act_services import submission_rows
from rallybot.handlers.console.kit import (
    ConsoleState,
    Page,
    Role,
    Viewer,
    console_state,
    render,
    require,
)
from rallybot.handlers.console.names import named_step, person_words, platform_words
from rallybot.handlers.console.words import N_, gettext, language_name, ngettext, number
from rallybot.handlers.privacy.service import FORGOTTEN
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.database import Database
from rallybot.storage.models import Member, table_of

__all__ = [
    "AuditPage",
    "AuditRow",
    "Described",
    "Names",
    "audit_rows",
    "describe",
    "page",
    "who_words",
]

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


# The actions of the audit log, by the id the log keeps.
_ACTIONS = {
    # Translators: this and the next ones: the audit log's "Action" column (what was done).
    "sign-in": N_("Signed in"),
    "sign-out": N_("Signed out"),
    "pause": N_("Paused a campaign"),
    "resume": N_("Resumed a campaign"),
    "preview": N_("Previewed a step"),
    "send": N_("Sent a step now"),
    "skip": N_("Skipped a step"),
    "retry": N_("Sent failed messages again"),
    "approved": N_("Approved challenge evidence"),
    "rejected": N_("Rejected challenge evidence"),
    "erase": N_("Erased a member"),
    "roster import": N_("Imported a roster"),
    "check draft": N_("Checked a draft"),
}

# The kinds of a checked draft, with the words of the drafts page.
_DRAFT_KINDS = {
    "campaign": N_("Campaign"),
    "quiz": N_("Quiz bank"),
    "faq": N_("FAQ"),
    "rules": N_("Points rules"),
    "community": N_("Community file"),
}


@dataclass(frozen=True)
class Described:
    """An audit entry's action and target in the viewer's language; ``raw_action`` or
    ``raw_detail`` when the page has no words for them and shows them as stored."""

    action: str
    detail: str
    raw_action: bool = False
    raw_detail: bool = False


@dataclass(frozen=True)
class Names:
    """The campaigns loaded, to name a campaign by its title and a step by its words (its
    message filled in as at ``at``, the entry's time); without them an entry shows ids."""

    campaigns: Mapping[str, Campaign]
    at: datetime
    # the challenge submissions judged, by id: who sent them and the challenge's title
    submissions: Mapping[int, tuple[str, str]] = field(default_factory=dict)

    def campaign(self, campaign_id: str) -> str:
        """A loaded campaign's title; its id otherwise (a campaign since removed)."""
        campaign = self.campaigns.get(campaign_id)
        return (campaign.spec.title if campaign is not None else "") or campaign_id

    def step(self, key: str, locale: str) -> str:
        """A step (``campaign/step``) as the timeline's heading names it: its words, then
        its campaign's title; as written when the campaign is not loaded any more."""
        return named_step(self.campaigns, key, locale, self.at)


def _step_of(found: re.Match[str], locale: str, names: Names | None) -> str:
    return names.step(found["step"], locale) if names is not None else found["step"]


_Detail = Callable[[re.Match[str], str, "Names | None"], str]


def _sign_in(found: re.Match[str], locale: str, names: Names | None) -> str:
    how = found["how"]
    if how == "link":
        return gettext(locale, "to the console, with a one-time link")
    # Translators: {provider} is the service signed in with: Slack or Discord.
    return gettext(locale, "to the console, with {provider}").format(provider=how.title())


def _send(found: re.Match[str], locale: str, names: Names | None) -> str:
    step = _step_of(found, locale, names)
    channel = found["channel"] or found["old_channel"]
    if channel is not None:
        posted = found["posted"] == "1" or found["old_posted"] is not None
        if posted:
            # Translators: {step} is a campaign's step, {channel} a channel (#announcements).
            text = gettext(locale, "{step}, in {channel}: posted there already")
        else:
            # Translators: {step} is a campaign's step, {channel} a channel (#announcements).
            text = gettext(locale, "{step}, in {channel}")
        return text.format(step=step, channel=f"#{channel.removeprefix('#')}")
    n = int(found["members"] or found["n"])
    # Translators: {step} is a campaign's step ("connect-launch/welcome").
    text = ngettext(locale, "{step}, to {n} person", "{step}, to {n} people", n)
    shown = text.format(step=step, n=number(n, locale))
    had = int(found["had"] or found["old_had"] or 0)
    if had:
        already = ngettext(
            locale, "{n} person had it already", "{n} people had it already", had
        ).format(n=number(had, locale))
        # Translators: who the step was sent to, then who had it already.
        shown = gettext(locale, "{sent}; {already}").format(sent=shown, already=already)
    return shown


def _roster(found: re.Match[str], locale: str, names: Names | None) -> str:
    created = int(found["created"])
    text = ngettext(
        locale,
        "{file}: {created} member created, {updated} updated",
        "{file}: {created} members created, {updated} updated",
        created,
    )
    return text.format(
        file=found["file"],
        created=number(created, locale),
        updated=number(int(found["updated"]), locale),
    )


def _draft(found: re.Match[str], locale: str, names: Names | None) -> str:
    kind = gettext(locale, _DRAFT_KINDS[found["kind"]])
    if found["file"] is None:
        # Translators: a draft checked in the audit log, pasted on the page rather than
        # uploaded as a file; {kind} is its kind (Campaign, Quiz bank...).
        return gettext(locale, "{kind}: the pasted text").format(kind=kind)
    # Translators: {kind} is a kind of file (Campaign, Quiz bank...), {file} its name.
    return gettext(locale, "{kind}: {file}").format(kind=kind, file=found["file"])


def _step(found: re.Match[str], locale: str, names: Names | None) -> str:
    return _step_of(found, locale, names)


def _preview(found: re.Match[str], locale: str, names: Names | None) -> str:
    # Translators: {step} is a campaign's step, {language} the name of the language it was
    # shown in, as Babel writes it ("français").
    shown = language_name(found["locale"], locale)
    step = _step_of(found, locale, names)
    return gettext(locale, "{step}, in {language}").format(step=step, language=shown)


def _campaign(found: re.Match[str], locale: str, names: Names | None) -> str:
    shown = names.campaign(found["id"]) if names is not None else found["id"]
    return gettext(locale, "campaign {id}").format(id=shown)


def _submission(found: re.Match[str], locale: str, names: Names | None) -> str:
    named = names.submissions.get(int(found["id"])) if names is not None else None
    if named is not None:
        member, challenge = named
        # Translators: the challenge evidence a manager approved or rejected, in the audit
        # log: who sent it and the challenge's title.
        text = gettext(locale, "evidence of {member} for “{challenge}”")
        return text.format(member=person_words(member, locale), challenge=challenge)
    return gettext(locale, "submission #{id}").format(id=found["id"])


_STEP = r"(?P<step>[^\s/]+/[^\s/]+)"
# A step sent now: the chat writes counts and names, no words ("members=3 had=1",
# "channel=#news had=0"); the console writes "to 3 of 4 people, 1 had it"; older rows of the
# chat say "to 3 member(s), 1 had it" or "to #news (posted already)", and are still read.
_SEND = re.compile(
    _STEP + r"(?: members=(?P<members>\d+) had=(?P<had>\d+)"
    r"| channel=(?P<channel>\S+) had=(?P<posted>[01])"
    r"| to (?P<n>\d+) (?:of \d+ )?(?:people|member\(s\))(?:, (?P<old_had>\d+) had it)?"
    r"| to (?P<old_channel>#\S+)(?P<old_posted> \(posted already\))?)"
)
_SUBMISSION = re.compile(r"submission #(?P<id>\d+)")
# The targets as the code writes them (kit.audit's callers and the chat's steering commands).
_DETAILS: dict[str, tuple[re.Pattern[str], _Detail | str]] = {
    "sign-in": (re.compile(r"console \((?P<how>link|slack|discord)\)"), _sign_in),
    "sign-out": (re.compile("console"), N_("from the console")),
    "pause": (re.compile(r"campaign:(?P<id>.+)"), _campaign),
    "resume": (re.compile(r"campaign:(?P<id>.+)"), _campaign),
    "preview": (re.compile(_STEP + r" (?P<locale>[\w-]+)"), _preview),
    "send": (_SEND, _send),
    "skip": (re.compile(_STEP), _step),
    "retry": (re.compile(_STEP), _step),
    "approved": (_SUBMISSION, _submission),
    "rejected": (_SUBMISSION, _submission),
    "erase": (re.compile("a member"), N_("a member (who is not recorded)")),
    "roster import": (
        re.compile(r"(?P<file>.+): (?P<created>\d+) created, (?P<updated>\d+) updated"),
        _roster,
    ),
    "check draft": (
        re.compile(r"(?P<kind>" + "|".join(_DRAFT_KINDS) + r")(?: (?P<file>.+))?"),
        _draft,
    ),
}


def describe(action: str, target: str, locale: str | None, names: Names | None = None) -> Described:
    """An audit entry's action and target in ``locale``'s language, campaigns and steps by
    their ``names`` when given; an action or a target the page does not know (written by a
    newer version, say) is shown as stored."""
    loc = locale or "en"
    words = _ACTIONS.get(action)
    rule = _DETAILS.get(action)
    found = rule[0].fullmatch(target) if rule else None
    if words is None or rule is None or found is None:
        shown = gettext(loc, words) if words else action
        return Described(shown, target, raw_action=words is None, raw_detail=True)
    how = rule[1]
    detail = gettext(loc, how) if isinstance(how, str) else how(found, loc, names)
    return Described(gettext(loc, words), detail)


def who_words(entry: AuditRow, locale: str | None) -> str:
    """Who did it, as a person reads it: their display name; "erased member" for a manager
    erased since; for someone the bot does not know, the platform they signed in from (their
    ``platform:id`` key says nothing to a reader: the page keeps it in a tooltip)."""
    if entry.actor_name:
        return person_words(entry.actor_name, locale)
    if entry.actor == FORGOTTEN:
        return person_words(f"{FORGOTTEN}-", locale)
    platform = entry.actor.partition(":")[0]
    if platform == "console":
        # Translators: who did an action in the audit log, when the bot does not know their
        # name: someone of the console platform (a roster's people).
        return gettext(locale, "someone on the console")
    # Translators: who did an action in the audit log, when the bot does not know their name
    # ("someone on Slack").
    return gettext(locale, "someone on {platform}").format(
        platform=platform_words(platform, locale)
    )


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
    campaigns = state.campaigns()
    submitted = {
        int(judged["id"])
        for entry in found.entries
        if entry.action in ("approved", "rejected")
        and (judged := _SUBMISSION.fullmatch(entry.target)) is not None
    }
    kept = await submission_rows(console_of(state), viewer.locale, submitted)
    submissions = {key: (row.member, row.title) for key, row in kept.items()}
    rows = [
        (
            entry,
            entry.at.astimezone(zone),
            describe(
                entry.action,
                entry.target,
                viewer.locale,
                Names(campaigns, entry.at, submissions),
            ),
            who_words(entry, viewer.locale),
        )
        for entry in found.entries
    ]
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
