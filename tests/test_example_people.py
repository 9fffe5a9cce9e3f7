"""The shipped examples are consistent: every person their community file names is in the
roster of their campaign, so on the console platform the help desk, the managers' messages and
the buddies reach someone, and ``rallybot validate`` has nobody to warn about."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.campaigns.community import load_community, person_kind
from rallybot.campaigns.loader import is_community_file
from rallybot.campaigns.roster import read_roster

EXAMPLES = Path(__file__).resolve().parent.parent / "campaigns" / "examples"
ROSTERS = {"fr": "pilote.csv", "en": "pilot.csv"}
NOT_CHECKED = "named by email or handle not checked"


def _community(lang: str) -> Path:
    return next(p for p in (EXAMPLES / lang).rglob("*.yaml") if is_community_file(p))


@pytest.mark.parametrize("lang", sorted(ROSTERS))
def test_everyone_the_community_file_names_is_in_the_roster(lang: str) -> None:
    roster = read_roster(EXAMPLES / lang / ROSTERS[lang], default_timezone="UTC")
    emails = {e.email.lower() for e in roster.entries if e.email}
    people = load_community(_community(lang)).people()
    assert people and all(person_kind(p) == "email" for p in people)
    assert [p for p in people if p.lower() not in emails] == []
    # staff are in a cohort that no campaign audience targets: the campaigns' counts stay
    staff = {e.cohort for e in roster.entries if e.email and e.email.lower() in set(people)}
    assert staff == {"equipe-connect" if lang == "fr" else "connect-team"}


def _copy(lang: str, folder: Path) -> Path:
    # as the community file's guide says: move it beside the campaigns
    target = folder / lang
    shutil.copytree(EXAMPLES / lang, target)
    community = _community(lang)
    moved = target / community.relative_to(EXAMPLES / lang)
    moved.rename(target / community.name)
    return target


@pytest.mark.parametrize("lang", sorted(ROSTERS))
def test_validate_has_nobody_to_warn_about(
    lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN", "RALLYBOT_ADMINS"):
        monkeypatch.delenv(name, raising=False)
    folder = _copy(lang, tmp_path)
    result = CliRunner().invoke(app, ["--locale", "en", "validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert NOT_CHECKED not in result.output
    # someone no roster lists is still said, and counted alone
    roster = folder / ROSTERS[lang]
    kept = [
        line for line in roster.read_text(encoding="utf-8").splitlines() if "1@example" not in line
    ]
    roster.write_text("\n".join(kept) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["--locale", "en", "validate", str(folder)])
    assert "2 people named by email or handle not checked" in result.output
