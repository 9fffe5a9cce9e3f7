"""The indicators page: the figures of ``rallybot report`` (funnel, weekly actives, reach,
quizzes, challenges, satisfaction, help, points, kudos) for all members, a cohort or a team,
with accessible bars, and the HTML report and CSV files as the CLI writes them.

Survey figures come from :mod:`handlers.reporting.indicators`, which hides a cohort's or a team's
satisfaction under the minimum group size: the page shows only that it is hidden.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path as FilePath
from typing import Annotated, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from rallybot.bot.extras import MissingExtraError
from rallybot.handlers.console.kit import (
    ConsoleState,
    Page,
    Role,
    Viewer,
    console_state,
    render,
    require,
)
from rallybot.handlers.console.sources import (
    EARLIEST,
    LATEST,
    NO_CONTROL,
    bad_day,
    form_day,
    indicator_cache,
    invalid,
    read_period,
)
from rallybot.handlers.console.words import N_, gettext
from rallybot.handlers.reporting import service as ind
from rallybot.handlers.reporting.service import (
    ReportData,
    chart_pngs,
    render_html,
    summary_json,
    titles_of,
    write_csv,
)

__all__ = ["IndicatorsOut", "page"]

router = APIRouter()
api = APIRouter(tags=["indicators"])


class FunnelStageOut(BaseModel):
    """One stage of the adoption funnel (shares 0-1)."""

    stage: str
    count: int
    of_invited: float | None
    of_previous: float | None


class WeekOut(BaseModel):
    """A count for the week starting on Monday ``week``."""

    week: date
    count: int


class ReachOut(BaseModel):
    """Who a campaign post reached."""

    campaign: str
    step: str
    occurrence: str
    sent_at: datetime | None
    reached: int
    audience: int
    rate: float | None
    sent_title: str = Field(
        "", description="The post's title as it was sent (empty: the message had none)."
    )
    sent_text: str = Field(
        "", description="The first words of the post's text as it was sent (empty: none)."
    )


class QuizOut(BaseModel):
    """Quiz participation and scores."""

    members: int
    participants: int
    participation: float | None
    answers: int
    correct: int
    mean_score: float | None


class ChallengeOut(BaseModel):
    """One challenge's participation: ``participants`` took part (made progress, or sent
    evidence whatever its state); of those who sent evidence, each counts once in
    ``approved``, else ``waiting``, else ``rejected``; ``completion`` = completed members /
    participants."""

    challenge: str
    participants: int
    completed_members: int
    completed_teams: int
    completion: float | None
    approved: int = 0
    waiting: int = 0
    rejected: int = 0


class SatisfactionOut(BaseModel):
    """Survey ratings; ``hidden`` when the group is under the minimum size (figures left out)."""

    responses: int
    hidden: bool
    ratings: int | None = None
    mean_rating: float | None = None
    nps_answers: int | None = None
    nps: float | None = None


class HelpOut(BaseModel):
    """Help desk response and resolution times (seconds)."""

    tickets: int
    answered: int
    solved: int
    median_first_response_seconds: float | None
    median_resolution_seconds: float | None


class PointsOut(BaseModel):
    """The points distribution."""

    members: int
    with_points: int
    total: int
    mean: float | None
    median: float | None
    max: int | None


class KudosOut(BaseModel):
    """Kudos given and received."""

    given: int
    givers: int
    received: int
    receivers: int


class ScopeOut(BaseModel):
    """Which members and which period."""

    model_config = ConfigDict(populate_by_name=True)

    campaign: str | None
    cohort: str | None
    team: str | None
    from_: datetime | None = Field(alias="from")
    to: datetime | None


class IndicatorsOut(BaseModel):
    """The figures of ``rallybot report --format json``, with the funnel and weekly actives
    by cohort."""

    model_config = ConfigDict(populate_by_name=True)

    scope: ScopeOut
    generated_at: datetime
    funnel: list[FunnelStageOut]
    arrive_later: int = Field(
        0, description="Invited members whose start date is still to come (not joined)."
    )
    not_counted: int = Field(
        0,
        description="Community managers left out of every figure (counted only when the "
        "administrator sets RALLYBOT_COUNT_MANAGERS).",
    )
    active_members: int
    weekly_active: list[WeekOut]
    reach: list[ReachOut]
    quiz: QuizOut
    challenges: list[ChallengeOut]
    satisfaction: SatisfactionOut
    help: HelpOut
    points: PointsOut
    kudos: KudosOut
    funnel_by_cohort: dict[str, list[FunnelStageOut]]
    weekly_active_by_cohort: dict[str, list[WeekOut]]


def _out(data: ReportData) -> IndicatorsOut:
    summary = summary_json(data)
    summary["funnel_by_cohort"] = {
        cohort: [
            {
                "stage": s.name,
                "count": s.count,
                "of_invited": s.of_invited,
                "of_previous": s.of_previous,
            }
            for s in funnel.stages
        ]
        for cohort, funnel in data.funnel_by_cohort.items()
    }
    # the page names a post by the words it went out with, not its step re-rendered today
    summary["reach"] = [
        {**row, "sent_title": post.sent_title, "sent_text": post.sent_text}
        for row, post in zip(
            cast("list[dict[str, object]]", summary["reach"]), data.reach, strict=True
        )
    ]
    summary["weekly_active_by_cohort"] = {
        cohort: [{"week": w.week, "count": w.count} for w in weeks]
        for cohort, weeks in data.weekly_active_by_cohort.items()
    }
    return IndicatorsOut.model_validate(summary)


Text = Annotated[str | None, Query(max_length=100, pattern=NO_CONTROL)]


def _scope(
    request: Request,
    state: ConsoleState,
    viewer: Viewer,
    cohort: str | None,
    team: str | None,
    campaign: str | None,
    start: date | None,
    end: date | None,
) -> ind.Scope:
    if start is not None and end is not None and end < start:
        raise invalid(
            request, "to", gettext(viewer.locale, "The end day must not come before the start day.")
        )
    settings = state.settings
    zone = ZoneInfo(settings.timezone)
    return ind.Scope(
        cohort=cohort or None,
        team=team or None,
        start=datetime.combine(start, time(), zone) if start else None,
        end=datetime.combine(end + timedelta(days=1), time(), zone) if end else None,
        campaign_id=campaign or None,
        exclude=ind.managers_left_out(settings.admins, settings.count_managers),
    )


def _day(request: Request, viewer: Viewer, field: str, text: str | None) -> date | None:
    day = form_day(text, viewer.locale)
    if isinstance(day, str):
        raise bad_day(request, field, day, viewer.locale)
    return day


@router.get("/indicators", name="indicators", response_class=HTMLResponse)
async def indicators_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    cohort: Text = None,
    team: Text = None,
    campaign: Text = None,
    start_text: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    end_text: Annotated[str | None, Query(alias="to", max_length=20)] = None,
) -> HTMLResponse:
    """The indicators of a scope, with bars and downloads."""
    # A day she mistyped is said next to its field, with what she typed, and left out of the
    # scope, as on the timeline: the page stays, rather than giving way to an error page.
    start, end, problems = read_period(start_text, end_text, viewer.locale)
    scope = _scope(request, state, viewer, cohort, team, campaign, start, end)
    data = _out(await indicator_cache(request, state).get(scope))
    chosen = {
        "cohort": cohort or "",
        "team": team or "",
        "campaign": campaign or "",
        "from": start.isoformat() if start else "",
        "to": end.isoformat() if end else "",
    }
    weekly_max = max((w.count for w in data.weekly_active), default=0)
    return render(
        request,
        viewer,
        "indicators.html",
        {
            "data": data,
            "zone": state.settings.timezone,
            "chosen": chosen,
            "days": {"from": start, "to": end},
            "problems": problems,
            "typed": {"from": start_text or "", "to": end_text or ""},
            "query": {k: v for k, v in chosen.items() if v},
            "cohorts": [c for c in await ind.cohorts(state.db) if c],
            "campaigns": sorted(state.campaigns()),
            "weekly_max": weekly_max,
        },
    )


@router.get("/indicators/report.html", name="indicators_html")
async def report_html(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    cohort: Text = None,
    team: Text = None,
    campaign: Text = None,
    start_text: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    end_text: Annotated[str | None, Query(alias="to", max_length=20)] = None,
) -> Response:
    """The HTML report of ``rallybot report --format html``, computed now."""
    start = _day(request, viewer, "from", start_text)
    end = _day(request, viewer, "to", end_text)
    scope = _scope(request, state, viewer, cohort, team, campaign, start, end)
    data = await indicator_cache(request, state).fresh(scope)
    try:
        charts = chart_pngs(data, viewer.locale)  # the manager's language, else the setting
    except MissingExtraError:
        charts = {}
    return Response(
        # the community's zone, as every page of the console shows times
        render_html(
            data, charts, viewer.locale, state.settings.timezone, titles_of(state.campaigns())
        ),
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rallybot-report.html"'},
    )


@router.get("/indicators/report.zip", name="indicators_csv")
async def report_csv(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    cohort: Text = None,
    team: Text = None,
    campaign: Text = None,
    start_text: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    end_text: Annotated[str | None, Query(alias="to", max_length=20)] = None,
) -> Response:
    """The CSV files of ``rallybot report --format csv``, computed now, in one zip."""
    start = _day(request, viewer, "from", start_text)
    end = _day(request, viewer, "to", end_text)
    scope = _scope(request, state, viewer, cohort, team, campaign, start, end)
    data = await indicator_cache(request, state).fresh(scope)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(buffer, "w") as archive:
        titles = titles_of(state.campaigns())
        # the reader's words, and the community's zone, as every page of the console shows times
        zone = state.settings.timezone
        for path in write_csv(data, FilePath(folder), viewer.locale, titles, zone):
            archive.write(path, arcname=path.name)
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="rallybot-report.zip"'},
    )


@api.get("/indicators", response_model=IndicatorsOut, response_model_by_alias=True)
async def indicators_api(
    request: Request,
    viewer: Annotated[Viewer, Depends(require(Role.MANAGER))],
    state: Annotated[ConsoleState, Depends(console_state)],
    cohort: Text = None,
    team: Text = None,
    campaign: Text = None,
    start: Annotated[date | None, Query(alias="from", ge=EARLIEST, le=LATEST)] = None,
    end: Annotated[date | None, Query(alias="to", ge=EARLIEST, le=LATEST)] = None,
) -> IndicatorsOut:
    """The indicators of a scope (shares 0-1, durations in seconds; ``from``/``to``: days in
    the bot's zone). Figures are at most a few minutes old (see ``generated_at``)."""
    scope = _scope(request, state, viewer, cohort, team, campaign, start, end)
    return _out(await indicator_cache(request, state).get(scope))


page = Page(name="indicators", title=N_("Indicators"), role=Role.MANAGER, router=router, api=api)
