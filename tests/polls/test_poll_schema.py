"""The ``poll:`` block in campaign files: read, and refused with the loader's lines."""

from __future__ import annotations

import pytest

import rallybot.handlers  # noqa: F401  (the installed features register their step sections)
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.campaigns.sections import section_of
from rallybot.handlers.polls.spec import POLL, PollSpec

HEAD = """\
id: c
title: C
locale: en
milestones: {launch: 2026-11-03 09:30}
channels: {general: general}
steps:
  - id: vote
    at: launch + 1d at 10:00
    post: general
    text: Which one?
    poll:
"""


def _errors(block: str, head: str = HEAD) -> list[str]:
    with pytest.raises(CampaignLoadError) as caught:
        load_campaign_text(head + block, "c.yaml")
    return [f"{e.line}: {e.field}: {e.message}" for e in caught.value.errors]


def test_a_poll_step_is_read() -> None:
    campaign = load_campaign_text(
        HEAD + "      choices: [A, {en: B, fr: Bé}]\n      multiple: true\n"
        "      anonymous: true\n      closes: launch + 2d at 17:00\n",
        "c.yaml",
    )
    step = campaign.step("vote")
    assert step is not None
    poll = section_of(step.spec, POLL, PollSpec)
    assert poll == PollSpec(
        choices=["A", {"en": "B", "fr": "Bé"}],
        multiple=True,
        anonymous=True,
        closes="launch + 2d at 17:00",
    )


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "      choices: [Alone]\n      closes: launch + 2d\n",
            "12: steps[0].poll.choices: the list needs at least 2 items",
        ),
        (
            "      choices: [A, B, C, D, E, F, G, H, I, J, K]\n      closes: launch + 2d\n",
            "12: steps[0].poll.choices: too many choices: at most 10",
        ),
        ("      choices: [A, B]\n", '12: steps[0].poll: missing "closes"'),
        (
            "      choices: [A, B]\n      closes: launch + 2d\n      anonymus: true\n",
            '14: steps[0].poll.anonymus: unknown key "anonymus" (did you mean "anonymous"?)',
        ),
        (
            "      choices: [A, B]\n      closes: lunch + 2d\n",
            '13: steps[0].poll.closes: unknown milestone "lunch" (did you mean "launch"?); '
            "milestones: launch",
        ),
        (
            "      choices: [A, B]\n      closes: launch + 1d at 09:00\n",
            "13: steps[0].poll.closes: the poll closes (launch + 1d at 09:00) before it is "
            "posted (launch + 1d at 10:00)",
        ),
        (
            "      choices: [A, '']\n      closes: launch + 2d\n",
            "12: steps[0].poll.choices[1]: this text is empty",
        ),
        (
            "      choices: [A, B]\n      closes: sometime\n",
            "13: steps[0].poll.closes:",
        ),
    ],
)
def test_mistakes_are_placed(block: str, expected: str) -> None:
    errors = _errors(block)
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_a_poll_is_a_channel_post_at_one_time() -> None:
    head = HEAD.replace("    post: general\n    text: Which one?\n", "    dm: Which one?\n")
    assert _errors("      choices: [A, B]\n      closes: launch + 2d\n", head) == [
        '9: steps[0].dm: a poll is posted in a channel: use "post" (and "text" for the question)'
    ]
    head = HEAD.replace("    at: launch + 1d at 10:00\n", "    every: monday at 10:00\n")
    assert _errors("      choices: [A, B]\n      closes: launch + 2d\n", head) == [
        '8: steps[0].every: a poll runs once: use "at", not "every"'
    ]
