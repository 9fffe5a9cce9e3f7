"""Figures a manager can show to management without a glossary: a challenge's participants are
everyone who sent evidence, whatever its state, with approved, waiting and rejected beside them,
the same in every format; and the report's words name no setting, no "p90", no "cut in UTC"."""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.report import compute, render_html, summary_json, summary_text
from rallybot.storage.challenge_models import ChallengeDone, ChallengeProgress, ChallengeSubmission
from rallybot.storage.database import Database, create_database
from tests.report.seed import END, START, _insert, at, seed

runner = CliRunner()
RANGE = ["--from", "2026-11-02", "--to", "2026-11-22"]
JARGON = ("RALLYBOT_COUNT_MANAGERS", "p90", "cut in UTC", "00:00 UTC")


def _evidence(member: int, state: str, when: datetime) -> dict[str, object]:
    return {
        "challenge": "launch/proof",
        "member_id": member,
        "text": f"proof {member} {state}",
        "state": state,
        "submitted_at": when,
        "evidence_key": f"text:{member}:{state}",
    }


async def _with_evidence(db: Database) -> None:
    """The seed, and launch/proof: alice's evidence approved (she completed it), bob's waiting,
    carol's rejected: 3 participants, 2 of them not yet counted by any progress."""
    await seed(db)
    await _insert(
        db,
        ChallengeSubmission,
        [
            _evidence(1, "approved", at(11, 4)),
            _evidence(2, "pending", at(11, 5)),
            _evidence(3, "rejected", at(11, 6)),
        ],
    )
    await _insert(
        db,
        ChallengeProgress,
        [
            {
                "challenge": "launch/proof",
                "subject": "member:1",
                "member_id": 1,
                "ref": "evidence:1",
                "at": at(11, 4),
            }
        ],
    )
    await _insert(
        db,
        ChallengeDone,
        [{"challenge": "launch/proof", "subject": "member:1", "completed_at": at(11, 4)}],
    )


async def _seed_url(url: str) -> None:
    db = create_database(url)
    try:
        await _with_evidence(db)
    finally:
        await db.dispose()


@pytest.fixture
def evidence_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    asyncio.run(_seed_url(db_url))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("RALLYBOT_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("RALLYBOT_LOCALE", "en")
    monkeypatch.setenv("RALLYBOT_ADMINS", "memory:U4")  # dan manages: left out, and said
    return db_url


def _rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def test_every_format_counts_who_sent_evidence_whatever_its_state(
    evidence_url: str, tmp_path: Path
) -> None:
    ids = tmp_path / "ids"
    args = ["report", *RANGE, "--format", "csv", "--out"]
    result = runner.invoke(app, [*args, str(ids), "--csv-headers", "ids"])
    assert result.exit_code == 0, result.output
    challenges = _rows(ids / "challenges.csv")
    # the columns scripts read keep their places; the new ones come last
    assert challenges[0] == [
        "challenge",
        "participants",
        "completed_members",
        "completion",
        "completed_teams",
        "approved",
        "waiting",
        "rejected",
    ]
    assert ["launch/proof", "3", "1", "0.3333", "0", "1", "1", "1"] in challenges
    assert ["launch/post3", "2", "1", "0.5", "0", "0", "0", "0"] in challenges
    french = tmp_path / "fr"
    result = runner.invoke(app, [*args, str(french), "--locale", "fr"])
    assert result.exit_code == 0, result.output
    words = _rows(french / "challenges.csv", ";")
    assert words[0][:5] == [
        "Défi",
        "Participants",
        "Réussis",
        "Réussite (%)",
        "Équipes ayant réussi",
    ]
    assert words[0][5:] == ["Preuve approuvée", "Preuve en attente", "Preuve refusée"]
    html = tmp_path / "html"
    args = ["report", *RANGE, "--format", "html", "--out", str(html), "--locale", "fr"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    page = (html / "report.html").read_text(encoding="utf-8")
    table = page.split('<table id="table-challenges">', 1)[1].split("</table>", 1)[0]
    # participants, approved, waiting, rejected, completed, completion, teams
    assert "<td>launch/proof</td><td>3</td><td>1</td><td>1</td><td>1</td><td>1</td>" in table
    assert "Participants : les membres qui ont progressé dans un défi ou envoyé une preuve" in page


def test_the_report_says_participants_and_no_zero_evidence_as_the_console_does(
    evidence_url: str, tmp_path: Path
) -> None:
    """One word for who took part, in every format and the console ("Participants"); a
    challenge nobody sent evidence for (launch/post3 asks for none) shows "—" in the
    terminal and the HTML page, blank cells in a reader's CSV, its zeros in a script's."""
    terminal = runner.invoke(app, ["report", *RANGE, "--locale", "en"])
    assert terminal.exit_code == 0, terminal.output
    assert "Took part" not in terminal.output
    table = terminal.output.split("\nChallenges", 1)[1].split("\nParticipants: the members", 1)
    # launch/post3 and other/... ask for no evidence: a dash in each of their 3 cells
    assert len(table) == 2 and table[0].count("—") == 6
    words = tmp_path / "words"
    args = ["report", *RANGE, "--format", "csv", "--out", str(words), "--locale", "en"]
    assert runner.invoke(app, args).exit_code == 0
    rows = _rows(words / "challenges.csv")
    assert rows[0][1] == "Participants"
    assert next(r for r in rows if r[0] == "launch/post3")[5:] == ["", "", ""]
    assert next(r for r in rows if r[0] == "launch/proof")[5:] == ["1", "1", "1"]
    ids = tmp_path / "ids"
    args = ["report", *RANGE, "--format", "csv", "--out", str(ids), "--csv-headers", "ids"]
    assert runner.invoke(app, args).exit_code == 0
    assert next(r for r in _rows(ids / "challenges.csv") if r[0] == "launch/post3")[5:] == [
        "0",
        "0",
        "0",
    ]
    html = tmp_path / "html"
    args = ["report", *RANGE, "--format", "html", "--out", str(html), "--locale", "en"]
    assert runner.invoke(app, args).exit_code == 0
    page = (html / "report.html").read_text(encoding="utf-8")
    assert "Took part" not in page
    assert "<td>launch/post3</td><td>2</td><td>—</td><td>—</td><td>—</td>" in page


async def test_the_chat_summary_and_the_json_give_the_same_challenge_figures(
    db: Database,
) -> None:
    await _with_evidence(db)
    data = await compute(db, Scope(start=START, end=END), END)
    text = " ".join(summary_text(data, "fr").replace("\u202f", " ").replace("\xa0", " ").split())
    assert (
        "launch/proof : 3 participants (1 approuvé, 1 en attente, 1 refusé), réussi par 1 (33 %)"
        in text
    )
    # no evidence asked: no evidence figures
    assert "launch/post3 : 2 participants, réussi par 1 (50 %) · " in text
    english = summary_text(data, "en")
    assert "launch/proof: 3 participants (1 approved, 1 waiting, 1 rejected), 1 completed" in (
        english
    )
    proof = next(c for c in summary_json(data)["challenges"] if c["challenge"] == "launch/proof")  # type: ignore[index]
    assert (proof["participants"], proof["approved"], proof["waiting"], proof["rejected"]) == (
        3,
        1,
        1,
        1,
    )


@pytest.mark.parametrize("locale", ["en", "fr", "es", "de"])
def test_the_report_names_no_setting_and_no_statistics_jargon(
    evidence_url: str, tmp_path: Path, locale: str
) -> None:
    html = tmp_path / "html"
    args = ["report", *RANGE, "--format", "html", "--out", str(html), "--locale", locale]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    page = (html / "report.html").read_text(encoding="utf-8")
    table = runner.invoke(app, ["report", *RANGE, "--locale", locale], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    for shown in (page, table.output):
        for word in JARGON:
            assert word not in shown, (locale, word)
    if locale == "fr":
        for shown in (page, " ".join(table.output.split())):
            assert "les managers en sont exclus pour que les chiffres décrivent la communauté" in (
                shown
            )
            assert "Votre administrateur peut les inclure." in shown
            assert "9 membres sur 10 ont au plus" in shown
            assert "Premier message : un message ou une réponse dans un fil" in shown
            assert "Les semaines vont du lundi au dimanche en temps universel (UTC)" in shown


async def test_the_html_report_defines_the_funnel_beside_it(db: Database) -> None:
    await seed(db)
    data = await compute(db, Scope(start=START, end=END), END)
    page = render_html(data, {}, "en", "Europe/Paris")
    funnel = page.split('<table id="table-adoption-funnel">', 1)[1]
    note = funnel.split("</table>", 1)[1].split("<table", 1)[0]
    assert "First post: a message or a thread reply written in a channel" in note
