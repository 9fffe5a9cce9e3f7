"""``rallybot report``: the indicators as terminal tables, CSV files, PNG charts and one HTML page.

:func:`compute` runs every indicator of :mod:`bot.indicators` once; the renderers below only
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
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from rallybot.bot import indicators as ind
from rallybot.bot.extras import require
from rallybot.bot.indicators import (
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
from rallybot.storage.database import Database

if TYPE_CHECKING:  # matplotlib is the charts extra: imported when a chart is drawn
    from matplotlib.figure import Figure

__all__ = [
    "CHARTS",
    "STEPS",
    "ReportData",
    "chart_pngs",
    "chart_title",
    "compute",
    "csv_cell",
    "render_html",
    "render_tables",
    "summary_text",
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

_CHART_TITLES = {
    "funnel": "Adoption funnel",
    "weekly_active": "Active members per week",
    "satisfaction": "Satisfaction per week",
    "help": "Help desk: median first response per week",
    "points": "Points distribution",
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

    if scope.cohort is None:  # each member is in one cohort: the cohorts' counts add up
        by_cohort = await ind.funnel_by(db, scope, "cohort")
        done(STEPS[0])
        funnel = ind.sum_funnels(by_cohort.values())
    else:
        by_cohort = {}
        funnel = await ind.funnel(db, scope)
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


def pct(value: float | None) -> str:
    """``0.5`` → ``50%``; None → ``–``."""
    return "–" if value is None else f"{100 * value:.0f}%"


def num(value: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals, without a trailing ``.0``; None → ``–``."""
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def duration(value: timedelta | None) -> str:
    """``1 h 30 min``, ``45 min``, ``2 d 3 h``; None → ``–``."""
    if value is None:
        return "–"
    minutes = round(value.total_seconds() / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _nps(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0f}"


# ---------------------------------------------------------------------------- tables


def _tables(data: ReportData) -> list[tuple[str, list[str], list[list[str]]]]:
    """Every table of the report as (title, header, rows) of text: shared by all formats."""
    tables: list[tuple[str, list[str], list[list[str]]]] = []
    f = data.funnel
    tables.append(
        (
            "Adoption funnel",
            ["Stage", "Members", "Of invited", "Of previous stage"],
            [[s.name, str(s.count), pct(s.of_invited), pct(s.of_previous)] for s in f.stages],
        )
    )
    if data.funnel_by_cohort:
        header = ["Cohort", *[s.name for s in f.stages]]
        rows = [
            [name, *[f"{s.count} ({pct(s.of_invited)})" for s in funnel.stages]]
            for name, funnel in data.funnel_by_cohort.items()
        ]
        tables.append(("Funnel per cohort", header, rows))
    cohorts = list(data.weekly_active_by_cohort)
    weekly_rows = []
    for index, week in enumerate(data.weekly_active):
        row = [f"{week.week:%Y-%m-%d}", str(week.count)]
        for name in cohorts:
            series = data.weekly_active_by_cohort[name]
            row.append(str(series[index].count) if index < len(series) else "0")
        weekly_rows.append(row)
    tables.append(("Active members per week", ["Week of", "All", *cohorts], weekly_rows))
    tables.append(
        (
            "Reach of campaign posts",
            ["Sent", "Campaign", "Step", "Reactors", "Repliers", "Reached", "Audience", "Reach"],
            [
                [
                    f"{p.sent_at:%Y-%m-%d %H:%M}" if p.sent_at else "",
                    p.campaign_id,
                    p.step_id,
                    str(p.reactors),
                    str(p.repliers),
                    str(p.reached),
                    f"{p.audience}" + ("" if p.audience_from_channel else "*"),
                    pct(p.rate),
                ]
                for p in data.reach
            ],
        )
    )
    if data.survey_rounds:  # recurring surveys: one row per round, the trend
        tables.append(
            (
                "Survey rounds",
                ["Survey", "Round", "Responses", "Mean rating", "NPS"],
                [
                    [r.survey, r.round, str(r.responses), num(r.mean_rating, 2), _nps(r.nps)]
                    for r in data.survey_rounds
                ],
            )
        )
    q = data.quiz
    s = data.satisfaction
    h = data.help
    p = data.points
    tables.append(
        (
            "Key figures",
            ["Indicator", "Value"],
            [
                ["Members in scope", str(data.funnel.count("invited"))],
                ["Active members in the period", str(data.active_members)],
                ["Quiz participants", f"{q.participants} ({pct(q.participation)})"],
                ["Quiz answers", str(q.answers)],
                ["Quiz accuracy", pct(q.accuracy)],
                ["Quiz mean score", pct(q.mean_score)],
                [
                    "Mean rating (1-5)",
                    "hidden (too few responses)"
                    if s.hidden
                    else f"{num(s.mean_rating, 2)} ({s.ratings} ratings)",
                ],
                [
                    "NPS",
                    "hidden (too few responses)"
                    if s.hidden
                    else f"{_nps(s.nps)} ({s.nps_answers} answers: {s.promoters} promoters, "
                    f"{s.passives} passives, {s.detractors} detractors)",
                ],
                ["Help tickets", f"{h.tickets} ({h.answered} answered, {h.solved} solved)"],
                ["Median first response", duration(h.median_first_response)],
                ["Median resolution", duration(h.median_resolution)],
                ["Members with points", f"{p.with_points} of {p.members}"],
                ["Points: mean / median / p90 / max", _points_line(p)],
                ["Kudos given", f"{data.kudos.given} (by {data.kudos.givers} member(s))"],
                ["Kudos received", f"{data.kudos.received} (by {data.kudos.receivers} member(s))"],
            ],
        )
    )
    kudos_header = ["Given", "Givers", "Received", "Receivers"]
    tables.append(
        (
            "Kudos per week",
            ["Week of", *kudos_header],
            [[f"{w.week:%Y-%m-%d}", *_kudos_cells(w)] for w in data.kudos.weekly],
        )
    )
    if data.kudos_by_cohort:
        tables.append(
            (
                "Kudos per cohort",
                ["Cohort", *kudos_header],
                [[name, *_kudos_cells(k)] for name, k in data.kudos_by_cohort.items()],
            )
        )
    tables.append(
        (
            "Challenges",
            ["Challenge", "Took part", "Completed", "Completion", "Teams completed"],
            [
                [
                    c.challenge,
                    str(c.participants),
                    str(c.completed_members),
                    pct(c.completion),
                    str(c.completed_teams),
                ]
                for c in data.challenges
            ],
        )
    )
    tables.append(
        (
            "Satisfaction per week",
            ["Week of", "Ratings", "Mean rating", "NPS answers", "NPS"],
            [
                [
                    f"{r.week:%Y-%m-%d}",
                    str(r.n),
                    num(r.value, 2),
                    str(n.n),
                    _nps(n.value),
                ]
                for r, n in zip(s.weekly_rating, s.weekly_nps, strict=True)
            ],
        )
    )
    tables.append(
        (
            "Help desk per week",
            ["Week of", "Answered tickets", "Median first response (h)"],
            [[f"{w.week:%Y-%m-%d}", str(w.n), num(w.value, 2)] for w in h.weekly_first_response],
        )
    )
    tables.append(
        (
            "Points distribution",
            ["Points", "Members"],
            [[b.label, str(b.count)] for b in p.buckets],
        )
    )
    return tables


def _kudos_cells(k: KudosStats | ind.KudosWeek) -> list[str]:
    return [str(k.given), str(k.givers), str(k.received), str(k.receivers)]


def _points_line(p: PointsDistribution) -> str:
    return f"{num(p.mean)} / {num(p.median)} / {num(p.p90)} / {p.max if p.max is not None else '–'}"


def render_tables(data: ReportData, console: Console) -> None:
    """Print the report as Rich tables."""
    console.print(f"[bold]Rallybot indicators[/bold] — {data.scope.label()}")
    for title, header, rows in _tables(data):
        table = Table(title=title, title_justify="left")
        for index, column in enumerate(header):
            table.add_column(column, justify="left" if index == 0 else "right")
        for row in rows:
            table.add_row(*row)
        if not rows:
            table.add_row("no data", *[""] * (len(header) - 1))
        console.print(table)
    if any(not p.audience_from_channel for p in data.reach):
        console.print("* audience unknown for that channel: every member in scope.")


# ---------------------------------------------------------------------------- CSV


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection";
# the full-width forms are folded to them by some spreadsheets).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_cell(value: object) -> object:
    """``value`` safe to open in a spreadsheet: text that would start a formula is prefixed
    with ``'`` (OWASP's advice; the cell then shows as text); numbers are left alone."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    # Cohort, team and challenge names come from rosters and campaign files: every cell is
    # neutralised, the whole quoted where the CSV syntax needs it.
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([csv_cell(cell) for cell in header])
        writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return path


def _opt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{round(value, digits):g}"


def _rounds_table(
    rounds: Sequence[ind.SurveyRound],
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
                r.survey,
                r.round,
                r.responses,
                _opt(r.mean_rating),
                _opt(r.nps),
                _opt(_change(before.mean_rating if before else None, r.mean_rating)),
                _opt(_change(before.nps if before else None, r.nps)),
            ]
        )
        previous[r.survey] = r
    return header, rows


def _change(before: float | None, now: float | None) -> float | None:
    return None if before is None or now is None else now - before


def write_csv(data: ReportData, folder: Path) -> list[Path]:
    """One CSV file per table (raw numbers: shares from 0 to 1, durations in hours)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    funnel_rows: list[list[object]] = [
        ["all", s.name, s.count, _opt(s.of_invited), _opt(s.of_previous)]
        for s in data.funnel.stages
    ]
    for name, funnel in data.funnel_by_cohort.items():
        funnel_rows += [
            [name, s.name, s.count, _opt(s.of_invited), _opt(s.of_previous)] for s in funnel.stages
        ]
    paths.append(
        _write(
            folder / "funnel.csv",
            ["cohort", "stage", "members", "of_invited", "of_previous"],
            funnel_rows,
        )
    )
    cohorts = list(data.weekly_active_by_cohort)
    paths.append(
        _write(
            folder / "weekly_active.csv",
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
    )
    paths.append(
        _write(
            folder / "reach.csv",
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
                    p.sent_at.isoformat() if p.sent_at else "",
                    p.campaign_id,
                    p.step_id,
                    p.occurrence,
                    p.channel_id or "",
                    p.reactors,
                    p.repliers,
                    p.reached,
                    p.audience,
                    p.audience_from_channel,
                    _opt(p.rate),
                ]
                for p in data.reach
            ],
        )
    )
    paths.append(
        _write(
            folder / "challenges.csv",
            ["challenge", "participants", "completed_members", "completion", "completed_teams"],
            [
                [
                    c.challenge,
                    c.participants,
                    c.completed_members,
                    _opt(c.completion),
                    c.completed_teams,
                ]
                for c in data.challenges
            ],
        )
    )
    s = data.satisfaction
    paths.append(
        _write(
            folder / "satisfaction_weekly.csv",
            ["week", "ratings", "mean_rating", "nps_answers", "nps"],
            [
                [f"{r.week:%Y-%m-%d}", r.n, _opt(r.value), n.n, _opt(n.value)]
                for r, n in zip(s.weekly_rating, s.weekly_nps, strict=True)
            ],
        )
    )
    paths.append(_write(folder / "survey_rounds.csv", *_rounds_table(data.survey_rounds)))
    h = data.help
    paths.append(
        _write(
            folder / "help_weekly.csv",
            ["week", "answered", "median_first_response_hours"],
            [[f"{w.week:%Y-%m-%d}", w.n, _opt(w.value)] for w in h.weekly_first_response],
        )
    )
    p = data.points
    paths.append(
        _write(
            folder / "points.csv",
            ["bucket", "low", "high", "members"],
            [
                [
                    b.label,
                    b.low if b.low is not None else "",
                    "" if b.high is None else b.high,
                    b.count,
                ]
                for b in p.buckets
            ],
        )
    )
    k = data.kudos
    kudos_header = ["given", "givers", "received", "receivers"]
    paths.append(
        _write(
            folder / "kudos_weekly.csv",
            ["week", *kudos_header],
            [[f"{w.week:%Y-%m-%d}", w.given, w.givers, w.received, w.receivers] for w in k.weekly],
        )
    )
    paths.append(
        _write(
            folder / "kudos_by_cohort.csv",
            ["cohort", *kudos_header],
            [
                [name, c.given, c.givers, c.received, c.receivers]
                for name, c in [("all", k), *data.kudos_by_cohort.items()]
            ],
        )
    )
    q = data.quiz

    def hours(value: timedelta | None) -> str:
        return "" if value is None else _opt(value.total_seconds() / 3600)

    summary: list[list[object]] = [
        ["scope", data.scope.label()],
        ["generated_at", data.generated_at.isoformat()],
        ["members", data.funnel.count("invited")],
        ["active_members", data.active_members],
        ["quiz_participants", q.participants],
        ["quiz_participation", _opt(q.participation)],
        ["quiz_answers", q.answers],
        ["quiz_correct", q.correct],
        ["quiz_accuracy", _opt(q.accuracy)],
        ["quiz_mean_score", _opt(q.mean_score)],
        ["satisfaction_hidden", s.hidden],
        ["ratings", s.ratings],
        ["mean_rating", _opt(s.mean_rating)],
        ["nps_answers", s.nps_answers],
        ["nps", _opt(s.nps)],
        ["survey_responses", s.responses],
        ["help_tickets", h.tickets],
        ["help_answered", h.answered],
        ["help_solved", h.solved],
        ["help_median_first_response_hours", hours(h.median_first_response)],
        ["help_median_resolution_hours", hours(h.median_resolution)],
        ["points_members", p.members],
        ["points_with_points", p.with_points],
        ["points_total", p.total],
        ["points_mean", _opt(p.mean)],
        ["points_median", _opt(p.median)],
        ["points_p90", _opt(p.p90)],
        ["points_max", "" if p.max is None else p.max],
        ["kudos_given", k.given],
        ["kudos_givers", k.givers],
        ["kudos_received", k.received],
        ["kudos_receivers", k.receivers],
    ]
    paths.append(_write(folder / "summary.csv", ["indicator", "value"], summary))
    return paths


# ---------------------------------------------------------------------------- charts

_BLUE = "#2f6fb0"
_COLORS = ("#2f6fb0", "#e07b28", "#3a9d5d", "#c2413b", "#7a5aa6", "#8c6d3f")


def _figure() -> tuple[Figure, Any]:
    from matplotlib.figure import Figure  # noqa: PLC0415 (the charts extra)

    figure = Figure(figsize=(7.5, 3.6), dpi=100, layout="constrained")
    return figure, figure.add_subplot()


def _empty(axes: Any, text: str = "no data in this period") -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="#666666")
    axes.set_xticks([])
    axes.set_yticks([])


def _weeks_axis(axes: Any, weeks: Sequence[date]) -> None:
    step = max(1, len(weeks) // 10)
    axes.set_xticks(range(0, len(weeks), step))
    axes.set_xticklabels([f"{w:%d %b}" for w in weeks][::step], rotation=0, fontsize=8)


def _funnel_chart(data: ReportData) -> Figure:
    figure, axes = _figure()
    stages = data.funnel.stages
    names = [s.name for s in stages][::-1]
    values = [s.count for s in stages][::-1]
    bars = axes.barh(names, values, color=_BLUE)
    for bar, stage in zip(bars, stages[::-1], strict=True):
        axes.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {stage.count} ({pct(stage.of_invited)})",
            va="center",
            fontsize=9,
        )
    axes.set_xlim(0, max([*values, 1]) * 1.25)
    axes.set_xlabel("members")
    return figure


def _weekly_chart(data: ReportData) -> Figure:
    figure, axes = _figure()
    weeks = [w.week for w in data.weekly_active]
    if not weeks:
        _empty(axes)
        return figure
    positions = range(len(weeks))
    axes.bar(positions, [w.count for w in data.weekly_active], color="#c9d9ec", label="all")
    for index, (name, series) in enumerate(data.weekly_active_by_cohort.items()):
        axes.plot(
            positions,
            [w.count for w in series],
            marker="o",
            color=_COLORS[(index + 1) % len(_COLORS)],
            label=name,
        )
    _weeks_axis(axes, weeks)
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.set_ylabel("active members")
    axes.legend(fontsize=8, loc="upper left")
    return figure


def _satisfaction_chart(data: ReportData) -> Figure:
    figure, axes = _figure()
    s = data.satisfaction
    weeks = [w.week for w in s.weekly_rating]
    if s.hidden or not weeks:
        _empty(axes, "too few responses to show" if s.hidden else "no survey answer in this period")
        return figure
    positions = list(range(len(weeks)))
    ratings = [(i, w.value) for i, w in enumerate(s.weekly_rating) if w.value is not None]
    if ratings:
        axes.plot(
            [i for i, _ in ratings],
            [v for _, v in ratings],
            marker="o",
            color=_BLUE,
            label="mean rating (1-5)",
        )
    axes.set_ylim(0.8, 5.2)
    axes.set_ylabel("mean rating")
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
    _weeks_axis(axes, weeks)
    axes.set_xlim(-0.5, len(positions) - 0.5)
    lines = axes.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    axes.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="lower left")
    return figure


def _help_chart(data: ReportData) -> Figure:
    figure, axes = _figure()
    weeks = data.help.weekly_first_response
    if not weeks:
        _empty(axes, "no answered help ticket in this period")
        return figure
    positions = range(len(weeks))
    axes.bar(positions, [w.value or 0 for w in weeks], color=_COLORS[2])
    _weeks_axis(axes, [w.week for w in weeks])
    axes.set_ylabel("median first response (hours)")
    median = data.help.median_first_response
    if median is not None:
        axes.axhline(median.total_seconds() / 3600, color=_COLORS[3], linestyle=":")
    return figure


def _points_chart(data: ReportData) -> Figure:
    figure, axes = _figure()
    buckets = data.points.buckets
    if not data.points.members:
        _empty(axes)
        return figure
    axes.bar([b.label for b in buckets], [b.count for b in buckets], color=_COLORS[4])
    axes.set_xlabel("points")
    axes.set_ylabel("members")
    axes.yaxis.set_major_locator(_integer_ticks())
    return figure


_CHART_BUILDERS: dict[str, Callable[[ReportData], Figure]] = {
    "funnel": _funnel_chart,
    "weekly_active": _weekly_chart,
    "satisfaction": _satisfaction_chart,
    "help": _help_chart,
    "points": _points_chart,
}


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415 (the charts extra)

    return MaxNLocator(integer=True)


def chart_pngs(data: ReportData) -> dict[str, bytes]:
    """Every chart as PNG bytes, by name (see :data:`CHARTS`).

    Raises:
        MissingExtraError: matplotlib (the ``charts`` extra) is not installed.
    """
    require("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 (the charts extra)

    charts: dict[str, bytes] = {}
    for name in CHARTS:
        figure = _CHART_BUILDERS[name](data)
        figure.suptitle(_CHART_TITLES[name], fontsize=11)
        buffer = io.BytesIO()
        FigureCanvasAgg(figure)  # the Agg canvas: no display, no global state
        figure.savefig(buffer, format="png")
        charts[name] = buffer.getvalue()
    return charts


def chart_title(name: str) -> str:
    """The title drawn on the chart ``name`` (see :data:`CHARTS`)."""
    return _CHART_TITLES.get(name, name)


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


def render_html(data: ReportData, charts: dict[str, bytes]) -> str:
    """The whole report as one HTML page: charts inline, no script, no external resource."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Rallybot indicators — {e(data.scope.label())}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Rallybot indicators</h1>",
        f'<p class="meta">{e(data.scope.label())} · generated '
        f"{data.generated_at:%Y-%m-%d %H:%M} UTC</p>",
        "<h2>Charts</h2>",
    ]
    for name in CHARTS:
        if name not in charts:
            continue
        encoded = base64.b64encode(charts[name]).decode("ascii")
        parts.append(
            f'<figure id="chart-{name}"><img src="data:image/png;base64,{encoded}" '
            f'alt="{e(_CHART_TITLES[name])}" width="750" height="360">'
            f"<figcaption>{e(_CHART_TITLES[name])}</figcaption></figure>"
        )
    parts.append("<h2>Figures</h2>")
    for title, header, rows in _tables(data):
        slug = "-".join(title.lower().split())
        parts.append(f'<table id="table-{e(slug)}"><caption>{e(title)}</caption><thead><tr>')
        parts.extend(f"<th>{e(column)}</th>" for column in header)
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>")
        if not rows:
            parts.append(f'<tr><td colspan="{len(header)}">no data</td></tr>')
        parts.append("</tbody></table>")
    parts.append(
        '<p class="note">Definitions: a member is active in a week when they posted, replied, '
        "reacted, pressed a button or used a command. Reach: distinct members who reacted to or "
        "replied under a post, out of its channel's members (* unknown: every member in scope). "
        "NPS: % promoters (9-10) minus % detractors (0-6). Kudos count for both: given by the "
        "giver, received by the receiver (revoked kudos left out). Weeks start on Monday (UTC).</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------- chat summary


def summary_text(data: ReportData) -> str:
    """A short plain-text summary for chat (``/rallybot stats``, the weekly digest)."""
    f = data.funnel
    lines = [f"📊 Indicators — {data.scope.label()}"]
    lines.append(
        "Funnel: "
        + " → ".join(
            f"{s.name} {s.count}" + (f" ({pct(s.of_invited)})" if i else "")
            for i, s in enumerate(f.stages)
        )
    )
    if data.weekly_active:
        recent = data.weekly_active[-4:]
        lines.append(
            "Active members per week: "
            + ", ".join(f"{w.week:%d %b} {w.count}" for w in recent)
            + f" ({data.active_members} over the period)"
        )
    else:
        lines.append(f"Active members: {data.active_members}")
    if data.reach:
        lines.append(
            "Reach of campaign posts: "
            + ", ".join(
                f"{p.step_id} {p.reached}/{p.audience} ({pct(p.rate)})" for p in data.reach[-3:]
            )
        )
    q = data.quiz
    lines.append(
        f"Quizzes: {q.participants} participant(s) ({pct(q.participation)}), "
        f"mean score {pct(q.mean_score)}"
    )
    if data.challenges:
        lines.append(
            "Challenges: "
            + ", ".join(
                f"{c.challenge} {c.completed_members}/{c.participants} ({pct(c.completion)})"
                for c in data.challenges[:5]
            )
        )
    pulses: dict[str, list[ind.SurveyRound]] = {}
    for one in data.survey_rounds:
        pulses.setdefault(one.survey, []).append(one)
    for survey, rounds in pulses.items():  # the last rounds: the trend
        lines.append(
            f"Pulse {survey}: "
            + " → ".join(
                f"{r.round} {r.responses} resp. {num(r.mean_rating, 2)}/5" for r in rounds[-4:]
            )
        )
    s = data.satisfaction
    if s.hidden:
        lines.append("Satisfaction: too few responses to show for this group")
    else:
        lines.append(
            f"Satisfaction: {num(s.mean_rating, 2)}/5 ({s.ratings} rating(s)), "
            f"NPS {_nps(s.nps)} ({s.nps_answers} answer(s))"
        )
    h = data.help
    lines.append(
        f"Help: {h.tickets} ticket(s), first response median {duration(h.median_first_response)}, "
        f"resolution median {duration(h.median_resolution)}"
    )
    p = data.points
    lines.append(
        f"Points: {p.with_points} of {p.members} member(s) have points, median {num(p.median)}, "
        f"max {p.max if p.max is not None else '–'}"
    )
    k = data.kudos
    lines.append(
        f"Kudos: {k.given} given by {k.givers} member(s), "
        f"{k.received} received by {k.receivers} member(s)"
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
