"""What the CLI, the console and other features use of reporting: the indicators' scope and
the few indicators they read alone, :func:`compute` and the renderers of its result.

The one door into this package: other features import these names from here, never from
:mod:`.indicators` or :mod:`.report` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.reporting.indicators import (
    NO_GROUP,
    HelpTimes,
    Scope,
    cohorts,
    help_times,
    managers_left_out,
    week_start,
)
from rallybot.handlers.reporting.report import (
    NOTHING,
    STEPS,
    ReportData,
    chart_pngs,
    chart_title,
    compute,
    duration,
    nps,
    num,
    pct,
    render_html,
    render_tables,
    stage_name,
    summary_json,
    summary_text,
    write_csv,
    write_pngs,
)
from rallybot.handlers.reporting.titles import Titles, titles_of

__all__ = [
    "NOTHING",
    "NO_GROUP",
    "STEPS",
    "HelpTimes",
    "ReportData",
    "Scope",
    "Titles",
    "chart_pngs",
    "chart_title",
    "cohorts",
    "compute",
    "duration",
    "help_times",
    "managers_left_out",
    "nps",
    "num",
    "pct",
    "render_html",
    "render_tables",
    "stage_name",
    "summary_json",
    "summary_text",
    "titles_of",
    "week_start",
    "write_csv",
    "write_pngs",
]
