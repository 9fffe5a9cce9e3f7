"""The console's message preview: Slack's Block Kit and Discord's embeds and buttons, as HTML,
from the payloads of the bot's own renderers; every text escaped."""

from __future__ import annotations

from rallybot.bot.messages import Button, Image, Message, Sender, member
from rallybot.handlers.console.preview import markdown_html, mrkdwn_html, preview


def test_slack_preview_shows_header_sections_buttons_and_context() -> None:
    message = Message(
        text="**Connect** is open: [read the guide](https://example.com/guide) & enjoy",
        title="Launch day",
        buttons=(
            Button("Open Connect", url="https://connect.example.com"),
            Button("I'm in", action_id="join", value="1", style="primary"),
        ),
        context="Sent by the community team",
        sender=Sender("Ada, CEO"),
    )
    html = str(preview(message).slack)
    assert '<div class="pv-header">Launch day</div>' in html
    assert "<strong>Connect</strong>" in html  # **bold** became Slack's *bold*, then <strong>
    assert (
        '<a href="https://example.com/guide" rel="noopener noreferrer">read the guide</a>' in html
    )
    assert "&amp; enjoy" in html
    assert '<a class="pv-button pv-default" href="https://connect.example.com"' in html
    assert '<span class="pv-button pv-primary">I&#x27;m in</span>' in html
    assert '<div class="pv-context">Sent by the community team</div>' in html
    assert "Ada, CEO" in html


def test_discord_preview_shows_an_embed_for_a_titled_message_and_buttons() -> None:
    message = Message(
        text="Welcome **everyone**",
        title="Launch day",
        buttons=(Button("Open", url="https://connect.example.com"), Button("Join", action_id="j")),
        images=(Image("https://example.com/a.png", "the logo"),),
        context="the team",
    )
    result = preview(message)
    assert result.discord is not None
    html = str(result.discord)
    assert '<div class="pv-embed pv-embed-accent">' in html
    assert '<div class="pv-embed-title">Launch day</div>' in html
    assert "Welcome <strong>everyone</strong>" in html
    assert '<div class="pv-embed-footer">the team</div>' in html
    assert "the logo" not in html  # Discord shows embed images without alt text
    assert 'href="https://example.com/a.png"' in html  # not loaded: a link
    assert "<img" not in html
    assert '<a class="pv-button pv-link" href="https://connect.example.com"' in html
    assert '<span class="pv-button pv-secondary">Join</span>' in html


def test_member_text_and_markup_are_escaped_on_both_platforms() -> None:
    hostile = member("<script>alert(1)</script> **not bold** <@U1> [x](javascript:alert(1))")
    message = Message(text=f"Question from {hostile}")
    result = preview(message)
    assert result.discord is not None
    for html in (str(result.slack), str(result.discord)):
        assert "<script>" not in html
        assert 'href="javascript' not in html
        assert "&lt;script&gt;" in html


def test_plain_discord_message_is_content_with_a_subtext_line() -> None:
    result = preview(Message(text="Hello *you*", context="quiet note"))
    assert result.discord is not None
    html = str(result.discord)
    assert "Hello <em>you</em>" in html
    assert '<span class="pv-subtext">quiet note</span>' in html


def test_markup_converters() -> None:
    assert (
        mrkdwn_html("*b* _i_ ~s~ `*c*`")
        == "<strong>b</strong> <em>i</em> <s>s</s> <code>*c*</code>"
    )
    assert mrkdwn_html("&lt;b&gt; <https://x.org|X> <@U1> <!here>") == (
        '&lt;b&gt; <a href="https://x.org" rel="noopener noreferrer">X</a> '
        '<span class="mention">@U1</span> <span class="mention">@here</span>'
    )
    assert mrkdwn_html("<javascript:alert(1)|x>") == "x"
    assert markdown_html(r"\*\*kept\*\* **b** ~~s~~ [l](https://x.org)") == (
        "**kept** <strong>b</strong> <s>s</s> "
        '<a href="https://x.org" rel="noopener noreferrer">l</a>'
    )
    assert markdown_html("> quoted\n# Title") == (
        '<span class="quote">quoted</span><br><span class="pv-h1">Title</span>'
    )
