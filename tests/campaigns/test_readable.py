"""One-line extracts read as words: the light Markdown's marks are left out."""

from __future__ import annotations

import pytest

from rallybot.campaigns.messages import member, readable


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("It is called **Connect**. It opens today", "It is called Connect. It opens today"),
        ("See [the charter](https://intranet.example.com/charter) first", "See the charter first"),
        ("~~Friday~~ Monday, *really*, `/rallybot help`", "Friday Monday, really, /rallybot help"),
        ("__Save the date__: 15 September", "Save the date: 15 September"),
        ("2 * 3 and snake_case_names stay", "2 * 3 and snake_case_names stay"),
    ],
)
def test_markup_is_left_out(text: str, words: str) -> None:
    assert readable(text) == words


def test_a_members_own_words_stay_as_typed() -> None:
    assert readable(f"**Thanks** {member('**Ana**')}!") == "Thanks **Ana**!"
