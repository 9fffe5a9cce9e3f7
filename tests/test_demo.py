"""``rallybot demo`` as a community manager watches it: every message to a member in that
member's language, and the script's people (who reacts, who completes a profile, who joins
late) are people of the example it plays."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

from rallybot.bot.demo import EXAMPLES, run_demo

ROSTERS = {"fr": "pilote.csv", "en": "pilot.csv"}
SKIPPED_NUDGE = {"fr": ("bastien", "relance-profil"), "en": ("ben", "profile-nudge")}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_message_to_a_member_is_in_their_language(lang: str, tmp_path: Path) -> None:
    out = io.StringIO()
    code = asyncio.run(
        run_demo(lang=lang, console=Console(file=out, width=200), workdir=tmp_path, locale="en")
    )
    assert code == 0, out.getvalue()
    with (EXAMPLES / lang / ROSTERS[lang]).open(encoding="utf-8") as roster:
        people = {row["id"]: row["locale"] for row in csv.DictReader(roster)}
    db = sqlite3.connect(tmp_path / "demo.db")
    members = dict(db.execute("select platform_user_id, locale from member").fetchall())
    # The roster and one newcomer: nobody the script names is missing from the example.
    newcomers = set(members) - set(people)
    assert len(newcomers) == 1, newcomers
    for line in out.getvalue().splitlines():
        if line.startswith("— "):
            assert line.split(" · ", 1)[1].split()[0] in members, line
    # Every member has a language, and every message to them is written in it.
    assert all(members.values()), members
    rows = db.execute(
        "select m.platform_user_id, m.locale, d.locale, d.step_id from delivery d"
        " join member m on d.recipient = 'member:' || m.id"
    ).fetchall()
    assert {who for who, *_ in rows} >= {*newcomers, "chloe"}
    wrong = [row for row in rows if row[1] != row[2]]
    assert not wrong, wrong
    # The member who completes their profile is not reminded to.
    who, step = SKIPPED_NUDGE[lang]
    [status] = db.execute(
        "select d.status from delivery d join member m on d.recipient = 'member:' || m.id"
        " where m.platform_user_id = ? and d.step_id = ?",
        (who, step),
    ).fetchone()
    assert status == "skipped"


def test_the_summary_names_the_steps_as_the_console_does(tmp_path: Path) -> None:
    """The summary's steps by their words (a journey's reminders by their task, a step by
    its title or first words), in the narration's language, not their ids."""
    out = io.StringIO()
    code = asyncio.run(
        run_demo(lang="fr", console=Console(file=out, width=250), workdir=tmp_path, locale="fr")
    )
    assert code == 0, out.getvalue()
    summary = out.getvalue().split("Envois par étape", 1)[1]
    for words in (
        "Parcours d'arrivée : message de bienvenue",
        "Parcours d'arrivée : Accepter la charte d'utilisation (relance 1 sur 2)",
        "Parcours d'arrivée : Accepter la charte d'utilisation (relance 2 sur 2)",
        "Parcours d'arrivée : Compléter votre profil (photo et fonction)",
    ):
        assert words in summary, summary
    # a step's words filled in as at its send: a week before the launch, "J-7"
    assert "│ J-7. Une question sur Connect" in summary, summary
    # a member's field as what it stands for, as the console shows it (not read as markup)
    assert "Bonjour [prénom], vous faites partie" in summary, summary
    for step_id in ("journey-charte-1", "relance-profil", "teaser-1", "bienvenue"):
        assert f"│ {step_id} " not in summary, summary
    # the member who completes their profile in the script is not reminded to
    profile = next(line for line in summary.splitlines() if "Compléter votre profil" in line)
    assert [cell.strip() for cell in profile.split("│")[2:4]] == ["5", "1"], profile
