"""Quiz banks and quiz steps: loading, every mistake at its file:line:column, answer matching."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.campaigns.planner import MemberView, plan
from rallybot.campaigns.quiz import (
    is_bank_text,
    load_bank,
    load_bank_text,
    normalize_answer,
    parse_window,
    sanitize_answer,
    validate_all,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "campaigns" / "examples"


def bank_errors(text: str) -> list[str]:
    with pytest.raises(CampaignLoadError) as info:
        load_bank_text(textwrap.dedent(text), "b.yaml")
    return [str(error) for error in info.value.errors]


def campaign_errors(steps: str) -> list[str]:
    text = "id: demo\ntitle: Demo\nchannels:\n  annonces: general\nsteps:\n" + textwrap.indent(
        textwrap.dedent(steps), "  "
    )
    with pytest.raises(CampaignLoadError) as info:
        load_campaign_text(text, "c.yaml")
    return [str(error) for error in info.value.errors]


# ---------------------------------------------------------------------------- the examples


@pytest.mark.parametrize(
    ("path", "bank_id", "locale"),
    [
        ("fr/quiz-connect.yaml", "quiz-connect", "fr"),
        ("en/quiz-connect.yaml", "connect-quiz", "en"),
    ],
)
def test_the_shipped_banks_load(path: str, bank_id: str, locale: str) -> None:
    bank = load_bank(EXAMPLES / path)
    assert bank.id == bank_id and bank.spec.locale == locale
    assert [q.kind for q in bank.questions] == ["single", "multiple", "text", "single"]
    for question in bank.questions:  # the four questions: each explained
        assert question.explanation(locale)
    assert bank.questions[1].correct_choices == frozenset({0, 1, 2})
    assert bank.questions[2].spec.image is not None


def test_validate_accepts_the_shipped_campaigns_and_banks() -> None:
    for language in ("fr", "en"):  # one community each: one bot per folder
        result = CliRunner().invoke(app, ["--locale", "en", "validate", str(EXAMPLES / language)])
        assert result.exit_code == 0, result.output
        assert "no error" in result.output
        assert "1 campaign, 1 quiz bank" in result.output


def test_a_bank_is_told_from_a_campaign_by_its_top_level_key() -> None:
    assert is_bank_text("# a comment\nbank: x\ntitle: y\n")
    assert not is_bank_text("id: x\ntitle: y\nsteps:\n  - bank: no\n")


# ---------------------------------------------------------------------------- answers


def test_free_text_answers_ignore_case_accents_spaces_and_punctuation() -> None:
    bank = load_bank(EXAMPLES / "fr" / "quiz-connect.yaml")
    question = bank.question("premier-pas")
    assert question is not None
    for given in ("profil", "PROFIL", "  Mon   Profil ", "mon-profil!", "Profíl"):
        assert question.is_correct_text(given), given
    for given in ("", "   ", "photo", "profils"):
        assert not question.is_correct_text(given), given
    assert normalize_answer(" Élan-Vital ") == "elanvital"
    assert normalize_answer("ÇA\u0301 VA") == "cava"


def test_hostile_text_is_cut_and_stripped() -> None:
    hostile = "a\x00b\x1b[31mc\u202e\n\t" + "x" * 5000
    cleaned = sanitize_answer(hostile, 200)
    assert len(cleaned) == 200 and cleaned.endswith("…")
    assert cleaned.startswith("ab[31mc x")
    assert not any(ord(c) < 32 or c == "\u202e" for c in cleaned)


def test_answer_windows() -> None:
    assert parse_window("30s").total_seconds() == 30
    assert parse_window("45 seconds").total_seconds() == 45
    assert parse_window("2m").total_seconds() == 120
    with pytest.raises(ValueError, match="is not an answer window"):
        parse_window("soon")
    with pytest.raises(ValueError, match="longer than zero"):
        parse_window("0s")


# ---------------------------------------------------------------------------- bank errors


def test_every_cross_field_mistake_is_reported_at_its_place() -> None:
    assert bank_errors(
        """\
        bank: b
        title: T
        questions:
          - id: q1
            prompt: "Q?"
            choices:
              - text: A
              - text: B
          - id: q1
            kind: multiple
            prompt: ""
            choices:
              - text: A
          - id: q3
            kind: text
            prompt: {fr: "", en: "Why?"}
            choices:
              - text: A
          - id: q4
            prompt: "x"
            choices:
              - {text: A, correct: true}
              - {text: " a ", correct: true}
              - {text: "%s"}
          - id: q5
            kind: text
            prompt: "y"
            answers: ["  ", "ok"]
          - id: q6
            prompt: z
            answers: [x]
            choices: [{text: a, correct: true}, {text: b}]
        """
        % ("x" * 80)
    ) == [
        "b.yaml:7:7: questions[0].choices: no choice is marked correct: "
        "add correct: true to the right one",
        'b.yaml:9:9: questions[1].id: question id "q1" is used twice (first by question 1)',
        "b.yaml:11:13: questions[1].prompt: the question is empty",
        "b.yaml:13:7: questions[1].choices: a multiple choice question needs at least 2 choices",
        'b.yaml:14:5: questions[2]: a text question needs "answers": the accepted answers',
        "b.yaml:16:18: questions[2].prompt.fr: the question is empty",
        'b.yaml:18:7: questions[2].choices: a text question takes accepted "answers", '
        "not choices (or use kind: single)",
        "b.yaml:22:7: questions[3].choices: a single choice question has one correct choice, "
        "2 are marked (use kind: multiple)",
        "b.yaml:23:16: questions[3].choices[1].text: the same choice appears twice "
        "(first as choice 1)",
        "b.yaml:24:16: questions[3].choices[2].text: a choice is shown on a button: "
        "at most 75 characters (this one has 80)",
        "b.yaml:28:15: questions[4].answers[0]: this answer is empty once case, accents, "
        "spaces and punctuation are ignored",
        'b.yaml:31:14: questions[5].answers: "answers" are for text questions: '
        "mark the right choice with correct: true",
    ]


def test_field_mistakes_use_the_campaign_loaders_words() -> None:
    choices = ", ".join(f"{{text: c{i}, correct: true}}" for i in range(26))
    assert bank_errors(
        f"""\
        bank: b
        title: T
        questions:
          - id: q1
            kind: essay
            prompt: "?"
          - id: q2
            prompt: "?"
            colour: red
          - id: q3
            prompt: "?"
            choices: [{choices}]
          - id: q4
            kind: text
            prompt: "?"
            answers: [x]
            points: -3
        """
    ) == [
        'b.yaml:5:11: questions[0].kind: "essay" is not allowed here: '
        'use "single", "multiple" or "text"',
        'b.yaml:9:5: questions[1].colour: unknown key "colour"; allowed keys: id, kind, '
        "prompt, choices, answers, explanation, image, points",
        "b.yaml:12:14: questions[2].choices: too many choices: at most 25",
        "b.yaml:17:13: questions[3].points: this number must be at least 0",
    ]


def test_file_level_mistakes() -> None:
    assert bank_errors("") == [
        "b.yaml:1:1: the file is empty: a quiz bank needs at least bank, title and questions"
    ]
    assert bank_errors("- a\n") == [
        "b.yaml:1:1: the file should be a mapping of keys "
        "(bank: ..., title: ..., questions: ...), not a list"
    ]
    assert bank_errors("bank: Bad Id\ntitle: x\nquestions: []\n") == [
        'b.yaml:1:7: bank: "Bad Id" is not a valid id: use lowercase letters, digits, - and _',
        "b.yaml:3:12: questions: the list needs at least 1 item",
    ]
    assert bank_errors("bank: b\ntitle: !!python/object:os.system x\nquestions: []\n")[0] == (
        'b.yaml:2:8: title: YAML tag "!!python/object:os.system" is not allowed: '
        "campaign files hold plain text, lists and mappings"
    )


# ---------------------------------------------------------------------------- quiz steps


def test_quiz_step_mistakes() -> None:
    assert campaign_errors(
        """\
        - id: a
          at: 2026-09-15 10:00
          quiz: connect-quiz
          mode: self-paced
          post: annonces
        - id: b
          every: weekday at 09:00
          quiz: connect-quiz
          mode: daily
          post: annonces
          window: 30s
        - id: c
          at: 2026-09-15 10:00
          quiz: connect-quiz
          post: annonces
          window: soon
        - id: d
          at: 2026-09-15 10:00
          post: annonces
          text: hi
          mode: live
        - id: e
          at: 2026-09-15 10:00
          quiz: connect-quiz
          mode: daily
          post: annonces
        """
    ) == [
        "c.yaml:6:5: steps[0]: a self-paced quiz is taken in direct messages: "
        'use "for" (an audience), not "post" (or mode: live)',
        'c.yaml:11:5: steps[1]: a question of the day is open until the next one: remove "window"',
        'c.yaml:21:13: steps[2].window: "soon" is not an answer window '
        "(use a number and a unit: 30s, 2m, 1h)",
        'c.yaml:22:5: steps[3]: "mode" goes with "quiz" (a quiz step)',
        'c.yaml:27:5: steps[4]: a question of the day needs "every" (like every: weekday at 09:00)',
    ]


QUIZ_CAMPAIGN = """\
id: quizzes
title: Quizzes
timezone: Europe/Paris
locale: en
channels:
  annonces: general
steps:
  - id: live
    at: 2026-09-15 10:00
    quiz: connect-quiz
    post: annonces
    questions: 2
    window: 20s
  - id: self
    at: 2026-09-15 11:00
    quiz: connect-quiz
"""


def test_a_self_paced_step_invites_by_dm_and_a_live_step_is_left_to_the_quiz_tick() -> None:
    campaign = load_campaign_text(QUIZ_CAMPAIGN, "q.yaml")
    live, self_paced = campaign.steps
    assert live.is_channel_quiz and live.spec.quiz_mode == "live"
    assert self_paced.is_dm and self_paced.spec.quiz_mode == "self-paced"
    members = [MemberView(key="1", locale="fr"), MemberView(key="2", is_bot=True)]
    start, end = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    planned = list(plan(campaign, members, start, end))
    assert [(d.step.id, d.recipient) for d in planned] == [("self", "member:1")]
    message = planned[0].message()
    assert message.text.startswith("Un petit quiz vous attend")
    [button] = message.buttons
    assert (button.label, button.action_id, button.value) == (
        "Commencer le quiz",
        "quiz-start",
        "connect-quiz",
    )
    channel = list(plan(campaign, members, start, end, channel_quizzes=True))
    assert [(d.step.id, d.recipient) for d in channel] == [("live", "channel:annonces")]


def test_validate_checks_the_bank_a_quiz_step_names(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(QUIZ_CAMPAIGN.replace("questions: 2", "questions: 9"))
    (tmp_path / "b.yaml").write_text(
        (EXAMPLES / "en" / "quiz-connect.yaml").read_text().replace("connect-quiz", "other")
    )
    _, banks, errors = validate_all([tmp_path])
    assert [b.id for b in banks] == ["other"]
    assert [str(e) for e in errors] == [
        f'{tmp_path / "c.yaml"}:10:11: steps[0].quiz: unknown quiz bank "connect-quiz"; '
        "banks: other",
        f'{tmp_path / "c.yaml"}:16:11: steps[1].quiz: unknown quiz bank "connect-quiz"; '
        "banks: other",
    ]
    (tmp_path / "b.yaml").write_text((EXAMPLES / "en" / "quiz-connect.yaml").read_text())
    _, _, errors = validate_all([tmp_path])
    assert [str(e) for e in errors] == [
        f"{tmp_path / 'c.yaml'}:10:11: steps[0].questions: 9 questions asked, "
        'bank "connect-quiz" has 4'
    ]


def test_the_readme_bank_and_quiz_steps_are_valid() -> None:
    import re

    readme = (ROOT / "docs" / "manual" / "quizzes.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    [bank_text] = [b for b in blocks if b.startswith("bank: ")]
    bank = load_bank_text(bank_text, "README.md")
    assert [q.id for q in bank.questions] == ["why", "first-step"]
    [steps] = [b for b in blocks if b.startswith("steps:") and "quiz:" in b]
    header = (
        "id: readme\ntitle: R\nmilestones:\n  launch: 2026-09-15 09:30\n"
        "channels:\n  annonces: general\naudiences:\n  pilote: { cohort: pilot }\n"
    )
    campaign = load_campaign_text(header + steps, "README.md")
    assert [s.spec.quiz_mode for s in campaign.steps] == ["live", "self-paced", "daily"]


def test_a_multiple_choice_question_leaves_room_for_its_submit_button() -> None:
    choices = "\n".join(f"      - {{text: c{i}, correct: true}}" for i in range(25))
    assert bank_errors(
        f"bank: b\ntitle: T\nquestions:\n  - id: q\n    kind: multiple\n    prompt: x\n"
        f"    choices:\n{choices}\n"
    ) == [
        "b.yaml:8:7: questions[0].choices: a multiple choice question has at most 24 choices "
        "(its buttons share the message with a Submit button)"
    ]


def test_the_quiz_fields_leave_the_hashes_of_other_steps_unchanged() -> None:
    # Hashes computed before quiz steps existed: a running bot upgraded to quizzes must not
    # see its pending messages as edited.
    campaign = load_campaign_text(
        "id: h\ntitle: H\nchannels:\n  annonces: general\nsteps:\n  - id: a\n"
        "    at: 2026-09-15 10:00\n    post: annonces\n    text: hello\n",
        "h.yaml",
    )
    assert campaign.steps[0].content_hash == "984a8aa14c9092a2"
    quiz = load_campaign_text(QUIZ_CAMPAIGN, "q.yaml")
    changed = load_campaign_text(QUIZ_CAMPAIGN.replace("window: 20s", "window: 25s"), "q.yaml")
    assert quiz.steps[0].content_hash != changed.steps[0].content_hash
