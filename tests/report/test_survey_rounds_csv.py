"""Survey rounds (pulses) in the CSV export of ``rallybot report``, and anonymous answers shown
only in figures over at least 5 responses (issue 14), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

from rallybot.handlers.reporting import report
from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.titles import Titles
from rallybot.storage.database import Database
from tests.report.test_indicator_oracle import (
    NOW,
    History,
    Person,
    SurveyAnswered,
    Window,
    _history,
    load,
    run,
)

# The rounds of SURVEYS in test_indicator_oracle: 1, 2 and 3 are the anonymous pulse
# other/pulse (rounds of 3, 10 and 17 November; 1 and 2 closed, 3 still open), 4 a named one.
PEOPLE = [Person("pilot", "sales", "Europe/Paris", False, False, 0, 0, True) for _ in range(6)]


def _csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _pulses(answers: list[SurveyAnswered]) -> History:
    return _history(PEOPLE, answers=answers)


async def test_survey_rounds_and_their_trend_in_the_csv(db: Database, tmp_path: Path) -> None:
    h = _pulses(
        [SurveyAnswered(i, 1, 1 + i, [10, 9, 8, 3, 0][i], 10 + i) for i in range(5)]
        + [SurveyAnswered(i, 2, 4, 10, 700 + i) for i in range(5)]
        + [SurveyAnswered(0, 3, 5, 10, 1400), SurveyAnswered(0, 4, 4, 10, 100)]
    )
    await load(db, h)
    data = await report.compute(db, Scope(), NOW)
    report.write_csv(data, tmp_path)
    assert _csv(tmp_path / "survey_rounds.csv") == [
        ["survey", "round", "responses", "mean_rating", "nps", "mean_rating_change", "nps_change"],
        ["launch/check", "2026-11-04", "1", "4", "100", "", ""],
        ["other/pulse", "2026-11-03", "5", "3", "0", "", ""],
        ["other/pulse", "2026-11-10", "5", "4", "100", "1", "100"],
        # Answered, but the anonymous answer waits for its batch: no figure yet.
        ["other/pulse", "2026-11-17", "1", "", "", "", ""],
    ]


async def test_an_anonymous_round_of_fewer_than_five_shows_no_figure(
    db: Database, tmp_path: Path
) -> None:
    # The round of 3 November closed with two anonymous responses; a named survey has one.
    h = _pulses(
        [
            SurveyAnswered(0, 1, 1, 0, 10),
            SurveyAnswered(1, 1, 5, 10, 20),
            SurveyAnswered(2, 4, 4, 9, 100),
        ]
    )
    await load(db, h)
    for scope in (Scope(), Scope(campaign_id="other")):
        data = await report.compute(db, scope, NOW)
        pulse = next(r for r in data.survey_rounds if r.survey == "other/pulse")
        assert (pulse.responses, pulse.mean_rating, pulse.nps) == (2, None, None)
        # Only the named answer counts in satisfaction: the two anonymous ones are in no figure.
        expected = (1, 4.0, 1) if scope.campaign_id is None else (0, None, 0)
        s = data.satisfaction
        assert (s.ratings, s.mean_rating, s.nps_answers) == expected
        report.write_csv(data, tmp_path)
        rows = _csv(tmp_path / "survey_rounds.csv")
        assert ["other/pulse", "2026-11-03", "2", "", "", "", ""] in rows
        summary = dict(_csv(tmp_path / "summary.csv")[1:])
        assert summary["ratings"] == str(expected[0])
        assert "1" not in {r[3] for r in rows[1:]} and "5" not in {r[3] for r in rows[1:]}


def test_the_small_round_agrees_with_the_oracle(db_url: str) -> None:
    h = _pulses([SurveyAnswered(0, 1, 1, 0, 10), SurveyAnswered(1, 1, 5, 10, 20)])
    run(db_url, h, Window(None, None, None, None, None))


async def test_a_pulse_by_its_title_for_a_reader_by_its_id_for_scripts(
    db: Database, tmp_path: Path
) -> None:
    h = _pulses([SurveyAnswered(i, 1, 1 + i, 10, 10 + i) for i in range(5)])
    await load(db, h)
    data = await report.compute(db, Scope(), NOW)
    titles = Titles(
        surveys={"other/pulse": ({"en": "Weekly mood", "fr": "Humeur de la semaine"}, "en")}
    )
    report.write_csv(data, tmp_path / "fr", "fr", titles)
    with (tmp_path / "fr" / "survey_rounds.csv").open(newline="", encoding="utf-8-sig") as handle:
        shown = {row[0] for row in list(csv.reader(handle, delimiter=";"))[1:]}
    assert shown == {"Humeur de la semaine", "launch/check"}  # no title: its id
    page = report.render_html(data, {}, "fr", None, titles)
    assert "<td>Humeur de la semaine</td>" in page and "other/pulse" not in page
    assert "<td>3 nov. 2026</td>" in page  # the round as a day, not 2026-11-03
    summary = report.summary_text(data, "en", titles)
    assert "Pulse Weekly mood:" in summary
    report.write_csv(data, tmp_path / "ids", None, titles)  # scripts join on the ids
    assert {row[0] for row in _csv(tmp_path / "ids" / "survey_rounds.csv")[1:]} == {
        "other/pulse",
        "launch/check",
    }
