"""Rosters as spreadsheets save them: encodings, separators, day-first dates, workbooks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.campaigns.roster import (
    Roster,
    RosterLoadError,
    read_roster,
    read_roster_bytes,
    summarize_errors,
)

PARIS = "Europe/Paris"


def read(raw: bytes | str, *, source: str = "r.csv", date_format: str = "auto") -> Roster:
    return read_roster_bytes(raw, source, default_timezone=PARIS, date_format=date_format)


def errors(raw: bytes | str, *, date_format: str = "auto") -> list[str]:
    with pytest.raises(RosterLoadError) as info:
        read(raw, date_format=date_format)
    return [str(error) for error in info.value.errors]


def test_french_excel_semicolon_csv_in_windows_1252() -> None:
    # What "CSV (séparateur : point-virgule)" writes on a French Windows.
    text = "id;nom;équipe;start_date\nU1;Hélène Côté;Ventes;2027-03-02\n"
    text = text.replace("nom", "name").replace("équipe", "team")
    roster = read(text.encode("cp1252"))
    assert [(e.id, e.name, e.team) for e in roster.entries] == [("U1", "Hélène Côté", "Ventes")]
    assert roster.info.encoding == "Windows-1252"
    assert roster.info.delimiter == ";"
    assert roster.info.describe() == 'read as Windows-1252, separated by ";"'


def test_utf8_with_and_without_a_byte_order_mark() -> None:
    body = "id,name\nU1,Zoë\n"
    assert read(body.encode()).info.encoding == "UTF-8"
    with_bom = read(b"\xef\xbb\xbf" + body.encode())
    assert with_bom.info.encoding == "UTF-8 with BOM"
    assert with_bom.entries[0].id == "U1"  # the mark is not part of the first column's name


def test_excel_unicode_text_is_utf16_with_tabs() -> None:
    roster = read("id\tname\tgroups\nU1\tŁukasz\ta;b\n".encode("utf-16"))
    assert roster.info.encoding == "UTF-16"
    assert roster.info.delimiter == "\t"
    assert roster.entries[0].name == "Łukasz"
    # With a tab separator a ";" inside a cell separates groups, as with ",".
    assert roster.entries[0].groups == ("a", "b")


def test_tab_separated_text() -> None:
    roster = read(b"id\tteam\nU1\tSales\nU2\tOps\n")
    assert [(e.id, e.team) for e in roster.entries] == [("U1", "Sales"), ("U2", "Ops")]
    assert "separated by a tab" in roster.info.describe()


def test_day_first_dates_are_recognised_when_a_day_is_over_twelve() -> None:
    roster = read(b"id,start_date\nU1,02/03/2027\nU2,15/03/2027 09:30\n")
    assert roster.info.date_order == "day-first"
    starts = [e.start_date for e in roster.entries]
    # Paris is UTC+1 in early March.
    assert starts == [
        datetime(2027, 3, 1, 23, 0, tzinfo=UTC),
        datetime(2027, 3, 15, 8, 30, tzinfo=UTC),
    ]
    assert roster.info.describe().endswith("dates day-first")


def test_month_first_dates_are_recognised_when_a_day_is_over_twelve() -> None:
    roster = read(b"id,start_date\nU1,03/02/2027\nU2,03/15/2027\n")
    assert roster.info.date_order == "month-first"
    assert [e.start_date.date() for e in roster.entries if e.start_date] == [
        date(2027, 3, 1),  # 2 March 00:00 in Paris is 1 March 23:00 UTC
        date(2027, 3, 14),
    ]


def test_ambiguous_dates_name_both_readings() -> None:
    assert errors(b"id,start_date\nU1,02/03/2027\n") == [
        'r.csv:2:2: start_date: "02/03/2027" can be read as 2 March 2027 (day-first) or '
        "3 February 2027 (month-first); write it like 2027-03-02, or say date_format: "
        "day-first (or month-first)"
    ]


def test_the_date_format_setting_settles_ambiguous_dates() -> None:
    roster = read(b"id,start_date\nU1,02.03.2027\n", date_format="day-first")
    assert roster.entries[0].start_date == datetime(2027, 3, 1, 23, 0, tzinfo=UTC)
    roster = read(b"id,start_date\nU1,02/03/2027\n", date_format="month-first")
    assert roster.entries[0].start_date == datetime(2027, 2, 2, 23, 0, tzinfo=UTC)


def test_a_date_that_does_not_exist_in_the_chosen_order() -> None:
    assert errors(b"id,start_date\nU1,02/13/2027\n", date_format="day-first") == [
        'r.csv:2:2: start_date: "02/13/2027" is not a real calendar date (read day-first)'
    ]


def test_a_roster_mixing_both_orders_is_refused() -> None:
    found = errors(b"id,start_date\nU1,25/03/2027\nU2,03/25/2027\n")
    assert (
        "r.csv:3:2: start_date: this roster mixes day-first dates (line 2) and month-first "
        "dates (line 3); write every date like 2027-03-02"
    ) in found


def test_an_unknown_date_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match='date format "dd/mm" is not one of auto'):
        read(b"id\nU1\n", date_format="dd/mm")


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_excel_workbook_is_read_directly(tmp_path: Path) -> None:
    path = tmp_path / "pilot.xlsx"
    path.write_bytes(
        _workbook(
            [
                ["id", "name", "team", "start_date", "timezone"],
                ["U1", "Hélène", "Ventes", datetime(2027, 3, 2), "Europe/Madrid"],
                ["U2", "Ana", None, datetime(2027, 3, 2, 10, 0), None],
                [12345, "Numbered", None, None, None],
            ]
        )
    )
    roster = read_roster(path, default_timezone=PARIS)
    assert roster.info.encoding == "Excel workbook"
    assert roster.info.delimiter is None
    assert [(e.id, e.name, e.team) for e in roster.entries] == [
        ("U1", "Hélène", "Ventes"),
        ("U2", "Ana", None),
        ("12345", "Numbered", None),  # a number cell is not "12345.0"
    ]
    assert roster.entries[1].start_date == datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def test_a_workbook_problem_is_reported_at_its_sheet_row() -> None:
    raw = _workbook([["id", "email"], ["U1", "ok@example.com"], ["U2", "not-an-email"]])
    with pytest.raises(RosterLoadError) as info:
        read(raw, source="pilot.xlsx")
    assert [str(e) for e in info.value.errors] == [
        'pilot.xlsx:3:2: email: "not-an-email" is not an email address'
    ]


def test_a_broken_workbook_is_a_clear_error() -> None:
    assert errors(b"PK\x03\x04 not really a zip") == [
        "r.csv: this is not an Excel workbook that can be read (save it again as .xlsx or CSV)"
    ]


def test_one_mistake_in_150_rows_is_one_line() -> None:
    rows = "".join(f"U{n},32/01/2027\n" for n in range(150))
    with pytest.raises(RosterLoadError) as info:
        read(("id,start_date\n" + rows + "V1,not-a-date\n").encode())
    lines = summarize_errors(info.value.errors)
    assert lines == [
        'r.csv:2:2: start_date: 150 rows (2–151), for example: "32/01/2027" is not a real '
        "calendar date (read day-first)",
        'r.csv:152:2: start_date: "not-a-date" is not a date (write it like 2026-09-15 09:30)',
    ]


def test_summaries_keep_separate_ranges() -> None:
    text = "id,email\nU1,a\nU2,b@example.com\nU3,c\nU4,d\nU5,e@example.com\nU6,f\n"
    with pytest.raises(RosterLoadError) as info:
        read(text.encode())
    assert summarize_errors(info.value.errors) == [
        'r.csv:2:2: email: 4 rows (2, 4–5, 7), for example: "a" is not an email address'
    ]


def test_roster_import_says_how_the_file_was_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    (tmp_path / "pilot.csv").write_bytes(
        "id;name;start_date\nU1;Hélène;15/03/2027\n".encode("cp1252")
    )
    result = CliRunner().invoke(
        app, ["--locale", "en", "roster", "import", "pilot.csv", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert 'pilot.csv: read as Windows-1252, separated by ";", dates day-first.' in result.output
    assert "1 member, no problem found" in result.output
