"""The README's examples are real: its campaign and roster snippets load, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.campaigns.loader import load_campaign_text
from rallybot.campaigns.roster import load_roster_text

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_readme_starts_with_the_two_commands() -> None:
    first = _blocks("sh")[0]
    assert first.splitlines()[0].startswith("make demo")
    assert first.splitlines()[1].startswith("make test")


def test_the_campaign_snippet_is_a_valid_campaign() -> None:
    [snippet] = [b for b in _blocks("yaml") if b.startswith("id: ")]
    campaign = load_campaign_text(snippet, "README.md")
    assert campaign.id == "lancement-connect"
    assert set(campaign.spec.audiences) == {
        "pilote",
        "ventes-pilote",
        "ambassadeurs",
        "lecteurs",
        "tous",
    }


def test_the_roster_snippet_is_a_valid_roster() -> None:
    [snippet] = _blocks("csv")
    entries = load_roster_text(snippet, "README.md", default_timezone="Europe/Paris")
    assert [e.id for e in entries] == ["amelie", "david"]
    assert entries[1].timezone == "America/Montreal"


def test_every_command_in_the_tour_exists() -> None:
    tour = next(b for b in _blocks("sh") if "rallybot validate" in b)
    runner = CliRunner()
    for line in tour.splitlines():
        words = line.split("#")[0].split()
        if not words or words[0] != "rallybot":
            continue
        command = [w for w in words[1:3] if w.isalpha() and w.islower()]
        result = runner.invoke(app, [*command[:2], "--help"])
        assert result.exit_code == 0, (line, result.output)
