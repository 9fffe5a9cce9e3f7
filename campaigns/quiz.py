"""Quiz question banks: YAML files with a top-level ``bank:`` key, validated like campaigns.

A bank holds questions of three kinds: ``single`` (one correct choice), ``multiple`` (several
correct choices, all of them needed) and ``text`` (free text compared with accepted answers,
ignoring case, accents, spaces and punctuation). Every text may be one string or one per
language (``fr: ...``, ``en: ...``), with the same fallback as campaign messages. Errors are
reported as ``file:line:column: field: message`` by the campaign loader's machinery.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

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
    validate_paths,
    yaml_files,
)
from rallybot.campaigns.schema import (
    Campaign,
    ImageSpec,
)
from rallybot.campaigns.templates import did_you_mean
from rallybot.campaigns.timeexpr import parse_window
from rallybot.campaigns.words import N_, nN_

__all__ = [
    "MAX_CHOICES",
    "MAX_CHOICE_LABEL",
    "Bank",
    "BankSpec",
    "ChoiceSpec",
    "Question",
    "QuestionSpec",
    "is_bank_file",
    "is_bank_text",
    "load_bank",
    "load_bank_text",
    "normalize_answer",
    "parse_window",
    "validate_all",
]

MAX_CHOICES = 25
"""Most choices a question may have: five rows of five buttons (Discord), 25 per Slack block."""
MAX_CHOICE_LABEL = 75
"""Longest choice text: a choice is a button, and Slack cuts button labels at 75 characters."""

_BANK_KEY = re.compile(r"^bank[ \t]*:", re.MULTILINE)
_EMPTY = N_("the file is empty: a quiz bank needs at least bank, title and questions")
_KEYS = "bank: ..., title: ..., questions: ..."


class ChoiceSpec(Strict):
    """One answer shown as a button; ``correct: true`` marks the right one(s)."""

    text: LocalizedText
    correct: bool = False

    _locales = field_validator("text")(check_localized)


class QuestionSpec(Strict):
    """One question of a bank."""

    id: Identifier
    kind: Literal["single", "multiple", "text"] = "single"
    prompt: LocalizedText
    choices: list[ChoiceSpec] = Field(default_factory=list, max_length=MAX_CHOICES)
    answers: list[str] | dict[str, list[str]] | None = None
    explanation: LocalizedText | None = None
    image: ImageSpec | None = None
    points: Annotated[int, Field(ge=0, le=1000)] | None = None

    _locales = field_validator("prompt", "explanation")(check_localized)


class BankSpec(Strict):
    """A whole bank file, as written."""

    bank: Identifier
    title: LocalizedText
    locale: str = "fr"
    locales: list[Annotated[str, StringConstraints(min_length=1, max_length=10)]] = Field(
        default_factory=list
    )
    questions: list[QuestionSpec] = Field(min_length=1, max_length=500)

    _locales = field_validator("title")(check_localized)


# ---------------------------------------------------------------------------- answers

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def normalize_answer(text: str) -> str:
    """``text`` without case, accents, spaces or punctuation (``" Élan-Vital "``: ``elanvital``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(
        char
        for char in decomposed
        if not unicodedata.combining(char)
        and not char.isspace()
        and not unicodedata.category(char).startswith(("P", "C"))
    )


# ---------------------------------------------------------------------------- checks


def _choice_words(kind: str) -> str:
    if kind == "single":
        return N_("a single choice question")
    return N_("a multiple choice question")


def _accepted(spec: QuestionSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """Accepted answers of a text question with their place in the file."""
    if spec.answers is None:
        return []
    if isinstance(spec.answers, list):
        return [(("answers", i), text) for i, text in enumerate(spec.answers)]
    return [
        (("answers", locale, i), text)
        for locale, texts in spec.answers.items()
        for i, text in enumerate(texts)
    ]


def check_bank(spec: BankSpec) -> list[Problem]:
    """Problems that need more than one field: ids used twice, missing correct answers..."""
    problems: list[Problem] = []
    if not any(text.strip() for _, text in texts_of(spec.title)):
        problems.append(Problem(("title",), N_("the title is empty")))
    seen: dict[str, int] = {}
    for index, question in enumerate(spec.questions):
        base: tuple[str | int, ...] = ("questions", index)
        if question.id in seen:
            problems.append(
                Problem(
                    (*base, "id"),
                    N_(
                        'question id "{id}" is used twice (first by question {first})',
                        id=question.id,
                        first=seen[question.id] + 1,
                    ),
                )
            )
        else:
            seen[question.id] = index
        prompts = texts_of(question.prompt)
        if not prompts:
            problems.append(
                Problem((*base, "prompt"), N_("the question is empty: give at least one language"))
            )
        for locale, text in prompts:
            if not text.strip():
                loc = (*base, "prompt") if locale is None else (*base, "prompt", locale)
                problems.append(Problem(loc, N_("the question is empty")))
        if question.kind == "text":
            if question.choices:
                problems.append(
                    Problem(
                        (*base, "choices"),
                        N_(
                            'a text question takes accepted "answers", not choices '
                            "(or use kind: single)"
                        ),
                    )
                )
            accepted = _accepted(question)
            if not accepted:
                problems.append(
                    Problem(base, N_('a text question needs "answers": the accepted answers'))
                )
            for place, text in accepted:
                if not normalize_answer(text):
                    problems.append(
                        Problem(
                            (*base, *place),
                            N_(
                                "this answer is empty once case, accents, spaces and "
                                "punctuation are ignored"
                            ),
                        )
                    )
            continue
        if question.answers is not None:
            problems.append(
                Problem(
                    (*base, "answers"),
                    N_(
                        '"answers" are for text questions: mark the right choice with correct: true'
                    ),
                )
            )
        if len(question.choices) < 2:
            problems.append(
                Problem(
                    (*base, "choices") if question.choices else base,
                    N_(
                        # Translators: {question} is "a single (or multiple) choice question".
                        "{question} needs at least 2 choices",
                        question=_choice_words(question.kind),
                    ),
                )
            )
            continue
        if question.kind == "multiple" and len(question.choices) > MAX_CHOICES - 1:
            problems.append(
                Problem(
                    (*base, "choices"),
                    N_(
                        "a multiple choice question has at most {limit} choices (its "
                        "buttons share the message with a Submit button)",
                        limit=MAX_CHOICES - 1,
                    ),
                )
            )
        correct = [c for c in question.choices if c.correct]
        if not correct:
            problems.append(
                Problem(
                    (*base, "choices"),
                    N_("no choice is marked correct: add correct: true to the right one"),
                )
            )
        elif question.kind == "single" and len(correct) > 1:
            problems.append(
                Problem(
                    (*base, "choices"),
                    nN_(
                        "a single choice question has one correct choice, {n} is marked "
                        "(use kind: multiple)",
                        "a single choice question has one correct choice, {n} are marked "
                        "(use kind: multiple)",
                        len(correct),
                    ),
                )
            )
        labels: dict[str, int] = {}
        for number, choice in enumerate(question.choices):
            for locale, text in texts_of(choice.text):
                loc = (*base, "choices", number, "text")
                if locale is not None:
                    loc = (*loc, locale)
                if not text.strip():
                    problems.append(Problem(loc, N_("the choice is empty")))
                elif len(text) > MAX_CHOICE_LABEL:
                    problems.append(
                        Problem(
                            loc,
                            N_(
                                "a choice is shown on a button: at most {limit} "
                                "characters (this one has {count})",
                                limit=MAX_CHOICE_LABEL,
                                count=len(text),
                            ),
                        )
                    )
                key = f"{locale}:{normalize_answer(text)}"
                if text.strip() and key in labels:
                    problems.append(
                        Problem(
                            loc,
                            N_(
                                "the same choice appears twice (first as choice {first})",
                                first=labels[key] + 1,
                            ),
                        )
                    )
                labels.setdefault(key, number)
    return problems


# ---------------------------------------------------------------------------- compiled form


@dataclass(frozen=True, slots=True)
class Question:
    """A validated question, with helpers to show it in a language and to mark an answer."""

    spec: QuestionSpec
    index: int
    default_locale: str

    @property
    def id(self) -> str:
        """The question id."""
        return self.spec.id

    @property
    def kind(self) -> str:
        """``single``, ``multiple`` or ``text``."""
        return self.spec.kind

    def prompt(self, locale: str | None) -> str:
        """The question in ``locale`` (or its fallback)."""
        return pick_locale(self.spec.prompt, locale, self.default_locale)[1]

    def choices(self, locale: str | None) -> list[str]:
        """The choices' texts in ``locale``."""
        return [pick_locale(c.text, locale, self.default_locale)[1] for c in self.spec.choices]

    def explanation(self, locale: str | None) -> str | None:
        """The explanation in ``locale``, if the bank gives one."""
        if self.spec.explanation is None:
            return None
        return pick_locale(self.spec.explanation, locale, self.default_locale)[1]

    @property
    def correct_choices(self) -> frozenset[int]:
        """Indexes of the correct choices."""
        return frozenset(i for i, c in enumerate(self.spec.choices) if c.correct)

    def accepted(self, locale: str | None) -> list[str]:
        """The accepted answers to show for ``locale`` (all of them when not per language)."""
        answers = self.spec.answers
        if answers is None:
            return []
        if isinstance(answers, list):
            return list(answers)
        return pick_locale({k: "\n".join(v) for k, v in answers.items()}, locale, "")[1].split("\n")

    def is_correct_text(self, text: str) -> bool:
        """Whether a free-text answer matches an accepted one (any language)."""
        given = normalize_answer(text)
        return bool(given) and any(
            normalize_answer(answer) == given for _, answer in _accepted(self.spec)
        )

    def is_correct_choices(self, chosen: Iterable[int]) -> bool:
        """Whether the chosen choices are exactly the correct ones."""
        return frozenset(chosen) == self.correct_choices


@dataclass(frozen=True, slots=True)
class Bank:
    """A validated bank of questions."""

    spec: BankSpec
    source: str
    questions: tuple[Question, ...]

    @property
    def id(self) -> str:
        """The bank id."""
        return self.spec.bank

    def title(self, locale: str | None) -> str:
        """The bank's title in ``locale``."""
        return pick_locale(self.spec.title, locale, self.spec.locale)[1]

    def question(self, question_id: str) -> Question | None:
        """The question with that id, if any."""
        for question in self.questions:
            if question.id == question_id:
                return question
        return None


def _compile(spec: BankSpec, source: str) -> Bank:
    return Bank(
        spec=spec,
        source=source,
        questions=tuple(
            Question(spec=q, index=i, default_locale=spec.locale)
            for i, q in enumerate(spec.questions)
        ),
    )


_BANK = DocumentKind(BankSpec, _compile, _EMPTY, _KEYS, check_bank)


def load_bank_text(text: str | bytes, source: str) -> Bank:
    """Load a bank from memory; raises :class:`CampaignLoadError` listing every mistake."""
    return _BANK.load_text(text, source)


def load_bank(path: str | Path) -> Bank:
    """Load one bank file; raises :class:`CampaignLoadError` listing every mistake."""
    return _BANK.load(path)


def is_bank_text(text: str) -> bool:
    """Whether a YAML text is a quiz bank (it has a top-level ``bank:`` key)."""
    return _BANK_KEY.search(text) is not None


def is_bank_file(path: Path) -> bool:
    """Whether the file at ``path`` is a quiz bank rather than a campaign."""
    text = read_head(path)
    return text is not None and is_bank_text(text)


def quiz_steps(campaign: Campaign) -> Iterator[tuple[int, str, int | None]]:
    """(step index, bank id, question count) of every quiz step of ``campaign``."""
    for step in campaign.steps:
        if step.spec.quiz is not None:
            yield step.index, step.spec.quiz, step.spec.questions


def _find_line(source: str, step_id: str, bank_id: str) -> tuple[int, int]:
    """Line and column of ``quiz: BANK`` in the step ``step_id`` of the file (1, 1 if not found)."""
    try:
        lines = Path(source).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 1, 1
    step = re.compile(rf"(^|[\s{{,-])id:\s*[\"']?{re.escape(step_id)}[\"']?\s*($|[,}}#])")
    quiz = re.compile(rf"(^|[\s{{,])quiz:\s*[\"']?{re.escape(bank_id)}\b")
    started = False
    for number, line in enumerate(lines, 1):
        started = started or step.search(line) is not None
        match = quiz.search(line) if started else None
        if match is not None:
            return number, match.end() - len(bank_id) + 1
    return 1, 1


def check_bank_references(campaigns: Sequence[Campaign], banks: dict[str, Bank]) -> list[LoadError]:
    """Quiz steps naming a bank that is not loaded, or asking more questions than it has."""
    errors: list[LoadError] = []
    for campaign in campaigns:
        for index, bank_id, count in quiz_steps(campaign):
            where = f"steps[{index}].quiz"
            step_id = campaign.steps[index].id
            line, column = _find_line(campaign.source, step_id, bank_id)
            bank = banks.get(bank_id)
            if bank is None:
                known = ", ".join(sorted(banks)) or N_("none loaded")
                errors.append(
                    LoadError(
                        campaign.source,
                        line,
                        column,
                        where,
                        N_(
                            'unknown quiz bank "{bank}"{hint}; banks: {known}',
                            bank=bank_id,
                            hint=did_you_mean(bank_id, banks),
                            known=known,
                        ),
                    )
                )
            elif count is not None and count > len(bank.questions):
                errors.append(
                    LoadError(
                        campaign.source,
                        line,
                        column,
                        f"steps[{index}].questions",
                        N_(
                            '{count} questions asked, bank "{bank}" has {total}',
                            count=count,
                            bank=bank_id,
                            total=len(bank.questions),
                        ),
                    )
                )
    return errors


def validate_all(
    paths: Iterable[str | Path],
) -> tuple[list[Campaign], list[Bank], list[LoadError]]:
    """Validate campaign files and quiz banks together (banks are told by their ``bank:`` key).

    When any bank is among ``paths``, quiz steps must name a bank found there.
    """
    campaign_paths: list[Path] = []
    banks: dict[str, Bank] = {}
    errors: list[LoadError] = []
    for path in yaml_files(paths):
        if not is_bank_file(path):
            campaign_paths.append(path)
            continue
        bank, found, document = _BANK.read(None, str(path), path)
        errors.extend(found)
        if bank is None or document is None:
            continue
        if bank.id in banks:
            line, column = document.value_at(("bank",))
            errors.append(
                LoadError(
                    str(path),
                    line,
                    column,
                    "bank",
                    # Translators: {file} is the path of the file that uses it first.
                    N_(
                        'bank id "{id}" is already used by {file}',
                        id=bank.id,
                        file=banks[bank.id].source,
                    ),
                )
            )
            continue
        banks[bank.id] = bank
    campaigns, campaign_errors = validate_paths(campaign_paths)
    errors.extend(campaign_errors)
    if banks:
        errors.extend(check_bank_references(campaigns, banks))
    return campaigns, list(banks.values()), errors


def sanitize_answer(text: str, limit: int = 200) -> str:
    """A member's free text made safe to store and show: no control characters, one line,
    at most ``limit`` characters (an ellipsis marks a cut)."""
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned
