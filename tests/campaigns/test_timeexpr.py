"""Time expressions: parsing, readable errors, and daylight-saving behaviour."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest

from rallybot.campaigns.timeexpr import (
    TimeExpr,
    TimeExprError,
    localize,
    parse_datetime_local,
    parse_duration,
    parse_recurrence,
    parse_time_expr,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("launch", TimeExpr(source="launch", anchor="launch")),
        (
            "launch - 30d at 08:45",
            TimeExpr(source="launch - 30d at 08:45", anchor="launch", days=-30, at=clock(8, 45)),
        ),
        ("launch + 2w", TimeExpr(source="launch + 2w", anchor="launch", days=14)),
        ("launch - 2h", TimeExpr(source="launch - 2h", anchor="launch", seconds=-7200)),
        (
            "launch + 1d 12h",
            TimeExpr(source="launch + 1d 12h", anchor="launch", days=1, seconds=43200),
        ),
        (
            "launch-1 semaine at 9h30",
            TimeExpr(source="launch-1 semaine at 9h30", anchor="launch", days=-7, at=clock(9, 30)),
        ),
        (
            "join + 2d at 10:00",
            TimeExpr(source="join + 2d at 10:00", anchor="join", days=2, at=clock(10, 0)),
        ),
        (
            "2026-09-15 09:30",
            TimeExpr(
                source="2026-09-15 09:30",
                anchor="absolute",
                absolute=datetime(2026, 9, 15, 9, 30),
            ),
        ),
        (
            "  launch   -  30d   at 08:45 ",
            TimeExpr(source="launch - 30d at 08:45", anchor="launch", days=-30, at=clock(8, 45)),
        ),
    ],
)
def test_parse_time_expr(text: str, expected: TimeExpr) -> None:
    assert parse_time_expr(text) == expected


def test_join_is_per_member() -> None:
    assert parse_time_expr("join + 2d").per_member
    assert not parse_time_expr("launch + 2d").per_member


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the time is empty (write a date, a milestone or join + 2d)"),
        (
            "next monday",
            '"next monday" is not a time: write a date (2026-09-15 09:30), a milestone with an '
            "offset (launch - 30d at 09:00) or a time after joining (join + 2d at 10:00)",
        ),
        ("launch at 25:00", '"25:00" is not a time of day (hours 00-23, minutes 00-59)'),
        ("launch at 9", '"9" is not a time of day (write it like 09:30)'),
        ("2026-02-30", '"2026-02-30" is not a real calendar date'),
        (
            "launch + 3 fortnights",
            '"+3fortnights" in "launch + 3 fortnights" is not an offset '
            "(use + or - and a duration: - 30d, + 2h)",
        ),
        ("2026-09-15 09:30 at 10:00", '"2026-09-15 09:30 at 10:00" gives the time of day twice'),
    ],
)
def test_parse_time_expr_errors(text: str, message: str) -> None:
    with pytest.raises(TimeExprError) as info:
        parse_time_expr(text)
    assert str(info.value) == message


def test_join_is_refused_where_there_is_no_member() -> None:
    with pytest.raises(TimeExprError, match=r'^"join" can only be used in steps, not here$'):
        parse_time_expr("join + 2d", allow_join=False)


def test_pathological_input_is_rejected_quickly() -> None:
    # Used to backtrack exponentially: each extra " +1" doubled the time.
    started = time.perf_counter()
    for text in ("launch" + " +1" * 40 + " !", "launch" + " +1 at" * 2000 + "!"):
        with pytest.raises(TimeExprError):
            parse_time_expr(text)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", (30, 0)),
        ("2w", (14, 0)),
        ("1d 12h", (1, 43200)),
        ("90min", (0, 5400)),
        ("15m", (0, 900)),
        ("2 semaines", (14, 0)),
        ("3 jours", (3, 0)),
    ],
)
def test_parse_duration(text: str, expected: tuple[int, int]) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "3x", "soon", "12", "d3"])
def test_parse_duration_errors(text: str) -> None:
    with pytest.raises(TimeExprError) as info:
        parse_duration(text)
    assert str(info.value) == (
        f'"{text}" is not a duration (use a number and a unit: 30d, 2w, 3h, 15m)'
    )


def test_parse_datetime_local() -> None:
    assert parse_datetime_local("2026-09-15") == datetime(2026, 9, 15)
    assert parse_datetime_local("2026-09-15T09:30") == datetime(2026, 9, 15, 9, 30)
    with pytest.raises(TimeExprError, match="is not a date"):
        parse_datetime_local("15/09/2026")


@pytest.mark.parametrize(
    ("text", "weekdays", "at"),
    [
        ("monday at 09:00", {0}, clock(9, 0)),
        ("Monday at 09:00", {0}, clock(9, 0)),
        ("lundi à 9h30", {0}, clock(9, 30)),
        ("day at 18:00", set(range(7)), clock(18, 0)),
        ("weekday at 08:30", set(range(5)), clock(8, 30)),
        ("mondays and thursdays at 09:00", {0, 3}, clock(9, 0)),
        ("tuesday, friday at 10:00", {1, 4}, clock(10, 0)),
    ],
)
def test_parse_recurrence(text: str, weekdays: set[int], at: clock) -> None:
    recurrence = parse_recurrence(text)
    assert recurrence.weekdays == weekdays
    assert recurrence.at == at


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "monday",
            '"monday" is not a recurrence: write a day and a time, like "monday at 09:00" '
            'or "day at 18:00"',
        ),
        ("funday at 09:00", '"funday" is not a day: use monday...sunday, "day" or "weekday"'),
        ("monday at 9", '"9" is not a time of day (write it like 09:30)'),
    ],
)
def test_parse_recurrence_errors(text: str, message: str) -> None:
    with pytest.raises(TimeExprError) as info:
        parse_recurrence(text)
    assert str(info.value) == message


def test_recurrence_occurrences() -> None:
    mondays = parse_recurrence("monday at 09:00")
    assert mondays.occurrences(date(2026, 9, 14), date(2026, 9, 28)) == [
        date(2026, 9, 14),
        date(2026, 9, 21),
        date(2026, 9, 28),
    ]


# ---------------------------------------------------------------------------- resolving


def test_days_keep_the_wall_clock_across_the_autumn_change() -> None:
    milestones = {"launch": datetime(2026, 11, 2, 9, 30)}
    before = parse_time_expr("launch - 30d at 09:00").resolve(PARIS, milestones)
    after = parse_time_expr("launch - 1d at 09:00").resolve(PARIS, milestones)
    # 3 October is summer time (UTC+2), 1 November is winter time (UTC+1): both 09:00 in Paris.
    assert before == datetime(2026, 10, 3, 7, 0, tzinfo=UTC)
    assert after == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def test_day_offsets_are_calendar_days_and_hour_offsets_are_exact() -> None:
    milestones = {"launch": datetime(2026, 11, 2, 9, 30)}
    by_days = parse_time_expr("launch - 30d").resolve(PARIS, milestones)
    by_hours = parse_time_expr("launch - 720h").resolve(PARIS, milestones)
    assert by_days == datetime(2026, 10, 3, 7, 30, tzinfo=UTC)  # 09:30 in Paris
    assert by_hours == datetime(2026, 10, 3, 8, 30, tzinfo=UTC)  # 10:30 in Paris


def test_absolute_time() -> None:
    expr = parse_time_expr("2026-09-15 09:30")
    assert expr.resolve(PARIS, {}) == datetime(2026, 9, 15, 7, 30, tzinfo=UTC)


def test_join_time_in_the_members_zone_across_the_spring_change() -> None:
    joined = datetime(2026, 3, 28, 15, 0, tzinfo=UTC)  # 16:00 in Paris, winter time
    sent = parse_time_expr("join + 1d at 10:00").resolve(PARIS, {}, joined)
    assert sent == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 summer time


def test_join_time_needs_a_join_date() -> None:
    with pytest.raises(TimeExprError, match="join date"):
        parse_time_expr("join + 1d").resolve(PARIS, {})


def test_date_in_the_campaign_zone_time_in_the_members_zone() -> None:
    milestones = {"launch": datetime(2026, 9, 15, 9, 30)}
    sent = parse_time_expr("launch - 1d at 09:00").resolve(NEW_YORK, milestones, date_zone=PARIS)
    assert sent == datetime(2026, 9, 14, 13, 0, tzinfo=UTC)  # 09:00 in New York (UTC-4)


def test_localize_moves_a_skipped_time_forward() -> None:
    # 02:30 does not exist on 29 March 2026 in Paris: clocks jump from 02:00 to 03:00.
    instant = localize(datetime(2026, 3, 29, 2, 30), PARIS)
    assert instant == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert instant.astimezone(PARIS).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)


def test_localize_takes_the_first_of_a_repeated_time() -> None:
    # 02:30 happens twice on 25 October 2026 in Paris: first in summer time (UTC+2).
    assert localize(datetime(2026, 10, 25, 2, 30), PARIS) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    assert localize(datetime(2026, 10, 25, 3, 30), PARIS) == datetime(
        2026, 10, 25, 2, 30, tzinfo=UTC
    )


def test_localize_ordinary_time() -> None:
    assert localize(datetime(2026, 1, 15, 12, 0), PARIS) == datetime(2026, 1, 15, 11, 0, tzinfo=UTC)
