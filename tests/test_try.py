"""``rallybot try``: a community manager plays their own files, from a subprocess, as they
would from a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "campaigns" / "examples"

pytestmark = pytest.mark.slow


def rallybot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RALLYBOT_", "DATABASE_"))}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "rallybot.bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_try_plays_the_shipped_examples(tmp_path: Path, lang: str) -> None:
    result = rallybot("--locale", "en", "try", str(EXAMPLES / lang), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "nothing duplicated." in result.stdout
    assert "people imported from" in result.stdout
    # the community file's manager, helpers and buddies come with the example's roster
    assert "is not a console account" not in result.stdout + result.stderr
    assert not list(tmp_path.iterdir())  # a throwaway database: nothing left behind


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
  - id: annonce
    at: launch
    post: annonces
    text: Connect est ouvert !
  - id: bienvenue
    at: join + 0d at 10:00
    for: pilote
    dm:
      fr: Bienvenue sur Connect, {first_name} !
      es: ¡Bienvenido a Connect, {first_name}!
  - id: profil
    at: join + 2 workdays at 10:00
    for: pilote
    dm:
      fr: Avez-vous complété votre profil ?
      es: ¿Has completado tu perfil?
"""


def test_try_plays_a_150_member_pilot_in_three_zones(tmp_path: Path) -> None:
    zones = [("Europe/Paris", "fr"), ("Europe/Madrid", "es"), ("America/Cayenne", "fr")]
    rows = ["id,first_name,cohort,timezone,locale,start_date"]
    for n in range(150):
        zone, locale = zones[n % 3]
        rows.append(f"U{n:03d},Member{n},pilote,{zone},{locale},2027-03-02")
    (tmp_path / "pilote.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "lancement.yaml").write_text(CAMPAIGN, encoding="utf-8")
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = rallybot("--locale", "en", "try", str(tmp_path / "lancement.yaml"), cwd=work)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    assert "150 people imported from pilote.csv." in out
    assert "¡Bienvenido a Connect, Member1!" in out  # the Spanish text, for Madrid
    assert "Bienvenue sur Connect, Member0 !" in out
    assert "301 messages sent for 301 distinct deliveries: nothing duplicated." in out


def test_try_refuses_broken_files_with_their_errors(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        textwrap.dedent(CAMPAIGN).replace("post: annonces", "post: annonce"), encoding="utf-8"
    )
    (tmp_path / "pilote.csv").write_text("id\nU1\n", encoding="utf-8")
    result = rallybot("--locale", "en", "try", str(tmp_path / "c.yaml"), cwd=tmp_path)
    assert result.returncode == 1
    assert 'unknown channel "annonce"' in result.stdout
    assert "✗ nothing to play: fix these first" in result.stdout
