"""``rallybot validate``: one pass over everything a run reads, warnings for silent traps, and
a summary that adds up (literal messages)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.campaigns.checks import text_warnings

runner = CliRunner()

HEAD = """\
id: lancement
title: Lancement
timezone: Europe/Paris
milestones:
  launch: 2027-03-02 09:30
channels:
  annonces: general
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def validate(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["--locale", "en", "validate", *args], env={"COLUMNS": "300"})
    return result.exit_code, result.output.strip().splitlines()


def test_a_broken_date_no_longer_hides_the_other_errors_of_its_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        """\
        id: lancement
        title: Lancement
        milestones:
          launch: 2027-02-30 09:30
        channels:
          annonces: general
        audiences:
          pilote: {cohort: pilote}
        steps:
          - id: teaser
            at: launch - 30d at 09:00
            post: annonce
            text: Bientôt
          - id: welcome
            at: launch
            dm: Bienvenue
            for: pilot
        """,
    )
    code, lines = validate(str(path))
    assert code == 1
    assert lines == [
        f'{path}:4:11: milestones.launch: "2027-02-30" is not a real calendar date',
        f'{path}:12:11: step 1 (id teaser), field post: unknown channel "annonce" (did you mean '
        '"annonces"?); '
        "declare it under channels:",
        f'{path}:17:10: step 2 (id welcome), field for: unknown audience "pilot" (did you mean '
        '"pilote"?); '
        "declare it under audiences:",
        "✗ 3 errors in 1 of 1 file checked; valid: none.",
    ]


def test_the_summary_adds_up(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        "good.yaml",
        HEAD + "steps:\n  - id: a\n    at: launch\n    post: annonces\n    text: Hello\n",
    )
    bad = write(
        tmp_path,
        "bad.yaml",
        HEAD.replace("lancement", "autre")
        + "steps:\n  - id: a\n    at: launch\n    post: nowhere\n    text: Hello\n",
    )
    code, lines = validate(str(good), str(bad))
    assert code == 1
    assert lines[-1] == "✗ 1 error in 1 of 2 files checked; valid: 1 campaign."


def test_a_milestone_without_a_time_is_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.yaml",
        HEAD.replace("2027-03-02 09:30", "2027-03-02")
        + "steps:\n  - id: ceo\n    at: launch\n    post: annonces\n    text: Welcome\n",
    )
    code, lines = validate(str(path))
    assert code == 0
    assert lines == [
        f'{path}:5:11: warning: milestones.launch: "2027-03-02" has no time of day: what '
        "happens at launch goes out at 00:00 (write 2027-03-02 09:30)",
        "✓ 1 file checked (1 campaign): no errors, 1 warning.",
    ]
    code, lines = validate(str(path), "--strict")
    assert code == 1
    assert lines[-1] == "✗ 1 warning (--strict) in 1 file checked; valid: 1 campaign."


def test_text_cut_by_an_unquoted_hash() -> None:
    text = textwrap.dedent(
        """\
        steps:
          - id: a
            at: launch  # J-0, a deliberate comment
            text: Questions ? Rendez-vous sur #connect-aide
          - id: b
            text: "Quoted #connect-aide stays whole"
            dm: |
              A block keeps #hashtags
          - Rendez-vous #ici
        """
    )
    assert [str(w) for w in text_warnings(text, "c.yaml")] == [
        'c.yaml:4:11: warning: the value stops at "Questions ? Rendez-vous sur": YAML reads '
        '" #connect-aide" as a comment; put the whole text in quotes',
        'c.yaml:9:5: warning: the value stops at "Rendez-vous": YAML reads " #ici" as a '
        "comment; put the whole text in quotes",
    ]


def test_weekend_posts_are_warned_unless_the_step_moves_them(tmp_path: Path) -> None:
    teasers = """\
    steps:
      - id: j30
        at: launch - 30d at 09:00
        post: annonces
        text: Un mois
      - id: j3
        at: launch - 3d at 09:00
        post: annonces
        text: Trois jours
    """
    path = write(tmp_path, "c.yaml", HEAD + textwrap.dedent(teasers))
    code, lines = validate(str(path))
    assert code == 0
    assert lines[:2] == [
        f"{path}:10:9: warning: step 1 (id j30), field at: falls on Sunday, January 31, 2027, a "
        "weekend day; "
        "add on_weekend: next_workday (or previous_workday) to move it",
        f"{path}:14:9: warning: step 2 (id j3), field at: falls on Saturday, February 27, 2027, a "
        "weekend "
        "day; add on_weekend: next_workday (or previous_workday) to move it",
    ]
    moved = write(
        tmp_path, "moved.yaml", HEAD + "on_weekend: next_workday\n" + textwrap.dedent(teasers)
    )
    code, lines = validate(str(moved))
    assert lines == ["✓ 1 file checked (1 campaign): no errors."]


ROSTER_CAMPAIGN = """\
roster: pilote.csv
audiences:
  pilote: {cohort: pilote}
  vague-2: {cohort: vague-2, opens: launch + 30d}
steps:
  - id: welcome
    at: join + 0d at 10:00
    dm: Bienvenue
    for: pilote
  - id: national-day
    at: 2027-10-12 10:00
    dm: Bonjour
    for: pilote
  - id: early
    at: launch - 1d at 07:00
    dm: Demain !
    for: pilote
"""


def test_warnings_that_need_the_roster(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pilote.csv",
        "id,cohort,timezone,start_date\n"
        "U1,pilote,Europe/Madrid,2027-03-02\n"
        "U2,pilote,Europe/Paris,2027-03-02\n",
    )
    path = write(tmp_path, "c.yaml", HEAD + ROSTER_CAMPAIGN)
    code, lines = validate(str(path))
    assert code == 0, lines
    assert lines == [
        f'{path}:11:12: warning: audiences.vague-2: wave "vague-2" has nobody in the roster (2 '
        "members): it opens for no one",
        f"{path}:18:9: warning: step 2 (id national-day), field at: falls on a weekend or a public "
        "holiday for 1 of 2 "
        "recipients (first: Tuesday, October 12, 2027 in Europe/Madrid, a public holiday "
        "(National Day)); add on_weekend: next_workday (or previous_workday) to move it",
        f"{path}:22:9: warning: step 3 (id early), field at: falls inside the quiet hours "
        "(21:00-08:00) for 2 "
        "recipients: it waits until the end (first: 07:00 → 08:00 in Europe/Madrid); set "
        "quiet_hours: false on the step to send anyway",
        "✓ 2 files checked (1 campaign, 1 roster): no errors, 3 warnings.",
    ]


def test_a_dm_that_reaches_nobody(tmp_path: Path) -> None:
    write(tmp_path, "pilote.csv", "id,cohort\nU1,pilot\n")  # the cohort is misspelt
    path = write(
        tmp_path,
        "c.yaml",
        HEAD
        + "roster: pilote.csv\naudiences:\n  pilote: {cohort: pilote}\nsteps:\n"
        + "  - id: invite\n    at: launch\n    dm: Bonjour\n    for: pilote\n",
    )
    _, lines = validate(str(path))
    assert lines[0] == (
        f"{path}:15:10: warning: step 1 (id invite), field for: this direct message reaches "
        "nobody: no member "
        "of the roster is in pilote (1 member)"
    )


def test_roster_errors_are_checked_and_summarised(tmp_path: Path) -> None:
    rows = "".join(f"U{n},2027-02-30\n" for n in range(150))
    write(tmp_path, "pilote.csv", "id,start_date\n" + rows)
    path = write(
        tmp_path,
        "c.yaml",
        HEAD + "roster: pilote.csv\nsteps:\n  - id: a\n    at: launch\n    dm: Bonjour\n",
    )
    code, lines = validate(str(path))
    assert code == 1
    roster = tmp_path / "pilote.csv"
    assert lines == [
        f'{roster}:2:2: start_date: 150 rows (2–151), for example: "2027-02-30" is not a real '
        "calendar date",
        "✗ 150 errors in 1 of 2 files checked; valid: 1 campaign.",
    ]


def test_the_settings_are_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RALLYBOT_LOG_LEVEL", "verbose")
    path = write(
        tmp_path,
        "c.yaml",
        HEAD + "steps:\n  - id: a\n    at: launch\n    post: annonces\n    text: Hello\n",
    )
    code, lines = validate(str(path))
    assert code == 1
    assert lines[0].startswith('settings: Invalid setting RALLYBOT_LOG_LEVEL="verbose"')
    assert lines[-1] == "✗ 1 error in the settings; valid: 1 campaign."


def test_unmapped_channels_when_a_platform_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(
        tmp_path,
        "c.yaml",
        HEAD + "steps:\n  - id: a\n    at: launch\n    post: annonces\n    text: Hello\n",
    )
    code, lines = validate(str(path))  # no platform: names are fine (the console takes them)
    assert lines == ["✓ 1 file checked (1 campaign): no errors."]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    code, lines = validate(str(path))
    assert code == 0
    assert lines[0] == (
        f'{path}:7:13: warning: channels.annonces: channel "annonces" is "general", not a slack '
        "channel id: map it in the community file's channels: (annonces: its id), or posts to "
        "it will fail"
    )
    monkeypatch.setenv("RALLYBOT_CHANNELS", "annonces=C0123ABCD")
    code, lines = validate(str(path))
    assert lines[-1] == "✓ 1 file checked (1 campaign): no errors."
    assert not [line for line in lines if "warning" in line]


WARNED = """\
id: lancement
title: Lancement
timezone: Europe/Paris
milestones:
  launch: 2027-03-02
channels:
  annonces: general
steps:
  - id: j30
    at: launch - 30d at 09:00
    post: annonces
    text: Questions ? Rendez-vous sur #connect-aide
"""


def validate_in(locale: str, *args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["--locale", locale, "validate", *args], env={"COLUMNS": "300"})
    return result.exit_code, result.output.strip().splitlines()


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "fr",
            [
                "5:11: avertissement: milestones.launch: « 2027-03-02 » n'a pas d'heure : ce qui "
                "se passe à launch part à 00:00 (écrivez 2027-03-02 09:30)",
                "10:9: avertissement: étape 1 (id j30), champ at: tombe le dimanche 31 janvier "
                "2027, un jour de "
                "week-end ; ajoutez on_weekend: next_workday (ou previous_workday) pour la "
                "déplacer",
                "12:11: avertissement: la valeur s'arrête à « Questions ? Rendez-vous sur » : "
                "YAML lit « #connect-aide » comme un commentaire ; mettez tout le texte entre "
                "guillemets",
            ],
        ),
        (
            "de",
            [
                "5:11: Warnung: milestones.launch: „2027-03-02“ hat keine Uhrzeit: Was zu launch "
                "geschieht, geht um 00:00 raus (2027-03-02 09:30 schreiben)",
                "10:9: Warnung: Schritt 1 (ID j30), Feld at: fällt auf Sonntag, 31. Januar 2027, "
                "ein "
                "Wochenendtag; on_weekend: next_workday (oder previous_workday) ergänzen, um ihn "
                "zu verschieben",
                "12:11: Warnung: der Wert endet bei „Questions ? Rendez-vous sur“: YAML liest "
                "„#connect-aide“ als Kommentar; den ganzen Text in Anführungszeichen setzen",
            ],
        ),
    ],
)
def test_warnings_are_in_the_readers_language(
    tmp_path: Path, locale: str, expected: list[str]
) -> None:
    """The warnings, the day they name included, in the language of --locale."""
    path = write(tmp_path, "c.yaml", WARNED)
    code, lines = validate_in(locale, str(path))
    assert code == 0, lines
    assert lines[:-1] == [f"{path}:{line}" for line in expected]


SHAPES = """\
steps:
  - id: a
    at: 2027-03-02 10:00
    post: annonces
  - id: b
    at: 2027-03-02 10:00
    post: annonces
    text: Bonjour
    buttons: hello
"""

TIMES = """\
steps:
  - id: a
    at: launch + someday
    post: annonces
    text: Bonjour
  - id: b
    every: moonday at 09:00
    post: annonces
    text: Bonjour
"""


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "fr",
            [
                "shapes.yaml:9:5: étape 1 (id a): une publication dans un canal demande un « text "
                "»",
                "shapes.yaml:16:14: étape 2 (id b), champ buttons: attendu : une liste de boutons, "
                "pas un texte",
                "times.yaml:10:9: étape 1 (id a), champ at: « launch + someday » n'est pas une "
                "heure : "
                "écrivez une date (2026-09-15 09:30), un jalon avec un décalage (launch - 30d at "
                "09:00) ou un délai après l'arrivée (join + 2d at 10:00)",
                "times.yaml:14:12: étape 2 (id b), champ every: « moonday » n'est pas un jour : "
                "utilisez "
                "monday…sunday, « day » ou « weekday »",
            ],
        ),
        (
            "de",
            [
                "shapes.yaml:9:5: Schritt 1 (ID a): ein Kanalbeitrag braucht einen „text“",
                "shapes.yaml:16:14: Schritt 2 (ID b), Feld buttons: erwartet wird eine Liste von "
                "Schaltflächen, nicht ein Text",
                "times.yaml:10:9: Schritt 1 (ID a), Feld at: „launch + someday“ ist keine Zeit: "
                "ein Datum "
                "(2026-09-15 09:30), einen Meilenstein mit Versatz (launch - 30d at 09:00) oder "
                "eine Zeit nach dem Beitritt (join + 2d at 10:00) schreiben",
                "times.yaml:14:12: Schritt 2 (ID b), Feld every: „moonday“ ist kein Tag: monday … "
                "sunday, "
                "„day“ oder „weekday“ verwenden",
            ],
        ),
    ],
)
def test_schema_errors_are_in_the_readers_language(
    tmp_path: Path, locale: str, expected: list[str]
) -> None:
    """The schema's own checks, the type errors' words and the time expressions' errors, in
    the language of --locale."""
    write(tmp_path, "shapes.yaml", HEAD + SHAPES)
    write(tmp_path, "times.yaml", HEAD.replace("lancement", "autre") + TIMES)
    code, lines = validate_in(locale, str(tmp_path))
    assert code == 1, lines
    assert lines[:-1] == [f"{tmp_path}/{line}" for line in expected]


def test_file_level_errors_are_in_the_readers_language(tmp_path: Path) -> None:
    """A repeated key, an empty file, a file that is not a mapping, a YAML syntax error."""
    write(tmp_path, "dup.yaml", "id: a\nid: b\ntitle: T\nsteps: []\n")
    write(tmp_path, "empty.yaml", "")
    write(tmp_path, "list.yaml", "- a\n- b\n")
    write(tmp_path, "open.yaml", "id: x\ntitle: T\nsteps:\n  - {id: a, at: 2027-03-02 10:00\n")
    code, lines = validate_in("es", str(tmp_path))
    assert code == 1, lines
    assert lines == [
        f"{tmp_path}/dup.yaml:2:1: id: la clave «id» aparece dos veces en este mapa",
        f"{tmp_path}/dup.yaml:4:8: steps: la lista está vacía: una campaña necesita al menos "
        "un paso",
        f"{tmp_path}/empty.yaml:1:1: el archivo está vacío: una campaña necesita al menos id, "
        "title y steps",
        f"{tmp_path}/list.yaml:1:1: el archivo debería ser un mapa de claves (id: ..., title: "
        "..., steps: ...), no una lista",
        f"{tmp_path}/open.yaml:4:5: error de sintaxis YAML: un mapa entre {{ }} no está cerrado "
        "(añada la } que falta)",
        "✗ 5 errores en 4 de 4 archivos comprobados; válidos: ninguno.",
    ]


@pytest.mark.parametrize(
    ("locale", "passed", "failed"),
    [
        (
            "fr",
            "✓ 1 fichier vérifié (1 campagne) : aucune erreur, 1 avertissement.",
            "✗ 2 erreurs dans 1 des 2 fichiers vérifiés, 1 avertissement ; valides : 1 campagne.",
        ),
        (
            "en",
            "✓ 1 file checked (1 campaign): no errors, 1 warning.",
            "✗ 2 errors in 1 of 2 files checked, 1 warning; valid: 1 campaign.",
        ),
        (
            "es",
            "✓ 1 archivo comprobado (1 campaña): sin errores, 1 aviso.",
            "✗ 2 errores en 1 de 2 archivos comprobados, 1 aviso; válidos: 1 campaña.",
        ),
        (
            "de",
            "✓ 1 Datei geprüft (1 Kampagne): keine Fehler, 1 Warnung.",
            "✗ 2 Fehler in 1 von 2 geprüften Dateien, 1 Warnung; gültig: 1 Kampagne.",
        ),
    ],
)
def test_the_summary_reads_as_one_sentence_of_the_readers_language(
    tmp_path: Path, locale: str, passed: str, failed: str
) -> None:
    """The files checked, then the verdict: the list of files is not read as the warnings'
    list, and each language puts its own punctuation (French spaces before ; and :)."""
    path = write(
        tmp_path,
        "c.yaml",
        HEAD.replace("2027-03-02 09:30", "2027-03-02")
        + "steps:\n  - id: ceo\n    at: launch\n    post: annonces\n    text: Welcome\n",
    )
    code, lines = validate_in(locale, str(path))
    assert (code, lines[-1]) == (0, passed)
    write(tmp_path, "broken.yaml", "id: a\nid: b\ntitle: T\nsteps: []\n")  # 2 errors
    code, lines = validate_in(locale, str(tmp_path))
    assert (code, lines[-1]) == (1, failed)
