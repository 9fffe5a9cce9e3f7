"""The ``survey:`` block of a campaign step: what loads, what is refused with a clear message,
and the invitation button the planner adds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.campaigns.planner import build_message
from rallybot.campaigns.survey import survey_id, survey_key

BASE = """\
id: c
title: C
channels: {{annonces: general}}
steps:
  - id: other
    at: 2026-09-15 10:00
    post: annonces
    text: hello
  - id: poll
    at: 2026-09-15 10:00
    post: annonces
    text: A poll
    survey:
{survey}
"""

GOOD = """\
      anonymous: true
      questions:
        - {id: q1, kind: rating, text: {fr: "Note ?", en: "Rate?"}}
        - {id: q2, kind: multiple, text: "Uses?", choices: [A, {fr: B, en: Bee}]}
"""


def load(survey: str) -> object:
    return load_campaign_text(BASE.format(survey=survey), "c.yaml")


def test_a_survey_step_loads_and_its_message_has_the_start_button() -> None:
    campaign = load_campaign_text(BASE.format(survey=GOOD), "c.yaml")
    step = campaign.step("poll")
    assert step is not None and step.spec.survey is not None
    assert step.spec.survey.anonymous and len(step.spec.survey.questions) == 2
    message = build_message(campaign, step, datetime(2026, 9, 15, 8, tzinfo=UTC), None)
    (start,) = message.buttons
    assert start.action_id == "survey-start"
    assert start.value == survey_key(survey_id("c", "poll")) and len(start.value) == 10
    other = campaign.step("other")
    assert other is not None and other.spec.survey is None
    assert build_message(campaign, other, datetime(2026, 9, 15, 8, tzinfo=UTC), None).buttons == ()


@pytest.mark.parametrize(
    ("survey", "message"),
    [
        ("      questions: []", "at least 1 item"),
        (
            "      questions:\n        - {id: q, kind: single, text: Pick, choices: [Only]}",
            'a "single" question needs at least two "choices"',
        ),
        (
            "      questions:\n        - {id: q, kind: rating, text: Rate, choices: [A, B]}",
            '"choices" go with single and multiple questions',
        ),
        (
            "      questions:\n        - {id: q, kind: stars, text: Rate}",
            "rating",
        ),
        (
            "      questions:\n        - {id: q, kind: text, text: A}\n"
            "        - {id: q, kind: text, text: B}",
            'question id "q" is used twice',
        ),
        ("      questions:\n        - {id: q, kind: text, text: '  '}", "the text is empty"),
        (
            "      anonymus: true\n      questions:\n        - {id: q, kind: nps, text: N}",
            "anonymus",
        ),
    ],
)
def test_mistakes_get_a_clear_error(survey: str, message: str) -> None:
    with pytest.raises(CampaignLoadError) as caught:
        load(survey)
    assert message in str(caught.value)


def test_a_step_is_not_both_a_quiz_and_a_survey() -> None:
    text = BASE.format(survey=GOOD).replace("    text: A poll\n", "    text: A poll\n    quiz: b\n")
    with pytest.raises(CampaignLoadError, match="a quiz or a survey, not both"):
        load_campaign_text(text, "c.yaml")
