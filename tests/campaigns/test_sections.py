"""Step sections (:mod:`campaigns.sections`): a block a feature adds to campaign steps is
validated where the file is read, with lines, checked across the file, and hashed only when
a step has it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.campaigns.sections import StepSection, register, section_of, unregister


class TallySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    choices: list[str] = Field(min_length=2, max_length=3)


def _problems(spec: Any, step: Any, value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if step.post is None:
        yield ("..", "dm"), "a tally is posted in a channel"
    if "nope" in value.choices:
        yield ("choices", value.choices.index("nope")), "no nope"


TALLY = StepSection("tally", TallySpec, "a tally (choices: ...)", _problems)

HEAD = """\
id: c
title: C
milestones: {launch: 2026-11-03 09:30}
channels: {general: general}
steps:
  - id: hello
    at: launch
    post: general
    text: Hello
"""


@pytest.fixture
def tally() -> Iterator[StepSection]:
    register(TALLY)
    yield TALLY
    unregister("tally")


def _errors(text: str) -> list[str]:
    with pytest.raises(CampaignLoadError) as caught:
        load_campaign_text(text, "c.yaml")
    return [f"{e.line}: {e.field}: {e.message}" for e in caught.value.errors]


def test_a_registered_block_is_read_and_typed(tally: StepSection) -> None:
    campaign = load_campaign_text(
        HEAD + "  - {id: t, at: launch, post: general, text: Q, tally: {choices: [a, b]}}\n",
        "c.yaml",
    )
    step = campaign.step("t")
    assert step is not None
    value = section_of(step.spec, tally, TallySpec)
    assert value == TallySpec(choices=["a", "b"])
    hello = campaign.step("hello")
    assert hello is not None and section_of(hello.spec, tally, TallySpec) is None


def test_block_mistakes_have_their_line(tally: StepSection) -> None:
    text = HEAD + "  - id: t\n    at: launch\n    post: general\n    text: Q\n    tally:\n"
    assert _errors(text + "      choices: [a]\n") == [
        "15: steps[1].tally.choices: the list needs at least 2 items"
    ]
    assert '15: steps[1].tally.choice: unknown key "choice"' in "\n".join(
        _errors(text + "      choice: [a, b]\n")
    )
    assert _errors(text + "      choices: [a, nope]\n") == [
        "15: steps[1].tally.choices[1]: no nope"
    ]
    assert _errors(HEAD + "  - {id: t, at: launch, post: general, text: Q, tally: 3}\n") == [
        "10: steps[1].tally: expected a tally (choices: ...), got a text"
    ]


def test_the_cross_check_may_point_at_the_step(tally: StepSection) -> None:
    text = HEAD + "  - id: t\n    at: launch\n    dm: Q\n    tally: {choices: [a, b]}\n"
    assert _errors(text) == ["12: steps[1].dm: a tally is posted in a channel"]


def test_without_the_section_the_key_is_unknown() -> None:
    errors = _errors(HEAD + "  - {id: t, at: launch, post: general, text: Q, tally: {}}\n")
    assert len(errors) == 1 and 'unknown key "tally"' in errors[0]


def test_a_step_without_the_block_keeps_its_hash() -> None:
    before = load_campaign_text(HEAD, "c.yaml")
    register(TALLY)
    try:
        after = load_campaign_text(HEAD, "c.yaml")
    finally:
        unregister("tally")
    assert after.steps[0].content_hash == before.steps[0].content_hash
    assert after.content_hash == before.content_hash


def test_a_key_is_registered_once() -> None:
    register(TALLY)
    try:
        with pytest.raises(ValueError, match="two step sections"):
            register(StepSection("tally", TallySpec, "another"))
    finally:
        unregister("tally")
