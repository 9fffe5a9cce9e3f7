"""The settings' problems in the CLI's language: ``--locale``, else ``RALLYBOT_LOCALE``, even
when the settings themselves cannot be read. Names, values and paths stay as typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app, main
from rallybot.bot.config import database_problem
from rallybot.campaigns.words import render
from rallybot.storage.database import DatabaseUnreachable

runner = CliRunner()

INVALID = {
    "fr": 'Réglage invalide RALLYBOT_HTTP_PORT="80800" : attendu : un numéro de port TCP de 1 à '
    "65535.",
    "de": 'Ungültige Einstellung RALLYBOT_HTTP_PORT="80800": erwartet: eine TCP-Portnummer von 1 '
    "bis 65535.",
}
UNKNOWN = {
    "fr": "Réglage inconnu RALLYBOT_TIMEZON : vouliez-vous dire RALLYBOT_TIMEZONE ? "
    "(RALLYBOT_UNKNOWN_VARIABLES=warn démarre quand même)",
    "de": "Unbekannte Einstellung RALLYBOT_TIMEZON: meinten Sie RALLYBOT_TIMEZONE? "
    "(RALLYBOT_UNKNOWN_VARIABLES=warn startet trotzdem)",
}
NO_FOLDER = {
    "fr": 'Réglage invalide RALLYBOT_CAMPAIGNS_DIR="nowhere" : attendu : un dossier de fichiers '
    "de campagne (dossier introuvable : {absolute} ; rallybot examples copy DIR vous donne des "
    "exemples pour commencer).",
    "de": 'Ungültige Einstellung RALLYBOT_CAMPAIGNS_DIR="nowhere": erwartet: ein Ordner mit '
    "Kampagnendateien (kein solcher Ordner: {absolute}; rallybot examples copy DIR liefert "
    "Beispiele für den Anfang).",
}


@pytest.mark.parametrize("language", ["fr", "de"])
@pytest.mark.parametrize("how", ["option", "variable"])
def test_an_invalid_value(monkeypatch: pytest.MonkeyPatch, language: str, how: str) -> None:
    monkeypatch.setenv("RALLYBOT_HTTP_PORT", "80800")
    args = ["config", "check"]
    if how == "option":
        args = ["--locale", language, *args]
    else:  # the settings are broken, yet RALLYBOT_LOCALE (valid) still chooses the language
        monkeypatch.setenv("RALLYBOT_LOCALE", language)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [INVALID[language]]


@pytest.mark.parametrize("language", ["fr", "de"])
def test_an_unknown_variable_with_its_suggestion(
    monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    monkeypatch.setenv("RALLYBOT_TIMEZON", "UTC")
    result = runner.invoke(app, ["--locale", language, "db", "current"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [UNKNOWN[language]]


@pytest.mark.parametrize("language", ["fr", "de"])
def test_a_missing_campaigns_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, language: str
) -> None:
    monkeypatch.setenv("RALLYBOT_CAMPAIGNS_DIR", "nowhere")
    result = runner.invoke(app, ["--locale", language, "config", "check"])
    assert result.exit_code == 2
    shown = NO_FOLDER[language].format(absolute=tmp_path / "nowhere")
    assert result.stderr.splitlines() == [shown]


def test_an_invalid_rallybot_locale_gives_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RALLYBOT_LOCALE", "klingon")
    monkeypatch.setenv("RALLYBOT_TIMEZON", "UTC")
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        'Invalid setting RALLYBOT_LOCALE="klingon": expected a language code, such as fr, en or '
        "fr_CA.",
        "Unknown setting RALLYBOT_TIMEZON: did you mean RALLYBOT_TIMEZONE? "
        "(RALLYBOT_UNKNOWN_VARIABLES=warn starts anyway)",
    ]


def test_a_secret_file_problem(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path / "token"))
    result = runner.invoke(app, ["--locale", "de", "db", "current"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f'Ungültige Einstellung SLACK_BOT_TOKEN_FILE="{tmp_path / "token"}": die Datei ist '
        "leer; sie sollte SLACK_BOT_TOKEN enthalten."
    ]


def test_an_unreachable_database_after_retries_counts_in_the_language() -> None:
    def after(attempts: int) -> str:
        exc = DatabaseUnreachable(
            "",
            url="postgresql://db/x",
            reason="refused",
            kind="timeout",
            waited=2,
            attempts=attempts,
        )
        return render(database_problem(exc), "fr")

    assert after(1) == (
        "Impossible de joindre la base de données postgresql://db/x après 2 s et 1 tentative : "
        "refused (RALLYBOT_DB_WAIT_SECONDS fixe la durée d'attente)"
    )
    assert "après 2 s et 5 tentatives : refused" in after(5)


def test_a_missing_extra_in_the_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom() -> None:
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setenv("RALLYBOT_LOCALE", "de")
    monkeypatch.setattr("rallybot.bot.cli.app", boom)
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "Für die Berichtsdiagramme wird das Extra charts benötigt: pip install 'rallybot[charts]'"
    )
