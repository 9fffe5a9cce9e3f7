"""The command line speaks ``--locale`` (else ``RALLYBOT_LOCALE``): every family of commands in
French and German, their help texts included (issue 11). Tests that read the English text pass
``--locale en``; these read the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "campaigns" / "examples"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("RALLYBOT_LOCALE", "RALLYBOT_ADMINS", "DISCORD_APPLICATION_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'rallybot.db'}")
    monkeypatch.setenv("RALLYBOT_CAMPAIGNS_DIR", str(EXAMPLES / "fr"))


BROKEN_ROSTER = """\
id,email,name,languge
U1,ana@example.com,Ana,fr
U1,not-an-email,Ben,fr
"""


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "fr",
            [
                "colonne « languge » inconnue ; colonnes connues : id, email,",
                "« not-an-email » n'est pas une adresse e-mail",
                "id « U1 » est déjà utilisé ligne 2",
                "3 problèmes : rien n'a été importé.",
            ],
        ),
        (
            "de",
            [
                "unbekannte Spalte „languge“; bekannte Spalten: id, email,",
                "„not-an-email“ ist keine E-Mail-Adresse",
                "id „U1“ wird schon in Zeile 2 verwendet",
                "3 Probleme: nichts importiert.",
            ],
        ),
    ],
)
def test_roster_import_reports_each_row_in_the_locale(
    tmp_path: Path, locale: str, expected: list[str]
) -> None:
    (tmp_path / "bad.csv").write_text(BROKEN_ROSTER, encoding="utf-8")
    result = runner.invoke(app, ["--locale", locale, "roster", "import", "bad.csv"])
    assert result.exit_code == 1, result.output
    for text in expected:
        assert text in result.output, result.output
    # JSON is for machines: its problems stay in English.
    as_json = runner.invoke(
        app, ["--locale", locale, "roster", "import", "bad.csv", "--format", "json"]
    )
    assert '"not-an-email\\" is not an email address' in as_json.stdout


@pytest.mark.parametrize(
    ("locale", "read", "checked", "created"),
    [
        (
            "fr",
            'pilot.csv: lu comme Windows-1252, séparé par ";", dates day-first.',
            "pilot.csv : 1 membre, aucun problème trouvé (essai à blanc : rien n'est enregistré).",
            "pilot.csv : 1 membre créé, 0 mis à jour, 0 inchangé.",
        ),
        (
            "de",
            'pilot.csv: gelesen als Windows-1252, getrennt durch ";", Daten day-first.',
            "pilot.csv: 1 Mitglied, kein Problem gefunden (Probelauf: nichts gespeichert).",
            "pilot.csv: 1 Mitglied angelegt, 0 aktualisiert, 0 unverändert.",
        ),
    ],
)
def test_roster_import_summaries_speak_the_locale(
    tmp_path: Path, locale: str, read: str, checked: str, created: str
) -> None:
    (tmp_path / "pilot.csv").write_bytes(
        "id;name;start_date\nU1;Hélène;15/03/2027\n".encode("cp1252")
    )
    dry = runner.invoke(app, ["--locale", locale, "roster", "import", "pilot.csv", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [read, checked]
    done = runner.invoke(app, ["--locale", locale, "roster", "import", "pilot.csv"])
    assert done.exit_code == 0, done.output
    assert created in done.output


@pytest.mark.parametrize(
    ("locale", "headers", "valid"),
    [
        ("fr", ("Variable", "Valeur", "Provenance"), "Les réglages sont valides : "),
        ("de", ("Variable", "Wert", "Herkunft"), "Die Einstellungen sind gültig: "),
    ],
)
def test_config_check_speaks_the_locale(locale: str, headers: tuple[str, ...], valid: str) -> None:
    result = runner.invoke(
        app, ["--locale", locale, "config", "check", "--show"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert all(header in result.output for header in headers)
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(valid), last
    source = "environnement" if locale == "fr" else "Umgebung"  # DATABASE_URL above
    assert source in last and "environment" not in last


@pytest.mark.parametrize(
    ("locale", "unknown", "no_folder", "lang"),
    [
        (
            "fr",
            "Plateforme « teams » inconnue",
            "Pas de dossier de campagnes",
            "--lang vaut « fr » ou « en »",
        ),
        ("de", "Unbekannte Plattform „teams“", "Kein Kampagnenordner", "--lang ist „fr“ oder „en“"),
    ],
)
def test_run_and_demo_refusals_speak_the_locale(
    locale: str, unknown: str, no_folder: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(app, ["--locale", locale, "run", "--platform", "teams"])
    assert result.exit_code == 2 and unknown in result.output, result.output
    monkeypatch.setenv("RALLYBOT_CAMPAIGNS_DIR", "no-such-folder")
    result = runner.invoke(app, ["--locale", locale, "run", "--no-interactive"])
    assert result.exit_code == 2 and no_folder in result.output, result.output
    result = runner.invoke(app, ["--locale", locale, "demo", "--lang", "it"])
    assert result.exit_code == 2 and lang in result.output, result.output


def test_the_demo_narrates_in_the_locale() -> None:
    german = runner.invoke(app, ["--locale", "de", "demo", "--lang", "en"])
    assert german.exit_code == 0, german.output
    assert "Simulierte Uhr vom" in german.output
    assert "ben vervollständigt das eigene Profil" in german.output  # the English roster's ben
    assert "Zustellungen pro Schritt" in german.output and "nichts doppelt." in german.output
    assert "The CEO" in german.output  # the campaign's own words stay in its language


@pytest.mark.parametrize(
    ("locale", "refused"),
    [
        ("fr", "✗ rien à jouer : corrigez d'abord ces erreurs"),
        ("de", "✗ nichts abzuspielen: beheben Sie zuerst diese Fehler"),
    ],
)
def test_try_refuses_broken_files_in_the_locale(tmp_path: Path, locale: str, refused: str) -> None:
    (tmp_path / "c.yaml").write_text("id: c\ntitle: C\nsteps: []\nstepz: 1\n", encoding="utf-8")
    result = runner.invoke(app, ["--locale", locale, "try", "c.yaml"])
    assert result.exit_code == 1
    assert refused in result.output, result.output
    missing = runner.invoke(app, ["--locale", locale, "try", "nowhere.yaml"])
    expected = (
        "nowhere.yaml : fichier ou dossier introuvable"
        if locale == "fr"
        else "nowhere.yaml: Datei oder Ordner nicht gefunden"
    )
    assert missing.exit_code == 2 and expected in missing.output, missing.output


@pytest.mark.parametrize(
    ("locale", "refused", "valid"),
    [
        (
            "fr",
            "Pas de lien : slack:U2 n'est ni community manager (RALLYBOT_ADMINS, managers",
            "Lien de connexion à usage unique, valable 10 minutes :",
        ),
        (
            "de",
            "Kein Link: slack:U2 ist weder Community-Manager (RALLYBOT_ADMINS, managers in der",
            "Einmal-Anmeldelink, 10 Minuten gültig:",
        ),
    ],
)
def test_console_link_speaks_the_locale(
    tmp_path: Path, locale: str, refused: str, valid: str
) -> None:
    upgrade(f"sqlite:///{tmp_path / 'rallybot.db'}")
    env = {"RALLYBOT_ADMINS": "slack:U1", "RALLYBOT_CONSOLE_LINK_MINUTES": "10"}
    result = runner.invoke(app, ["--locale", locale, "console", "link"], env=env)
    assert result.exit_code == 0, result.output
    assert valid in result.output
    result = runner.invoke(
        app, ["--locale", locale, "console", "link", "--manager", "slack:U2"], env=env
    )
    assert result.exit_code == 1 and refused in result.output, result.output


@pytest.mark.parametrize(
    ("locale", "manifest", "no_id", "intents", "wrote"),
    [
        (
            "fr",
            "Le mode HTTP demande --request-url",
            "Pas d'id d'application Discord",
            "Activez-les dans le portail développeur de Discord",
            "record.md écrit.",
        ),
        (
            "de",
            "Der HTTP-Modus braucht --request-url",
            "Keine Discord-Anwendungs-ID",
            "Schalten Sie diese im Discord-Entwicklerportal ein",
            "record.md geschrieben.",
        ),
    ],
)
def test_platform_and_privacy_commands_speak_the_locale(
    locale: str, manifest: str, no_id: str, intents: str, wrote: str
) -> None:
    result = runner.invoke(app, ["--locale", locale, "slack", "manifest", "--mode", "http"])
    assert result.exit_code == 2 and manifest in result.output, result.output
    result = runner.invoke(app, ["--locale", locale, "discord", "invite-url"])
    assert result.exit_code == 2 and no_id in result.output, result.output
    result = runner.invoke(
        app, ["--locale", locale, "discord", "invite-url", "--application-id", "123456789012"]
    )
    assert result.exit_code == 0 and intents in result.stderr, result.output
    result = runner.invoke(app, ["--locale", locale, "privacy", "record", "--output", "record.md"])
    assert result.exit_code == 0 and wrote in result.output, result.output


def test_a_wrong_locale_is_refused_in_the_environments_language() -> None:
    result = runner.invoke(app, ["--locale", "xx-yy!", "health"], env={"RALLYBOT_LOCALE": "de"})
    assert result.exit_code == 2
    assert "ist kein Sprachcode" in result.output


# ---------------------------------------------------------------------------- help texts


def test_help_follows_the_locale_option() -> None:
    german = runner.invoke(app, ["--locale", "de", "--help"], env={"COLUMNS": "200"})
    assert german.exit_code == 0, german.output
    assert "Start und Alltag einer internen Community" in german.output
    assert "Die Zeitleiste zeigen" in german.output  # a command's summary
    assert "Version ausgeben und beenden." in german.output  # an option's help
    french = runner.invoke(
        app, ["--locale", "fr", "roster", "import", "--help"], env={"COLUMNS": "200"}
    )
    assert "Vérifie le fichier et compte, sans rien importer." in french.output
    assert "Crée ou met à jour les membres d'une liste" in french.output


def test_help_follows_rallybot_locale() -> None:
    spanish = runner.invoke(
        app, ["validate", "--help"], env={"RALLYBOT_LOCALE": "es", "COLUMNS": "200"}
    )
    assert spanish.exit_code == 0, spanish.output
    assert "Comprueba de una vez todo lo que leerá una ejecución" in spanish.output
    assert "Los avisos también fallan (código 1)" in spanish.output
    # --locale wins over the environment, wherever it stands.
    english = runner.invoke(
        app, ["--locale=en", "validate", "--help"], env={"RALLYBOT_LOCALE": "es", "COLUMNS": "200"}
    )
    assert "Warnings fail too (exit 1), as errors do." in english.output


def test_every_help_text_is_in_the_catalogs() -> None:
    import typer

    from rallybot.bot import i18n
    from rallybot.bot.cli import help_texts

    texts = {text for _, _, text in help_texts(typer.main.get_command(app))}
    assert len(texts) > 100
    for language in ("fr", "es", "de"):
        untranslated = sorted(t for t in texts if i18n.gettext(language, t) == t)
        assert untranslated == [], (language, untranslated[:3])


# ------------------------------------------------------------------ Typer's and Click's words

# What Typer and its copy of Click write in English, in their help pages and their errors.
TYPER_ENGLISH = (
    "Usage:",
    "Options",
    "Arguments",
    "Commands",
    "Show this message",
    "Missing argument",
    "Missing option",
    "No such",
    "Try '",
    "for help",
    "Error",
    "Invalid value",
    "[required]",
    "[default:",
    "[env var:",
    "[OPTIONS]",
    "COMMAND [ARGS]",
    "<bool>",
    "<str>",
    "<path>",
    "<list[",
    "<int",
    "<float>",
    "Did you mean",
    "Possible options",
    "does not take a value",
    "requires an argument",
    "unexpected extra",
    "Input should be",
    "is not one of",
    "{paths}",
    "PATHS",
)
# The same words in the language too: French "Options", Spanish "Error".
SAME_WORDS = {"fr": {"Options", "[OPTIONS]", "Arguments"}, "es": {"Error"}, "de": set[str]()}


@pytest.mark.parametrize(
    ("locale", "args", "code", "own"),
    [
        ("de", ["--help"], 0, ["Verwendung:", "Optionen", "Befehle", "Diese Hilfe anzeigen"]),
        ("de", ["validate", "--help"], 0, ["Verwendung: rallybot validate [OPTIONEN] PFADE..."]),
        ("de", ["db", "upgrade", "--help"], 0, ["[REVISION]", "[Standard: head]"]),
        (
            "fr",
            ["validate"],
            2,
            [
                "Argument manquant 'CHEMINS'",
                "Erreur",
                "Essayez 'rallybot validate --help' pour obtenir de l'aide.",
            ],
        ),
        ("fr", ["validate", "--nope", "x"], 2, ["Option inconnue : --nope"]),
        ("fr", ["validate", "--strict=1", "x"], 2, ["ne prend pas de valeur"]),
        ("es", ["nosuchcommand"], 2, ["No existe el comando 'nosuchcommand'", "Uso:"]),
        ("es", ["rn"], 2, ["¿Quería decir 'run'?"]),
        ("es", ["db", "upgrade", "a", "b"], 2, ["1 argumento de más: b"]),
        (
            "de",
            ["run", "--port", "abc"],
            2,
            ["Ungültiger Wert für '--port': 'abc' ist keine ganze Zahl."],
        ),
        ("de", ["run", "--port", "99999"], 2, ["'99999' ist größer als 65535."]),
        ("fr", ["plan", "--format", "xx", "a.yaml"], 2, ["'xx' n'est pas parmi 'table'"]),
        ("es", ["schema"], 2, ["Falta el argumento 'TIPO'", "Elija entre:"]),
        ("de", ["--locale"], 2, ["Option '--locale' braucht 1 Wert."]),
    ],
)
def test_typer_and_clicks_own_words_follow_the_locale(
    locale: str, args: list[str], code: int, own: list[str]
) -> None:
    result = runner.invoke(app, ["--locale", locale, *args], env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    english = [w for w in TYPER_ENGLISH if w in result.output and w not in SAME_WORDS[locale]]
    assert english == [], result.output
    for text in own:
        assert text in result.output, result.output


def test_typer_words_stay_english_in_english() -> None:
    """The same machinery, in English: Typer's words as Typer writes them, but the usage line,
    which names the arguments as a usage line does."""
    result = runner.invoke(app, ["--locale", "en", "validate"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "Usage: rallybot validate [OPTIONS] PATHS..." in result.output
    assert "Missing argument 'PATHS'." in result.output
    assert "Try 'rallybot validate --help' for help." in result.output


def test_every_typer_word_is_in_the_catalogs() -> None:
    from rallybot.bot import i18n
    from rallybot.bot.cli_typer import typer_words

    for language in ("fr", "es", "de"):
        same = SAME_WORDS[language] | ({"TEXT"} if language == "de" else set())
        untranslated = sorted(
            w for w in typer_words() if i18n.gettext(language, w) == w and w not in same
        )
        assert untranslated == [], (language, untranslated)


@pytest.mark.parametrize(
    ("locale", "refused"),
    [
        ("fr", "le format de date « xx » n'est pas l'un de auto, day-first, month-first"),
        ("de", "Datumsformat „xx“ ist keines von auto, day-first, month-first"),
    ],
)
def test_roster_import_refuses_a_date_format_in_the_locale(
    tmp_path: Path, locale: str, refused: str
) -> None:
    (tmp_path / "team.csv").write_text("id,start_date\nU1,2027-03-02\n", encoding="utf-8")
    result = runner.invoke(
        app, ["--locale", locale, "roster", "import", "team.csv", "--date-format", "xx"]
    )
    assert result.exit_code == 2, result.output
    assert refused in result.output


# ------------------------------------------------------------------ config example


def _settings_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("# ")]


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("fr", "# Réglages de Rallybot. Copiez ce fichier en `.env`"),
        ("es", "# Ajustes de Rallybot. Copie este archivo como `.env`"),
        ("de", "# Einstellungen von Rallybot. Als `.env` kopieren"),
    ],
)
def test_config_example_comments_follow_the_locale(locale: str, said: str) -> None:
    english = (ROOT / "config.example.env").read_text(encoding="utf-8")
    result = runner.invoke(app, ["--locale", locale, "config", "example"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(said)
    assert "# Every line is optional" not in result.output
    assert "# Discord bot token." not in result.output
    # the settings, commented out or not, stay as they are, in the same order
    assert _settings_lines(result.output) == _settings_lines(english)
    assert "# RALLYBOT_RETENTION_DAYS=30\n" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100


def test_config_example_in_english_is_the_file_itself() -> None:
    english = (ROOT / "config.example.env").read_text(encoding="utf-8")
    result = runner.invoke(app, ["config", "example"], env={"RALLYBOT_LOCALE": "en"})
    assert result.output == english


def test_every_config_example_comment_is_in_the_catalogs() -> None:
    from rallybot.bot import i18n
    from rallybot.bot.cli import example_comment_id, example_comments

    comments = [example_comment_id(block) for _, block in example_comments()]
    assert len(comments) > 50
    for language in ("fr", "es", "de"):
        untranslated = [c for c in comments if i18n.gettext(language, c) == c]
        assert untranslated == [], (language, untranslated[:2])
