"""Roster CSV files: invited people, with every problem at its line and column."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rallybot.campaigns.roster import (
    RosterEntry,
    RosterLoadError,
    load_roster,
    load_roster_text,
    read_roster_bytes,
)

DATA = Path(__file__).parent / "data"


def errors_of(text: str | bytes, source: str = "r.csv") -> list[str]:
    """The error lines for a roster that must not load."""
    with pytest.raises(RosterLoadError) as info:
        load_roster_text(text, source, default_timezone="Europe/Paris")
    return [str(error) for error in info.value.errors]


def test_the_example_roster_loads() -> None:
    entries = load_roster(DATA / "roster.csv", default_timezone="Europe/Paris")
    assert entries == [
        RosterEntry(
            id="U001",
            email="ana@example.com",
            name="Ana",
            first_name="Ana",
            team="sales",
            cohort="pilot",
            groups=("ambassadors", "helpers"),
            start_date=datetime(2026, 9, 15, 7, 0, tzinfo=UTC),  # 09:00 in Paris
            locale="fr",
            timezone=None,
        ),
        RosterEntry(
            id="U002",
            email="bo@example.com",
            name="Bo",
            first_name="Bo",
            team="presales",
            cohort="pilot",
            groups=("helpers", "ambassadors"),
            start_date=datetime(2026, 9, 15, 4, 0, tzinfo=UTC),  # midnight in New York
            locale="en",
            timezone="America/New_York",
        ),
        RosterEntry(
            id=None,
            email="cy@example.com",
            first_name="Cy",
            team="it",
            cohort="wave-2",
            start_date=datetime(2026, 9, 30, 22, 0, tzinfo=UTC),  # midnight, Paris summer time
        ),
    ]
    assert [entry.line for entry in entries] == [2, 3, 5]  # line 4 is blank


def test_semicolon_delimiter_splits_groups_on_bars_only() -> None:
    text = textwrap.dedent(
        """\
        ID;E-mail;Groups;Start Date
        U1;ana@example.com;pilot|sales, north;2026-11-02 09:30
        """
    )
    [entry] = load_roster_text(text, "r.csv", default_timezone="Europe/Paris")
    assert entry.groups == ("pilot", "sales, north")
    assert entry.start_date == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)  # winter time


def test_every_problem_is_reported_at_once() -> None:
    text = textwrap.dedent(
        """\
        id,email,team,start_date,timezone
        U1,ana@example.com,sales,2026-09-15,
        U1,bo@example.com,,mid-september,Europe/Pari
        U3,ANA@example.com,,,
        ,,sales,,
        U6,not-an-email,,,
        U7,cy@example.com,,2026-09-15 25:00,
        """
    )
    assert errors_of(text) == [
        'r.csv:3:1: id: id "U1" is already used on line 2',
        'r.csv:3:4: start_date: "mid-september" is not a date (write it like 2026-09-15 09:30)',
        'r.csv:3:5: timezone: unknown time zone "Europe/Pari" (did you mean "Europe/Paris"?)',
        'r.csv:4:2: email: email "ANA@example.com" is already used on line 2',
        "r.csv:5:1: id: this row has neither an id nor an email",
        'r.csv:6:2: email: "not-an-email" is not an email address',
        'r.csv:7:4: start_date: "25:00" is not a time of day (hours 00-23, minutes 00-59)',
    ]


def test_unknown_column_with_did_you_mean() -> None:
    assert errors_of("id,emial,name\nU1,a@example.com,Ana\n") == [
        'r.csv:1:2: emial: unknown column "emial" (did you mean "email"?)'
    ]


def test_unknown_column_without_a_close_match() -> None:
    assert errors_of("id,shoe size\nU1,42\n") == [
        'r.csv:1:2: shoe_size: unknown column "shoe size"; known columns: id, email, name, '
        "first_name, team, cohort, groups, start_date, locale, timezone, discord"
    ]


def test_repeated_column() -> None:
    assert errors_of("id,email,Email\nU1,a@example.com,b@example.com\n") == [
        'r.csv:1:3: email: column "email" appears twice'
    ]


def test_a_roster_needs_an_id_or_email_column() -> None:
    assert errors_of("name,team\nAna,sales\n") == [
        'r.csv:1:1: the roster needs an "id", an "email" or a "discord" column (the first row '
        "names the columns)"
    ]


def test_bad_locale() -> None:
    assert errors_of("id,locale\nU1,french!\n") == [
        'r.csv:2:2: locale: "french!" is not a language code (use fr, en, en-GB...)'
    ]


def test_too_many_cells() -> None:
    assert errors_of("id,email,name\nU1,a@example.com,Ana,extra\n") == [
        "r.csv:2:4: this row has more cells than the header has columns (3)"
    ]


def test_cells_under_an_unnamed_column_are_reported_once() -> None:
    assert errors_of("id,,name\nU1,x,Ana\nU2,y,Bo\n") == [
        "r.csv:2:2: this cell is in a column with no name in the header"
    ]


def test_line_numbers_count_multi_line_cells() -> None:
    text = 'id,name,timezone\nU1,"Ana\nMartin",Nowhere/Land\nU2,Bo,Nowhere/Else\n'
    assert errors_of(text) == [
        'r.csv:2:3: timezone: unknown time zone "Nowhere/Land"'
        " (use a Region/City name such as Europe/Paris)",
        'r.csv:4:3: timezone: unknown time zone "Nowhere/Else"'
        " (use a Region/City name such as Europe/Paris)",
    ]


def test_unclosed_quote() -> None:
    assert errors_of('id,name\nU1,"Ana\nU2,Bo\n') == [
        'r.csv:2:1: this is not valid CSV: a quoted cell is not closed (add the missing ")'
    ]


def test_a_header_alone_is_an_empty_roster() -> None:
    assert load_roster_text("id,email\n", "r.csv", default_timezone="Europe/Paris") == []


def test_empty_file() -> None:
    assert errors_of(" \n\n") == [
        "r.csv: the file is empty: a roster needs a header row (id, email, ...)"
    ]


def test_binary_file() -> None:
    assert errors_of(b"id,email\nU1,\x00\x01\x02\n") == [
        "r.csv: this is not a text file (it contains binary data)"
    ]


def test_file_that_is_not_utf8_is_read_as_windows_1252() -> None:
    roster = read_roster_bytes(
        b"id,name\nU1,H\xe9l\xe8ne \x80\n", "r.csv", default_timezone="Europe/Paris"
    )
    assert [entry.name for entry in roster.entries] == ["Hélène €"]
    assert roster.info.encoding == "Windows-1252"


def test_file_over_twenty_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"id\n")
        handle.truncate(21 * 1024 * 1024)  # sparse: no need to write 21 MB
    with pytest.raises(RosterLoadError) as info:
        load_roster(path, default_timezone="Europe/Paris")
    assert [str(error) for error in info.value.errors] == [
        f"{path}: the file is 21.0 MB; roster files are limited to 20 MB"
    ]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    with pytest.raises(RosterLoadError) as info:
        load_roster(path, default_timezone="Europe/Paris")
    assert [str(error) for error in info.value.errors] == [
        f"{path}: cannot read the file (no such file)"
    ]


def test_bad_default_time_zone_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match='unknown time zone "Europe/Pari"'):
        load_roster_text("id\nU1\n", "r.csv", default_timezone="Europe/Pari")


def test_a_discord_column_names_the_account_by_id_mention_or_username() -> None:
    from rallybot.campaigns.roster import discord_id, member_fields

    text = (
        "discord,name,cohort\n"
        "333000000000000001,Alice,pilot\n"
        "<@!333000000000000002>,Bob,pilot\n"
        "@chloe,Chloé,pilot\n"
    )
    entries = load_roster_text(text, "r.csv", default_timezone="Europe/Paris")
    assert [(e.id, e.discord, e.line) for e in entries] == [
        (None, "333000000000000001", 2),
        (None, "<@!333000000000000002>", 3),
        (None, "@chloe", 4),
    ]
    assert [discord_id(e.discord) for e in entries] == [
        "333000000000000001",
        "333000000000000002",
        None,
    ]
    # Imported without matching: an id is the platform id, a username stands in for it.
    assert [member_fields(e)[0] for e in entries] == [
        "333000000000000001",
        "333000000000000002",
        "@chloe",
    ]


def test_discord_cells_are_checked_like_ids() -> None:
    text = "id,discord,name\nU1,,Ana\n,,Bob\n,alice,Alice\n,@Alice,Alice again\n"
    assert errors_of(text) == [
        "r.csv:3:1: id: this row has no id, email or discord",
        'r.csv:5:2: discord: discord "@Alice" is already used on line 4',
    ]


def test_the_example_discord_roster_loads() -> None:
    from rallybot.campaigns.roster import discord_id

    example = Path(__file__).parents[2] / "campaigns" / "examples" / "en" / "pilot-discord.csv"
    entries = load_roster(example, default_timezone="Europe/London")
    assert [(e.id, e.discord) for e in entries] == [
        (None, "333000000000000001"),
        (None, "ben"),
        (None, "<@333000000000000003>"),
    ]
    assert [discord_id(e.discord) for e in entries] == [
        "333000000000000001",
        None,
        "333000000000000003",
    ]
