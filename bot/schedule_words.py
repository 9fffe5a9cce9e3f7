"""When a campaign's step is sent, in its reader's words: ``every: monday at 09:00`` reads
"every Monday at 9:00 AM", "chaque lundi à 09:00", "cada lunes a las 9:00", "jeden Montag um
09:00"; ``at: launch - 28d at 09:00`` reads "28 jours avant launch, à 09:00".

The file's syntax is for the person who writes it; a community manager reading a page (the
console's Act page) reads the words. Milestone names stay as the file writes them: they are
the community's own names, not the bot's.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from babel.dates import format_time, get_day_names
from babel.lists import format_list

from rallybot.bot import formats, i18n
from rallybot.campaigns.schema import Campaign, Step
from rallybot.campaigns.timeexpr import Recurrence, TimeExpr

__all__ = ["recurrence_words", "schedule_words", "time_expr_words"]

_WORKWEEK = frozenset(range(5))
_WEEK = frozenset(range(7))


def _clock(locale: str | None, value: time) -> str:
    """A time of day as the locale writes it ("9:00 AM", "09:00")."""
    return format_time(value, "short", locale=formats.babel_locale(locale))


def _days(locale: str | None, weekdays: frozenset[int]) -> str:
    """Weekday names in the locale's words, Monday first ("lundi et jeudi")."""
    names = get_day_names("wide", "format", locale=formats.babel_locale(locale))
    return format_list(
        [str(names[day]) for day in sorted(weekdays)], locale=formats.babel_locale(locale)
    )


def _weekly(locale: str | None, weekdays: frozenset[int], at: str) -> str:
    if weekdays == _WEEK:
        # Translators: a step sent every day; {time}: "09:00".
        return i18n.gettext(locale, "every day at {time}").format(time=at)
    if weekdays == _WORKWEEK:
        # Translators: a step sent each day from Monday to Friday; {time}: "09:00".
        return i18n.gettext(locale, "Monday to Friday at {time}").format(time=at)
    # Translators: a step sent each week on these days; {days}: "Monday and Thursday" (the
    # weekday names, in the reader's language), {time}: "09:00".
    return i18n.gettext(locale, "every {days} at {time}").format(
        days=_days(locale, weekdays), time=at
    )


def _monthly(locale: str | None, nth: int, weekday: int, at: str) -> str:
    templates = {
        # Translators: {day}: a weekday name ("Monday"); {time}: "09:00".
        1: i18n.gettext(locale, "the first {day} of each month at {time}"),
        # Translators: {day}: a weekday name ("Monday"); {time}: "09:00".
        2: i18n.gettext(locale, "the second {day} of each month at {time}"),
        # Translators: {day}: a weekday name ("Monday"); {time}: "09:00".
        3: i18n.gettext(locale, "the third {day} of each month at {time}"),
        # Translators: {day}: a weekday name ("Monday"); {time}: "09:00".
        4: i18n.gettext(locale, "the fourth {day} of each month at {time}"),
        # Translators: {day}: a weekday name ("Monday"); {time}: "09:00".
        5: i18n.gettext(locale, "the fifth {day} of each month at {time}"),
        # Translators: {day}: a weekday name ("Friday"); {time}: "17:00".
        -1: i18n.gettext(locale, "the last {day} of each month at {time}"),
    }
    return templates[nth].format(day=_days(locale, frozenset({weekday})), time=at)


def recurrence_words(recurrence: Recurrence, locale: str | None) -> str:
    """An ``every:`` in ``locale``'s words: every day, Monday to Friday, some weekdays, every
    N weeks, the Nth weekday of each month, or the days of a cron line."""
    at = _clock(locale, recurrence.at)
    if recurrence.cron is not None:
        fields = recurrence.cron.split()
        if fields[2] == "*" and fields[3] == "*":
            # Only the weekday field chooses the days: it reads like any weekly step.
            start = date(2001, 1, 1)  # a Monday
            week = [start + timedelta(days=offset) for offset in range(7)]
            weekdays = frozenset(d.weekday() for d in week if recurrence.fires_on(d))
            return _weekly(locale, weekdays, at)
        # Translators: a step sent on the days a cron line names ("0 9 1,15 * *", as the
        # campaign file writes it); {time}: "09:00".
        return i18n.gettext(locale, "at {time} on the days of the cron line {line}").format(
            time=at, line=recurrence.cron
        )
    if recurrence.nth is not None:
        (weekday,) = recurrence.weekdays
        return _monthly(locale, recurrence.nth, weekday, at)
    if recurrence.interval > 1:
        # Translators: a step sent every {n} weeks (n is 2 or more) on these days; {days}:
        # "Monday and Thursday", {time}: "09:00".
        words = i18n.ngettext(
            locale,
            "every {n} week on {days} at {time}",
            "every {n} weeks on {days} at {time}",
            recurrence.interval,
        )
        return words.format(n=recurrence.interval, days=_days(locale, recurrence.weekdays), time=at)
    return _weekly(locale, recurrence.weekdays, at)


def _duration(locale: str | None, days: int, seconds: int, workdays: int) -> str:
    """A length of time without its sign, in the locale's words ("28 days", "1 day and 3
    hours", "3 working days")."""
    parts: list[str] = []
    # Days as days, never weeks: "launch - 28d" is counted in days by whoever wrote it.
    if days:
        parts.append(i18n.ngettext(locale, "{n} day", "{n} days", days).format(n=days))
    if workdays:
        # Translators: days that are neither a weekend nor a public holiday.
        working = i18n.ngettext(locale, "{n} working day", "{n} working days", workdays)
        parts.append(working.format(n=workdays))
    hours, minutes = divmod(seconds // 60, 60)
    if hours:
        parts.append(i18n.ngettext(locale, "{n} hour", "{n} hours", hours).format(n=hours))
    if minutes:
        parts.append(i18n.ngettext(locale, "{n} minute", "{n} minutes", minutes).format(n=minutes))
    return format_list(parts, locale=formats.babel_locale(locale))


def _moved(locale: str | None, kind: str, anchor: str, days: int, seconds: int, work: int) -> str:
    """``anchor`` moved by an offset whose parts all go one way (``kind``: what the anchor is:
    "milestone", "join" or "date")."""
    total = days * 86_400 + seconds + work * 86_400
    later = total > 0 or (total == 0 and work > 0)
    length = _duration(locale, abs(days), abs(seconds), abs(work))
    if kind == "join":
        if later:
            # Translators: {offset}: "2 days"; a step sent that long after each member joins.
            return i18n.gettext(locale, "{offset} after joining").format(offset=length)
        # Translators: {offset}: "2 days"; a step sent that long before each member joins.
        return i18n.gettext(locale, "{offset} before joining").format(offset=length)
    if kind == "date":
        if later:
            # Translators: {offset}: "2 days"; {date}: "Sep 15, 2026".
            words = i18n.pgettext(locale, "after a date", "{offset} after {date}")
        else:
            # Translators: {offset}: "2 days"; {date}: "Sep 15, 2026".
            words = i18n.pgettext(locale, "before a date", "{offset} before {date}")
        return words.format(offset=length, date=anchor)
    if later:
        # Translators: {offset}: "2 days"; {milestone}: a milestone's name as the campaign
        # file writes it ("launch"), or words that already say a time.
        return i18n.gettext(locale, "{offset} after {milestone}").format(
            offset=length, milestone=anchor
        )
    # Translators: {offset}: "28 days"; {milestone}: a milestone's name as the campaign file
    # writes it ("launch"), or words that already say a time.
    return i18n.gettext(locale, "{offset} before {milestone}").format(
        offset=length, milestone=anchor
    )


def time_expr_words(expr: TimeExpr, locale: str | None) -> str:
    """An ``at:`` in ``locale``'s words: a date, a time before or after a milestone or after
    each member joins, at a time of day or not."""
    at = _clock(locale, expr.at) if expr.at is not None else None
    # Calendar days and exact seconds are one length for a reader ("1d - 2h": 22 hours).
    calendar = expr.days * 86_400 + expr.seconds
    sign = -1 if calendar < 0 else 1
    days, seconds = sign * (abs(calendar) // 86_400), sign * (abs(calendar) % 86_400)
    moved = bool(calendar or expr.workdays)
    if expr.anchor == "absolute":
        assert expr.absolute is not None
        kind = "date"
        if at is None and expr.absolute.time() != time(0, 0):
            anchor = formats.moment(locale, expr.absolute)
        else:
            anchor = formats.day(locale, expr.absolute.date())
        if not moved:
            clock = at or _clock(locale, expr.absolute.time())
            # Translators: a step sent once; {date}: "Sep 15, 2026", {time}: "09:30".
            return i18n.gettext(locale, "on {date} at {time}").format(
                date=formats.day(locale, expr.absolute.date()), time=clock
            )
    elif expr.anchor == "join":
        kind, anchor = "join", ""
        if not moved:
            if at is not None:
                # Translators: a step sent the day each member joins; {time}: "10:00".
                return i18n.gettext(locale, "the day they join, at {time}").format(time=at)
            # Translators: a step sent as soon as each member joins.
            return i18n.gettext(locale, "as soon as they join")
    else:
        kind, anchor = "milestone", expr.anchor
        if not moved:
            if at is not None:
                # Translators: {milestone}: a milestone's name as the campaign file writes it
                # ("launch"); {time}: "09:00".
                return i18n.gettext(locale, "on the day of {milestone}, at {time}").format(
                    milestone=anchor, time=at
                )
            # Translators: a step sent at a milestone's own date and time; {milestone}: its
            # name as the campaign file writes it ("launch").
            return i18n.gettext(locale, "at {milestone}").format(milestone=anchor)
    if calendar and expr.workdays and (calendar > 0) != (expr.workdays > 0):
        # Offsets that go both ways: the working days count from the calendar move.
        inner = _moved(locale, kind, anchor, days, seconds, 0)
        words = _moved(locale, "milestone", inner, 0, 0, expr.workdays)
    else:
        words = _moved(locale, kind, anchor, days, seconds, expr.workdays)
    if at is None:
        return words
    # Translators: {when}: "28 days before launch"; {time}: the time of day, "09:00".
    return i18n.gettext(locale, "{when}, at {time}").format(when=words, time=at)


def schedule_words(campaign: Campaign, step: Step, locale: str | None) -> str:
    """When ``step`` is sent, in ``locale``'s words: its ``at``, or its ``every`` with the days
    its ``from`` and ``until`` fall on; empty when it has neither."""
    if step.at is not None:
        return time_expr_words(step.at, locale)
    if step.every is None:
        return ""
    words = recurrence_words(step.every, locale)
    zone = campaign.zone
    start = _bound(campaign, step.from_, zone, locale)
    end = _bound(campaign, step.until, zone, locale)
    if start and end:
        # Translators: {schedule}: "every Monday at 09:00"; {start}, {end}: days ("Sep 1, 2026").
        words = i18n.gettext(locale, "{schedule}, from {start} until {end}").format(
            schedule=words, start=start, end=end
        )
    elif start:
        # Translators: {schedule}: "every Monday at 09:00"; {start}: a day ("Sep 1, 2026").
        words = i18n.gettext(locale, "{schedule}, from {start}").format(schedule=words, start=start)
    elif end:
        # Translators: {schedule}: "every Monday at 09:00"; {end}: a day ("Sep 1, 2026").
        words = i18n.gettext(locale, "{schedule}, until {end}").format(schedule=words, end=end)
    return words


def _bound(campaign: Campaign, expr: TimeExpr | None, zone: tzinfo, locale: str | None) -> str:
    """The day a ``from`` or ``until`` falls on in the campaign's zone (never per member)."""
    if expr is None:
        return ""
    instant: datetime = expr.resolve(zone, campaign.milestones)
    return formats.day(locale, instant.astimezone(zone).date())
