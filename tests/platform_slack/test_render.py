"""The Block Kit renderer: real Block Kit structure (checked by slack_sdk's models), limits."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from rallybot.bot.adapters.slack.render import (
    LINK_ACTION_PREFIX,
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    escape,
    fallback_text,
    is_link_action,
    original_action_id,
    render_message,
    split_text,
    to_mrkdwn,
)
from rallybot.bot.messages import Button, Image, Message, Sender


def valid_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parse every block with slack_sdk's models: they validate Slack's limits on
    serialisation, and a key Slack does not know would be dropped by the round trip."""
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict() == block
    return blocks


def of_type(blocks: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == kind]


def test_the_ceo_announcement_renders_every_part() -> None:
    message = Message(
        text="Today we launch **Connect**.\n• Why? To find the right person.",
        title="Connect is open",
        buttons=(
            Button("Discover Connect", url="https://connect.example.com"),
            Button("Count me in", action_id="pilot-rsvp", value="camp/step", style="primary"),
        ),
        images=(Image("https://connect.example.com/a.png", alt="The launch"),),
        context="Sent by the Connect team",
        sender=Sender("The CEO", "https://connect.example.com/ceo.png"),
        pin=True,
    )
    kwargs = render_message(message)
    assert set(kwargs) == {"text", "blocks", "unfurl_links", "unfurl_media", "username", "icon_url"}
    assert kwargs["username"] == "The CEO"
    assert kwargs["icon_url"] == "https://connect.example.com/ceo.png"
    assert kwargs["unfurl_links"] is False
    blocks = valid_blocks(kwargs["blocks"])
    assert [b["type"] for b in blocks] == ["header", "section", "image", "actions", "context"]
    assert blocks[0]["text"] == {"type": "plain_text", "text": "Connect is open", "emoji": True}
    assert blocks[1]["text"] == {
        "type": "mrkdwn",
        "text": "Today we launch *Connect*.\n• Why? To find the right person.",
    }
    assert blocks[2] == {
        "type": "image",
        "image_url": "https://connect.example.com/a.png",
        "alt_text": "The launch",
    }
    link, action = blocks[3]["elements"]
    assert link["url"] == "https://connect.example.com"
    assert link["action_id"].startswith(LINK_ACTION_PREFIX)
    assert "value" not in link and "style" not in link
    assert action == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Count me in", "emoji": True},
        "action_id": "pilot-rsvp",
        "value": "camp/step",
        "style": "primary",
    }
    assert blocks[4]["elements"] == [{"type": "mrkdwn", "text": "Sent by the Connect team"}]
    assert kwargs["text"].startswith("*Connect is open*\nToday we launch *Connect*.")


def test_a_plain_text_message_is_one_section_without_sender_fields() -> None:
    kwargs = render_message(Message(text="Hello"))
    assert kwargs == {
        "text": "Hello",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def test_a_sender_without_icon_sets_only_the_username() -> None:
    kwargs = render_message(Message(text="Hi", sender=Sender("The Team")))
    assert kwargs["username"] == "The Team"
    assert "icon_url" not in kwargs


def test_no_buttons_means_no_actions_block() -> None:
    blocks = render_message(Message(text="x", title="T", context="c"))["blocks"]
    assert of_type(blocks, "actions") == []
    assert [b["type"] for b in blocks] == ["header", "section", "context"]


def test_style_is_only_set_when_primary_or_danger() -> None:
    buttons = (
        Button("a", action_id="a"),
        Button("b", action_id="b", style="danger"),
        Button("c", action_id="c", style="purple"),
    )
    [actions] = of_type(render_message(Message(text="x", buttons=buttons))["blocks"], "actions")
    assert [e.get("style") for e in actions["elements"]] == [None, "danger", None]
    valid_blocks([actions])


def test_an_empty_value_is_left_out() -> None:
    message = Message(text="x", buttons=(Button("Go", action_id="go"),))
    [actions] = of_type(render_message(message)["blocks"], "actions")
    assert actions["elements"][0] == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Go", "emoji": True},
        "action_id": "go",
    }


def test_shared_action_ids_are_made_unique_and_reversible() -> None:
    answers = tuple(Button(f"Answer {n}", action_id="quiz", value=str(n)) for n in range(4))
    message = Message(text="Which one?", buttons=(*answers, Button("Skip", action_id="skip")))
    [actions] = of_type(render_message(message)["blocks"], "actions")
    ids = [e["action_id"] for e in actions["elements"]]
    assert len(set(ids)) == len(ids)
    assert [original_action_id(i) for i in ids] == ["quiz"] * 4 + ["skip"]
    assert [e["value"] for e in actions["elements"][:4]] == ["0", "1", "2", "3"]
    assert original_action_id("quiz") == "quiz"


def test_link_buttons_get_distinct_recognisable_action_ids() -> None:
    message = Message(
        text="x",
        buttons=(Button("A", url="https://a.example"), Button("B", url="https://b.example")),
    )
    [actions] = of_type(render_message(message)["blocks"], "actions")
    ids = [e["action_id"] for e in actions["elements"]]
    assert len(set(ids)) == 2
    assert all(is_link_action(i) for i in ids)
    assert not is_link_action("pilot-rsvp")


def test_long_labels_and_action_ids_are_cut_to_slack_limits() -> None:
    message = Message(
        text="x",
        buttons=(
            Button("L" * 200, action_id="a" * 400, value="v" * 3000),
            Button("M" * 76, action_id="a" * 400),
        ),
    )
    [actions] = valid_blocks(of_type(render_message(message)["blocks"], "actions"))
    first, second = actions["elements"]
    assert len(first["text"]["text"]) == 75 and first["text"]["text"].endswith("…")
    assert len(first["action_id"]) <= 255 and len(second["action_id"]) <= 255
    assert first["action_id"] != second["action_id"]
    assert len(first["value"]) == 2000


def test_more_than_25_buttons_span_several_actions_blocks() -> None:
    buttons = tuple(Button(f"b{n}", action_id=f"b{n}") for n in range(60))
    blocks = valid_blocks(render_message(Message(text="x", buttons=buttons))["blocks"])
    actions = of_type(blocks, "actions")
    assert [len(a["elements"]) for a in actions] == [25, 25, 10]
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert ids == [f"b{n}" for n in range(60)]


def test_an_empty_label_still_gives_a_valid_button() -> None:
    message = Message(text="x", buttons=(Button("  ", action_id="go"),))
    [actions] = valid_blocks(of_type(render_message(message)["blocks"], "actions"))
    assert actions["elements"][0]["text"]["text"] == "go"


def test_image_alt_text_falls_back_to_the_title_then_image() -> None:
    with_title = Message(text="x", title="Launch day", images=(Image("https://i.example/a.png"),))
    without = Message(text="x", images=(Image("https://i.example/b.png", alt=" "),))
    [first] = of_type(render_message(with_title)["blocks"], "image")
    [second] = of_type(render_message(without)["blocks"], "image")
    assert first["alt_text"] == "Launch day"
    assert second["alt_text"] == "image"
    valid_blocks([first, second])


def test_long_text_is_split_into_sections_under_3000_characters() -> None:
    paragraph = "Connect helps you find the right person. " * 20  # ~820 characters
    text = "\n\n".join(paragraph.strip() for _ in range(10))  # ~8,200 characters
    blocks = valid_blocks(render_message(Message(text=text))["blocks"])
    sections = of_type(blocks, "section")
    assert len(sections) >= 3
    assert all(len(s["text"]["text"]) <= SECTION_TEXT_LIMIT for s in sections)
    # cut at paragraph breaks: every section holds whole paragraphs, nothing is lost
    assert "\n\n".join(s["text"]["text"] for s in sections) == text


def test_a_text_without_breaks_is_cut_hard_and_kept_whole() -> None:
    text = "x" * 7000
    sections = of_type(render_message(Message(text=text))["blocks"], "section")
    assert [len(s["text"]["text"]) for s in sections] == [3000, 3000, 1000]


def test_a_cut_never_falls_inside_a_link_or_an_entity() -> None:
    link = "<https://connect.example.com/a/long/path|the link>"
    text = "y" * 2990 + link + " tail"
    chunks = split_text(text)
    assert all(len(c) <= SECTION_TEXT_LIMIT for c in chunks)
    assert chunks[1].startswith(link)
    escaped = "z" * 2998 + "&amp;" + "z"
    chunks = split_text(escaped)
    assert chunks[0] == "z" * 2998 and chunks[1] == "&amp;z"


def test_a_huge_text_stays_within_50_blocks_and_ends_with_an_ellipsis() -> None:
    message = Message(
        text=("word " * 40_000).strip(),  # 200,000 characters: 67 sections' worth
        title="T",
        buttons=(Button("ok", action_id="ok"),),
        images=(Image("https://i.example/a.png", alt="a"),),
        context="c",
    )
    blocks = valid_blocks(render_message(message)["blocks"])
    assert len(blocks) == MAX_BLOCKS
    assert blocks[0]["type"] == "header"
    assert blocks[-2]["type"] == "actions" and blocks[-1]["type"] == "context"
    sections = of_type(blocks, "section")
    assert len(sections) == MAX_BLOCKS - 3  # the image gave way to the text
    assert sections[-1]["text"]["text"].endswith("…")


def test_a_long_title_becomes_a_bold_section() -> None:
    title = "A very long title " * 10  # 180 characters > 150 for a header
    blocks = valid_blocks(render_message(Message(text="x", title=title))["blocks"])
    assert blocks[0]["type"] == "section"
    assert blocks[0]["text"]["text"] == f"*{title.strip()}*"


def test_a_title_fits_a_header_at_150_characters() -> None:
    blocks = valid_blocks(render_message(Message(text="x", title="t" * 150))["blocks"])
    assert blocks[0]["type"] == "header"


@pytest.mark.parametrize(
    ("neutral", "mrkdwn"),
    [
        ("It is **Connect**", "It is *Connect*"),
        ("an *italic* word", "an _italic_ word"),
        ("**bold and *italic* word**", "*bold and _italic_ word*"),
        ("~~old~~ new", "~old~ new"),
        (
            "see [the site](https://x.example/a?b=1&c=2)",
            "see <https://x.example/a?b=1&amp;c=2|the site>",
        ),
        ("mail [us](mailto:help@x.example)", "mail <mailto:help@x.example|us>"),
        ("Q&A <today> 3 > 2", "Q&amp;A &lt;today&gt; 3 &gt; 2"),
        ("already &amp; escaped &lt;b&gt;", "already &amp; escaped &lt;b&gt;"),
        ("hi <@U123> in <#C42|general> <!here>", "hi <@U123> in <#C42|general> <!here>"),
        ("native <https://x.example|link & more>", "native <https://x.example|link & more>"),
        ("`a **b** <c>` **d**", "`a **b** &lt;c&gt;` *d*"),
        ("```\n**raw** & <x>\n```", "```\n**raw** &amp; &lt;x&gt;\n```"),
        ("> a quote\nnot > this", "> a quote\nnot &gt; this"),
        ("* one\n* two", "• one\n• two"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("snake_case and file*name*x", "snake_case and file*name*x"),
        ("[label|pipe](https://x.example)", "<https://x.example|label¦pipe>"),
    ],
)
def test_markdown_is_translated_and_escaped(neutral: str, mrkdwn: str) -> None:
    assert to_mrkdwn(neutral) == mrkdwn


def test_escape_is_idempotent() -> None:
    once = escape("a & b < c > d")
    assert once == "a &amp; b &lt; c &gt; d"
    assert escape(once) == once


def test_header_text_is_plain_and_not_escaped() -> None:
    blocks = render_message(Message(text="x", title="R&D <news>"))["blocks"]
    assert blocks[0]["text"]["text"] == "R&D <news>"


def test_fallback_text_is_never_empty() -> None:
    assert fallback_text(Message(text="")) == "Rallybot"
    assert fallback_text(Message(text=" ", buttons=(Button("Join", action_id="j"),))) == "Join"
    assert fallback_text(Message(text="", images=(Image("https://i/x.png", alt="Teaser"),))) == (
        "Teaser"
    )
    assert fallback_text(Message(text="", sender=Sender("Claire"))) == "Claire"
    kwargs = render_message(Message(text="", images=(Image("https://i/x.png"),)))
    assert kwargs["text"] and [b["type"] for b in kwargs["blocks"]] == ["image"]


def test_fallback_text_is_escaped_mrkdwn_and_bounded() -> None:
    assert fallback_text(Message(text="a < b", title="R&D")) == "*R&amp;D*\na &lt; b"
    long = fallback_text(Message(text="word " * 5000))
    assert len(long) <= 3000 and long.endswith("…")


def test_a_bad_image_url_is_dropped_rather_than_refused() -> None:
    message = Message(text="x", images=(Image("https://i.example/" + "a" * 3000),))
    assert of_type(render_message(message)["blocks"], "image") == []


def test_rendering_is_pure() -> None:
    message = Message(text="Hello **you**", buttons=(Button("a", action_id="a"),) * 2)
    assert render_message(message) == render_message(message)
    assert message.buttons[0].action_id == "a"
