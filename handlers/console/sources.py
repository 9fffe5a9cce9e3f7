"""What the pages of campaigns, timeline, indicators and help desk share: one timeline
source (it keeps the planned rows of a window) and one indicator cache (it keeps each scope's
figures) per console app, the last reload's report, and the template filters of their pages
(``basename``: a file's name without the server's folders;
``pct``: a share; ``duration``: seconds as minutes, hours or days)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import PurePath

from fastapi import HTTPException, Request
from jinja2 import pass_context
from jinja2.runtime import Context

from rallybot.bot.app import campaign_files
from rallybot.bot.context import ReloadReport
from rallybot.campaigns.faq import is_faq_file, load_faqs
from rallybot.campaigns.quiz import validate_all
from rallybot.handlers.console.figures import IndicatorCache
from rallybot.handlers.console.kit import ConsoleState, templates
from rallybot.handlers.console.timeline import TimelineSource
from rallybot.handlers.console.words import (
    day_pattern,
    day_text,
    gettext,
    language_name,
    number,
    parse_day,
    when,
)
from rallybot.handlers.reporting import service as figure_words
from rallybot.handlers.reporting.service import NO_GROUP, stage_name

__all__ = [
    "EARLIEST",
    "LATEST",
    "NO_CONTROL",
    "bad_day",
    "cohort_words",
    "day_problem",
    "form_day",
    "indicator_cache",
    "invalid",
    "last_reload",
    "read_day",
    "read_period",
    "timeline_source",
]

EARLIEST = date(2000, 1, 1)
LATEST = date(2199, 12, 31)
"""The days a filter may name (beyond, times overflow and no campaign runs)."""
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
"""A filter's text: no control character (PostgreSQL refuses a NUL in a string)."""


def form_day(text: str | None, locale: str | None) -> date | str | None:
    """A day of a filter form, as the reader's language writes it in a date field
    (:func:`.words.day_text`) or in ISO 8601 (the links between pages); the form sends its
    empty fields: empty is no day. The text itself back when it is not a day between
    :data:`EARLIEST` and :data:`LATEST`."""
    if not text or not text.strip():
        return None
    day = parse_day(text, locale)
    return day if day is not None and EARLIEST <= day <= LATEST else text


def day_problem(text: str, locale: str | None) -> str:
    """What is wrong with a day a filter form cannot read: what was written, and how to
    write it in the reader's language (``15/09/2026`` in French)."""
    example = day_text(date(2026, 9, 15), locale)
    message = gettext(locale, '"{value}" is not a day: write it as {example}.')
    return message.format(value=text, example=example)


def bad_day(request: Request, field: str, text: str, locale: str | None) -> HTTPException:
    """The 422 of a day a filter form cannot read (:func:`day_problem`)."""
    return invalid(request, field, day_problem(text, locale))


def read_day(text: str | None, locale: str | None) -> tuple[date | None, str | None]:
    """A day of a filter form (:func:`form_day`) and, when it cannot be read, no day and
    what to say next to its field: a page keeps itself and what was typed, and says it
    there, rather than giving way to an error page."""
    day = form_day(text, locale)
    if isinstance(day, str):
        return None, day_problem(day, locale)
    return day, None


def read_period(
    start_text: str | None, end_text: str | None, locale: str | None
) -> tuple[date | None, date | None, dict[str, str]]:
    """The ``from`` and ``to`` days of a filter form (:func:`read_day`), and what to say next
    to each field that cannot be used (an end before the start is left out too)."""
    problems: dict[str, str | None] = {}
    start, problems["from"] = read_day(start_text, locale)
    end, problems["to"] = read_day(end_text, locale)
    if start is not None and end is not None and end < start:
        problems["to"] = gettext(locale, "The end day must not come before the start day.")
        end = None
    return start, end, {name: text for name, text in problems.items() if text}


@pass_context
def _day_field(context: Context, day: date | None) -> str:
    """A day as the page's date fields show it (``15/09/2026`` in French); empty for None."""
    return day_text(day, context.get("locale")) if day is not None else ""


@pass_context
def _day_hint(context: Context) -> str:
    """What the page's date fields ask for (``jj/mm/aaaa`` in French)."""
    return day_pattern(context.get("locale"))


def invalid(request: Request, field: str, message: str) -> HTTPException:
    """A 422 for a value the request's schema allows but the page cannot use: under ``/api``
    shaped as FastAPI's own validation errors (as the API document says), else the message."""
    if "/api/" in request.url.path:
        detail: object = [{"loc": ["query", field], "msg": message, "type": "value_error"}]
    else:
        detail = message
    return HTTPException(422, detail)


def timeline_source(request: Request, state: ConsoleState) -> TimelineSource:
    """The app's timeline source, following the campaigns and settings in force."""
    source = getattr(request.app.state, "timeline_source", None)
    settings = state.settings
    if not isinstance(source, TimelineSource):
        source = TimelineSource(state.db, state.campaigns(), default_timezone=settings.timezone)
        request.app.state.timeline_source = source
    # A reload or a community file may change them while the console runs.
    source.campaigns = state.campaigns()
    source.default_timezone = settings.timezone
    source.channel_map = dict(settings.channel_map)
    return source


def indicator_cache(request: Request, state: ConsoleState) -> IndicatorCache:
    """The app's indicator cache."""
    cache = getattr(request.app.state, "indicator_cache", None)
    if not isinstance(cache, IndicatorCache):
        cache = IndicatorCache(state.db, state.clock.now)
        request.app.state.indicator_cache = cache
    return cache


def last_reload(state: ConsoleState) -> ReloadReport:
    """The errors and warnings of the last reload: the running bot's, or (standalone) those
    of reading the campaign files, quiz banks and FAQs now, as ``rallybot validate`` reads
    them (the community file's errors show when the bot reloads)."""
    report = getattr(state.bot, "last_reload", None) if state.bot is not None else None
    if isinstance(report, ReloadReport):
        return report
    listed = campaign_files([state.settings.campaigns_dir])
    faq_files = [p for p in listed if is_faq_file(p)]
    _campaigns, _banks, errors = validate_all([p for p in listed if p not in faq_files])
    errors.extend(load_faqs(faq_files)[1])
    return ReloadReport(errors=errors)


def _basename(path: str) -> str:
    """A file's name without its folders (a page never shows the server's paths)."""
    return PurePath(path).name if path else ""


# The filters below write for the page's language: its ``locale`` (see words.install).


@pass_context
def _pct(context: Context, value: float | None) -> str:
    """A share (0-1) as a whole percentage; a dash when there is nothing to measure (as the
    HTML report writes it)."""
    return figure_words.pct(value, _babel(context))


@pass_context
def _duration(context: Context, seconds: float | None) -> str:
    """Seconds in words to the minute ("1 h 30 min"), as the HTML report writes a duration;
    a dash when there is nothing to measure."""
    value = None if seconds is None else timedelta(seconds=seconds)
    return figure_words.duration(value, context.get("locale"))


@pass_context
def _num(context: Context, value: float | None, pattern: str | None = None) -> str:
    """A figure in the page's language ("1 234" in French), with a Babel ``pattern`` when
    given; a dash when there is nothing to measure."""
    if value is None:
        return figure_words.NOTHING
    return number(value, context.get("locale"), pattern)


@pass_context
def _mean(context: Context, value: float | None) -> str:
    """A mean or a median (a rating, points) as the HTML report writes it: at most one
    decimal ("3,3", "15", never "15,0"); a dash when there is nothing to measure."""
    return figure_words.num(value, locale=_babel(context))


@pass_context
def _nps(context: Context, value: float | None) -> str:
    """An NPS as the HTML report writes it: whole, signed ("+20", "-5", "0")."""
    return figure_words.nps(value, _babel(context))


@pass_context
def _language(context: Context, code: str | None) -> str:
    """A language code ("fr") by its name in the page's language ("français")."""
    return language_name(code, context.get("locale"))


@pass_context
def _stage(context: Context, name: str) -> str:
    """A funnel stage's name (the report's words for it)."""
    return stage_name(name, context.get("locale"))


@pass_context
def _group(context: Context, name: str) -> str:
    """A cohort or team; the members in none of them get words of their own."""
    # Translators: the row of the members in no cohort (or no team), in the indicators.
    return gettext(context.get("locale"), "(none)") if name == NO_GROUP else name


# A cohort named after its month, as rosters often write it ("2026-11").
_MONTH_COHORT = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def cohort_words(name: str, locale: str | None) -> str:
    """A cohort as a person reads it: a month's ("2026-11") as the month in ``locale``'s
    language ("novembre 2026"); the members in none in words; any other name as written."""
    if name == NO_GROUP:
        return gettext(locale, "(none)")
    month = _MONTH_COHORT.fullmatch(name)
    if month is None:
        return name
    return when(date(int(month[1]), int(month[2]), 1), locale, form="month")


@pass_context
def _cohort(context: Context, name: str) -> str:
    """A cohort's name, a month's in words (see :func:`cohort_words`)."""
    return cohort_words(name, context.get("locale"))


def _babel(context: Context) -> str:
    return str(context.get("locale") or "en").replace("-", "_")


templates.env.filters.setdefault("pct", _pct)
templates.env.filters.setdefault("duration", _duration)
templates.env.filters.setdefault("num", _num)
templates.env.filters.setdefault("mean", _mean)
templates.env.filters.setdefault("nps", _nps)
templates.env.filters.setdefault("language", _language)
templates.env.filters.setdefault("stage", _stage)
templates.env.filters.setdefault("group", _group)
templates.env.filters.setdefault("cohort", _cohort)
templates.env.filters.setdefault("basename", _basename)
templates.env.filters.setdefault("day_field", _day_field)
templates.env.globals.setdefault("day_hint", _day_hint)
