"""Each kind of figure is written one way, read in French: the console's page and the HTML
report write a median, a funnel stage, a share and an NPS alike; the CSV files a spreadsheet
opens hold plain numbers rounded the same way, their unit in a header every cell of which is
filled and translated."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import re
from datetime import timedelta
from pathlib import Path

from rallybot.handlers.console.kit import templates
from rallybot.handlers.reporting import report
from rallybot.handlers.reporting.indicators import Satisfaction, Scope
from rallybot.handlers.reporting.report import ReportData, compute, render_html, write_csv
from rallybot.storage.database import Database
from tests.report.seed import END, START, seed

SPACE = "\u00a0"  # what French writes before "%" (a no-break space, from Babel)


async def _french_data(db: Database) -> ReportData:
    await seed(db)
    return await compute(db, Scope(start=START, end=END), END)


def _read(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(data.decode("utf-8-sig").splitlines(), delimiter=";"))


def test_the_pages_write_medians_durations_and_shares_as_the_html_report() -> None:
    import rallybot.handlers.console.sources  # noqa: F401 (installs the filters)

    page = templates.env.from_string(
        "{{ m | mean }}|{{ z | mean }}|{{ s | duration }}|{{ p | pct }}|{{ n | nps }}|"
        "{{ none | mean }}"
    ).render(locale="fr", m=15.0, z=0.0, s=3600.0, p=1.0, n=-12.4, none=None)
    html = "|".join(
        [
            report.num(15.0, locale="fr"),
            report.num(0.0, locale="fr"),
            report.duration(timedelta(hours=1), "fr"),
            report.pct(1.0, "fr"),
            report.nps(-12.4, "fr"),
            report.num(None, locale="fr"),
        ]
    )
    assert page == html == f"15|0|1 h|100{SPACE}%|-12|—"


async def test_a_funnel_stage_reads_the_same_in_every_table(db: Database) -> None:
    data = await _french_data(db)
    page = render_html(data, {}, "fr")
    table = page.split('<table id="table-funnel-per-cohort">', 1)[1].split("</table>", 1)[0]
    # the invited are the base: their count alone, as the console's table and the chat write it
    assert f"<td>pilot</td><td>3</td><td>3 (100{SPACE}%)</td><td>2 (67{SPACE}%)</td>" in table
    assert "<td>wave2</td><td>2</td><td>1 (50" in table


async def test_the_csv_files_hold_plain_numbers_their_unit_in_the_header(
    db: Database, tmp_path: Path
) -> None:
    data = await _french_data(db)
    files = {p.name: _read(p) for p in write_csv(data, tmp_path, "fr", None, "Europe/Paris")}
    for name, rows in files.items():
        assert all(cell.strip() for cell in rows[0]), name  # every header cell filled
        for row in rows[1:]:
            for cell in row:
                # no percent sign, no thousands separator: the unit is in the header
                assert not re.fullmatch(r"[\d\s\u202f\u00a0,.+-]*%", cell), (name, cell)
                assert "\u202f" not in cell and "\u00a0" not in cell, (name, cell)
    funnel = files["funnel.csv"]
    assert funnel[0][3:] == ["Des invités (%)", "De l'étape précédente (%)"]
    # rounded as the pages round them: 2 of 3 is 67 %, on the page and in the file
    assert ["pilot", "profil complet", "2", "67", "67"] in funnel
    summary = dict(files["summary.csv"][1:])
    assert summary["Première réponse médiane (min)"] == "60"  # "1 h" on the pages
    assert summary["Points médians"] == "15"
    assert files["satisfaction_weekly.csv"][1][2:] == ["3,3", "2", "100"]


async def test_points_csv_names_every_column_and_its_ranges_as_the_report(
    db: Database, tmp_path: Path
) -> None:
    data = await _french_data(db)
    [points] = [p for p in write_csv(data, tmp_path, "fr") if p.name == "points.csv"]
    rows = _read(points)
    assert rows[0] == ["Tranche de points", "Au moins (points)", "Au plus (points)", "Membres"]
    # in words, as the HTML report's table: "1-9" would open as the 1st of September
    assert [row[0] for row in rows[1:]] == [
        "0 ou moins",
        "1 à 9",
        "10 à 49",
        "50 à 99",
        "100 à 249",
        "250 ou plus",
    ]
    assert rows[2] == ["1 à 9", "1", "9", "0"]
    page = render_html(data, {}, "fr")
    assert "<td>1 à 9</td>" in page and "<td>250 ou plus</td>" in page


async def test_an_nps_without_answers_says_so_in_one_grammatical_number(db: Database) -> None:
    data = await _french_data(db)
    nobody = Satisfaction(
        ratings=0,
        mean_rating=None,
        nps_answers=0,
        promoters=0,
        passives=0,
        detractors=0,
        responses=0,
    )
    page = render_html(dataclasses.replace(data, satisfaction=nobody), {}, "fr")
    assert "<td>NPS</td><td>— (0 réponse)</td>" in page
    assert "promoteurs" not in page.split("<td>NPS</td>", 1)[1].split("</tr>", 1)[0]
    # each count takes its own plural: 1 passive is "1 passif"
    page = render_html(data, {}, "fr")
    assert "0 (5 réponses : 2 promoteurs, 1 passif, 2 détracteurs)" in page


async def test_a_few_of_many_is_never_written_0_percent(db: Database, tmp_path: Path) -> None:
    """4 joined of 1,499 invited: "0,3 %" on the page, "0,27" in the CSV, never "0"."""
    data = await _french_data(db)
    stages = [
        dataclasses.replace(s, count=4, of_invited=4 / 1499, of_previous=4 / 1499)
        if s.name == "joined"
        else s
        for s in data.funnel.stages
    ]
    data = dataclasses.replace(data, funnel=dataclasses.replace(data.funnel, stages=stages))
    page = render_html(data, {}, "fr")
    assert f"<td>arrivés</td><td>4</td><td>0,3{SPACE}%</td>" in page
    files = {p.name: _read(p) for p in write_csv(data, tmp_path, "fr", None, "Europe/Paris")}
    [joined] = [row for row in files["funnel.csv"] if row[:3] == ["Tous", "arrivés", "4"]]
    assert joined[3:] == ["0,27", "0,27"], joined
