"""Survey steps in campaign files: the ``survey:`` block of a step, and its stable ids.

A survey step is an ordinary ``post`` or ``dm`` step (its text invites people to answer)
with a ``survey:`` block::

    - id: pulse-week-1
      at: launch + 7d at 10:00
      dm: {fr: "Deux minutes pour nous dire ?", en: "Two minutes to tell us?"}
      for: pilote
      survey:
        anonymous: true
        questions:
          - {id: overall, kind: rating, text: {fr: "Connect vous plaît ?", en: "Do you like it?"}}
          - {id: recommend, kind: nps, text: "Would you recommend Connect to a colleague?"}
          - id: uses
            kind: multiple
            text: What do you use?
            choices: [News, Groups, Documents]
          - {id: comment, kind: text, text: "Anything to add?", optional: true}

The message gets an "Answer the survey" button; the questions are then asked one by one in
direct messages.

A step with ``every:`` (a pulse) makes one round per occurrence: one answer per member per
round, results per round and a trend over rounds. A round takes answers until
``closes_after`` (a duration from the occurrence: ``6d``, ``48h``), by default until the next
occurrence; a one-off survey with ``at:`` closes after ``closes_after``, by default 14 days
(one whose time is relative to each member's join, ``join + 7d``, does not close unless
told).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator
from pydantic import model_validator as _model_validator

from rallybot.campaigns import words
from rallybot.campaigns.base import LocalizedText, Strict, check_filled
from rallybot.campaigns.timeexpr import TimeExprError, parse_duration
from rallybot.campaigns.words import N_

__all__ = [
    "MAX_CHOICES",
    "MAX_QUESTIONS",
    "SurveyQuestionSpec",
    "SurveySpec",
    "definition",
    "keyed_survey_key",
    "localized",
    "start_label",
    "step_survey_id",
    "survey_id",
    "survey_key",
]

MAX_QUESTIONS = 20
MAX_CHOICES = 10


def start_label(locale: str) -> str:
    """The label of a survey invitation's button in ``locale`` (the bot's words)."""
    # Translators: the button of a survey invitation; a click asks the questions privately.
    return words.gettext(locale, "Answer the survey")


QuestionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class SurveyQuestionSpec(Strict):
    """One question: ``rating`` (1-5), ``nps`` (0-10), ``single``, ``multiple`` or ``text``."""

    id: QuestionId
    kind: Literal["rating", "nps", "single", "multiple", "text"]
    text: LocalizedText
    choices: list[LocalizedText] = Field(default_factory=list, max_length=MAX_CHOICES)
    optional: bool = False

    _text = field_validator("text")(check_filled)

    @field_validator("choices")
    @classmethod
    def _choices(cls, value: list[LocalizedText]) -> list[LocalizedText]:
        for choice in value:
            check_filled(choice)
        return value

    @_model_validator(mode="after")
    def _shape(self) -> SurveyQuestionSpec:
        if self.kind in {"single", "multiple"}:
            if len(self.choices) < 2:
                raise ValueError(
                    N_(
                        'a "{kind}" question needs at least two "choices"',
                        kind=self.kind,
                    )
                )
        elif self.choices:
            raise ValueError(
                N_(
                    '"choices" go with single and multiple questions, not "{kind}"',
                    kind=self.kind,
                )
            )
        return self


class SurveySpec(Strict):
    """The ``survey:`` block of a step."""

    anonymous: bool = False
    title: LocalizedText | None = None
    questions: list[SurveyQuestionSpec] = Field(min_length=1, max_length=MAX_QUESTIONS)
    closes_after: str | None = None

    @field_validator("closes_after")
    @classmethod
    def _closes_after(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                days, seconds = parse_duration(value)
            except TimeExprError as exc:
                raise ValueError(exc.args[0]) from None
            if not days and not seconds:
                raise ValueError(N_('"closes_after" must be longer than zero'))
        return value

    @_model_validator(mode="after")
    def _unique(self) -> SurveySpec:
        seen: set[str] = set()
        for question in self.questions:
            if question.id in seen:
                raise ValueError(
                    N_(
                        'question id "{id}" is used twice',
                        id=question.id,
                    )
                )
            seen.add(question.id)
        return self


def survey_id(campaign_id: str, step_id: str) -> str:
    """The survey's id: ``campaign/step``."""
    return f"{campaign_id}/{step_id}"


def step_survey_id(campaign_id: str, step_id: str, renamed_from: str | None) -> str:
    """The survey of a step: a step renamed from another (``renamed_from``) keeps the old
    id's survey, so its answers stay together and the buttons already sent keep working."""
    return survey_id(campaign_id, renamed_from or step_id)


def survey_key(survey: str) -> str:
    """A short public reference to a survey step, put in the invitation by the planner; the
    bot replaces it with :func:`keyed_survey_key` before the message is stored."""
    return hashlib.sha256(survey.encode()).hexdigest()[:10]


def keyed_survey_key(secret: bytes, survey: str) -> str:
    """The survey's button key: HMAC-SHA-256 of its id with the server secret, 16 hex
    characters (64 bits), so nobody without the secret can make one."""
    return hmac.new(secret, survey.encode(), hashlib.sha256).hexdigest()[:16]


def _as_map(value: LocalizedText, default: str) -> dict[str, str]:
    return {default: value} if isinstance(value, str) else dict(value)


def definition(spec: SurveySpec, default_locale: str) -> list[dict[str, Any]]:
    """The questions as plain data, as stored in ``Survey.questions``."""
    return [
        {
            "id": q.id,
            "kind": q.kind,
            "text": _as_map(q.text, default_locale),
            "choices": [_as_map(c, default_locale) for c in q.choices],
            "optional": q.optional,
        }
        for q in spec.questions
    ]


def localized(value: dict[str, str], wanted: str | None, default: str) -> str:
    """The text of ``value`` in ``wanted``, its base language, ``default``, or the first."""
    for candidate in (wanted, (wanted or "").split("-")[0].split("_")[0], default):
        if candidate and candidate in value:
            return value[candidate]
    return next(iter(value.values()), "")
