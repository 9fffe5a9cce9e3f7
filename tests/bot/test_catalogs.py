"""The gettext catalogs: every language has every message of the English catalog with the
same placeholders and all its plural forms, and the English catalog has every message the code
asks for (so a forgotten ``make catalogs`` fails the build). Both domains: the bot's words
(``rallybot``) and the web console's (``console``, its code and its templates)."""

from __future__ import annotations

import ast
import copy
import string
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from rallybot.bot import i18n
from rallybot.handlers.console import words
from tools.console_pot import console_catalog

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "gettext": (2,),
    "ngettext": (2, 3),
    "pgettext": ((2, "c"), 3),
    "N_": None,
    "nN_": (1, 2),
}


DOMAINS = [i18n.DOMAIN, words.DOMAIN]


def load(language: str, domain: str = i18n.DOMAIN) -> Catalog:
    path = resources.files("rallybot.bot").joinpath(
        "locale", language, "LC_MESSAGES", f"{domain}.po"
    )
    with path.open("rb") as po:
        return read_po(po, locale=language)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _forms(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def problems(reference: Catalog, catalog: Catalog) -> list[str]:
    """What ``catalog`` lacks or gets wrong compared with the English ``reference``."""
    found: list[str] = []
    for ref in reference:
        if not ref.id:
            continue
        message = catalog.get(ref.id, ref.context)
        if message is None:
            found.append(f"missing: {ref.id!r}")
            continue
        ids = _forms(ref.id)
        expected = set().union(*(fields(i) for i in ids))
        translated = _forms(message.string)
        if ref.pluralizable and len(translated) != catalog.num_plurals:
            found.append(f"{catalog.num_plurals} plural forms expected: {ref.id!r}")
        if not all(translated) or message.fuzzy:
            found.append(f"untranslated or fuzzy: {ref.id!r}")
        for text in translated:
            if text and fields(text) != expected:
                found.append(f"placeholders {sorted(fields(text))} != {sorted(expected)}: {text!r}")
    return found


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", ["en", "fr", "es", "de"])
def test_every_catalog_is_complete(language: str, domain: str) -> None:
    assert language in i18n.available_languages(domain)
    assert problems(load("en", domain), load(language, domain)) == []


def test_the_check_catches_a_missing_message_a_bad_placeholder_and_a_missing_plural() -> None:
    reference, broken = load("en"), copy.deepcopy(load("de"))
    broken.delete("Last entries:")
    broken["Badges: {badges}."].string = "Abzeichen: {badge}."
    plural = broken[("You have {total} point.", "You have {total} points.")]
    plural.string = ("Du hast {total} Punkt.",)
    found = problems(reference, broken)
    assert "missing: 'Last entries:'" in found
    assert any(p.startswith("placeholders ['badge']") for p in found)
    assert any(p.startswith("2 plural forms expected") for p in found)


def _extracted() -> Iterable[tuple[str | tuple[str, ...], str | None]]:
    # The console's words are in their own domain (babel-bot.cfg leaves them out too).
    method_map = [("console/**", "ignore"), ("**.py", "python")]
    for folder in ("bot", "handlers", "campaigns", "storage"):
        for _, _, message, _, context in extract_from_dir(
            ROOT / folder,
            method_map=method_map,
            keywords=KEYWORDS,
            comment_tags=(),
            strip_comment_tags=True,
        ):
            yield message, context


def test_the_english_catalog_has_every_message_of_the_code() -> None:
    english = load("en")
    seen = list(_extracted())
    assert ("Last entries:", None) in seen  # the extraction finds the points feature's words
    missing = [
        (message, context)
        for message, context in seen
        if english.get(message[0] if isinstance(message, tuple) else message, context) is None
    ]
    assert missing == [], "run `make catalogs`"


def _literal_calls_in_fstrings(source: str) -> list[str]:
    """The messages written as literals in a translation call inside an f-string, where
    Babel's extractor does not see them (they would stay English in every language)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.JoinedStr):
            continue
        for call in ast.walk(node):
            if not isinstance(call, ast.Call):
                continue
            name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
            if name in KEYWORDS:
                found.extend(
                    arg.value
                    for arg in call.args
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                )
    return found


def test_no_message_is_written_inside_an_f_string() -> None:
    found = {
        f"{path.relative_to(ROOT)}: {message!r}"
        for folder in ("bot", "handlers", "campaigns", "storage")
        for path in (ROOT / folder).rglob("*.py")
        for message in _literal_calls_in_fstrings(path.read_text(encoding="utf-8"))
    }
    assert found == set(), sorted(found)


def test_the_f_string_check_catches_a_heading() -> None:
    source = 'h = f"<h2>{e(i18n.gettext(locale, \'Charts\'))}</h2>"\nt = f"{gettext(x, y)}"\n'
    assert _literal_calls_in_fstrings(source) == ["Charts"]


def test_a_locale_falls_back_to_its_language_then_english() -> None:
    one, many = "You have {total} point.", "You have {total} points."
    assert i18n.ngettext("es_MX", one, many, 1) == "Tienes {total} punto."
    assert i18n.ngettext("de-AT", one, many, 2) == "Du hast {total} Punkte."
    assert i18n.ngettext("fr", one, many, 0) == "Vous avez {total} point."  # 0 is singular
    assert i18n.ngettext("it", one, many, 2) == many
    assert i18n.ngettext(None, one, many, 1) == one
    assert i18n.gettext("not a locale!", "Last entries:") == "Last entries:"
    assert i18n.pgettext("de", "points level", "Level: none yet") == "Stufe: noch keine"


def test_the_console_catalog_has_every_message_of_its_code_and_templates() -> None:
    english = load("en", words.DOMAIN)
    seen = [(m.id, m.context) for m in console_catalog() if m.id]
    assert ("Skip to content", None) in seen  # from base.html
    assert (("{n} message", "{n} messages"), None) in seen  # ngettext in timeline.html
    assert ("Please sign in.", None) in seen  # from the Python
    missing = [
        (message, context)
        for message, context in seen
        if english.get(message[0] if isinstance(message, tuple) else message, context) is None
    ]
    assert missing == [], "run `make catalogs`"
    stale = [m.id for m in english if m.id and console_catalog().get(m.id, m.context) is None]
    assert stale == [], "run `make catalogs`"


def test_the_console_domain_is_apart_from_the_bots() -> None:
    assert words.gettext("de", "Skip to content") == "Zum Inhalt springen"
    assert i18n.gettext("de", "Skip to content") == "Skip to content"  # not a bot word
    assert words.ngettext("es_MX", "{n} message", "{n} messages", 2) == "{n} mensajes"
    assert words.ngettext("fr", "{n} message", "{n} messages", 0) == "{n} message"
    assert words.pgettext("fr", "help desk questions", "Open") == "Ouvertes"
    assert words.gettext("fr", "Open") == "Open"  # a word of the catalog with its context only


def test_the_console_writes_counts_and_durations_for_the_locale() -> None:
    from rallybot.handlers.console import sources  # noqa: F401 (registers the filters)
    from rallybot.handlers.console.kit import templates

    page = templates.env.from_string(
        "{{ 5400 | duration }} | {{ 0.456 | pct }} | "
        "{{ ngettext('{n} message', '{n} messages', n, n=n) }}"
    )
    # a duration to the minute, in words, as the HTML report writes it
    assert page.render(locale="en", n=1234) == "1 h 30 min | 46% | 1,234 messages"
    assert page.render(locale="de", n=1234) == "1 Std. 30 Min. | 46\u00a0% | 1.234 Nachrichten"
    assert page.render(locale="fr", n=1) == "1 h 30 min | 46\u00a0% | 1 message"


# A challenge's evidence has one name in each language: the word a member reads when they
# send it must be the word the managers read when they judge it (issue 17).
EVIDENCE_WORDS = {
    "fr": ("preuve", ("soumission", "envoi n°")),
    "es": ("prueba", ("entrega", "envío n.º")),
    "de": ("nachweis", ("einreichung", "abgabe")),
}


@pytest.mark.parametrize("language", sorted(EVIDENCE_WORDS))
def test_a_challenges_evidence_has_one_name(language: str) -> None:
    word, others = EVIDENCE_WORDS[language]
    named: list[str] = []
    for domain in DOMAINS:
        for message in load(language, domain):
            ids = " ".join(_forms(message.id)).lower()
            if not message.id or not any(w in ids for w in ("submission", "evidence")):
                continue
            text = " ".join(_forms(message.string)).lower()
            assert not any(other in text for other in others), (domain, message.id, text)
            if "submission #" in ids or "evidence for" in ids:  # those name it
                named.append(text)
    assert named and all(word in text for text in named), named
