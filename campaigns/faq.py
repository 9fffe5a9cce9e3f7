"""The help channel's FAQ: YAML files with a top-level ``faq:`` key, and their search index.

A FAQ file lists entries, each with an id, question variants per language (the ways people
ask it), an answer, tags and links. Files are read safely and validated by the campaign
loader's machinery (errors as ``file:line:column: field: message``).

Matching is BM25 (the ``bm25s`` library) over words folded to lower case without accents,
French and English stop words removed, and reduced to their stem (the Snowball stemmers of
PyStemmer): "Comment installer l'application ?" finds the entry whose variant says
"installation de l'appli".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import Stemmer  # type: ignore[import-not-found]
from pydantic import Field, StringConstraints, field_validator

from rallybot.campaigns.base import (
    Identifier,
    LocalizedText,
    Problem,
    Strict,
    check_localized,
    pick_locale,
    texts_of,
)
from rallybot.campaigns.loader import (
    DocumentKind,
    LoadError,
    read_head,
    yaml_files,
)
from rallybot.campaigns.words import N_

__all__ = [
    "MAX_ENTRIES",
    "Faq",
    "FaqEntry",
    "FaqIndex",
    "FaqSpec",
    "Match",
    "is_faq_file",
    "is_faq_text",
    "load_faq",
    "load_faq_text",
    "load_faqs",
    "tokens",
]

MAX_ENTRIES = 5000
_FAQ_KEY = re.compile(r"^faq[ \t]*:", re.MULTILINE)
_EMPTY = N_("the file is empty: a FAQ needs at least faq and entries")
_KEYS = "faq: ..., entries: ..."

Variant = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class LinkSpec(Strict):
    """A link shown under an answer."""

    label: LocalizedText
    url: str

    _locales = field_validator("label")(check_localized)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://", "mailto:")):
            raise ValueError(
                N_(
                    '"{value}" is not a link (it should start with https://)',
                    value=value,
                )
            )
        return value


class EntrySpec(Strict):
    """One FAQ entry."""

    id: Identifier
    questions: list[Variant] | dict[str, list[Variant]]
    answer: LocalizedText
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20
    )
    links: list[LinkSpec] = Field(default_factory=list, max_length=5)

    _locales = field_validator("answer")(check_localized)

    @field_validator("questions")
    @classmethod
    def _question_locales(
        cls, value: list[str] | dict[str, list[str]]
    ) -> list[str] | dict[str, list[str]]:
        if isinstance(value, dict):
            check_localized({locale: "" for locale in value})
        return value


class FaqSpec(Strict):
    """A whole FAQ file, as written."""

    faq: Identifier
    title: LocalizedText | None = None
    locale: Annotated[str, StringConstraints(min_length=2, max_length=10)] = "fr"
    entries: list[EntrySpec] = Field(min_length=1, max_length=MAX_ENTRIES)

    _locales = field_validator("title")(check_localized)


def _variants(spec: EntrySpec, default: str) -> list[tuple[tuple[str | int, ...], str, str]]:
    """(place in the file, locale, text) of every question variant."""
    if isinstance(spec.questions, list):
        return [(("questions", i), default, text) for i, text in enumerate(spec.questions)]
    return [
        (("questions", locale, i), locale, text)
        for locale, texts in spec.questions.items()
        for i, text in enumerate(texts)
    ]


def check_faq(spec: FaqSpec) -> list[Problem]:
    """Problems across fields: ids used twice, entries without questions or answer."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(spec.entries):
        base: tuple[str | int, ...] = ("entries", index)
        if entry.id in seen:
            problems.append(
                Problem(
                    (*base, "id"),
                    N_(
                        'entry id "{id}" is used twice (first by entry {first})',
                        id=entry.id,
                        first=seen[entry.id] + 1,
                    ),
                )
            )
        else:
            seen[entry.id] = index
        variants = _variants(entry, spec.locale)
        if not variants:
            problems.append(
                Problem((*base, "questions"), N_("give at least one way of asking the question"))
            )
        for place, _locale, text in variants:
            if not tokens(text, _locale):
                problems.append(
                    Problem(
                        (*base, *place),
                        N_("this question has no searchable word (only stop words or punctuation)"),
                    )
                )
        answers = texts_of(entry.answer)
        if not answers:
            problems.append(Problem((*base, "answer"), N_("the answer is empty")))
        for locale, text in answers:
            if not text.strip():
                loc = (*base, "answer") if locale is None else (*base, "answer", locale)
                problems.append(Problem(loc, N_("the answer is empty")))
    return problems


# ---------------------------------------------------------------------------- words

_WORD = re.compile(r"[^\W_]+")
_STEMMERS = {"fr": "french", "en": "english"}


def fold(text: str) -> str:
    """Lower case, without accents: ``"Télécharger"`` -> ``"telecharger"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import (  # type: ignore[import-untyped]  # noqa: PLC0415
        STOPWORDS_EN,
        STOPWORDS_FRENCH,
    )

    extra = frozenset(
        {
            *("comment", "quoi", "est", "ce", "qu", "peut", "peux", "puis", "faut", "faire"),
            *("fait", "svp", "merci", "bonjour", "salut", "je", "ai", "mon", "ma", "mes"),
            *("hello", "hi", "please", "thanks", "can", "could", "how", "what", "does", "do"),
            *("my", "me", "i", "im", "get", "there", "way", "need", "want", "veux", "dois"),
        }
    )
    return frozenset(fold(w) for w in (*STOPWORDS_EN, *STOPWORDS_FRENCH, *extra))


@lru_cache(maxsize=8)
def _stemmer(language: str) -> Any:
    return Stemmer.Stemmer(_STEMMERS.get(language, "english"))


def _language(locale: str | None) -> str:
    base = (locale or "").split("-")[0].split("_")[0].lower()
    return base if base in _STEMMERS else "en"


@lru_cache(maxsize=100_000)
def _term(word: str, language: str) -> str | None:
    """One lower-case word as indexed: None for a stop word, else its stem without accents."""
    if len(word) < 2 or fold(word) in _stop_words():
        return None
    return fold(_stemmer(language).stemWord(word))


def tokens(text: str, locale: str | None) -> list[str]:
    """The searchable words of ``text`` in ``locale``: folded, without stop words, stemmed."""
    language = _language(locale)
    terms = (_term(word, language) for word in _WORD.findall(text.casefold()))
    return [term for term in terms if term is not None]


def query_tokens(text: str) -> list[str]:
    """A question's words stemmed in every supported language (the language is not known)."""
    found: dict[str, None] = {}
    for language in _STEMMERS:
        found.update(dict.fromkeys(tokens(text, language)))
    return list(found)


# ---------------------------------------------------------------------------- compiled form


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """A validated entry, with what it needs to be shown in a language."""

    spec: EntrySpec
    faq_id: str
    default_locale: str

    @property
    def id(self) -> str:
        """The entry id."""
        return self.spec.id

    @property
    def key(self) -> str:
        """``faq/entry``: unique among every FAQ loaded."""
        return f"{self.faq_id}/{self.spec.id}"

    def question(self, locale: str | None) -> str:
        """The first way of asking it in ``locale`` (or its fallback)."""
        questions = self.spec.questions
        if isinstance(questions, list):
            return questions[0]
        joined = {k: "\n".join(v) for k, v in questions.items() if v}
        return pick_locale(joined, locale, self.default_locale)[1].split("\n")[0]

    def answer(self, locale: str | None) -> str:
        """The answer in ``locale`` (or its fallback)."""
        return pick_locale(self.spec.answer, locale, self.default_locale)[1]

    def links(self, locale: str | None) -> list[tuple[str, str]]:
        """(label, url) of the entry's links."""
        return [
            (pick_locale(link.label, locale, self.default_locale)[1], link.url)
            for link in self.spec.links
        ]

    def words(self) -> list[str]:
        """The indexed words: questions (twice: they weigh most), tags and answers."""
        found: list[str] = []
        for _place, locale, text in _variants(self.spec, self.default_locale):
            found.extend(tokens(text, locale) * 2)
        for tag in self.spec.tags:
            found.extend(query_tokens(tag))
        for answer_locale, answer in texts_of(self.spec.answer):
            found.extend(tokens(answer, answer_locale or self.default_locale))
        return found


@dataclass(frozen=True, slots=True)
class Faq:
    """A validated FAQ file."""

    spec: FaqSpec
    source: str
    entries: tuple[FaqEntry, ...]

    @property
    def id(self) -> str:
        """The FAQ id."""
        return self.spec.faq


@dataclass(frozen=True, slots=True)
class Match:
    """An entry found for a question, with its BM25 score."""

    entry: FaqEntry
    score: float


class FaqIndex:
    """A BM25 index over FAQ entries; build it once per (re)load, search it per question."""

    def __init__(self, entries: Sequence[FaqEntry]) -> None:
        self.entries = tuple(entries)
        self._by_key = {entry.key: entry for entry in self.entries}
        self._retriever: Any = None
        if self.entries:
            import bm25s  # type: ignore[import-untyped]  # noqa: PLC0415  # numpy: loaded when a FAQ is

            self._retriever = bm25s.BM25()
            # every document gets at least one token so that bm25s keeps its position
            corpus = [entry.words() or ["\u2205"] for entry in self.entries]
            self._retriever.index(corpus, show_progress=False)
            self._vocabulary = frozenset(self._retriever.vocab_dict)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str) -> FaqEntry | None:
        """The entry with that key (``faq/entry``), if any."""
        return self._by_key.get(key)

    def search(self, question: str, k: int = 3, *, cutoff: float = 0.2) -> list[Match]:
        """Up to ``k`` entries for ``question``, best first; none when no word matches.

        Entries scoring below ``cutoff`` times the best score are left out (noise).
        """
        if self._retriever is None or k <= 0:
            return []
        words = [w for w in query_tokens(question) if w in self._vocabulary]
        if not words:
            return []
        k = min(k, len(self.entries))
        documents, scores = self._retriever.retrieve([words], k=k, show_progress=False, n_threads=0)
        found: list[Match] = []
        best = float(scores[0][0]) if k else 0.0
        for position, score in zip(documents[0], scores[0], strict=True):
            value = float(score)
            if value <= 0 or value < best * cutoff:
                continue
            found.append(Match(self.entries[int(position)], value))
        return found


# ---------------------------------------------------------------------------- loading


def _compile(spec: FaqSpec, source: str) -> Faq:
    return Faq(
        spec=spec,
        source=source,
        entries=tuple(
            FaqEntry(spec=e, faq_id=spec.faq, default_locale=spec.locale) for e in spec.entries
        ),
    )


_FAQ = DocumentKind(FaqSpec, _compile, _EMPTY, _KEYS, check_faq)


def load_faq_text(text: str | bytes, source: str) -> Faq:
    """Load a FAQ from memory; raises :class:`CampaignLoadError` listing every mistake."""
    return _FAQ.load_text(text, source)


def load_faq(path: str | Path) -> Faq:
    """Load one FAQ file; raises :class:`CampaignLoadError` listing every mistake."""
    return _FAQ.load(path)


def is_faq_text(text: str) -> bool:
    """Whether a YAML text is a FAQ (it has a top-level ``faq:`` key)."""
    return _FAQ_KEY.search(text) is not None


def is_faq_file(path: Path) -> bool:
    """Whether the file at ``path`` is a FAQ rather than a campaign or a quiz bank."""
    text = read_head(path)
    return text is not None and is_faq_text(text)


def load_faqs(paths: Iterable[str | Path]) -> tuple[list[Faq], list[LoadError]]:
    """Load the FAQ files among ``paths`` (folders: their FAQ files, other files skipped).

    A FAQ id used by two files is an error at the second file's ``faq``.
    """
    faqs: list[Faq] = []
    errors: list[LoadError] = []
    owners: dict[str, str] = {}
    for path in yaml_files(paths):
        if not is_faq_file(path):
            continue
        faq, found, document = _FAQ.read(None, str(path), path)
        errors.extend(found)
        if faq is None or document is None:
            continue
        if faq.id in owners:
            line, column = document.value_at(("faq",))
            errors.append(
                LoadError(
                    str(path),
                    line,
                    column,
                    "faq",
                    N_(
                        'FAQ id "{id}" is already used by {file}',
                        id=faq.id,
                        file=owners[faq.id],
                    ),
                )
            )
            continue
        owners[faq.id] = str(path)
        faqs.append(faq)
    return faqs, errors
