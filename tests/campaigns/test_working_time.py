"""Time that follows working life: working-day offsets with each member's country holidays,
``on_weekend``, and recurrences every N weeks, by rank in the month, or from a cron line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rallybot.campaigns.planner import MemberView, plan
from rallybot.campaigns.quiet_hours import QuietHours
from rallybot.campaigns.schema import Campaign, CampaignSpec, check_references, compile_campaign
from rallybot.campaigns.timeexpr import TimeExprError, parse_recurrence, parse_time_expr
from rallybot.campaigns.workdays import WorkCalendar, calendar_for_zone, country_of_zone

WINDOW = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))
PARIS = ZoneInfo("Europe/Paris")


def spec(steps: list[dict[str, Any]], **extra: Any) -> CampaignSpec:
    data: dict[str, Any] = {
        "id": "c",
        "title": "Test",
        "timezone": "Europe/Paris",
        # The first Tuesday of March 2027, as in the community manager's brief.
        "milestones": {"launch": "2027-03-02 09:30"},
        "channels": {"annonces": "general"},
        "steps": steps,
        **extra,
    }
    return CampaignSpec.model_validate(data)


def make(steps: list[dict[str, Any]], **extra: Any) -> Campaign:
    campaign = spec(steps, **extra)
    assert check_references(campaign) == []
    return compile_campaign(
        campaign, "test.yaml", default_quiet_hours=QuietHours(time(21), time(8))
    )


def local_due(campaign: Campaign, members: list[MemberView] | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for delivery in plan(campaign, members or [], *WINDOW):
        zone = delivery.zone
        key = delivery.step.id + ("" if delivery.member is None else f"/{delivery.member.key}")
        if delivery.occurrence != "once":
            key += f"@{delivery.occurrence}"
        out[key] = f"{delivery.due_at.astimezone(zone):%a %Y-%m-%d %H:%M}"
    return out


def test_countries_come_from_time_zones() -> None:
    assert country_of_zone("Europe/Paris") == "FR"
    assert country_of_zone("Europe/Madrid") == "ES"
    assert country_of_zone("America/Cayenne") == "GF"
    assert country_of_zone("UTC") is None


def test_public_holidays_are_not_working_days() -> None:
    france = calendar_for_zone(PARIS)
    assert france.holiday(date(2027, 5, 1)) is not None  # Labour Day
    assert not france.is_workday(date(2027, 7, 14))  # a Wednesday, Bastille Day
    assert france.is_workday(date(2027, 7, 15))
    # 12 October is a holiday in Spain, not in France.
    assert not calendar_for_zone(ZoneInfo("Europe/Madrid")).is_workday(date(2027, 10, 12))
    assert france.is_workday(date(2027, 10, 12))
    # Weekends only without a country.
    assert WorkCalendar().is_workday(date(2027, 5, 1)) is False  # a Saturday
    assert WorkCalendar().is_workday(date(2027, 7, 14))


def test_working_day_offsets_skip_weekends_and_holidays() -> None:
    launch = {"launch": datetime(2027, 3, 2, 9, 30)}
    minus3 = parse_time_expr("launch - 3 workdays at 08:45")
    assert minus3.workdays == -3
    # Tuesday 2 March - 3 working days: Mon 1, Fri 26 Feb, Thu 25 Feb.
    due = minus3.resolve(PARIS, launch, calendar=calendar_for_zone(PARIS))
    assert due.astimezone(PARIS) == datetime(2027, 2, 25, 8, 45, tzinfo=PARIS)
    # Over a public holiday: Friday 30 April + 1 working day is Monday 3 May (1 May a Saturday)
    # and Wednesday 13 May 2027 + 1 is Friday 14 (Thursday 13... Ascension is Thursday 6 May).
    plus1 = parse_time_expr("launch + 1 workday at 10:00")
    after_may_day = plus1.resolve(
        PARIS, {"launch": datetime(2027, 4, 30, 9, 0)}, calendar=calendar_for_zone(PARIS)
    )
    assert after_may_day.astimezone(PARIS).date() == date(2027, 5, 3)
    before_ascension = plus1.resolve(
        PARIS, {"launch": datetime(2027, 5, 5, 9, 0)}, calendar=calendar_for_zone(PARIS)
    )
    assert before_ascension.astimezone(PARIS).date() == date(2027, 5, 7)  # Thursday 6 skipped


@pytest.mark.parametrize(
    "text",
    [
        "launch - 3 workdays at 08:45",
        "launch - 3 working days at 08:45",
        "launch - 3 business days at 08:45",
        "launch - 3 jours ouvrés at 08:45",
        "launch - 3wd at 08:45",
    ],
)
def test_working_days_spellings(text: str) -> None:
    assert parse_time_expr(text).workdays == -3


def test_a_journey_in_working_days_follows_each_members_country() -> None:
    campaign = make([{"id": "profil", "at": "join + 2 workdays at 10:00", "dm": "Profil ?"}])
    friday = datetime(2027, 10, 8, 9, 0, tzinfo=UTC)
    members = [
        MemberView(key="paris", timezone="Europe/Paris", joined_at=friday),
        MemberView(key="madrid", timezone="Europe/Madrid", joined_at=friday),
    ]
    # Friday 8 October + 2 working days: Tuesday 12 in Paris, but 12 October is Spain's
    # national day, so Wednesday 13 in Madrid.
    assert local_due(campaign, members) == {
        "profil/paris": "Tue 2027-10-12 10:00",
        "profil/madrid": "Wed 2027-10-13 10:00",
    }


def test_a_friday_joiners_reminder_waits_for_monday() -> None:
    steps = [{"id": "rappel", "at": "join + 2d at 10:00", "dm": "Profil ?"}]
    friday = datetime(2027, 3, 5, 9, 0, tzinfo=UTC)
    member = [MemberView(key="new", timezone="Europe/Paris", joined_at=friday)]
    assert local_due(make(steps), member) == {"rappel/new": "Sun 2027-03-07 10:00"}
    moved = make([{**steps[0], "on_weekend": "next_workday"}])
    assert local_due(moved, member) == {"rappel/new": "Mon 2027-03-08 10:00"}
    # The campaign's default applies to every step that says nothing.
    assert local_due(make(steps, on_weekend="next_workday"), member) == {
        "rappel/new": "Mon 2027-03-08 10:00"
    }


def test_teasers_falling_on_a_weekend_move_to_a_working_day() -> None:
    # J-30 is Sunday 31 January, J-3 Saturday 27 February.
    steps = [
        {"id": "j30", "at": "launch - 30d at 09:00", "post": "annonces", "text": "J-30"},
        {"id": "j3", "at": "launch - 3d at 09:00", "post": "annonces", "text": "J-3"},
    ]
    assert local_due(make(steps)) == {
        "j30": "Sun 2027-01-31 09:00",
        "j3": "Sat 2027-02-27 09:00",
    }
    assert local_due(make(steps, on_weekend="previous_workday")) == {
        "j30": "Fri 2027-01-29 09:00",
        "j3": "Fri 2027-02-26 09:00",
    }


def test_a_recurring_step_with_on_weekend_skips_holidays() -> None:
    step = {
        "id": "meteo",
        "every": "weekday at 09:00",
        "from": "2027-05-03",
        "until": "2027-05-09",
        "post": "annonces",
        "text": "Bonjour",
        "on_weekend": "next_workday",
    }
    days = sorted(local_due(make([step])).values(), key=lambda text: text[4:])
    # Saturday 8 May (Victory in Europe day) is a weekend anyway; Thursday 6 May is Ascension.
    assert days == [
        "Mon 2027-05-03 09:00",
        "Tue 2027-05-04 09:00",
        "Wed 2027-05-05 09:00",
        "Fri 2027-05-07 09:00",
    ]


def test_every_two_weeks_counts_from_the_from_date() -> None:
    step = {
        "id": "pulse",
        "every": "every 2 weeks on monday at 09:00",
        "from": "launch",
        "until": "launch + 6w",
        "post": "annonces",
        "text": "Pulse",
    }
    # Launch is Tuesday 2 March: its week's Monday (1 March) is before it, so the first is
    # Monday 15 March, then every other Monday.
    assert sorted(local_due(make([step])).values()) == [
        "Mon 2027-03-15 09:00",
        "Mon 2027-03-29 09:00",
        "Mon 2027-04-12 09:00",
    ]


def test_every_two_weeks_without_from_is_refused() -> None:
    campaign = spec(
        [{"id": "p", "every": "2 weeks on monday at 09:00", "post": "annonces", "text": "x"}]
    )
    assert [p.message for p in check_references(campaign)] == [
        '"every 2 weeks" counts its weeks from "from": add from: (the first day it may fire, '
        "like from: launch)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("first monday of the month at 09:00", ["2027-03-01", "2027-04-05", "2027-05-03"]),
        ("last friday of the month at 17:00", ["2027-03-26", "2027-04-30", "2027-05-28"]),
        ("second tuesday of the month at 10:00", ["2027-03-09", "2027-04-13", "2027-05-11"]),
        ("premier lundi du mois à 09:00", ["2027-03-01", "2027-04-05", "2027-05-03"]),
        ("dernier vendredi du mois à 17:00", ["2027-03-26", "2027-04-30", "2027-05-28"]),
        ("cron 0 9 1,15 * *", ["2027-03-01", "2027-03-15", "2027-04-01", "2027-04-15"]),
    ],
)
def test_monthly_and_cron_recurrences(text: str, expected: list[str]) -> None:
    recurrence = parse_recurrence(text)
    found = recurrence.occurrences(date(2027, 3, 1), date(2027, 5, 31))
    assert [d.isoformat() for d in found][: len(expected)] == expected


def test_a_cron_line_gives_the_time_of_day() -> None:
    recurrence = parse_recurrence("cron 30 9 * * 1-5")
    assert recurrence.at == time(9, 30)
    assert len(recurrence.occurrences(date(2027, 3, 1), date(2027, 3, 7))) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "cron 30 9,14 * * *",
            '"cron 30 9,14 * * *": a cron line here fires once a day at most: give one minute '
            'and one hour (like "cron 30 9 * * 1-5")',
        ),
        (
            "cron 61 9 * * *",
            '"cron 61 9 * * *" is not a cron line: five fields, minute hour day month weekday '
            '(like "cron 30 9 * * 1-5")',
        ),
        (
            "fifteenth monday of the month at 09:00",
            '"fifteenth" is not first, second, third, fourth or last (in "fifteenth monday of '
            'the month at 09:00")',
        ),
        (
            "first mondey of the month at 09:00",
            '"mondey" is not a day of the week (in "first mondey of the month at 09:00")',
        ),
    ],
)
def test_recurrence_mistakes(text: str, message: str) -> None:
    with pytest.raises(TimeExprError) as info:
        parse_recurrence(text)
    assert str(info.value) == message


def test_until_before_from_is_refused() -> None:
    campaign = spec(
        [
            {
                "id": "weekly",
                "every": "monday at 09:00",
                "from": "launch + 4w",
                "until": "launch",
                "post": "annonces",
                "text": "x",
            }
        ]
    )
    assert [p.message for p in check_references(campaign)] == [
        '"until" (launch) comes before "from" (launch + 4w): the step would never fire'
    ]
