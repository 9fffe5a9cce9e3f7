"""Message templates: rendering with Babel, and the checks run when a file is loaded."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from rallybot.bot.messages import member, plain
from rallybot.campaigns.templates import (
    MEMBER_VARIABLES,
    TemplateError,
    check_template,
    did_you_mean,
    render,
    variables_for,
)

LAUNCH = datetime(2026, 9, 15, 9, 30)  # a Tuesday
CHANNEL = variables_for(["launch"], per_member=False)
DIRECT = variables_for(["launch"], per_member=True)


# ---------------------------------------------------------------------------- render


@pytest.mark.parametrize(
    ("template", "locale", "expected"),
    [
        ("RDV le {launch} !", "fr", "RDV le 15 septembre !"),
        ("{launch:EEEE d MMMM}", "fr", "mardi 15 septembre"),
        ("{launch:EEEE d MMMM}", "en", "Tuesday 15 September"),
        ("{launch}", "en", "15 September"),
        ("{launch:EEEE d MMMM 'à' HH:mm}", "fr", "mardi 15 septembre à 09:30"),
        ("J-{days_to_launch}", "fr", "J-12"),
        ("Bonjour {first_name} !", "fr", "Bonjour Ana !"),
        ("{{ pas une variable }}", "fr", "{ pas une variable }"),
    ],
)
def test_render(template: str, locale: str, expected: str) -> None:
    values = {"launch": LAUNCH, "days_to_launch": 12, "first_name": "Ana"}
    assert plain(render(template, values, locale)) == expected


def test_a_members_name_is_member_text() -> None:
    rendered = render("Bonjour {first_name} !", {"first_name": "<!channel>"}, "fr")
    assert rendered == f"Bonjour {member('<!channel>')} !"


def test_render_a_date_value() -> None:
    assert render("Le {date}", {"date": date(2026, 12, 25)}, "fr") == "Le 25 décembre"


def test_french_writes_a_months_first_day_1er() -> None:
    first = {"launch": datetime(2026, 12, 1, 9, 30), "date": date(2027, 5, 1)}
    assert render("RDV le {launch} !", first, "fr") == "RDV le 1er décembre !"
    assert render("{launch:EEEE d MMMM}", first, "fr") == "mardi 1er décembre"
    assert render("Le {date}", first, "fr") == "Le 1er mai"
    assert render("{launch:dd/MM}", first, "fr") == "01/12"  # figures: no ordinal
    assert render("{launch}", first, "en") == "1 December"


def test_render_leaves_a_missing_value_empty() -> None:
    assert render("Bonjour {first_name} !", {}, "fr") == "Bonjour  !"


@pytest.mark.parametrize("template", ["{x.__class__}", "{x[0]}", "{x.__class__.__mro__}"])
def test_render_never_reaches_attributes_or_items(template: str) -> None:
    assert render(template, {"x": "secret"}, "fr") == ""


@pytest.mark.parametrize("template", ["Bonjour {first_name", "Bonjour }", "{"])
def test_render_refuses_unbalanced_braces(template: str) -> None:
    with pytest.raises(TemplateError, match="braces do not match"):
        render(template, {"first_name": "Ana"}, "fr")


# ---------------------------------------------------------------------------- check_template


def test_a_good_template_has_no_problems() -> None:
    countdown = "J-{days_to_launch} : {launch:EEEE d MMMM}"
    assert check_template(countdown, CHANNEL, per_member=False) == []
    assert check_template("Bonjour {first_name}", DIRECT, per_member=True) == []


def test_unknown_variable_with_did_you_mean() -> None:
    assert check_template("Bonjour {first_nam}", DIRECT, per_member=True) == [
        'unknown variable "{first_nam}" (did you mean "first_name"?)'
    ]


def test_unknown_variable_without_a_close_match() -> None:
    assert check_template("{weather}", CHANNEL, per_member=False) == [
        'unknown variable "{weather}"'
    ]


@pytest.mark.parametrize("name", sorted(MEMBER_VARIABLES))
def test_member_variables_only_in_direct_messages(name: str) -> None:
    assert check_template(f"Hello {{{name}}}", CHANNEL, per_member=False) == [
        f'"{{{name}}}" only works in direct messages, not in channel posts'
    ]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{x.__class__}", '"{x.__class__}" is not a variable name'),
        ("{launch.year}", '"{launch.year}" is not a variable name'),
        ("{x[0]}", '"{x[0]}" is not a variable name'),
        ("{launch!r}", '"{launch!r}" is not allowed in a message'),
        ("{}", "empty braces {}: name a variable, like {first_name}"),
        (
            "Bonjour {first_name",
            "braces do not match (expected '}' before end of string); "
            "write {{ and }} for literal braces",
        ),
        (
            "Bonjour }",
            "braces do not match (Single '}' encountered in format string); "
            "write {{ and }} for literal braces",
        ),
        (
            "{launch:%d %B}",
            '"{launch:%d %B}" is not a date format: write a pattern such as '
            "{launch:d MMMM} or {launch:EEEE d MMMM}",
        ),
    ],
)
def test_template_problems(template: str, problem: str) -> None:
    assert check_template(template, DIRECT, per_member=True) == [problem]


def test_every_problem_is_reported() -> None:
    assert check_template("{first_name} {lanch} {x.y}", CHANNEL, per_member=False) == [
        '"{first_name}" only works in direct messages, not in channel posts',
        'unknown variable "{lanch}" (did you mean "launch"?)',
        '"{x.y}" is not a variable name',
    ]


def test_variables_for() -> None:
    assert variables_for(["launch"], per_member=False) == {
        "campaign",
        "date",
        "launch",
        "days_to_launch",
        "days_since_launch",
    }
    assert variables_for([], per_member=True) == {"campaign", "date"} | MEMBER_VARIABLES


def test_did_you_mean() -> None:
    assert did_you_mean("tetx", ["text", "title"]) == ' (did you mean "text"?)'
    assert did_you_mean("zzz", ["text", "title"]) == ""


def test_a_day_in_a_files_problem_reads_1er_in_french() -> None:
    from rallybot.campaigns.words import N_
    from rallybot.campaigns.words import render as words

    problem = N_("falls on {day}", day=date(2026, 11, 1))
    assert (
        words(problem, "fr") == "falls on dimanche 1er novembre 2026"
    )  # no catalog entry: English words, a French day
    assert words(problem, "en") == "falls on Sunday, November 1, 2026"
