"""The timeline page: every delivery, past and future, as a list (keyset pages) or a month
calendar, with filters; each entry opens the message as Slack and Discord show it, with its
recipients and their local time."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from rallybot.bot.adapters.slack.render import render_message as render_slack
from rallybot.bot.messages import plain
from rallybot.bot.outbox import MISSED, NOT_NEEDED, OPTED_OUT, REMOVED
from rallybot.handlers.console.kit import (
    ConsoleState,
    Page,
    Role,
    Viewer,
    console_state,
    render,
    require,
)
from rallybot.handlers.console.preview import NOT_INSTALLED, mentioned_ids, preview
from rallybot.handlers.console.sources import (
    EARLIEST,
    LATEST,
    NO_CONTROL,
    invalid,
    read_period,
    timeline_source,
)
from rallybot.handlers.console.timeline import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    BadCursor,
    Entry,
    EntryDetail,
    Filters,
    TimelineSource,
    mention_names,
)
from rallybot.handlers.console.words import N_, gettext, weekday_names
from rallybot.handlers.steering.service import REPLACED_BY, SKIPPED_BY
from rallybot.storage.models import CampaignStatus, DeliveryStatus
from rallybot.storage.repositories import list_states

__all__ = ["EntryOut", "TimelineOut", "page"]

router = APIRouter()
api = APIRouter(tags=["timeline"])

STATUSES = ("planned", *(s.value for s in DeliveryStatus))


# The words of the delivery states, message kinds and filters the pages show.
_STATUS_WORDS = {
    "planned": N_("planned"),
    "pending": N_("waiting"),
    "claimed": N_("sending"),
    "sent": N_("sent"),
    "skipped": N_("skipped"),
    "cancelled": N_("cancelled"),
    "failed": N_("failed"),
}
_KIND_WORDS = {
    # Translators: "post" is a noun: a message posted in a channel (not a direct message).
    "post": N_("post"),
    "dm": N_("direct messages"),
    "quiz": N_("quiz"),
    "digest": N_("digest"),
}
_FILTER_WORDS = {
    "campaign": N_("Campaign"),
    "audience": N_("Audience"),
    "zone": N_("Time zone"),
    "locale": N_("Language"),
}


def _words(locale: str) -> dict[str, dict[str, str]]:
    """The state, kind and filter names of the timeline's templates, in ``locale``."""
    return {
        name: {key: gettext(locale, text) for key, text in table.items()}
        for name, table in (
            ("status_words", _STATUS_WORDS),
            ("kind_words", _KIND_WORDS),
            ("filter_words", _FILTER_WORDS),
        )
    }


class EntryOut(BaseModel):
    """One line of the timeline: an outbox message or a planned send."""

    id: str
    source: Literal["outbox", "plan"]
    campaign: str
    step: str
    occurrence: str
    due_utc: datetime
    recipient_local: datetime
    kind: str
    target: str
    count: int
    zone: str
    locale: str
    status: str
    preview: str
    reason: str = ""
    """Why the message was cancelled or skipped, in the reader's language ("" when not
    known)."""


class TimelineOut(BaseModel):
    """A page of the timeline; pass ``next_cursor`` as ``cursor`` for the next one, and
    ``previous_cursor`` as ``before`` for the one before."""

    entries: list[EntryOut]
    next_cursor: str | None
    previous_cursor: str | None = None


class DayOut(BaseModel):
    """How many messages go out on one day."""

    day: date
    count: int = Field(
        description="The messages the filters ask for; without a state filter, the ones sent "
        "or to be sent (cancelled and skipped ones are in not_sent)."
    )
    not_sent: int = Field(
        0, description="Without a state filter: the cancelled and skipped messages of the day."
    )


class CalendarOut(BaseModel):
    """A month's messages per day, in ``zone``."""

    month: str
    zone: str
    days: list[DayOut]


class RecipientOut(BaseModel):
    """Who gets a send, at their own time."""

    name: str
    zone: str
    local: datetime
    status: str


class MessageOut(BaseModel):
    """The neutral message, and what the bot's renderers make of it."""

    title: str | None
    text: str
    context: str | None
    slack: dict[str, Any] = Field(description="The chat.postMessage arguments (Block Kit).")
    slack_html: str
    discord_html: str | None
    discord_error: str | None = Field(
        description="Why there is no Discord preview, in the reader's language (null: there is)."
    )


class EntryDetailOut(BaseModel):
    """One entry with its message and recipients."""

    entry: EntryOut
    message: MessageOut | None
    recipients: list[RecipientOut]
    more_recipients: int


def reason_words(reason: str, locale: str) -> str:
    """A kept reason in ``locale`` when it is one the bot writes for a manager's action;
    "" for the others (a worker's note, in English, is for the logs, not this page)."""
    if reason.startswith(REPLACED_BY):
        who = reason.removeprefix(REPLACED_BY)
        return gettext(locale, "replaced: sent now by {who}").format(who=who)
    if reason == SKIPPED_BY:
        return gettext(locale, "skipped by a community manager")
    if reason.startswith(MISSED):
        return gettext(
            locale,
            "too late: the bot could not send it within its grace period "
            "(it was stopped or the campaign paused)",
        )
    if reason.startswith(OPTED_OUT):
        return gettext(locale, "the member asked for no more messages")
    if reason.startswith(REMOVED):
        return gettext(locale, "the member was removed")
    if reason.startswith(NOT_NEEDED):
        return gettext(locale, "not needed: the member had already done what it asks")
    return ""


def _discord_words(error: str | None, locale: str) -> str | None:
    """Why a message has no Discord preview, said to its reader."""
    if error is None:
        return None
    if error == NOT_INSTALLED:
        return gettext(
            locale,
            "No Discord preview: this Rallybot was installed without Discord support "
            "(the discord extra), which draws it.",
        )
    # A button Discord cannot hold: the file's author reads the renderer's own reason.
    return gettext(locale, "Discord cannot show this message: {why}").format(why=error)


def _entry(e: Entry, locale: str) -> EntryOut:
    return EntryOut(
        id=e.id,
        source=e.source,
        campaign=e.campaign,
        step=e.step,
        occurrence=e.occurrence,
        due_utc=e.due_utc,
        recipient_local=e.local,
        kind=e.kind,
        target=e.target,
        count=e.count,
        zone=e.zone,
        locale=e.locale,
        status=e.status,
        preview=e.preview,
        reason=reason_words(e.reason, locale),
    )


Text = Annotated[str | None, Query(max_length=100, pattern=NO_CONTROL)]
MONTH = r"^2[01]\d\d-(0[1-9]|1[0-2])$"
"""A month the calendar shows: ``YYYY-MM`` from 2000 to 2199."""
Status = Annotated[Literal[STATUSES] | None, Query()]  # type: ignore[valid-type]


def _filters(
    request: Request,
    state: ConsoleState,
    viewer: Viewer,
    campaign: str | None,
    audience: str | None,
    zone: str | None,
    locale: str | None,
    status: str | None,
    start: date | None,
    end: date | None,
) -> Filters:
    tz = ZoneInfo(state.settings.timezone)
    if start is not None and end is not None and end < start:
        raise invalid(
            request, "to", gettext(viewer.locale, "The end day must not come before the start day.")
        )
    return Filters(
        campaign=campaign or None,
        audience=audience or None,
        zone=zone or None,
        locale=locale or None,
        status=status or None,
        start=datetime.combine(start, time(), tz) if start else None,
        end=datetime.combine(end + timedelta(days=1), time(), tz) if end else None,
    )


async def _page(
    request: Request,
    source: TimelineSource,
    filters: Filters,
    state: ConsoleState,
    viewer: Viewer,
    cursor: str | None,
    limit: int,
    *,
    before: str | None = None,
    start_at: datetime | None = None,
) -> TimelineOut:
    now = state.clock.now()
    try:
        found = await source.page(
            filters, now, cursor=cursor, before=before, start_at=start_at, limit=limit
        )
        if start_at is not None and not found.entries and found.previous_cursor:
            # Nothing from today on: the last messages instead, the latest at the bottom.
            found = await source.page(filters, now, before=found.previous_cursor, limit=limit)
    except BadCursor:
        raise invalid(
            request,
            "cursor" if cursor is not None else "before",
            gettext(
                viewer.locale,
                "This page link is not valid any more: start again from the first page.",
            ),
        ) from None
    entries = [_entry(e, viewer.locale) for e in found.entries]
    return TimelineOut(
        entries=entries, next_cursor=found.next_cursor, previous_cursor=found.previous_cursor
    )


def _zone(name: str | None, default: str) -> str:
    """``name`` when it is a time zone, else ``default`` (a filter may hold anything)."""
    if name:
        try:
            ZoneInfo(name)
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            return default
        return name
    return default


def _month(text: str | None, today: date) -> date:
    if text:
        try:
            return datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            pass
    return today.replace(day=1)


async def _choices(
    state: ConsoleState, source: TimelineSource, zone: str | None
) -> dict[str, list[str]]:
    """What each filter offers: the zones of the campaigns, of the members and the one
    chosen (so the list shows it), the languages the campaigns write in..."""
    campaigns = state.campaigns()
    zones = {state.settings.timezone, *(c.spec.timezone for c in campaigns.values())}
    zones.update(z for z in await source.member_zones() if _zone(z, "") == z)
    if zone and _zone(zone, "") == zone:
        zones.add(zone)
    locales = {c.spec.locale for c in campaigns.values()}
    for c in campaigns.values():
        for step in c.steps:
            for text in (step.spec.dm, step.spec.text):
                if isinstance(text, dict):  # a text per language
                    locales.update(text)
    return {
        "campaigns": sorted(campaigns),
        "audiences": source.audiences(),
        "zones": sorted(z for z in zones if z),
        "locales": sorted(x for x in locales if x),
        "statuses": list(STATUSES),
    }


@router.get("/timeline", name="timeline", response_class=HTMLResponse)
async def timeline_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    campaign: Text = None,
    audience: Text = None,
    zone: Text = None,
    locale: Text = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    start_text: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    end_text: Annotated[str | None, Query(alias="to", max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    before: Annotated[str | None, Query(max_length=400)] = None,
    view: Literal["list", "calendar"] = "list",
    month: Annotated[str | None, Query(pattern=MONTH)] = None,
) -> HTMLResponse:
    """The timeline as a list or a month calendar, with filters (the form sends its empty
    fields too: an empty filter is no filter)."""
    # A day she mistyped is said next to its field, with what she typed, and left out of
    # the filters: the rest of the page stays as she set it.
    start, end, problems = read_period(start_text, end_text, viewer.locale)
    source = timeline_source(request, state)
    status = status if status in STATUSES else None
    filters = _filters(request, state, viewer, campaign, audience, zone, locale, status, start, end)
    shown_zone = _zone(zone, state.settings.timezone)
    values: dict[str, Any] = {
        "zone": state.settings.timezone,
        "shown_zone": shown_zone,
        "view": view,
        "choices": await _choices(state, source, zone),
        "chosen": {
            "campaign": campaign or "",
            "audience": audience or "",
            "zone": zone or "",
            "locale": locale or "",
            "status": status or "",
            "from": start.isoformat() if start else "",
            "to": end.isoformat() if end else "",
        },
        "paged": cursor is not None or before is not None,
        "days": {"from": start, "to": end},
        "problems": problems,
        "typed": {"from": start_text or "", "to": end_text or ""},
        # A paused campaign sends nothing and its messages to come are left out: said above
        # both views, or an empty list would read as a campaign with nothing left to send.
        "paused": [
            s.id
            for s in await list_states(state.db)
            if s.status == CampaignStatus.paused.value and campaign in (None, "", s.id)
        ],
    }
    if view == "calendar":
        now = state.clock.now()
        # Without a month, the one of the chosen days (a day picked in the calendar, then
        # the calendar again, comes back to its month), else this month.
        chosen_day = start or end or now.astimezone(ZoneInfo(shown_zone)).date()
        first = _month(month, chosen_day)
        counts = await source.month(filters, now, first, shown_zone)
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
        previous = (first - timedelta(days=1)).replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        values.update(
            month=first,
            weeks=weeks,
            counts=counts,
            previous=previous.strftime("%Y-%m"),
            following=following.strftime("%Y-%m"),
            weekdays=weekday_names(viewer.locale),
        )
    else:
        # Without days or a page link, the list opens at today (in the bot's zone): what is
        # going out next, with the messages before it a link away.
        start_at = None
        if cursor is None and before is None and start is None and end is None:
            tz = ZoneInfo(state.settings.timezone)
            start_at = datetime.combine(state.clock.now().astimezone(tz).date(), time(), tz)
        found = await _page(
            request,
            source,
            filters,
            state,
            viewer,
            cursor,
            PAGE_SIZE,
            before=before,
            start_at=start_at,
        )
        values.update(
            entries=found.entries,
            next_cursor=found.next_cursor,
            previous_cursor=found.previous_cursor,
            # Opened at today; or, with nothing from today on, at the last messages.
            from_today=start_at is not None and all(e.due_utc >= start_at for e in found.entries),
            last_ones=start_at is not None and any(e.due_utc < start_at for e in found.entries),
        )
    return render(request, viewer, "timeline.html", {**values, **_words(viewer.locale)})


EntryId = Annotated[str, Path(min_length=2, max_length=400)]


async def _detail(
    request: Request, state: ConsoleState, viewer: Viewer, entry_id: str
) -> tuple[EntryDetail, EntryDetailOut]:
    found = await timeline_source(request, state).detail(entry_id, state.clock.now())
    if found is None:
        raise HTTPException(404, gettext(viewer.locale, "No such message."))
    message_out = None
    if found.message is not None and found.entry.kind in ("post", "dm"):
        message = found.message
        ids = mentioned_ids(message.title, message.text, message.context)
        shown = preview(message, await mention_names(state.db, ids))
        # the neutral texts without the member marks (private-use characters a reader
        # would see as boxes); the renderers' outputs below escape member text instead
        title, context = found.message.title, found.message.context
        message_out = MessageOut(
            title=plain(title) if title is not None else None,
            text=plain(found.message.text),
            context=plain(context) if context is not None else None,
            slack=render_slack(found.message),
            slack_html=str(shown.slack),
            discord_html=str(shown.discord) if shown.discord is not None else None,
            discord_error=_discord_words(shown.discord_error, viewer.locale),
        )
    out = EntryDetailOut(
        entry=_entry(found.entry, viewer.locale),
        message=message_out,
        recipients=[
            RecipientOut(name=r.name, zone=r.zone, local=r.local, status=r.status)
            for r in found.recipients
        ],
        more_recipients=found.more_recipients,
    )
    return found, out


@router.get("/timeline/{entry_id}", name="timeline_entry", response_class=HTMLResponse)
async def entry_page(
    request: Request,
    entry_id: EntryId,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> HTMLResponse:
    """One message as Slack and Discord show it, with its recipients and their time."""
    _found, out = await _detail(request, state, viewer, entry_id)
    partial = request.headers.get("hx-request") == "true"
    return render(
        request,
        viewer,
        "timeline_entry_part.html" if partial else "timeline_entry.html",
        {"detail": out, "zone": state.settings.timezone, **_words(viewer.locale)},
    )


@api.get("/timeline", response_model=TimelineOut)
async def timeline_api(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    campaign: Text = None,
    audience: Text = None,
    zone: Text = None,
    locale: Text = None,
    status: Status = None,
    start: Annotated[date | None, Query(alias="from", ge=EARLIEST, le=LATEST)] = None,
    end: Annotated[date | None, Query(alias="to", ge=EARLIEST, le=LATEST)] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    before: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> TimelineOut:
    """A page of the timeline in time order (``from``/``to``: days in the bot's zone), from
    the first entry; ``cursor``: the page after it; ``before``: the page that ends before it."""
    filters = _filters(request, state, viewer, campaign, audience, zone, locale, status, start, end)
    source = timeline_source(request, state)
    return await _page(request, source, filters, state, viewer, cursor, limit, before=before)


@api.get("/timeline/calendar", response_model=CalendarOut)
async def calendar_api(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    month: Annotated[str, Query(pattern=MONTH)],
    campaign: Text = None,
    audience: Text = None,
    zone: Text = None,
    locale: Text = None,
    status: Status = None,
) -> CalendarOut:
    """Messages per day of ``month`` (``YYYY-MM``), in ``zone`` (else the bot's)."""
    shown = _zone(zone, state.settings.timezone)
    filters = _filters(request, state, viewer, campaign, audience, zone, locale, status, None, None)
    first = datetime.strptime(month, "%Y-%m").date()
    counts = await timeline_source(request, state).month(filters, state.clock.now(), first, shown)
    return CalendarOut(
        month=month,
        zone=shown,
        days=[DayOut(day=d, count=c.messages, not_sent=c.not_sent) for d, c in counts.items()],
    )


@api.get(
    "/timeline/{entry_id}",
    response_model=EntryDetailOut,
    responses={404: {"description": "No such entry"}},
)
async def entry_api(
    request: Request,
    entry_id: EntryId,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
) -> EntryDetailOut:
    """One entry: its message (Block Kit payload and both previews) and recipients."""
    _found, out = await _detail(request, state, viewer, entry_id)
    return out


page = Page(name="timeline", title=N_("Timeline"), role=Role.MANAGER, router=router, api=api)
