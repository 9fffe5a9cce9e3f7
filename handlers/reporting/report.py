"""``rallybot report``: the indicators as terminal tables, CSV files, PNG charts and one HTML page.

:func:`compute` runs every indicator of :mod:`.indicators` once; the renderers below only
format its :class:`ReportData`. The HTML report is one self-contained file (charts embedded as
PNG data, inline CSS, no script, no external resource) that reads offline and prints cleanly.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from rallybot.bot import formats, i18n
from rallybot.bot.extras import require
from rallybot.bot.i18n import N_
from rallybot.handlers.reporting import indicators as ind
from rallybot.handlers.reporting.indicators import (
    NO_GROUP,
    ChallengeStats,
    Funnel,
    HelpTimes,
    KudosStats,
    PointsDistribution,
    PostReach,
    QuizStats,
    Satisfaction,
    Scope,
    WeekCount,
)
from rallybot.handlers.reporting.titles import Titles
from rallybot.storage.database import Database

if TYPE_CHECKING:  # matplotlib is the charts extra: imported when a chart is drawn
    from matplotlib.figure import Figure

__all__ = [
    "CHARTS",
    "STEPS",
    "ReportData",
    "challenge_words",
    "chart_pngs",
    "chart_title",
    "compute",
    "csv_cell",
    "post_name",
    "render_html",
    "render_tables",
    "summary_text",
    "who_notes",
    "write_csv",
    "write_pngs",
]

STEPS = (
    "funnel per cohort",
    "adoption funnel",
    "weekly active members",
    "active members",
    "reach of campaign posts",
    "quizzes",
    "challenges",
    "satisfaction",
    "help desk",
    "points",
    "kudos",
)
"""What :func:`compute` does, in order (for a progress display)."""

CHARTS = ("funnel", "weekly_active", "satisfaction", "help", "points")
"""The charts, by file name (``<name>.png``)."""

_CHART_TITLES = {  # English, the catalogs' message ids: chart_title translates them
    "funnel": N_("Adoption funnel"),
    "weekly_active": N_("Active members per week"),
    "satisfaction": N_("Satisfaction per week"),
    "help": N_("Help desk: median first response per week"),
    "points": N_("Points distribution"),
}


@dataclass(frozen=True, slots=True)
class ReportData:
    """Every indicator for one scope."""

    scope: Scope
    generated_at: datetime
    funnel: Funnel
    funnel_by_cohort: dict[str, Funnel]
    weekly_active: list[WeekCount]
    weekly_active_by_cohort: dict[str, list[WeekCount]]
    active_members: int
    reach: list[PostReach]
    quiz: QuizStats
    challenges: list[ChallengeStats]
    satisfaction: Satisfaction
    help: HelpTimes
    points: PointsDistribution
    kudos: KudosStats
    kudos_by_cohort: dict[str, KudosStats]
    survey_rounds: list[ind.SurveyRound] = field(default_factory=list)  # pulses, per round
    not_counted: int = 0  # community managers left out of every figure (ind.not_counted)


async def compute(
    db: Database,
    scope: Scope,
    now: datetime,
    *,
    on_step: Callable[[str], None] | None = None,
) -> ReportData:
    """Compute every indicator; ``on_step(name)`` is called after each of :data:`STEPS`."""

    def done(name: str) -> None:
        if on_step is not None:
            on_step(name)

    scope = await ind.spelled(db, scope)  # "ventes" is the team "Ventes"
    if scope.cohort is None:  # each member is in one cohort: the cohorts' counts add up
        by_cohort = await ind.funnel_by(db, scope, "cohort", now)
        done(STEPS[0])
        funnel = ind.sum_funnels(by_cohort.values())
    else:
        by_cohort = {}
        funnel = await ind.funnel(db, scope, now)
        done(STEPS[0])
    done(STEPS[1])
    weekly_by = await ind.weekly_active_by(db, scope, "cohort")
    weekly = _sum_series(weekly_by)
    done(STEPS[2])
    active = await ind.active_members(db, scope)
    done(STEPS[3])
    reach = await ind.reach(db, scope)
    done(STEPS[4])
    quiz = await ind.quiz_stats(db, scope)
    done(STEPS[5])
    challenges = await ind.challenges(db, scope)
    done(STEPS[6])
    satisfaction = await ind.satisfaction(db, scope)
    rounds = await ind.survey_rounds(db, scope)
    done(STEPS[7])
    help_ = await ind.help_times(db, scope)
    done(STEPS[8])
    points = await ind.points_distribution(db, scope)
    done(STEPS[9])
    kudos = await ind.kudos(db, scope)
    kudos_by = await ind.kudos_by(db, scope, "cohort") if scope.cohort is None else {}
    done(STEPS[10])
    return ReportData(
        not_counted=await ind.not_counted(db, scope),
        scope=scope,
        generated_at=now,
        funnel=funnel,
        funnel_by_cohort=by_cohort,
        weekly_active=weekly,
        weekly_active_by_cohort=weekly_by if len(weekly_by) > 1 else {},
        active_members=active,
        reach=reach,
        quiz=quiz,
        challenges=challenges,
        satisfaction=satisfaction,
        help=help_,
        points=points,
        kudos=kudos,
        kudos_by_cohort=kudos_by if len(kudos_by) > 1 else {},
        survey_rounds=rounds,
    )


def _sum_series(series: dict[str, list[WeekCount]]) -> list[WeekCount]:
    """Weekly totals: each member is in one cohort, so the cohorts' distinct counts add up."""
    totals: dict[date, int] = {}
    for weeks in series.values():
        for week in weeks:
            totals[week.week] = totals.get(week.week, 0) + week.count
    return [WeekCount(day, count) for day, count in sorted(totals.items())]


# ---------------------------------------------------------------------------- formatting


# One way to write each kind of figure, for every reader (the console's pages, the HTML
# report, the terminal, chat): a count with the locale's separators, a share as a whole
# percentage, a mean or a median with at most one decimal, an NPS as a whole signed number,
# a duration in words to the minute, and a dash where there is nothing to measure. The CSV
# files for a spreadsheet round the same way (see write_csv).

NOTHING = "—"
"""What a figure reads when there is nothing to measure (no answer, no ticket...)."""

DECIMALS = 1
"""The decimals of a mean or a median (a rating, points): "3,3", "15" (never "15,0")."""


def count(value: float | None, locale: str | None = None) -> str:
    """A count with the locale's separators ("1 234" in French); None → :data:`NOTHING`."""
    return NOTHING if value is None else formats.number(locale, value)


def pct(value: float | None, locale: str | None = None) -> str:
    """``0.5`` → ``50%`` (``50 %`` in French); None → :data:`NOTHING`."""
    return NOTHING if value is None else formats.percent(locale, value)


def num(value: float | None, digits: int = DECIMALS, locale: str | None = None) -> str:
    """A number with at most ``digits`` decimals, the locale's way; None → :data:`NOTHING`."""
    return NOTHING if value is None else formats.number(locale, value, digits)


def nps(value: float | None, locale: str | None = None) -> str:
    """An NPS (-100 to +100) as a whole number, signed when not 0; None → :data:`NOTHING`."""
    if value is None:
        return NOTHING
    whole = round(value)
    shown = formats.number(locale, abs(whole))
    return shown if whole == 0 else ("+" if whole > 0 else "-") + shown


def minutes(value: timedelta) -> int:
    """A duration to the minute: what :func:`duration` writes, and the CSV files count."""
    return round(value.total_seconds() / 60)


def duration(value: timedelta | None, locale: str | None = None) -> str:
    """``1 h 30 min``, ``45 min``, ``2 d 3 h`` (the locale's units); None → :data:`NOTHING`."""
    if value is None:
        return NOTHING
    days, left = divmod(minutes(value), 24 * 60)
    hours, left = divmod(left, 60)
    # Translators: short units of a duration: d for days, h for hours, min for minutes.
    if days and hours:
        return i18n.gettext(locale, "{days} d {hours} h").format(days=days, hours=hours)
    if days:
        return i18n.gettext(locale, "{days} d").format(days=days)
    if hours and left:
        return i18n.gettext(locale, "{hours} h {minutes} min").format(hours=hours, minutes=left)
    if hours:
        return i18n.gettext(locale, "{hours} h").format(hours=hours)
    return i18n.gettext(locale, "{minutes} min").format(minutes=left)


def stage_count(stage: ind.FunnelStage, first: bool, locale: str | None = None) -> str:
    """A funnel stage's members, and beside them their share of the invited but for the
    first stage (the invited themselves: always 100 %): "4", then "3 (75 %)"."""
    shown = count(stage.count, locale)
    return shown if first else f"{shown} ({pct(stage.of_invited, locale)})"


def points_range(bucket: ind.PointsBucket, locale: str | None = None) -> str:
    """A bucket of the points distribution in words: "0 or less", "1 to 9", "250 or more"."""
    if bucket.low is None:
        # Translators: a range of points totals: {high} points or fewer (a negative total too).
        text = i18n.gettext(locale, "{high} or less")
    elif bucket.high is None:
        # Translators: a range of points totals: {low} points or more.
        text = i18n.gettext(locale, "{low} or more")
    else:
        # Translators: a range of points totals: from {low} to {high} points.
        text = i18n.gettext(locale, "{low} to {high}")
    return text.format(
        low="" if bucket.low is None else count(bucket.low, locale),
        high="" if bucket.high is None else count(bucket.high, locale),
    )


LATER = "arrive later"
"""The funnel's row of the invited members whose start date is still to come (not a stage)."""


def stage_name(name: str, locale: str | None = None) -> str:
    """A funnel stage's name (``invited``, ``first post``...) in ``locale``."""
    # Translators: the stages of the adoption funnel, in the report's tables and charts.
    words = {
        "invited": i18n.pgettext(locale, "funnel stage", "invited"),
        "joined": i18n.pgettext(locale, "funnel stage", "joined"),
        "profile complete": i18n.pgettext(locale, "funnel stage", "profile complete"),
        "first post": i18n.pgettext(locale, "funnel stage", "first post"),
        "first quiz answer": i18n.pgettext(locale, "funnel stage", "first quiz answer"),
        # Translators: not a stage: invited members whose start date is still to come.
        LATER: i18n.pgettext(locale, "funnel stage", "arrive later"),
    }
    return words.get(name, name)


# ---------------------------------------------------------------------------- tables


def _tables(
    data: ReportData,
    locale: str | None = None,
    zone: str | None = None,
    titles: Titles | None = None,
) -> list[tuple[str, list[str], list[list[str]]]]:
    """Every table of the report as (title, header, rows) of text in ``locale``: shared by the
    terminal and the HTML page. Times are shown in the time zone ``zone`` (UTC when None);
    challenges, surveys, campaigns and posts by their ``titles`` (ids without them)."""
    L = locale  # short: every label of the tables below takes it
    where = ZoneInfo(zone) if zone else UTC
    named = titles or Titles()

    def n(value: float) -> str:
        return formats.number(L, value)

    def week(day: date) -> str:
        return formats.day(L, day)

    def group(name: str) -> str:
        # the members in no cohort: words of their own, not the stored mark
        # Translators: the row of the members in no cohort, in the report's tables.
        return i18n.gettext(L, "(none)") if name == NO_GROUP else name

    # Translators: Net Promoter Score, as an abbreviation.
    nps_word = i18n.gettext(L, "NPS")

    def words(*messages: str) -> list[str]:
        # column headers: message ids marked with N_ where they are written
        return [i18n.gettext(L, message) for message in messages]

    tables: list[tuple[str, list[str], list[list[str]]]] = []

    def add(title: str, header: list[str], rows: list[list[str]]) -> None:
        # ``title``: a message id marked with N_; ``header``: words already translated
        tables.append((i18n.gettext(L, title), header, rows))

    f = data.funnel
    add(
        N_("Adoption funnel"),
        words(N_("Stage"), N_("Members"), N_("Of invited"), N_("Of previous stage")),
        [
            [stage_name(s.name, L), n(s.count), pct(s.of_invited, L), pct(s.of_previous, L)]
            for s in f.stages
        ],
    )
    if data.funnel_by_cohort:
        header = [i18n.gettext(L, "Cohort"), *[stage_name(s.name, L) for s in f.stages]]
        rows = [
            [group(name), *[stage_count(s, i == 0, L) for i, s in enumerate(funnel.stages)]]
            for name, funnel in data.funnel_by_cohort.items()
        ]
        add(N_("Funnel per cohort"), header, rows)
    cohorts = list(data.weekly_active_by_cohort)
    weekly_rows = []
    for index, one in enumerate(data.weekly_active):
        row = [week(one.week), n(one.count)]
        for name in cohorts:
            series = data.weekly_active_by_cohort[name]
            row.append(n(series[index].count) if index < len(series) else n(0))
        weekly_rows.append(row)
    # Translators: a column header: the Monday that starts the week of the row.
    week_of = i18n.gettext(L, "Week of")
    add(
        N_("Active members per week"),
        # Translators: a column header: every member, whatever their cohort.
        [week_of, i18n.pgettext(L, "column", "All"), *map(group, cohorts)],
        weekly_rows,
    )
    add(
        N_("Reach of campaign posts"),
        words(
            N_("Sent"),
            N_("Campaign"),
            N_("Step"),
            N_("Reactors"),
            N_("Repliers"),
            N_("Reached"),
            N_("Audience"),
            N_("Reach"),
        ),
        [
            [
                formats.moment(L, p.sent_at.astimezone(where)) if p.sent_at else "",
                named.campaign(p.campaign_id),
                post_name(p, named, L),
                n(p.reactors),
                n(p.repliers),
                n(p.reached),
                n(p.audience) + ("" if p.audience_from_channel else "*"),
                pct(p.rate, L),
            ]
            for p in data.reach
        ],
    )
    mean_rating = i18n.gettext(L, "Mean rating")
    if data.survey_rounds:  # recurring surveys: one row per round, the trend
        add(
            N_("Survey rounds"),
            [*words(N_("Survey"), N_("Round"), N_("Responses")), mean_rating, nps_word],
            [
                [
                    named.survey(r.survey, L),
                    _round_day(r.round, L),
                    n(r.responses),
                    num(r.mean_rating, locale=L),
                    nps(r.nps, L),
                ]
                for r in data.survey_rounds
            ],
        )
    tables.append(_key_figures(data, L))
    kudos_header = [
        # Translators: column headers of the kudos tables (kudos given, by how many members...).
        i18n.pgettext(L, "kudos", "Given"),
        i18n.pgettext(L, "kudos", "Givers"),
        i18n.pgettext(L, "kudos", "Received"),
        i18n.pgettext(L, "kudos", "Receivers"),
    ]
    add(
        N_("Kudos per week"),
        [week_of, *kudos_header],
        [[week(w.week), *_kudos_cells(w, L)] for w in data.kudos.weekly],
    )
    if data.kudos_by_cohort:
        add(
            N_("Kudos per cohort"),
            [i18n.gettext(L, "Cohort"), *kudos_header],
            [[group(name), *_kudos_cells(k, L)] for name, k in data.kudos_by_cohort.items()],
        )
    add(
        N_("Challenges"),
        words(
            N_("Challenge"),
            N_("Participants"),
            N_("Evidence approved"),
            N_("Evidence waiting"),
            N_("Evidence rejected"),
            N_("Completed"),
            N_("Completion"),
            N_("Teams completed"),
        ),
        [
            [
                named.challenge(c.challenge, L),
                n(c.participants),
                *_evidence_cells(c, n, NO_EVIDENCE),
                n(c.completed_members),
                pct(c.completion, L),
                n(c.completed_teams),
            ]
            for c in data.challenges
        ],
    )
    s = data.satisfaction
    add(
        N_("Satisfaction per week"),
        [week_of, *words(N_("Ratings")), mean_rating, *words(N_("NPS answers")), nps_word],
        [
            [week(r.week), n(r.n), num(r.value, locale=L), n(p.n), nps(p.value, L)]
            for r, p in zip(s.weekly_rating, s.weekly_nps, strict=True)
        ],
    )
    add(
        N_("Help desk per week"),
        [week_of, *words(N_("Answered tickets"), N_("Median first response"))],
        [
            [week(w.week), n(w.n), duration(_hours(w.value), L)]
            for w in data.help.weekly_first_response
        ],
    )
    add(
        N_("Points distribution"),
        [i18n.pgettext(L, "column", "Points"), i18n.gettext(L, "Members")],
        [[points_range(b, L), n(b.count)] for b in data.points.buckets],
    )
    return tables


_T = TypeVar("_T")

NO_EVIDENCE = "—"
"""What an evidence cell shows for a challenge nobody sent evidence for (as the console)."""


def _evidence_cells(c: ChallengeStats, shown: Callable[[int], _T], blank: _T) -> list[_T]:
    """A challenge's approved, waiting and rejected participants, each ``shown``; ``blank``
    three times when nobody sent evidence for it (a challenge that asks for none): no
    figure, as the console's table shows it, rather than zeros that read as refusals."""
    if not (c.approved or c.waiting or c.rejected):
        return [blank] * 3
    return [shown(c.approved), shown(c.waiting), shown(c.rejected)]


def _round_day(round_: str, locale: str | None) -> str:
    """A survey round (its occurrence's date) as a day in ``locale``."""
    try:
        return formats.day(locale, date.fromisoformat(round_))
    except ValueError:
        return round_


def _key_figures(data: ReportData, L: str | None) -> tuple[str, list[str], list[list[str]]]:
    """The key figures table, in ``L``."""
    q, s, h, p, k = data.quiz, data.satisfaction, data.help, data.points, data.kudos

    def n(value: float) -> str:
        return formats.number(L, value)

    hidden = i18n.gettext(L, "hidden (too few responses)")
    rating = hidden
    score = hidden
    if not s.hidden:
        rating = i18n.ngettext(L, "{mean} ({n} rating)", "{mean} ({n} ratings)", s.ratings)
        rating = rating.format(mean=num(s.mean_rating, locale=L), n=n(s.ratings))
        score = nps_words(s, L)
    tickets = i18n.gettext(L, "{tickets} ({answered} answered, {solved} solved)").format(
        tickets=n(h.tickets), answered=n(h.answered), solved=n(h.solved)
    )
    # Translators: {given} kudos given by {members} distinct members (and received alike).
    given = i18n.ngettext(L, "{given} (by {n} member)", "{given} (by {n} members)", k.givers)
    received = i18n.ngettext(L, "{given} (by {n} member)", "{given} (by {n} members)", k.receivers)
    with_points = i18n.gettext(L, "{with_points} of {members}").format(
        with_points=n(p.with_points), members=n(p.members)
    )
    rows = [
        [i18n.gettext(L, "Members in scope"), n(data.funnel.count("invited"))],
        [i18n.gettext(L, "Active members in the period"), n(data.active_members)],
        [
            i18n.gettext(L, "Quiz participants"),
            f"{n(q.participants)} ({pct(q.participation, L)})",
        ],
        [i18n.gettext(L, "Quiz answers"), n(q.answers)],
        [i18n.gettext(L, "Quiz accuracy"), pct(q.accuracy, L)],
        [i18n.gettext(L, "Quiz mean score"), pct(q.mean_score, L)],
        [i18n.gettext(L, "Mean rating (1-5)"), rating],
        [i18n.gettext(L, "NPS"), score],
        [i18n.gettext(L, "Help tickets"), tickets],
        [i18n.gettext(L, "Median first response"), duration(h.median_first_response, L)],
        [i18n.gettext(L, "Median resolution"), duration(h.median_resolution, L)],
        [i18n.gettext(L, "Members with points"), with_points],
        [i18n.gettext(L, "Points per member"), _points_line(p, L)],
        [
            i18n.gettext(L, "Kudos given"),
            given.format(given=n(k.given), n=n(k.givers)),
        ],
        [
            i18n.gettext(L, "Kudos received"),
            received.format(given=n(k.received), n=n(k.receivers)),
        ],
    ]
    return (
        i18n.gettext(L, "Key figures"),
        [i18n.gettext(L, "Indicator"), i18n.gettext(L, "Value")],
        rows,
    )


def nps_words(s: Satisfaction, locale: str | None = None) -> str:
    """The NPS and what it is made of, each count with its own plural: "+20 (5 answers: 2
    promoters, 2 passives, 1 detractor)"; "— (0 answers)" when nobody answered."""
    L = locale
    answers = i18n.ngettext(L, "{n} answer", "{n} answers", s.nps_answers)
    answers = answers.format(n=count(s.nps_answers, L))
    if not s.nps_answers:
        # Translators: an NPS and how many answered, "— (0 answers)".
        return i18n.gettext(L, "{nps} ({answers})").format(nps=nps(s.nps, L), answers=answers)
    # Translators: members who answered 9 or 10 to the NPS question.
    promoters = i18n.ngettext(L, "{n} promoter", "{n} promoters", s.promoters)
    # Translators: members who answered 7 or 8 to the NPS question.
    passives = i18n.ngettext(L, "{n} passive", "{n} passives", s.passives)
    # Translators: members who answered 0 to 6 to the NPS question.
    detractors = i18n.ngettext(L, "{n} detractor", "{n} detractors", s.detractors)
    # Translators: an NPS, how many answered, and of them promoters, passives and detractors
    # (French: a space before the colon).
    return i18n.gettext(L, "{nps} ({answers}: {promoters}, {passives}, {detractors})").format(
        nps=nps(s.nps, L),
        answers=answers,
        promoters=promoters.format(n=count(s.promoters, L)),
        passives=passives.format(n=count(s.passives, L)),
        detractors=detractors.format(n=count(s.detractors, L)),
    )


def _hours(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(hours=value)


def _kudos_cells(k: KudosStats | ind.KudosWeek, locale: str | None = None) -> list[str]:
    return [formats.number(locale, v) for v in (k.given, k.givers, k.received, k.receivers)]


def _points_line(p: PointsDistribution, locale: str | None = None) -> str:
    """Mean, median, 90th percentile and most, in words a manager reads without a glossary."""
    top = count(p.max, locale)
    # Translators: how points are spread over the members: {median} is the median (half the
    # members have at most that), {p90} the 90th percentile (9 members in 10 have at most that).
    return i18n.gettext(
        locale,
        "average {mean} · half the members have at most {median} · 9 members in 10 have at "
        "most {p90} · most {max}",
    ).format(
        mean=num(p.mean, locale=locale),
        median=num(p.median, locale=locale),
        p90=num(p.p90, locale=locale),
        max=top,
    )


def who_notes(data: ReportData, locale: str | None = None) -> list[str]:
    """Who the figures leave out or do not count yet, in ``locale``: the community managers
    left out, the invited members whose start date is still to come. Empty when nobody."""
    notes = []
    if data.not_counted:
        notes.append(
            i18n.ngettext(
                locale,
                "{n} community manager is not counted in these figures: managers are left out "
                "so that the figures describe the community. Your administrator can include "
                "them.",
                "{n} community managers are not counted in these figures: managers are left "
                "out so that the figures describe the community. Your administrator can "
                "include them.",
                data.not_counted,
            ).format(n=formats.number(locale, data.not_counted))
        )
    if data.funnel.later:
        notes.append(
            i18n.ngettext(
                locale,
                "Arrive later: {n} invited member whose start date is still to come, not "
                "counted as joined.",
                "Arrive later: {n} invited members whose start date is still to come, not "
                "counted as joined.",
                data.funnel.later,
            ).format(n=formats.number(locale, data.funnel.later))
        )
    return notes


def render_tables(
    data: ReportData,
    console: Console,
    locale: str | None = None,
    zone: str | None = None,
    titles: Titles | None = None,
) -> None:
    """Print the report as Rich tables, in ``locale``, times in the time zone ``zone``, things
    named by their ``titles``."""
    title = rich_escape(i18n.gettext(locale, "Rallybot indicators"))
    console.print(f"[bold]{title}[/bold] — {rich_escape(data.scope.title(locale))}")
    for note in who_notes(data, locale):
        console.print(note, markup=False, soft_wrap=True)
    no_data = i18n.gettext(locale, "no data")
    english = [title for title, _, _ in _tables(data)]
    for (title, header, rows), ident in zip(
        _tables(data, locale, zone, titles), english, strict=True
    ):
        table = Table(title=title, title_justify="left")
        for index, column in enumerate(header):
            table.add_column(column, justify="left" if index == 0 else "right")
        for row in rows:
            table.add_row(*row)
        if not rows:
            table.add_row(no_data, *[""] * (len(header) - 1))
        console.print(table)
        if ident in _TABLE_NOTES:
            console.print(_TABLE_NOTES[ident](locale), markup=False, soft_wrap=True)
    if any(not p.audience_from_channel for p in data.reach):
        note = i18n.gettext(locale, "* audience unknown for that channel: every member in scope.")
        console.print(note, markup=False)
    console.print(times_note(locale, zone), markup=False)


# ---------------------------------------------------------------------------- CSV


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection";
# the full-width forms are folded to them by some spreadsheets).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# A number as written for a reader too: a decimal comma, a percent sign ("-12,5", "90%").
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?%?")


def csv_cell(value: object) -> object:
    """``value`` safe to open in a spreadsheet: text that would start a formula is prefixed
    with ``'`` (OWASP's advice; the cell then shows as text); numbers are left alone."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


@dataclass(frozen=True, slots=True)
class CsvDialect:
    """How a CSV file is written: ``decimal`` in numbers, ``delimiter`` between cells,
    ``encoding`` of the bytes; ``rounded``: figures rounded as the pages show them, shares as
    whole percentages (``90``, the header says "(%)") instead of 0-1, durations in minutes
    instead of hours."""

    decimal: str = "."
    delimiter: str = ","
    encoding: str = "utf-8"
    rounded: bool = False


RAW = CsvDialect()
"""The files for scripts (``--csv-headers ids``): UTF-8, commas, decimal points, shares 0-1."""


def csv_dialect(locale: str | None) -> CsvDialect:
    """What a spreadsheet in ``locale`` opens as columns and numbers without an import
    dialog: UTF-8 with a byte-order mark (else Excel reads the bytes in the system's code
    page), plain numbers rounded as the pages round them (no thousands separator, no sign
    after them: the unit is in the column's name), and where the language writes a decimal
    comma, that comma in numbers and ``;`` between cells (Excel's list separator there).
    :data:`RAW` without ``locale``."""
    if locale is None:
        return RAW
    decimal = formats.decimal_symbol(locale)
    return CsvDialect(
        decimal=decimal,
        delimiter=";" if decimal == "," else ",",
        encoding="utf-8-sig",
        rounded=True,
    )


def _write(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    dialect: CsvDialect = RAW,
) -> Path:
    # Cohort, team and challenge names come from rosters and campaign files: every cell is
    # neutralised, the whole quoted where the CSV syntax needs it.
    with path.open("w", newline="", encoding=dialect.encoding) as handle:
        writer = csv.writer(handle, delimiter=dialect.delimiter)
        writer.writerow([csv_cell(cell) for cell in header])
        writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return path


def _opt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{round(value, digits):g}"


def _plain(value: float, digits: int) -> str:
    """``value`` with at most ``digits`` decimals, a point, no thousands separator, rounded
    as Babel rounds what the pages show (half to even, on the decimal value)."""
    pattern = "0" + ("." + "#" * digits if digits > 0 else "")
    shown = format_decimal(value, format=pattern, locale="en")
    return "0" if shown == "-0" else shown  # a change of -0.04 rounds to no change


def _rounds_table(
    rounds: Sequence[ind.SurveyRound],
    survey_name: Callable[[str], str] = str,
    rating: Callable[[float | None], str] = _opt,
    score: Callable[[float | None], str] = _opt,
) -> tuple[list[str], list[list[object]]]:
    """The rounds of recurring surveys, oldest first per survey, with the change of the mean
    rating and NPS since the survey's previous round (the trend); empty cells where a round
    has no figure to show (no answers yet, or an anonymous round too small to show)."""
    header = [
        "survey",
        "round",
        "responses",
        "mean_rating",
        "nps",
        "mean_rating_change",
        "nps_change",
    ]
    rows: list[list[object]] = []
    previous: dict[str, ind.SurveyRound] = {}
    for r in rounds:
        before = previous.get(r.survey)
        rows.append(
            [
                survey_name(r.survey),
                r.round,
                r.responses,
                rating(r.mean_rating),
                score(r.nps),
                rating(_change(before.mean_rating if before else None, r.mean_rating)),
                score(_change(before.nps if before else None, r.nps)),
            ]
        )
        previous[r.survey] = r
    return header, rows


def _change(before: float | None, now: float | None) -> float | None:
    return None if before is None or now is None else now - before


# The CSV files' column names: ids that never change (``write_csv`` without a locale, for
# scripts), and the words a reader sees in their language (message ids, marked here).
_COLUMN_WORDS = {
    "cohort": N_("Cohort"),
    "stage": N_("Stage"),
    "members": N_("Members"),
    "of_invited": N_("Of invited"),
    "of_previous": N_("Of previous stage"),
    "week": N_("Week of"),
    "sent_at": N_("Sent"),
    "campaign": N_("Campaign"),
    "step": N_("Step"),
    "occurrence": N_("Occurrence"),
    "channel": N_("Channel"),
    "reactors": N_("Reactors"),
    "repliers": N_("Repliers"),
    "reached": N_("Reached"),
    "audience": N_("Audience"),
    "audience_from_channel": N_("Audience known from the channel"),
    "reach": N_("Reach"),
    "challenge": N_("Challenge"),
    "participants": N_("Participants"),
    "completed_members": N_("Completed"),
    "completion": N_("Completion"),
    "completed_teams": N_("Teams completed"),
    "approved": N_("Evidence approved"),
    "waiting": N_("Evidence waiting"),
    "rejected": N_("Evidence rejected"),
    "ratings": N_("Ratings"),
    "mean_rating": N_("Mean rating (1-5)"),
    "nps_answers": N_("NPS answers"),
    "nps": N_("NPS"),
    "survey": N_("Survey"),
    "round": N_("Round"),
    "responses": N_("Responses"),
    "mean_rating_change": N_("Change in mean rating"),
    "nps_change": N_("Change in NPS"),
    "answered": N_("Answered tickets"),
    "median_first_response_hours": N_("Median first response (h)"),
    "bucket": N_("Points range"),
    "low": N_("At least (points)"),
    "high": N_("At most (points)"),
    "given": N_("Kudos given"),
    "givers": N_("Givers"),
    "received": N_("Kudos received"),
    "receivers": N_("Receivers"),
    "indicator": N_("Indicator"),
    "value": N_("Value"),
}
_SUMMARY_WORDS = {  # the first column of summary.csv: where its ids differ from a column's
    "scope": N_("Scope"),
    "members": N_("Members in scope"),
    "arrive_later": N_("Invited members arriving later"),
    "managers_not_counted": N_("Community managers not counted"),
    "active_members": N_("Active members in the period"),
    "quiz_participants": N_("Quiz participants"),
    "quiz_participation": N_("Quiz participation"),
    "quiz_answers": N_("Quiz answers"),
    "quiz_correct": N_("Correct quiz answers"),
    "quiz_accuracy": N_("Quiz accuracy"),
    "quiz_mean_score": N_("Quiz mean score"),
    "satisfaction_hidden": N_("Satisfaction hidden (too few responses)"),
    "survey_responses": N_("Survey responses"),
    "help_tickets": N_("Help tickets"),
    "help_answered": N_("Help tickets answered"),
    "help_solved": N_("Help tickets solved"),
    "help_median_first_response_hours": N_("Median first response (h)"),
    "help_median_resolution_hours": N_("Median resolution (h)"),
    "points_members": N_("Members counted for points"),
    "points_with_points": N_("Members with points"),
    "points_total": N_("Total points"),
    "points_mean": N_("Mean points"),
    "points_median": N_("Median points"),
    "points_p90": N_("Points: 9 members in 10 have at most"),
    "points_max": N_("Most points"),
    "kudos_given": N_("Kudos given"),
    "kudos_givers": N_("Kudos givers"),
    "kudos_received": N_("Kudos received"),
    "kudos_receivers": N_("Kudos receivers"),
}


# The columns and summary rows whose unit a reader's file names (a spreadsheet reads plain
# numbers: "80", not "80 %"), where the ids name another (shares 0-1, hours).
_UNIT_WORDS = {
    "of_invited": N_("Of invited (%)"),
    "of_previous": N_("Of previous stage (%)"),
    "reach": N_("Reach (%)"),
    "completion": N_("Completion (%)"),
    "quiz_participation": N_("Quiz participation (%)"),
    "quiz_accuracy": N_("Quiz accuracy (%)"),
    "quiz_mean_score": N_("Quiz mean score (%)"),
    "median_first_response_hours": N_("Median first response (min)"),
    "help_median_first_response_hours": N_("Median first response (min)"),
    "help_median_resolution_hours": N_("Median resolution (min)"),
}


# The columns and summary rows that hold a time: their header names the zone of the times.
_TIME_WORDS = {
    # Translators: a CSV column header; {zone} is a time zone's name, such as "Europe/Paris".
    "sent_at": N_("Sent ({zone})"),
    # Translators: a row of the report's summary CSV; {zone} is a time zone's name.
    "generated_at": N_("Computed at ({zone})"),
}


def post_name(post: PostReach, titles: Titles, locale: str | None) -> str:
    """What a reader calls a campaign post, as the console does: its step's title as the post
    carried it when it went out (else as the campaign file gives it), else the first words of
    the text it was sent with; the step's id when neither is known."""
    if titles.has_step(post.campaign_id, post.step_id):
        return post.sent_title or titles.step(post.campaign_id, post.step_id, locale)
    return post.sent_text or post.step_id


def occurrence_word(occurrence: str, locale: str | None) -> str:
    """Which send of a step a delivery is, for a reader: "once" for the step's one send, "sent
    now" for a send made by hand, a recurring step's day as it is (``2026-11-09``, which a
    spreadsheet reads as a date); another of the bot's marks stays as it is."""
    if occurrence == "once":
        # Translators: a CSV cell: the step's one send (not a recurring one's day).
        return i18n.pgettext(locale, "occurrence", "once")
    if occurrence.startswith("now-"):
        # Translators: a CSV cell: a send of a step made by hand ("Send now"), not at its time.
        return i18n.pgettext(locale, "occurrence", "sent now")
    if occurrence.startswith("preview-"):
        # Translators: a CSV cell: a step's message sent to a community manager alone.
        return i18n.pgettext(locale, "occurrence", "preview")
    if occurrence == "thread":
        # Translators: a CSV cell: a message the bot posted in a question's thread.
        return i18n.pgettext(locale, "occurrence", "in a thread")
    return occurrence


def write_csv(
    data: ReportData,
    folder: Path,
    locale: str | None = None,
    titles: Titles | None = None,
    zone: str | None = None,
) -> list[Path]:
    """One CSV file per table (numbers as numbers: shares from 0 to 1, durations in hours).

    With ``locale`` (what a person opens in a spreadsheet), the file is what a spreadsheet in
    that language opens (:func:`csv_dialect`: UTF-8 with a byte-order mark, shares as
    percentages, decimal commas and ``;`` where the language writes a decimal comma), the
    column names and the words in
    cells (stages, "all", the summary's indicators, yes/no, which send) are in its language,
    challenges, surveys, campaigns and posts named by their ``titles``, and times are in the
    time zone ``zone`` (UTC when None), as ``2026-11-09 10:00``, the zone in the column's
    name. Without it (``--csv-headers ids``, for scripts), the stable English ids and raw
    values: ids in cells, times in UTC as ISO 8601, ``True``/``False``, the bot's own marks."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    dialect = csv_dialect(locale)
    # A script joins on ids: they stay without a locale; a reader gets the titles.
    named = titles if titles is not None and locale is not None else Titles()
    where = ZoneInfo(zone) if zone else UTC

    def word(ident: str, table: dict[str, str] = _COLUMN_WORDS) -> str:
        if locale is None:
            return ident
        if ident == "all":
            return i18n.pgettext(locale, "column", "All")
        if ident in _TIME_WORDS:
            return i18n.gettext(locale, _TIME_WORDS[ident]).format(zone=zone or "UTC")
        if ident in _UNIT_WORDS:
            return i18n.gettext(locale, _UNIT_WORDS[ident])
        return i18n.gettext(locale, table.get(ident) or _COLUMN_WORDS[ident])

    def put(name: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        # ``header``: ids; cohorts named by the data pass through as they are
        shown = [word(h) if h in _COLUMN_WORDS or h == "all" else group(h) for h in header]
        paths.append(_write(folder / f"{name}.csv", shown, rows, dialect))

    def dec(value: float | None, digits: int = DECIMALS) -> str:
        # a reader's file: rounded as the pages round it (at most one decimal for a mean or
        # a median), with its language's decimal symbol, which its spreadsheet reads
        if not dialect.rounded:
            return _opt(value)
        return "" if value is None else _plain(value, digits).replace(".", dialect.decimal)

    def whole(value: float | None) -> str:
        # an NPS and its change: whole numbers, as the pages show them
        return dec(value, 0)

    def share(value: float | None) -> str:
        # a whole percentage as the pages round it, the "%" in the column's name: a
        # spreadsheet reads "80" in every language, "80 %" (French) only in some
        if value is None or not dialect.rounded:
            return dec(value)
        # Below 1 % and above 99 %, where the pages keep a decimal (formats.percent), two:
        # 4 of 1,500 is 0.27, not 0.
        return dec(value * 100, 2 if 0 < value < 0.01 or 0.99 < value < 1 else 0)

    def hours(value: timedelta | None) -> str:
        # a reader's file counts minutes, as the pages write a duration to the minute
        if value is None:
            return ""
        if dialect.rounded:
            return str(minutes(value))
        return _opt(value.total_seconds() / 3600)

    def stage(name: str) -> str:
        return name if locale is None else stage_name(name, locale)

    def group(name: str) -> str:
        # the members in no cohort: words of their own, as the tables show them
        if locale is None or name != NO_GROUP:
            return name
        return i18n.gettext(locale, "(none)")

    def moment(value: datetime | None) -> str:
        if value is None:
            return ""
        if locale is None:
            return value.isoformat()
        # what a spreadsheet reads as a date and time, in the zone the header names
        return f"{value.astimezone(where):%Y-%m-%d %H:%M}"

    def yes_no(value: bool) -> object:
        if locale is None:
            return value
        # Translators: a CSV cell of a yes-or-no column.
        return (
            i18n.pgettext(locale, "cell", "yes") if value else i18n.pgettext(locale, "cell", "no")
        )

    def which(occurrence: str) -> str:
        return occurrence if locale is None else occurrence_word(occurrence, locale)

    funnel_rows: list[list[object]] = []
    for name, funnel in [("all", data.funnel), *data.funnel_by_cohort.items()]:
        cohort = word("all") if name == "all" else group(name)
        funnel_rows += [
            [cohort, stage(s.name), s.count, share(s.of_invited), share(s.of_previous)]
            for s in funnel.stages
        ]
        # not a stage: invited members whose start date is still to come (not joined)
        invited = funnel.count("invited")
        later = funnel.later / invited if invited else None
        funnel_rows.append([cohort, stage(LATER), funnel.later, share(later), ""])
    put("funnel", ["cohort", "stage", "members", "of_invited", "of_previous"], funnel_rows)
    cohorts = list(data.weekly_active_by_cohort)
    put(
        "weekly_active",
        ["week", "all", *cohorts],
        [
            [
                f"{w.week:%Y-%m-%d}",
                w.count,
                *[data.weekly_active_by_cohort[c][i].count for c in cohorts],
            ]
            for i, w in enumerate(data.weekly_active)
        ],
    )
    put(
        "reach",
        [
            "sent_at",
            "campaign",
            "step",
            "occurrence",
            "channel",
            "reactors",
            "repliers",
            "reached",
            "audience",
            "audience_from_channel",
            "reach",
        ],
        [
            [
                moment(p.sent_at),
                named.campaign(p.campaign_id),
                post_name(p, named, locale) if locale is not None else p.step_id,
                which(p.occurrence),
                # a reader knows the channel by the campaign's name for it, as the console shows
                f"#{p.channel_name}"
                if locale is not None and p.channel_name
                else p.channel_id or "",
                p.reactors,
                p.repliers,
                p.reached,
                p.audience,
                yes_no(p.audience_from_channel),
                share(p.rate),
            ]
            for p in data.reach
        ],
    )
    put(
        "challenges",
        # new columns at the end: files read by their position keep their meaning
        [
            "challenge",
            "participants",
            "completed_members",
            "completion",
            "completed_teams",
            "approved",
            "waiting",
            "rejected",
        ],
        [
            [
                named.challenge(c.challenge, locale),
                c.participants,
                c.completed_members,
                share(c.completion),
                c.completed_teams,
                # a script's file keeps its numbers; a reader's leaves a challenge without
                # evidence blank, as the console shows it
                *(
                    (c.approved, c.waiting, c.rejected)
                    if locale is None
                    else _evidence_cells(c, str, "")
                ),
            ]
            for c in data.challenges
        ],
    )
    s = data.satisfaction
    put(
        "satisfaction_weekly",
        ["week", "ratings", "mean_rating", "nps_answers", "nps"],
        [
            [f"{r.week:%Y-%m-%d}", r.n, dec(r.value), n.n, whole(n.value)]
            for r, n in zip(s.weekly_rating, s.weekly_nps, strict=True)
        ],
    )
    put(
        "survey_rounds",
        *_rounds_table(data.survey_rounds, lambda key: named.survey(key, locale), dec, whole),
    )
    h = data.help
    put(
        "help_weekly",
        ["week", "answered", "median_first_response_hours"],
        [[f"{w.week:%Y-%m-%d}", w.n, hours(_hours(w.value))] for w in h.weekly_first_response],
    )
    p = data.points
    put(
        "points",
        ["bucket", "low", "high", "members"],
        [
            [
                b.label if locale is None else points_range(b, locale),
                b.low if b.low is not None else "",
                "" if b.high is None else b.high,
                b.count,
            ]
            for b in p.buckets
        ],
    )
    k = data.kudos
    kudos_header = ["given", "givers", "received", "receivers"]
    put(
        "kudos_weekly",
        ["week", *kudos_header],
        [[f"{w.week:%Y-%m-%d}", w.given, w.givers, w.received, w.receivers] for w in k.weekly],
    )
    put(
        "kudos_by_cohort",
        ["cohort", *kudos_header],
        [
            [
                word(name) if name == "all" else group(name),
                c.given,
                c.givers,
                c.received,
                c.receivers,
            ]
            for name, c in [("all", k), *data.kudos_by_cohort.items()]
        ],
    )
    q = data.quiz
    summary: list[list[object]] = [
        ["scope", data.scope.label() if locale is None else data.scope.title(locale)],
        ["generated_at", moment(data.generated_at)],
        ["members", data.funnel.count("invited")],
        ["arrive_later", data.funnel.later],
        ["managers_not_counted", data.not_counted],
        ["active_members", data.active_members],
        ["quiz_participants", q.participants],
        ["quiz_participation", share(q.participation)],
        ["quiz_answers", q.answers],
        ["quiz_correct", q.correct],
        ["quiz_accuracy", share(q.accuracy)],
        ["quiz_mean_score", share(q.mean_score)],
        ["satisfaction_hidden", yes_no(s.hidden)],
        ["ratings", s.ratings],
        ["mean_rating", dec(s.mean_rating)],
        ["nps_answers", s.nps_answers],
        ["nps", whole(s.nps)],
        ["survey_responses", s.responses],
        ["help_tickets", h.tickets],
        ["help_answered", h.answered],
        ["help_solved", h.solved],
        ["help_median_first_response_hours", hours(h.median_first_response)],
        ["help_median_resolution_hours", hours(h.median_resolution)],
        ["points_members", p.members],
        ["points_with_points", p.with_points],
        ["points_total", p.total],
        ["points_mean", dec(p.mean)],
        ["points_median", dec(p.median)],
        ["points_p90", dec(p.p90)],
        ["points_max", "" if p.max is None else p.max],
        ["kudos_given", k.given],
        ["kudos_givers", k.givers],
        ["kudos_received", k.received],
        ["kudos_receivers", k.receivers],
    ]
    put(
        "summary",
        ["indicator", "value"],
        [[word(str(r[0]), _SUMMARY_WORDS), *r[1:]] for r in summary],
    )
    return paths


# ---------------------------------------------------------------------------- charts

_BLUE = "#2f6fb0"
_COLORS = ("#2f6fb0", "#e07b28", "#3a9d5d", "#c2413b", "#7a5aa6", "#8c6d3f")


def _figure() -> tuple[Figure, Any]:
    from matplotlib.figure import Figure  # noqa: PLC0415 (the charts extra)

    figure = Figure(figsize=(7.5, 3.6), dpi=100, layout="constrained")
    return figure, figure.add_subplot()


def _empty(axes: Any, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="#666666")
    axes.set_xticks([])
    axes.set_yticks([])


def _weeks_axis(axes: Any, weeks: Sequence[date], locale: str | None) -> None:
    step = max(1, len(weeks) // 10)
    axes.set_xticks(range(0, len(weeks), step))
    labels = [formats.day(locale, w, "MMMd") for w in weeks]
    axes.set_xticklabels(labels[::step], rotation=0, fontsize=8)


def _funnel_chart(data: ReportData, locale: str | None) -> Figure:
    figure, axes = _figure()
    stages = data.funnel.stages
    names = [stage_name(s.name, locale) for s in stages][::-1]
    values = [s.count for s in stages][::-1]
    bars = axes.barh(names, values, color=_BLUE)
    for bar, stage in zip(bars, stages[::-1], strict=True):
        axes.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            " " + stage_count(stage, stage is stages[0], locale),
            va="center",
            fontsize=9,
        )
    axes.set_xlim(0, max([*values, 1]) * 1.25)
    # Translators: an axis label of the charts (a number of members).
    axes.set_xlabel(i18n.pgettext(locale, "chart axis", "members"))
    return figure


def _no_data(locale: str | None) -> str:
    return i18n.gettext(locale, "no data in this period")


def _weekly_chart(data: ReportData, locale: str | None) -> Figure:
    figure, axes = _figure()
    weeks = [w.week for w in data.weekly_active]
    if not weeks:
        _empty(axes, _no_data(locale))
        return figure
    positions = range(len(weeks))
    every = i18n.pgettext(locale, "chart legend", "all")
    axes.bar(positions, [w.count for w in data.weekly_active], color="#c9d9ec", label=every)
    for index, (name, series) in enumerate(data.weekly_active_by_cohort.items()):
        axes.plot(
            positions,
            [w.count for w in series],
            marker="o",
            color=_COLORS[(index + 1) % len(_COLORS)],
            label=name,
        )
    _weeks_axis(axes, weeks, locale)
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.set_ylabel(i18n.pgettext(locale, "chart axis", "active members"))
    axes.legend(fontsize=8, loc="upper left")
    return figure


def _satisfaction_chart(data: ReportData, locale: str | None) -> Figure:
    figure, axes = _figure()
    s = data.satisfaction
    weeks = [w.week for w in s.weekly_rating]
    if s.hidden:
        _empty(axes, i18n.gettext(locale, "too few responses to show"))
        return figure
    if not weeks:
        _empty(axes, i18n.gettext(locale, "no survey answer in this period"))
        return figure
    positions = list(range(len(weeks)))
    ratings = [(i, w.value) for i, w in enumerate(s.weekly_rating) if w.value is not None]
    if ratings:
        axes.plot(
            [i for i, _ in ratings],
            [v for _, v in ratings],
            marker="o",
            color=_BLUE,
            label=i18n.pgettext(locale, "chart legend", "mean rating (1-5)"),
        )
    axes.set_ylim(0.8, 5.2)
    axes.set_ylabel(i18n.pgettext(locale, "chart axis", "mean rating"))
    nps = [(i, w.value) for i, w in enumerate(s.weekly_nps) if w.value is not None]
    twin = axes.twinx()
    if nps:
        twin.plot(
            [i for i, _ in nps],
            [v for _, v in nps],
            marker="s",
            linestyle="--",
            color=_COLORS[1],
            label="NPS",
        )
    twin.set_ylim(-105, 105)
    twin.set_ylabel("NPS")
    _weeks_axis(axes, weeks, locale)
    axes.set_xlim(-0.5, len(positions) - 0.5)
    lines = axes.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    axes.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="lower left")
    return figure


def _help_chart(data: ReportData, locale: str | None) -> Figure:
    figure, axes = _figure()
    weeks = data.help.weekly_first_response
    if not weeks:
        _empty(axes, i18n.gettext(locale, "no answered help ticket in this period"))
        return figure
    positions = range(len(weeks))
    axes.bar(positions, [w.value or 0 for w in weeks], color=_COLORS[2])
    _weeks_axis(axes, [w.week for w in weeks], locale)
    axes.set_ylabel(i18n.pgettext(locale, "chart axis", "median first response (hours)"))
    median = data.help.median_first_response
    if median is not None:
        axes.axhline(median.total_seconds() / 3600, color=_COLORS[3], linestyle=":")
    return figure


def _points_chart(data: ReportData, locale: str | None) -> Figure:
    figure, axes = _figure()
    buckets = data.points.buckets
    if not data.points.members:
        _empty(axes, _no_data(locale))
        return figure
    labels = [points_range(b, locale) for b in buckets]
    axes.bar(labels, [b.count for b in buckets], color=_COLORS[4])
    axes.set_xlabel(i18n.pgettext(locale, "chart axis", "points"))
    axes.set_ylabel(i18n.pgettext(locale, "chart axis", "members"))
    axes.yaxis.set_major_locator(_integer_ticks())
    return figure


_CHART_BUILDERS: dict[str, Callable[[ReportData, str | None], Figure]] = {
    "funnel": _funnel_chart,
    "weekly_active": _weekly_chart,
    "satisfaction": _satisfaction_chart,
    "help": _help_chart,
    "points": _points_chart,
}


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415 (the charts extra)

    return MaxNLocator(integer=True)


def chart_pngs(data: ReportData, locale: str | None = None) -> dict[str, bytes]:
    """Every chart as PNG bytes, by name (see :data:`CHARTS`), its words in ``locale``.

    Raises:
        MissingExtraError: matplotlib (the ``charts`` extra) is not installed.
    """
    require("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 (the charts extra)

    charts: dict[str, bytes] = {}
    for name in CHARTS:
        figure = _CHART_BUILDERS[name](data, locale)
        figure.suptitle(chart_title(name, locale), fontsize=11)
        buffer = io.BytesIO()
        FigureCanvasAgg(figure)  # the Agg canvas: no display, no global state
        figure.savefig(buffer, format="png")
        charts[name] = buffer.getvalue()
    return charts


def chart_title(name: str, locale: str | None = None) -> str:
    """The title drawn on the chart ``name`` (see :data:`CHARTS`), in ``locale``."""
    title = _CHART_TITLES.get(name)
    return name if title is None else i18n.gettext(locale, title)


def write_pngs(charts: dict[str, bytes], folder: Path) -> list[Path]:
    """Write the charts as ``<name>.png`` files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, png in charts.items():
        path = folder / f"{name}.png"
        path.write_bytes(png)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #1d2733; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 2px solid #2f6fb0; }
.meta { color: #5b6775; margin-top: 0; }
figure { margin: 1rem 0; page-break-inside: avoid; break-inside: avoid; }
figure img { display: block; width: 100%; max-width: 750px; height: auto; }
figcaption { color: #5b6775; font-size: .9rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; page-break-inside: avoid;
        break-inside: avoid; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { border: 1px solid #d4dbe3; padding: .25rem .6rem; }
th { background: #eef3f8; text-align: left; }
td { text-align: right; }
td:first-child { text-align: left; }
.note { color: #5b6775; font-size: .85rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { page-break-after: avoid; break-after: avoid; }
  figure img { max-width: 16cm; }
}
"""


def render_html(
    data: ReportData,
    charts: dict[str, bytes],
    locale: str | None = None,
    zone: str | None = None,
    titles: Titles | None = None,
) -> str:
    """The whole report as one HTML page in ``locale``: charts inline, no script, no external
    resource. ``zone``: the time zone its time of writing is given in, named beside it (the
    community's, as the console shows it); UTC when None. Challenges, surveys, campaigns and
    posts are named by their ``titles``."""
    e = html.escape
    lang = formats.babel_locale(locale).language
    title = i18n.gettext(locale, "Rallybot indicators")
    label = data.scope.title(locale)
    if zone:
        # Translators: {zone} is a time zone's name, such as "Europe/Paris".
        generated = i18n.gettext(locale, "{scope} · generated {when} ({zone})").format(
            scope=label,
            when=formats.moment(locale, data.generated_at.astimezone(ZoneInfo(zone))),
            zone=zone,
        )
    else:
        generated = i18n.gettext(locale, "{scope} · generated {when} UTC").format(
            scope=label, when=formats.moment(locale, data.generated_at)
        )
    # Outside the f-strings: Babel's extractor does not see a call inside one.
    # Translators: the title of the report's section of charts.
    charts_heading = i18n.gettext(locale, "Charts")
    # Translators: the title of the report's section of tables.
    figures_heading = i18n.gettext(locale, "Figures")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{e(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)} — {e(label)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">{e(generated)}</p>',
        *[f'<p class="meta who">{e(note)}</p>' for note in who_notes(data, locale)],
        f"<h2>{e(charts_heading)}</h2>",
    ]
    for name in CHARTS:
        if name not in charts:
            continue
        encoded = base64.b64encode(charts[name]).decode("ascii")
        caption = e(chart_title(name, locale))
        parts.append(
            f'<figure id="chart-{name}"><img src="data:image/png;base64,{encoded}" '
            f'alt="{caption}" width="750" height="360">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    parts.append(f"<h2>{e(figures_heading)}</h2>")
    english = [title for title, _, _ in _tables(data)]  # the ids stay the same in every language
    for (title, header, rows), ident in zip(
        _tables(data, locale, zone, titles), english, strict=True
    ):
        slug = "-".join(ident.lower().split())
        parts.append(f'<table id="table-{e(slug)}"><caption>{e(title)}</caption><thead><tr>')
        parts.extend(f"<th>{e(column)}</th>" for column in header)
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>")
        if not rows:
            no_data = e(i18n.gettext(locale, "no data"))
            parts.append(f'<tr><td colspan="{len(header)}">{no_data}</td></tr>')
        parts.append("</tbody></table>")
        if ident in _TABLE_NOTES:
            note = e(_TABLE_NOTES[ident](locale))
            parts.append(f'<p class="note" id="note-{e(slug)}">{note}</p>')
    definitions = i18n.gettext(
        locale,
        "Definitions: a member is active in a week when they posted, replied, reacted, pressed "
        "a button or used a command. Reach: distinct members who reacted to or replied under a "
        "post, out of its channel's members (* unknown: every member in scope). NPS: % "
        "promoters (9-10) minus % detractors (0-6). Median: half the values are at most this, "
        "half above (half the questions had their first response within the median time). "
        "Kudos count for both: given by the giver, received by the receiver (revoked kudos "
        "left out).",
    )
    weeks = times_note(locale, zone)
    parts.append(f'<p class="note">{e(definitions)} {e(weeks)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------- chat summary


def times_note(locale: str | None, zone: str | None) -> str:
    """The sentence that says in which zone the report's times are and how weeks are cut."""
    # The indicators group weeks in UTC (in SQL, on both backends) while every time shown is
    # in ``zone``: say both, so a Monday-morning post in Paris is not read as a Sunday's.
    if zone and zone != "UTC":
        # Translators: {zone} is a time zone's name, such as "Europe/Paris".
        return i18n.gettext(
            locale,
            "Times are given in {zone}. Weeks run from Monday to Sunday in universal time "
            "(UTC), which is a few hours apart from {zone}: something done around midnight "
            "between Sunday and Monday may count in the next or the previous week.",
        ).format(zone=zone)
    return i18n.gettext(
        locale, "Times are given in universal time (UTC). Weeks run from Monday to Sunday."
    )


def funnel_note(locale: str | None = None) -> str:
    """What the adoption funnel's stages count, in ``locale`` (beside the funnel)."""
    return i18n.gettext(
        locale,
        "Each stage counts the members who reached it and every stage before it. First "
        "post: a message or a thread reply written in a channel; a private message to the "
        "bot, a reaction or a button does not count.",
    )


def challenges_note(locale: str | None = None) -> str:
    """What the challenges table counts, in ``locale`` (beside the table)."""
    return i18n.gettext(
        locale,
        "Participants: the members who made progress in a challenge or sent evidence for it, "
        "whatever its state. Each one who sent evidence counts once: approved when some was "
        "approved, else waiting when some waits for review, else rejected. Completion: the "
        "members who completed it, out of the participants.",
    )


_TABLE_NOTES: dict[str, Callable[[str | None], str]] = {
    "Adoption funnel": funnel_note,
    "Challenges": challenges_note,
}
"""The definition printed below a table, by the table's English title."""


def challenge_words(
    c: ChallengeStats, locale: str | None = None, titles: Titles | None = None
) -> str:
    """One challenge for chat: its participants, their evidence when it asks for some, and
    who completed it ("Share a photo: 3 participants (2 approved, 1 waiting, 0 rejected),
    2 completed (67 %)")."""
    L = locale

    def n(value: int) -> str:
        return formats.number(L, value)

    # Translators: members who took part in a challenge (in the chat summary).
    text = i18n.ngettext(L, "{n} participant", "{n} participants", c.participants)
    text = text.format(n=n(c.participants))
    if c.approved or c.waiting or c.rejected:
        # Translators: participants (members) by their evidence: approved, waiting for a
        # manager, rejected (each participant counted once).
        approved = i18n.ngettext(L, "{n} approved", "{n} approved", c.approved)
        # Translators: participants whose evidence waits for a manager's review.
        waiting = i18n.ngettext(L, "{n} waiting", "{n} waiting", c.waiting)
        # Translators: participants whose evidence was rejected (none approved or waiting).
        rejected = i18n.ngettext(L, "{n} rejected", "{n} rejected", c.rejected)
        states = ", ".join(
            [
                approved.format(n=n(c.approved)),
                waiting.format(n=n(c.waiting)),
                rejected.format(n=n(c.rejected)),
            ]
        )
        text = f"{text} ({states})"
    # Translators: members who completed a challenge, and their share of the participants.
    done = i18n.ngettext(
        L, "{n} completed ({share})", "{n} completed ({share})", c.completed_members
    ).format(n=n(c.completed_members), share=pct(c.completion, L))
    name = (titles or Titles()).challenge(c.challenge, L)
    # Translators: a challenge's name, then its figures (French: a space before the colon).
    return i18n.gettext(L, "{challenge}: {figures}").format(
        challenge=name, figures=f"{text}, {done}"
    )


def summary_text(data: ReportData, locale: str | None = None, titles: Titles | None = None) -> str:
    """A short plain-text summary for chat (``/rallybot stats``, the weekly digest), in
    ``locale``, challenges, surveys and posts named by their ``titles``."""
    L = locale  # short: every line below takes it
    named = titles or Titles()

    def n(value: float) -> str:
        return formats.number(L, value)

    f = data.funnel
    lines = [i18n.gettext(L, "📊 Indicators — {scope}").format(scope=data.scope.title(L))]
    stages = " → ".join(
        f"{stage_name(s.name, L)} {n(s.count)}" + (f" ({pct(s.of_invited, L)})" if i else "")
        for i, s in enumerate(f.stages)
    )
    lines.append(i18n.gettext(L, "Funnel: {stages}").format(stages=stages))
    if data.weekly_active:
        recent = ", ".join(
            f"{formats.day(L, w.week, 'MMMd')} {n(w.count)}" for w in data.weekly_active[-4:]
        )
        # Translators: {weeks} lists weeks and their active members ("Oct 26 4, Nov 2 3").
        text = i18n.gettext(L, "Active members per week: {weeks} ({total} over the period)")
        lines.append(text.format(weeks=recent, total=n(data.active_members)))
    else:
        text = i18n.gettext(L, "Active members: {total}")
        lines.append(text.format(total=n(data.active_members)))
    if data.reach:
        posts = ", ".join(
            f"{post_name(p, named, L)} {n(p.reached)}/{n(p.audience)} ({pct(p.rate, L)})"
            for p in data.reach[-3:]
        )
        lines.append(i18n.gettext(L, "Reach of campaign posts: {posts}").format(posts=posts))
    q = data.quiz
    text = i18n.ngettext(
        L,
        "Quizzes: {n} participant ({share}), mean score {score}",
        "Quizzes: {n} participants ({share}), mean score {score}",
        q.participants,
    )
    lines.append(
        text.format(n=n(q.participants), share=pct(q.participation, L), score=pct(q.mean_score, L))
    )
    if data.challenges:
        shown = " · ".join(challenge_words(c, L, named) for c in data.challenges[:5])
        lines.append(i18n.gettext(L, "Challenges: {challenges}").format(challenges=shown))
    pulses: dict[str, list[ind.SurveyRound]] = {}
    for one in data.survey_rounds:
        pulses.setdefault(one.survey, []).append(one)
    for survey, rounds in pulses.items():  # the last rounds: the trend
        # Translators: one round of a recurring survey: its name, responses and mean rating.
        each = i18n.gettext(L, "{round} {n} resp. {mean}/5")
        shown = " → ".join(
            each.format(round=r.round, n=n(r.responses), mean=num(r.mean_rating, locale=L))
            for r in rounds[-4:]
        )
        text = i18n.gettext(L, "Pulse {survey}: {rounds}")
        lines.append(text.format(survey=named.survey(survey, L), rounds=shown))
    s = data.satisfaction
    if s.hidden:
        lines.append(i18n.gettext(L, "Satisfaction: too few responses to show for this group"))
    else:
        ratings = i18n.ngettext(L, "{n} rating", "{n} ratings", s.ratings)
        answers = i18n.ngettext(L, "{n} answer", "{n} answers", s.nps_answers)
        text = i18n.gettext(L, "Satisfaction: {mean}/5 ({ratings}), NPS {nps} ({answers})")
        lines.append(
            text.format(
                mean=num(s.mean_rating, locale=L),
                ratings=ratings.format(n=n(s.ratings)),
                nps=nps(s.nps, L),
                answers=answers.format(n=n(s.nps_answers)),
            )
        )
    h = data.help
    text = i18n.ngettext(
        L,
        "Help: {n} ticket, first response median {first}, resolution median {resolution}",
        "Help: {n} tickets, first response median {first}, resolution median {resolution}",
        h.tickets,
    )
    lines.append(
        text.format(
            n=n(h.tickets),
            first=duration(h.median_first_response, L),
            resolution=duration(h.median_resolution, L),
        )
    )
    p = data.points
    text = i18n.ngettext(
        L,
        "Points: {with_points} of {n} member have points, median {median}, max {max}",
        "Points: {with_points} of {n} members have points, median {median}, max {max}",
        p.members,
    )
    lines.append(
        text.format(
            with_points=n(p.with_points),
            n=n(p.members),
            median=num(p.median, locale=L),
            max=count(p.max, L),
        )
    )
    k = data.kudos
    givers = i18n.ngettext(
        L, "{given} given by {n} member", "{given} given by {n} members", k.givers
    )
    receivers = i18n.ngettext(
        L, "{received} received by {n} member", "{received} received by {n} members", k.receivers
    )
    lines.append(
        i18n.gettext(L, "Kudos: {given}, {received}").format(
            given=givers.format(given=n(k.given), n=n(k.givers)),
            received=receivers.format(received=n(k.received), n=n(k.receivers)),
        )
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- JSON summary


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 1)


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summary_json(data: ReportData) -> dict[str, object]:
    """``rallybot report --format json``: the headline figures of every indicator (no
    per-cohort breakdown, no weekly series but active members), for scripts and dashboards.
    Shares are 0-1, durations in seconds; null when there is nothing to measure."""
    scope = data.scope
    sat = data.satisfaction
    quiz = data.quiz
    pts = data.points
    return {
        "scope": {
            "campaign": scope.campaign_id,
            "cohort": scope.cohort,
            "team": scope.team,
            "from": scope.start.isoformat() if scope.start else None,
            "to": scope.end.isoformat() if scope.end else None,
        },
        "generated_at": data.generated_at.isoformat(),
        "funnel": [
            {
                "stage": s.name,
                "count": s.count,
                "of_invited": _ratio(s.of_invited),
                "of_previous": _ratio(s.of_previous),
            }
            for s in data.funnel.stages
        ],
        "arrive_later": data.funnel.later,
        "not_counted": data.not_counted,
        "active_members": data.active_members,
        "weekly_active": [
            {"week": w.week.isoformat(), "count": w.count} for w in data.weekly_active
        ],
        "reach": [
            {
                "campaign": p.campaign_id,
                "step": p.step_id,
                "occurrence": p.occurrence,
                "sent_at": p.sent_at.isoformat() if p.sent_at else None,
                "reached": p.reached,
                "audience": p.audience,
                "rate": _ratio(p.rate),
            }
            for p in data.reach
        ],
        "quiz": {
            "members": quiz.members,
            "participants": quiz.participants,
            "participation": _ratio(quiz.participation),
            "answers": quiz.answers,
            "correct": quiz.correct,
            "mean_score": _ratio(quiz.mean_score),
        },
        "challenges": [
            {
                "challenge": c.challenge,
                "participants": c.participants,
                "completed_members": c.completed_members,
                "completed_teams": c.completed_teams,
                "completion": _ratio(c.completion),
                "approved": c.approved,
                "waiting": c.waiting,
                "rejected": c.rejected,
            }
            for c in data.challenges
        ],
        # too few responses in a cohort or team: the figures stay hidden, as in the other formats
        "satisfaction": {"responses": sat.responses, "hidden": True}
        if sat.hidden
        else {
            "responses": sat.responses,
            "hidden": False,
            "ratings": sat.ratings,
            "mean_rating": _ratio(sat.mean_rating),
            "nps_answers": sat.nps_answers,
            "nps": _ratio(sat.nps),
        },
        "help": {
            "tickets": data.help.tickets,
            "answered": data.help.answered,
            "solved": data.help.solved,
            "median_first_response_seconds": _seconds(data.help.median_first_response),
            "median_resolution_seconds": _seconds(data.help.median_resolution),
        },
        "points": {
            "members": pts.members,
            "with_points": pts.with_points,
            "total": pts.total,
            "mean": _ratio(pts.mean),
            "median": _ratio(pts.median),
            "max": pts.max,
        },
        "kudos": {
            "given": data.kudos.given,
            "givers": data.kudos.givers,
            "received": data.kudos.received,
            "receivers": data.kudos.receivers,
        },
    }
