"""``rallybot plan`` shows the whole truth: every kind of step, the whole campaign, one row per
local time and language, sender and pin, one person's journey, calendar and HTML exports."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app

runner = CliRunner()

CAMPAIGN = """\
id: lancement
title: Lancement Connect
timezone: Europe/Paris
locale: fr
roster: pilote.csv
milestones:
  launch: 2027-03-02 09:30
channels:
  annonces: general
audiences:
  pilote: {cohort: pilote}
steps:
  - id: annonce-pdg
    at: launch
    post: annonces
    sender: {name: Le PDG}
    pin: true
    text: "Connect est ouvert <b>aujourd'hui</b> !"
  - id: bienvenue
    at: join + 0d at 10:00
    for: pilote
    dm:
      fr: Bienvenue sur Connect !
      es: ¡Bienvenido a Connect!
  - id: quiz-live
    at: launch + 7d at 11:00
    post: annonces
    quiz: connect
    mode: live
  - id: resume
    every: monday at 09:00
    from: launch
    until: launch + 7d
    post: annonces
    digest: true
"""

ROSTER = (
    "id,email,cohort,timezone,locale,start_date\n"
    "U1,first@example.com,pilote,Europe/Paris,fr,2027-03-02\n"
    "U2,second@example.com,pilote,Europe/Madrid,es,2027-03-02\n"
    "U3,third@example.com,pilote,America/Cayenne,fr,2027-03-02\n"
)


@pytest.fixture
def campaign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pilote.csv").write_text(ROSTER, encoding="utf-8")
    path = tmp_path / "lancement.yaml"
    path.write_text(CAMPAIGN, encoding="utf-8")
    return path


def plan_json(path: Path, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["plan", str(path), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows


def test_every_kind_of_step_is_shown(campaign: Path) -> None:
    kinds = {(row["step"], row["kind"]) for row in plan_json(campaign)}
    assert kinds == {
        ("annonce-pdg", "post"),
        ("bienvenue", "dm"),
        ("quiz-live", "quiz"),
        ("resume", "digest"),
    }


def test_one_row_per_local_time_and_language(campaign: Path) -> None:
    rows = [row for row in plan_json(campaign) if row["step"] == "bienvenue"]
    # Paris and Madrid share an offset but not a language: two rows, and Cayenne a third.
    shown = sorted(
        (str(row["recipient_local"])[11:16], row["zone"], row["locale"], row["count"])
        for row in rows
    )
    assert shown == [
        ("10:00", "America/Cayenne", "fr", 1),
        ("10:00", "Europe/Madrid", "es", 1),
        ("10:00", "Europe/Paris", "fr", 1),
    ]
    madrid = next(row for row in rows if row["zone"] == "Europe/Madrid")
    assert madrid["preview"] == "¡Bienvenido a Connect!"


def test_a_row_is_in_the_language_of_the_text_sent(campaign: Path) -> None:
    # A German reader of a welcome written in French and Spanish gets the French (the
    # campaign's language): the row says so, with the French reader of the same time.
    roster = campaign.parent / "pilote.csv"
    roster.write_text(
        ROSTER + "U4,fourth@example.com,pilote,Europe/Paris,de,2027-03-02\n", encoding="utf-8"
    )
    rows = [row for row in plan_json(campaign) if row["step"] == "bienvenue"]
    paris = [row for row in rows if row["zone"] == "Europe/Paris"]
    assert [(row["locale"], row["count"], row["preview"]) for row in paris] == [
        ("fr", 2, "Bienvenue sur Connect !")
    ]
    assert "de" not in {row["locale"] for row in rows}


def test_sender_and_pin_are_shown(campaign: Path) -> None:
    [ceo] = [row for row in plan_json(campaign) if row["step"] == "annonce-pdg"]
    assert (ceo["sender"], ceo["pin"]) == ("Le PDG", True)
    table = runner.invoke(app, ["--locale", "en", "plan", str(campaign)], env={"COLUMNS": "250"})
    assert "#annonces · as Le PDG · pinned" in table.output
    assert "10:00 Europe/Madrid" in table.output


def test_one_members_journey(campaign: Path) -> None:
    rows = plan_json(campaign, "--member", "second@example.com")
    dms = [row for row in rows if row["kind"] == "dm"]
    assert [(row["step"], row["recipients"]) for row in dms] == [("bienvenue", ["U2"])]
    unknown = runner.invoke(
        app, ["--locale", "en", "plan", str(campaign), "--member", "nobody@example.com"]
    )
    assert unknown.exit_code == 2
    assert "No member nobody@example.com in" in unknown.output


def test_the_default_window_covers_a_roster_only_journey(tmp_path: Path) -> None:
    steps = "\n".join(
        f"  - id: j{n}\n    at: join + {n}d at 10:00\n    dm: Jour {n}" for n in range(12)
    )
    path = tmp_path / "journey.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            id: journey
            title: Journey
            roster: r.csv
            steps:
            """
        )
        + steps
        + "\n",
        encoding="utf-8",
    )
    (tmp_path / "r.csv").write_text("id,start_date\nU1,2027-03-02\nU2,2027-03-20\n")
    rows = plan_json(path)
    assert len(rows) == 24  # twelve each, none cut by the window


def test_ics_export_has_one_event_per_row(campaign: Path) -> None:
    rows = plan_json(campaign)
    result = runner.invoke(app, ["--locale", "en", "plan", str(campaign), "--format", "ics"])
    assert result.exit_code == 0, result.output
    calendar = icalendar.Calendar.from_ical(result.stdout_bytes)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(rows)
    assert len({str(event["UID"]) for event in events}) == len(events)
    ceo = next(event for event in events if str(event["SUMMARY"]).startswith("annonce-pdg"))
    assert ceo.decoded("DTSTART").isoformat() == "2027-03-02T08:30:00+00:00"
    assert "sent as Le PDG" in str(ceo["DESCRIPTION"])


def test_html_export_is_one_escaped_page(campaign: Path) -> None:
    result = runner.invoke(app, ["plan", str(campaign), "--format", "html"])
    assert result.exit_code == 0, result.output
    page = result.output
    assert page.startswith("<!doctype html>")
    assert "Lancement Connect" in page
    assert "&lt;b&gt;aujourd&#39;hui&lt;/b&gt;" in page  # the text is shown, not interpreted
    assert "<b>aujourd" not in page
    assert "10:00 Europe/Madrid" in page


def test_html_export_speaks_the_readers_language(campaign: Path) -> None:
    """A community manager shares the page with her French-speaking management: the columns,
    the weekdays, the counts and the quiz and digest rows are in French, with plurals."""
    result = runner.invoke(app, ["--locale", "fr", "plan", str(campaign), "--format", "html"])
    assert result.exit_code == 0, result.output
    page = result.output
    assert '<html lang="fr">' in page
    assert "Quand" in page and ">When<" not in page
    assert "mar. 2027-03-02 09:30" in page  # the CEO's post, on a Tuesday
    assert "messages directs" in page and "direct messages" not in page
    assert "envoyé en tant que Le PDG" in page and "sent as" not in page
    assert "[quiz en direct : connect]" in page and "live quiz" not in page
    assert "[le récapitulatif des indicateurs]" in page
    assert "(s)" not in page and "message(s)" not in page


def test_ics_export_speaks_the_readers_language(campaign: Path) -> None:
    result = runner.invoke(app, ["--locale", "de", "plan", str(campaign), "--format", "ics"])
    assert result.exit_code == 0, result.output
    events = list(icalendar.Calendar.from_ical(result.stdout_bytes).walk("VEVENT"))
    welcome = next(e for e in events if str(e["SUMMARY"]).startswith("bienvenue"))
    assert "Personen" in str(welcome["SUMMARY"]) or "Person" in str(welcome["SUMMARY"])
    assert "Empfänger" in str(welcome["DESCRIPTION"])
    assert "recipient" not in str(welcome["DESCRIPTION"])
