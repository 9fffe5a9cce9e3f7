"""One localized text for every kind of file: the same language codes everywhere."""

from __future__ import annotations

import pytest

from rallybot.campaigns.base import check_filled, check_localized
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text

CAMPAIGN = """\
id: regional
title: Regional texts
timezone: America/Sao_Paulo
milestones:
  launch: 2026-09-15 09:30
channels:
  a: general
steps:
  - id: hello
    at: launch
    post: a
    text: {pt_BR: "Olá", en: "Hello"}
  - id: ask
    at: launch + 1d
    dm: {pt_BR: "Uma pergunta"}
    survey:
      questions:
        - {id: q1, kind: rating, text: {pt_BR: "Sua nota?", pt-PT: "A sua nota?"}}
challenges:
  - id: c1
    title: {pt_BR: "Desafio", en: "Challenge"}
    goal: {kind: react}
    start: launch
    end: launch + 7d
"""


@pytest.mark.parametrize("check", [check_localized, check_filled])
def test_regional_codes_pass_and_other_keys_do_not(check: object) -> None:
    assert callable(check)
    assert check({"pt_BR": "Olá", "pt-PT": "Olá", "fr": "Salut"}) is not None
    for key in ("fr!", "", "12", "a-very-long-code"):
        with pytest.raises(ValueError, match="not a language code"):
            check({key: "text"})


def test_only_filled_texts_refuse_empty_ones() -> None:
    assert check_localized({"fr": ""}) == {"fr": ""}  # the campaign's checks place this one
    for empty in ({}, {"fr": " "}, ""):
        with pytest.raises(ValueError, match=r"empty|at least one language"):
            check_filled(empty)


def test_challenges_and_surveys_read_the_codes_steps_read() -> None:
    try:
        campaign = load_campaign_text(CAMPAIGN, "regional.yaml")
    except CampaignLoadError as exc:
        pytest.fail(str(exc))
    [challenge] = campaign.spec.challenges
    assert challenge.title == {"pt_BR": "Desafio", "en": "Challenge"}
    survey = campaign.spec.steps[1].survey
    assert survey is not None and survey.questions[0].text == {
        "pt_BR": "Sua nota?",
        "pt-PT": "A sua nota?",
    }
