"""The FAQ files (validated like campaigns), their ranking, and the helpers' rota."""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.bot.rota import parse_rota
from rallybot.campaigns.faq import (
    FaqIndex,
    is_faq_file,
    load_faq,
    load_faq_text,
    load_faqs,
    query_tokens,
    tokens,
)
from rallybot.campaigns.loader import CampaignLoadError
from rallybot.handlers.helpdesk.feature import HelpdeskFeature

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "campaigns" / "examples"
runner = CliRunner()


def index_of(*languages: str) -> FaqIndex:
    faqs = [load_faq(EXAMPLES / lang / "faq.yaml") for lang in languages]
    return FaqIndex([entry for faq in faqs for entry in faq.entries])


def top(index: FaqIndex, question: str) -> list[str]:
    return [match.entry.id for match in index.search(question)]


# ---------------------------------------------------------------------------- files


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_shipped_faqs_load(lang: str) -> None:
    path = EXAMPLES / lang / "faq.yaml"
    assert is_faq_file(path)
    faq = load_faq(path)
    assert len(faq.entries) >= 15
    assert all(entry.answer(lang) and entry.question(lang) for entry in faq.entries)


def test_campaigns_and_banks_are_not_faqs() -> None:
    assert not is_faq_file(EXAMPLES / "fr" / "lancement-connect.yaml")
    assert not is_faq_file(EXAMPLES / "fr" / "quiz-connect.yaml")


def test_every_mistake_is_reported_with_its_place() -> None:
    text = textwrap.dedent("""\
        faq: support
        locale: en
        entries:
          - id: a
            questions: [How do I sign in?]
            answer: Use your company account.
            links:
              - { label: Help, url: "ftp://example.com" }
          - id: a
            questions: [Where is the charter?]
            answer: "   "
          - id: Bad Id
            questions: {en: [the the the]}
            answer: x
            colour: blue
        """)
    with pytest.raises(CampaignLoadError) as caught:
        load_faq_text(text, "faq.yaml")
    shown = [str(error) for error in caught.value.errors]
    assert any(s.startswith("faq.yaml:8:") and "is not a link" in s for s in shown), shown
    assert any(s.startswith("faq.yaml:12:") and "id" in s for s in shown), shown
    assert any("colour" in s and s.startswith("faq.yaml:15:") for s in shown), shown
    assert len(shown) >= 3


def test_cross_field_mistakes() -> None:
    text = textwrap.dedent("""\
        faq: support
        entries:
          - id: a
            questions: [How do I sign in?]
            answer: Use your company account.
          - id: a
            questions: [the and of]
            answer: {en: "  "}
        """)
    with pytest.raises(CampaignLoadError) as caught:
        load_faq_text(text, "faq.yaml")
    shown = [str(error) for error in caught.value.errors]
    assert any(s.startswith("faq.yaml:6:") and "used twice" in s for s in shown), shown
    assert any(s.startswith("faq.yaml:7:") and "no searchable word" in s for s in shown), shown
    assert any(s.startswith("faq.yaml:8:") and "answer is empty" in s for s in shown), shown


def test_unsafe_yaml_is_refused() -> None:
    text = "faq: x\nentries: !!python/object/apply:os.system ['true']\n"
    with pytest.raises(CampaignLoadError) as caught:
        load_faq_text(text, "faq.yaml")
    assert str(caught.value.errors[0]).startswith("faq.yaml:2:")


def test_two_files_with_one_faq_id(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(
            "faq: same\nentries:\n  - {id: x, questions: [sign in], answer: here}\n"
        )
    faqs, errors = load_faqs([tmp_path])
    assert len(faqs) == 1
    assert [(e.line, e.field) for e in errors] == [(1, "faq")]
    assert "already used" in errors[0].message


def test_validate_accepts_faqs_and_reports_their_errors(tmp_path: Path) -> None:
    for language in ("fr", "en"):  # one community each: one bot per folder
        result = runner.invoke(app, ["--locale", "en", "validate", str(EXAMPLES / language)])
        assert result.exit_code == 0, result.output
        assert "1 FAQ file" in result.output
    bad = tmp_path / "faq.yaml"
    bad.write_text("faq: support\nentries:\n  - id: a\n    questions: [sign in]\n")
    result = runner.invoke(app, ["--locale", "en", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{bad}:3:" in result.output and "answer" in result.output


def test_a_broken_faq_keeps_its_last_good_version(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text((EXAMPLES / "en" / "faq.yaml").read_text())
    holder = HelpdeskFeature()
    assert holder.load_faq_files([path]) == []
    assert top(holder.faq_index, "I forgot my password")[0] == "password"
    path.write_text("faq: connect-faq-en\nentries: oops\n")
    errors = holder.load_faq_files([path])
    assert errors and errors[0].file == str(path)
    assert top(holder.faq_index, "I forgot my password")[0] == "password"


# ---------------------------------------------------------------------------- ranking


def test_words_are_folded_stemmed_and_stop_words_dropped() -> None:
    assert tokens("Comment INSTALLER l'Application ?", "fr") == ["install", "appliqu"]
    assert tokens("Où télécharger", "fr") == ["telecharg"]
    assert tokens("How do I reset my passwords", "en") == ["reset", "password"]
    assert query_tokens("est-ce que je peux le faire ?") == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("MOT DE PASSE OUBLIE", "mot-de-passe"),
        ("j'ai oublié mon mot de passe", "mot-de-passe"),
        ("installation de l'appli sur android", "appli-mobile"),
        ("comment on rejoint un groupe", "rejoindre-groupe"),
        ("trop de notifs et d'e-mails", "notifications"),
        ("qui peut voir ce que je publie, c'est confidentiel ?", "confidentialite"),
    ],
)
def test_french_questions_find_their_entry(question: str, expected: str) -> None:
    assert expected in top(index_of("fr"), question)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("i FORGOT my Password!!", "password"),
        ("how can I install the app on my iphone", "mobile-app"),
        ("too many emails, how do I mute them", "notifications"),
        ("can my boss read my private messages", "privacy"),
    ],
)
def test_english_questions_find_their_entry(question: str, expected: str) -> None:
    assert top(index_of("en"), question)[0] == expected


def test_nothing_matches_nothing() -> None:
    index = index_of("fr", "en")
    assert index.search("xyzzy plugh") == []
    assert index.search("") == []
    assert FaqIndex(()).search("password") == []
    assert len(index.search("groupe group", k=3)) <= 3


# ---------------------------------------------------------------------------- rota


def test_the_rota_is_read_in_its_time_zone() -> None:
    rota = parse_rota("mon-fri 09:00-18:00 U1,U2; sat 10:00-12:00 slack:U3", "Europe/Paris")
    tuesday = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # 09:30 in Paris
    assert rota.on_duty(tuesday) == ["U1", "U2"]
    assert rota.on_duty(datetime(2026, 11, 3, 7, 30, tzinfo=UTC)) == []  # 08:30
    assert rota.on_duty(datetime(2026, 11, 7, 9, 0, tzinfo=UTC)) == ["slack:U3"]
    assert rota.is_helper("U3", "slack:U3") and not rota.is_helper("U9", "slack:U9")


def test_a_slot_past_midnight() -> None:
    rota = parse_rota("fri 22:00-02:00 night", "UTC")
    assert rota.on_duty(datetime(2026, 11, 6, 23, 0, tzinfo=UTC)) == ["night"]  # Friday
    assert rota.on_duty(datetime(2026, 11, 7, 1, 0, tzinfo=UTC)) == ["night"]  # Saturday early
    assert rota.on_duty(datetime(2026, 11, 7, 23, 0, tzinfo=UTC)) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon-fry 09:00-18:00 U1", '"fry" is not a day'),
        ("mon 9h-18h U1", "is not a time window"),
        ("mon 25:00-26:00 U1", "is not a time of day"),
        ("mon 09:00-18:00", "needs days, hours and helpers"),
        ("mon 09:00-09:00 U1", "starts and ends at the same time"),
    ],
)
def test_rota_mistakes_are_explained(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rota(text)


def test_the_readme_faq_snippet_loads() -> None:
    readme = (ROOT / "docs" / "manual" / "help-channel.md").read_text(encoding="utf-8")
    [snippet] = [
        b
        for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
        if b.startswith("faq: ")
    ]
    faq = load_faq_text(snippet, "README.md")
    assert [e.id for e in faq.entries] == ["password"]
    assert top(index_of("fr"), "mdp oublié, je fais comment ?")[0] == "mot-de-passe"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"RALLYBOT_HELPERS": "lun-ven 09:00-18:00 U1; sun 10-12 U2"}, "is not a time window"),
        ({"RALLYBOT_HELPERS_TIMEZONE": "Europe/Pariss"}, 'unknown time zone "Europe/Pariss"'),
        ({"RALLYBOT_HELP_ESCALATE_MINUTES": "20"}, "must be more than RALLYBOT_HELP_REMIND"),
        ({"RALLYBOT_HELP_STALE_HOURS": "1"}, "must come after the escalation"),
    ],
)
def test_help_settings_are_checked(settings: dict[str, str], message: str) -> None:
    from pydantic import ValidationError

    from rallybot.bot.config import Settings

    with pytest.raises(ValidationError, match=message):
        Settings(**settings)  # type: ignore[arg-type]


def test_help_settings_defaults_and_rota() -> None:
    from rallybot.bot.config import Settings

    settings = Settings(RALLYBOT_HELPERS="lun-ven 09:00-18:00 U1", RALLYBOT_TIMEZONE="UTC")  # type: ignore[call-arg]
    assert (settings.help_remind_minutes, settings.help_escalate_minutes) == (30, 120)
    assert settings.help_channel is None and settings.faq_file is None
    assert settings.rota.timezone == "UTC"
    assert settings.rota.on_duty(datetime(2026, 11, 3, 10, 0, tzinfo=UTC)) == ["U1"]
