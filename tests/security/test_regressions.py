"""Crashes the fuzz tests found, kept as plain regression tests."""

from __future__ import annotations

import pytest

from rallybot.campaigns.faq import load_faq_text
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.campaigns.quiz import load_bank_text


@pytest.mark.parametrize("load", [load_campaign_text, load_bank_text, load_faq_text])
@pytest.mark.parametrize("text", ["=", "= x", "!!str ="])
def test_a_file_that_is_a_lone_value_tag_is_a_load_error(load: object, text: str) -> None:
    # "=" is YAML's value tag: it was neither refused nor a mapping, and the loader raised
    # IndexError instead of saying the file is not a mapping.
    with pytest.raises(CampaignLoadError) as caught:
        load(text, "one.yaml")  # type: ignore[operator]
    assert str(caught.value.errors[0]).startswith("one.yaml:1:1:")
