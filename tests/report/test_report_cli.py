"""``rallybot report`` in each format over the seeded database (tests/report/seed.py)."""

from __future__ import annotations

import asyncio
import codecs
import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.report import CHARTS, STEPS, compute
from rallybot.storage.database import Database, create_database
from tests.report.seed import seed

runner = CliRunner()
RANGE = ["--from", "2026-11-02", "--to", "2026-11-22"]


async def _seed(url: str) -> None:
    db = create_database(url)
    try:
        await seed(db)
    finally:
        await db.dispose()


@pytest.fixture
def seeded_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    asyncio.run(_seed(db_url))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("RALLYBOT_TIMEZONE", "UTC")
    monkeypatch.setenv("RALLYBOT_LOCALE", "en")
    return db_url


def _csv(path: Path) -> list[list[str]]:
    """A file for scripts (``--csv-headers ids``): UTF-8 without a byte-order mark, commas."""
    assert not path.read_bytes().startswith(codecs.BOM_UTF8)
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _words_csv(path: Path, delimiter: str) -> list[list[str]]:
    """A file for a reader's spreadsheet: UTF-8 with a byte-order mark, ``delimiter``."""
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def test_table_format(seeded_url: str) -> None:
    result = runner.invoke(app, ["report", *RANGE])
    assert result.exit_code == 0, result.output
    text = result.output
    for expected in ("Adoption funnel", "first quiz answer", "Active members per week"):
        assert expected in text
    assert "Nov 9, 2026" in text
    assert "13 h 30 min" in text  # median resolution
    assert "0.5h" not in text


def test_csv_format(seeded_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["report", *RANGE, "--format", "csv", "--csv-headers", "ids", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    funnel = _csv(out / "funnel.csv")
    assert funnel[0] == ["cohort", "stage", "members", "of_invited", "of_previous"]
    assert funnel[1:6] == [
        ["all", "invited", "5", "1", ""],
        ["all", "joined", "4", "0.8", "0.8"],
        ["all", "profile complete", "3", "0.6", "0.75"],
        ["all", "first post", "2", "0.4", "0.6667"],
        ["all", "first quiz answer", "1", "0.2", "0.5"],
    ]
    assert ["wave2", "joined", "1", "0.5", "0.5"] in funnel
    assert _csv(out / "weekly_active.csv") == [
        ["week", "all", "pilot", "wave2"],
        ["2026-11-02", "2", "2", "0"],
        ["2026-11-09", "3", "2", "1"],
        ["2026-11-16", "2", "1", "1"],
    ]
    reach = _csv(out / "reach.csv")
    assert [row[2] for row in reach[1:]] == ["teaser", "hello", "announce"]
    assert reach[1][5:] == ["2", "1", "2", "4", "True", "0.5"]
    summary = dict(_csv(out / "summary.csv")[1:])
    assert summary["mean_rating"] == "3"
    assert summary["nps"] == "0"
    assert summary["quiz_mean_score"] == "0.75"
    assert summary["help_median_first_response_hours"] == "1"
    assert summary["help_median_resolution_hours"] == "13.5"
    assert summary["points_total"] == "170"
    assert _csv(out / "satisfaction_weekly.csv")[1:] == [
        ["2026-11-02", "3", "3.3333", "2", "100"],
        ["2026-11-09", "2", "2.5", "2", "-50"],
        ["2026-11-16", "0", "", "1", "-100"],
    ]
    assert _csv(out / "points.csv")[1:] == [
        ["0", "", "0", "2"],
        ["1-9", "1", "9", "0"],
        ["10-49", "10", "49", "1"],
        ["50-99", "50", "99", "1"],
        ["100-249", "100", "249", "1"],
        ["250+", "250", "", "0"],
    ]
    assert _csv(out / "challenges.csv")[1:] == [
        ["launch/post3", "2", "1", "0.5", "0", "0", "0", "0"],
        ["other/react", "2", "0", "0", "1", "0", "0", "0"],
    ]
    for name in CHARTS:
        assert (out / f"{name}.png").read_bytes().startswith(b"\x89PNG")


def test_html_format_holds_the_figures(seeded_url: str, tmp_path: Path) -> None:
    out = tmp_path / "html"
    result = runner.invoke(
        app, ["report", *RANGE, "--campaign", "launch", "--format", "html", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == len(CHARTS)
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "campaign launch" in page
    assert "<td>teaser</td>" in page and "<td>hello</td>" not in page  # the other campaign
    assert "<td>3.5 (4 ratings)</td>" in page  # the launch survey only
    assert "<td>launch/post3</td>" in page and "<td>other/react</td>" not in page
    assert "@media print" in page


async def test_progress_steps(db: Database) -> None:
    await seed(db)
    seen: list[str] = []
    data = await compute(db, Scope(), datetime(2026, 11, 23, tzinfo=UTC), on_step=seen.append)
    assert seen == list(STEPS)
    assert data.funnel.count("invited") == 6  # no end: frank too
    assert sorted(data.funnel_by_cohort) == ["pilot", "wave2"]


def test_cohort_and_bad_dates(seeded_url: str) -> None:
    result = runner.invoke(app, ["report", *RANGE, "--cohort", "pilot"])
    assert result.exit_code == 0, result.output
    assert "too few responses" in result.output
    bad = runner.invoke(app, ["report", "--from", "2026-13-01"])
    assert bad.exit_code == 2 and "is not a date" in bad.output
    backwards = runner.invoke(app, ["report", "--from", "2026-11-05", "--to", "2026-11-01"])
    assert backwards.exit_code == 2


def test_team_narrows_every_figure_to_the_team(seeded_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["report", *RANGE, "--team", "sales", "--format", "csv", "--csv-headers", "ids"]
    args += ["--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    # sales: alice, bob (pilot) and eve (wave2); carol and dan (tech) are left out.
    funnel = _csv(out / "funnel.csv")
    assert funnel[1:6] == [
        ["all", "invited", "3", "1", ""],
        ["all", "joined", "3", "1", "1"],
        ["all", "profile complete", "2", "0.6667", "0.6667"],
        ["all", "first post", "2", "0.6667", "1"],  # was 3 of 2 (150 %): not monotone
        ["all", "first quiz answer", "1", "0.3333", "0.5"],
    ]
    assert _csv(out / "weekly_active.csv")[1:] == [
        ["2026-11-02", "2", "2", "0"],
        ["2026-11-09", "3", "2", "1"],
        ["2026-11-16", "1", "0", "1"],
    ]
    table = runner.invoke(app, ["report", *RANGE, "--team", "sales"])
    assert table.exit_code == 0, table.output
    assert "team sales" in table.output


def test_the_report_follows_the_locale_setting_and_the_option(
    seeded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "de"
    args = ["report", *RANGE, "--format", "html", "--out", str(out), "--locale", "de"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"geschrieben: {out / 'report.html'}" in result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="de">' in page
    assert "<title>Rallybot-Kennzahlen — 2. Nov. 2026 → 22. Nov. 2026</title>" in page
    assert "<caption>Aktive Mitglieder pro Woche</caption>" in page
    assert "<tr><td>9. Nov. 2026</td><td>3</td><td>2</td><td>1</td></tr>" in page
    assert "<td>erste Quizantwort</td><td>1</td><td>20\xa0%</td><td>50\xa0%</td>" in page
    assert '<table id="table-active-members-per-week">' in page  # ids stay the same
    monkeypatch.setenv("RALLYBOT_LOCALE", "es")
    table = runner.invoke(app, ["report", *RANGE, "--team", "sales"])
    assert table.exit_code == 0, table.output
    assert "Indicadores de Rallybot — equipo sales, 2 nov 2026 → 22 nov 2026" in table.output
    assert "Embudo de adopción" in table.output and "13 h 30 min" in table.output
    french = runner.invoke(
        app, ["--locale", "fr", "report", "--from", "2026-11-05", "--to", "2026-11-01"]
    )
    assert french.exit_code == 2 and "--to ne doit pas précéder --from" in french.output
    german = runner.invoke(app, ["report", "--locale", "de", "--from", "2026-13-01"])
    assert german.exit_code == 2 and "„2026-13-01“ ist kein Datum" in german.output
    bad = runner.invoke(app, ["report", "--locale", "klingon!"])  # said in RALLYBOT_LOCALE (es)
    assert bad.exit_code == 2 and "no es un código de idioma" in bad.output


def test_the_html_and_table_formats_give_times_in_the_communitys_zone(
    seeded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the "teaser" post went out on 2026-11-03 at 09:00 UTC: 10:00 in Paris
    monkeypatch.setenv("RALLYBOT_TIMEZONE", "Europe/Paris")
    out = tmp_path / "html"
    result = runner.invoke(app, ["report", *RANGE, "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "(Europe/Paris)" in page and " UTC</p>" not in page.split("<h2", 1)[0]
    assert "<td>Nov 3, 2026, 10:00</td>" in page
    assert "Nov 3, 2026, 09:00" not in page
    assert "Times are given in Europe/Paris." in page
    table = runner.invoke(app, ["report", *RANGE], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "Nov 3, 2026, 10:00" in table.output
    assert "Times are given in Europe/Paris." in table.output


async def _member(url: str, user_id: str, **fields: object) -> None:
    from rallybot.storage.repositories import upsert_member

    db = create_database(url)
    try:
        await upsert_member(db, "memory", user_id, datetime(2026, 10, 1, tzinfo=UTC), **fields)
    finally:
        await db.dispose()


def test_every_format_says_who_is_not_counted_and_who_arrives_later(
    seeded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # known in October, starts after the range: invited, not arrived
    start = datetime(2026, 11, 30, 9, tzinfo=UTC)
    asyncio.run(_member(seeded_url, "U8", cohort="pilot", joined_at=start))
    monkeypatch.setenv("RALLYBOT_ADMINS", "memory:U3")  # carol manages: left out, and said
    table = runner.invoke(app, ["report", *RANGE], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "1 community manager is not counted in these figures" in table.output
    assert "Arrive later: 1 invited member whose start date is still to come" in table.output
    out = tmp_path / "out"
    args = ["report", *RANGE, "--format", "csv", "--csv-headers", "ids", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    funnel = _csv(out / "funnel.csv")
    # invited: alice, bob, dan, eve and the later starter (carol manages); joined: not him
    assert funnel[1:3] == [["all", "invited", "5", "1", ""], ["all", "joined", "3", "0.6", "0.6"]]
    assert ["all", "arrive later", "1", "0.2", ""] in funnel
    assert ["pilot", "arrive later", "1", "0.3333", ""] in funnel
    summary = dict(_csv(out / "summary.csv")[1:])
    assert (summary["arrive_later"], summary["managers_not_counted"]) == ("1", "1")
    html = tmp_path / "html"
    result = runner.invoke(app, ["report", *RANGE, "--format", "html", "--out", str(html)])
    page = (html / "report.html").read_text(encoding="utf-8")
    assert "1 community manager is not counted in these figures" in page
    assert "Arrive later: 1 invited member" in page
    french = runner.invoke(app, ["report", *RANGE, "--locale", "fr"], env={"COLUMNS": "200"})
    assert "1 community manager n'est pas compté dans ces chiffres" in french.output
    assert "Arrivent plus tard : 1 membre invité" in french.output


def test_csv_headers_are_in_the_readers_language_unless_ids_are_asked(
    seeded_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "fr"
    args = ["report", *RANGE, "--format", "csv", "--out", str(out), "--locale", "fr"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    funnel = _words_csv(out / "funnel.csv", ";")
    assert funnel[0] == [
        "Cohorte",
        "Étape",
        "Membres",
        "Des invités (%)",
        "De l'étape précédente (%)",
    ]
    assert funnel[1][:3] == ["Tous", "invités", "5"]  # counts stay whole numbers
    # what French Excel opens as columns and numbers: a byte-order mark, ";" between cells,
    # decimal commas, shares as whole percentages (the "%" in the column's name)
    assert (out / "funnel.csv").read_bytes().startswith(codecs.BOM_UTF8 + "Cohorte;Étape".encode())
    assert [row[2:] for row in funnel[2:5]] == [
        ["4", "80", "80"],
        ["3", "60", "75"],
        ["2", "40", "67"],
    ]
    summary = _words_csv(out / "summary.csv", ";")
    assert summary[0] == ["Indicateur", "Valeur"]
    assert ["Membres concernés", "5"] in summary
    assert ["Résolution médiane (min)", "810"] in summary  # 13 h 30 min
    assert ["Score moyen aux quiz (%)", "75"] in summary
    satisfaction = _words_csv(out / "satisfaction_weekly.csv", ";")
    assert satisfaction[1][2] == "3,3"  # a mean with one decimal and a decimal comma
    english = tmp_path / "en"
    args = ["report", *RANGE, "--format", "csv", "--out", str(english), "--locale", "en"]
    assert runner.invoke(app, args).exit_code == 0
    funnel = _words_csv(english / "funnel.csv", ",")
    assert funnel[4][2:] == ["2", "40", "67"]
    assert _words_csv(english / "satisfaction_weekly.csv", ",")[1][2] == "3.3"
    # the column of times names their zone (the community's: UTC here)
    assert _words_csv(out / "reach.csv", ";")[0][:3] == ["Envoyé (UTC)", "Campagne", "Étape"]
    ids = tmp_path / "ids"
    args = ["report", *RANGE, "--format", "csv", "--out", str(ids), "--locale", "fr"]
    result = runner.invoke(app, [*args, "--csv-headers", "ids"])
    assert result.exit_code == 0, result.output
    assert _csv(ids / "funnel.csv")[0] == [
        "cohort",
        "stage",
        "members",
        "of_invited",
        "of_previous",
    ]
    assert _csv(ids / "funnel.csv")[1][:2] == ["all", "invited"]


def test_csv_words_and_times_are_the_readers_unless_ids_are_asked(
    seeded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A manager opening reach.csv in a spreadsheet reads words and the community's times, the
    # zone named in the column; ids keep the raw values scripts read.
    monkeypatch.setenv("RALLYBOT_TIMEZONE", "Europe/Paris")
    out = tmp_path / "fr"
    args = ["report", *RANGE, "--format", "csv", "--out", str(out), "--locale", "fr"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    reach = _words_csv(out / "reach.csv", ";")
    assert reach[0][0] == "Envoyé (Europe/Paris)"
    assert reach[0][3] == "Occurrence" and reach[0][9] == "Audience connue par le canal"
    assert [row[0] for row in reach[1:]] == [
        "2026-11-03 10:00",  # 09:00 UTC
        "2026-11-05 10:00",
        "2026-11-10 10:00",
    ]
    assert [(row[3], row[9]) for row in reach[1:]] == [
        ("une fois", "oui"),
        ("une fois", "non"),
        ("une fois", "oui"),
    ]
    summary = dict(_words_csv(out / "summary.csv", ";")[1:])
    assert summary["Satisfaction masquée (trop peu de réponses)"] == "non"
    computed = summary["Calculé le (Europe/Paris)"]
    assert len(computed) == 16 and computed[10] == " "  # 2026-12-05 02:03
    english = tmp_path / "en"
    args = ["report", *RANGE, "--format", "csv", "--out", str(english), "--locale", "en"]
    assert runner.invoke(app, args).exit_code == 0
    assert _words_csv(english / "reach.csv", ",")[1][:4] == [
        "2026-11-03 10:00",
        "launch",
        "teaser",
        "once",
    ]
    assert _words_csv(english / "reach.csv", ",")[0][0] == "Sent (Europe/Paris)"
    ids = tmp_path / "ids"
    args = ["report", *RANGE, "--format", "csv", "--out", str(ids), "--locale", "fr"]
    assert runner.invoke(app, [*args, "--csv-headers", "ids"]).exit_code == 0
    raw = _csv(ids / "reach.csv")
    assert raw[0][0] == "sent_at"
    assert raw[1][0] == "2026-11-03T09:00:00+00:00"
    assert (raw[1][3], raw[1][9]) == ("once", "True")
    assert dict(_csv(ids / "summary.csv")[1:])["generated_at"].endswith("+00:00")


def test_the_community_files_managers_are_left_out_as_in_the_console(
    seeded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the community file names carol by e-mail; her roster row brought it: she manages
    asyncio.run(_member(seeded_url, "U3", email="carol@x.org"))
    (tmp_path / "community.yaml").write_text(
        "community: c\nmanagers: [carol@x.org]\n", encoding="utf-8"
    )
    monkeypatch.setenv("RALLYBOT_CAMPAIGNS_DIR", str(tmp_path))
    monkeypatch.delenv("RALLYBOT_ADMINS", raising=False)
    out = tmp_path / "out"
    args = ["report", *RANGE, "--format", "csv", "--csv-headers", "ids", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert _csv(out / "funnel.csv")[1] == ["all", "invited", "4", "1", ""]  # carol left out
    assert dict(_csv(out / "summary.csv")[1:])["managers_not_counted"] == "1"
