"""The Discord renderer: content, embeds, buttons and ids within Discord's limits."""

from __future__ import annotations

import discord
import pytest

from rallybot.bot.adapters.discord.render import (
    CONTENT_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    EMBEDS_PER_MESSAGE,
    RallyView,
    custom_id,
    nonce_for,
    parse_custom_id,
    render_message,
)
from rallybot.bot.messages import Button, Image, Message, Sender


def _total(embeds: list[discord.Embed]) -> int:
    return sum(len(e) for e in embeds)


def test_a_plain_message_is_content_with_its_context_as_subtext() -> None:
    rendered = render_message(Message(text="Hello **team**", context="Sent by Rallybot"))
    assert rendered.content == "Hello **team**\n-# Sent by Rallybot"
    assert rendered.embeds == []
    assert rendered.view is None
    assert rendered.username is None and rendered.avatar_url is None


def test_a_titled_message_is_an_embed_with_footer_and_image() -> None:
    message = Message(
        text="Connect opens on Monday.",
        title="Launch day",
        images=(Image("https://img.example/a.png", alt="A"),),
        context="Reply in #help",
    )
    rendered = render_message(message)
    assert rendered.content == ""
    [embed] = rendered.embeds
    assert embed.title == "Launch day"
    assert embed.description == "Connect opens on Monday."
    assert embed.footer.text == "Reply in #help"
    assert embed.image.url == "https://img.example/a.png"
    assert embed.to_dict()["title"] == "Launch day"


def test_each_further_image_gets_its_own_embed_and_links_beyond_ten() -> None:
    urls = [f"https://img.example/{i}.png" for i in range(12)]
    rendered = render_message(Message(text="Gallery", images=tuple(Image(u) for u in urls)))
    assert len(rendered.embeds) == EMBEDS_PER_MESSAGE
    assert [e.image.url for e in rendered.embeds] == urls[:10]
    assert rendered.content.splitlines() == ["Gallery", urls[10], urls[11]]

    titled = render_message(Message(text="x", title="T", images=tuple(Image(u) for u in urls[:3])))
    assert [e.image.url for e in titled.embeds] == urls[:3]
    assert titled.embeds[0].title == "T"


def test_a_long_plain_text_moves_into_embed_descriptions() -> None:
    text = ("word " * 1000).strip()  # 4,999 characters
    rendered = render_message(Message(text=text, context="ctx"))
    assert rendered.content == ""
    assert len(rendered.embeds) == 2
    assert all(len(e.description or "") <= EMBED_DESCRIPTION_LIMIT for e in rendered.embeds)
    joined = " ".join(e.description or "" for e in rendered.embeds)
    assert joined == text
    assert rendered.embeds[-1].footer.text == "ctx"
    assert rendered.embeds[0].footer.text is None


def test_an_enormous_announcement_is_cut_to_discord_limits() -> None:
    message = Message(text="a" * 20_000, title="T" * 300, context="c" * 3000)
    rendered = render_message(message)
    assert len(rendered.embeds[0].title or "") == 256
    assert (rendered.embeds[0].title or "").endswith("…")
    assert len(rendered.embeds[-1].footer.text or "") == 2048
    assert all(len(e.description or "") <= EMBED_DESCRIPTION_LIMIT for e in rendered.embeds)
    assert _total(rendered.embeds) <= EMBED_TOTAL_LIMIT
    assert (rendered.embeds[-1].description or "").endswith("…")


def test_content_never_exceeds_2000_characters_with_its_context() -> None:
    rendered = render_message(Message(text="x" * 1990, context="a long context line"))
    assert len(rendered.content) <= CONTENT_LIMIT
    assert rendered.content.startswith("x" * 1990 + "\n-# ")


def test_the_named_sender_becomes_the_webhook_identity() -> None:
    rendered = render_message(
        Message(text="Hi", sender=Sender("The CEO", "https://img.example/c.png"))
    )
    assert rendered.username == "The CEO"
    assert rendered.avatar_url == "https://img.example/c.png"
    long = render_message(Message(text="Hi", sender=Sender("N" * 100)))
    assert long.username is not None and len(long.username) == 80
    assert long.avatar_url is None


def test_buttons_become_a_persistent_view_five_per_row() -> None:
    buttons = (
        Button("Docs", url="https://docs.example"),
        *(Button(f"Answer {i}", action_id="quiz", value=f"q1/{i}") for i in range(6)),
        Button("Stop", action_id="stop", style="danger"),
        Button("Go", action_id="go", style="primary"),
    )
    rendered = render_message(Message(text="Pick one", buttons=buttons))
    view = rendered.view
    assert isinstance(view, RallyView)
    assert view.timeout is None
    assert view.is_persistent()
    items = [c for c in view.children if isinstance(c, discord.ui.Button)]
    assert [b.row for b in items] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert items[0].style is discord.ButtonStyle.link and items[0].url == "https://docs.example"
    assert items[1].custom_id == "rb:quiz:q1/0"
    assert items[1].style is discord.ButtonStyle.secondary
    assert items[7].style is discord.ButtonStyle.danger
    assert items[8].style is discord.ButtonStyle.primary
    rows = view.to_components()
    assert [len(r["components"]) for r in rows] == [5, 4]


def test_too_many_or_duplicate_buttons_are_refused_clearly() -> None:
    many = tuple(Button(str(i), action_id="a", value=str(i)) for i in range(26))
    with pytest.raises(ValueError, match="at most 25 buttons"):
        render_message(Message(text="x", buttons=many))
    twice = (Button("A", action_id="a", value="v"), Button("B", action_id="a", value="v"))
    with pytest.raises(ValueError, match="distinct custom ids"):
        render_message(Message(text="x", buttons=twice))
    ok = tuple(Button(str(i), action_id="a", value=str(i)) for i in range(25))
    view = render_message(Message(text="x", buttons=ok)).view
    assert view is not None and len(view.to_components()) == 5


def test_custom_ids_round_trip_and_foreign_ids_are_ignored() -> None:
    cid = custom_id("quiz-answer", "lancement-connect/quiz:b")
    assert cid == "rb:quiz-answer:lancement-connect/quiz:b"
    assert parse_custom_id(cid) == ("quiz-answer", "lancement-connect/quiz:b")
    assert parse_custom_id(custom_id("ok", "")) == ("ok", "")
    assert parse_custom_id("some-other-bot:thing") is None
    assert parse_custom_id("rb:") is None
    assert parse_custom_id("rb:novalue") is None


def test_custom_ids_beyond_100_characters_are_refused() -> None:
    assert len(custom_id("a", "v" * 95)) == 100
    with pytest.raises(ValueError, match="Discord allows 100"):
        custom_id("a", "v" * 96)
    with pytest.raises(ValueError, match="without"):
        custom_id("a:b", "v")
    with pytest.raises(ValueError):
        custom_id("", "v")


def test_nonces_are_short_deterministic_and_distinct() -> None:
    key = "lancement-connect/j-7-teaser/member:U123/2026-09-08T09:30"
    assert nonce_for(key) == nonce_for(key)
    assert isinstance(nonce_for(key), str)
    assert len(nonce_for(key)) <= 25
    assert len(nonce_for("x" * 10_000)) <= 25
    assert nonce_for(key) != nonce_for(key + "!")
    assert len({nonce_for(f"k{i}") for i in range(10_000)}) == 10_000


def test_the_rendered_payload_is_accepted_by_discord_py() -> None:
    """discord.py serialises the result as it would for a real send."""
    from discord.http import handle_message_parameters

    rendered = render_message(
        Message(
            text="Hello",
            title="T",
            buttons=(Button("Go", action_id="go", value="x"),),
            images=(Image("https://img.example/1.png"), Image("https://img.example/2.png")),
        )
    )
    params = handle_message_parameters(
        content=rendered.content or None,
        embeds=rendered.embeds,
        view=rendered.view,
        nonce=nonce_for("k"),
    )
    payload = params.payload
    assert payload is not None
    assert len(payload["embeds"]) == 2
    assert payload["components"][0]["components"][0]["custom_id"] == "rb:go:x"
    assert payload["nonce"] == nonce_for("k")
