"""A message as Slack or Discord will show it, in HTML, for the console's timeline.

The HTML is built from the payloads the bot itself sends: the Block Kit blocks of
:func:`bot.adapters.slack.render.render_message` and the content, embeds and buttons of
:func:`bot.adapters.discord.render.render_message`. Each platform's markup (Slack mrkdwn,
Discord Markdown) is turned into HTML by a small converter of the constructs those renderers
write; every text is escaped first, so nothing a campaign or a member wrote becomes markup.

A mention of a person (``<@id>``) shows as the platforms show it, "@" and the person's
display name, when the console knows them (``names``: platform user id to name); their id
otherwise.

Images and avatars are not loaded (the console fetches nothing from elsewhere): each image is
a labelled box with its alternative text and a link to its address.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from rallybot.bot.adapters.slack.render import render_message as render_slack
from rallybot.bot.messages import Message

__all__ = [
    "NOT_INSTALLED",
    "Names",
    "Preview",
    "discord_html",
    "mentioned_ids",
    "preview",
    "slack_html",
]

NOT_INSTALLED = "not installed"
"""The ``discord_error`` of a preview made where the discord extra is not installed."""

Names = Mapping[str, str]
"""Who a mention names: a platform user id to the person's display name."""

_NOBODY: Names = {}

_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_SLACK_ENTITY = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_SAFE_URL = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Preview:
    """One message as both platforms show it (``None``: the platform cannot show it, with
    the reason in ``discord_error``)."""

    slack: Markup
    discord: Markup | None
    discord_error: str | None = None


def _link(url: str, label: str) -> str:
    """An escaped link when ``url`` is a web or mail address, else the label alone."""
    shown = html.escape(label)
    if not _SAFE_URL.match(url):
        return shown
    return f'<a href="{html.escape(url)}" rel="noopener noreferrer">{shown}</a>'


def _slack_unescape(text: str) -> str:
    return re.sub(r"&(amp|lt|gt);", lambda m: _SLACK_ENTITY[m.group(0)], text)


def _inline(
    text: str,
    rules: tuple[tuple[re.Pattern[str], str], ...],
    code: re.Pattern[str],
) -> str:
    """Escaped ``text`` with ``rules`` (pattern, tag) applied outside code spans."""
    out: list[str] = []
    position = 0
    for match in code.finditer(text):
        out.append(_emphasis(text[position : match.start()], rules))
        out.append(f"<code>{html.escape(match.group(1))}</code>")
        position = match.end()
    out.append(_emphasis(text[position:], rules))
    return "".join(out)


def _emphasis(text: str, rules: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    escaped = html.escape(text, quote=False)
    for pattern, tag in rules:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return escaped


_SLACK_CODE = re.compile(r"`([^`\n]+)`")
_SLACK_RULES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)


def _mention(user_id: str, names: Names, label: str | None = None) -> str:
    """A person's mention as a pill: their display name when known (the platforms show the
    current name, whatever label the markup carries), else the label or their id."""
    shown = names.get(user_id) or label or user_id
    return f'<span class="mention">@{html.escape(shown)}</span>'


def _slack_control(target: str, label: str | None, names: Names) -> str:
    """A Slack control sequence ``<target|label>`` as HTML."""
    if target.startswith("@"):
        return _mention(target[1:], names, label)
    if target.startswith("#"):
        return f'<span class="mention">#{html.escape(label or target[1:])}</span>'
    if target.startswith("!"):
        word = target[1:].split("^", 1)[0]
        return f'<span class="mention">@{html.escape(label or word)}</span>'
    return _link(_slack_unescape(target), _slack_unescape(label) if label else target)


def mrkdwn_html(text: str, names: Names = _NOBODY) -> str:
    """Slack mrkdwn (as the Slack renderer writes it) as HTML, mentions by ``names``."""
    lines: list[str] = []
    for line in text.split("\n"):
        quote = line.startswith(">")
        body = line[1:].lstrip() if quote else line
        out: list[str] = []
        position = 0
        for match in _SLACK_LINK.finditer(body):
            out.append(
                _inline(_slack_unescape(body[position : match.start()]), _SLACK_RULES, _SLACK_CODE)
            )
            out.append(_slack_control(match.group(1), match.group(2), names))
            position = match.end()
        out.append(_inline(_slack_unescape(body[position:]), _SLACK_RULES, _SLACK_CODE))
        rendered = "".join(out)
        lines.append(f'<span class="quote">{rendered}</span>' if quote else rendered)
    return "<br>".join(lines)


def _image_box(url: str, alt: str) -> str:
    return (
        f'<figure class="pv-image"><span class="pv-image-box" aria-hidden="true">🖼</span>'
        f"<figcaption>{html.escape(alt or 'image')} · {_link(url, url)}</figcaption></figure>"
    )


def _slack_button(element: dict[str, Any]) -> str:
    label = html.escape(str(element.get("text", {}).get("text", "")))
    style = html.escape(str(element.get("style", "default")))
    if "url" in element:
        url = html.escape(str(element["url"]))
        return f'<a class="pv-button pv-{style}" href="{url}" rel="noopener noreferrer">{label}</a>'
    return f'<span class="pv-button pv-{style}">{label}</span>'


def _slack_block(block: dict[str, Any], names: Names) -> str:
    kind = block.get("type")
    if kind == "header":
        return f'<div class="pv-header">{html.escape(str(block["text"]["text"]))}</div>'
    if kind == "section":
        return f'<div class="pv-section">{mrkdwn_html(str(block["text"]["text"]), names)}</div>'
    if kind == "image":
        return _image_box(str(block["image_url"]), str(block.get("alt_text", "")))
    if kind == "actions":
        buttons = "".join(_slack_button(e) for e in block.get("elements", ()))
        return f'<div class="pv-actions">{buttons}</div>'
    if kind == "context":
        texts = " ".join(
            mrkdwn_html(str(e.get("text", "")), names) for e in block.get("elements", ())
        )
        return f'<div class="pv-context">{texts}</div>'
    return ""


def _avatar(name: str) -> str:
    initial = html.escape((name.strip() or "R")[0].upper())
    return f'<span class="pv-avatar" aria-hidden="true">{initial}</span>'


def slack_html(payload: dict[str, Any], names: Names = _NOBODY) -> Markup:
    """The ``chat.postMessage`` arguments of the Slack renderer as Slack shows them."""
    name = str(payload.get("username") or "Rallybot")
    blocks = "".join(_slack_block(b, names) for b in payload.get("blocks", ()))
    return Markup(
        f'<div class="pv pv-slack">{_avatar(name)}<div class="pv-body">'
        f'<div class="pv-name">{html.escape(name)} <span class="pv-app">APP</span></div>'
        f"{blocks}</div></div>"
    )


_DISCORD_CODE = re.compile(r"`([^`\n]+)`")
_DISCORD_RULES = (
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), "strong"),
    (re.compile(r"__(?=\S)(.+?)(?<=\S)__"), "u"),
    (re.compile(r"(?<![\w*\\])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "em"),
    (re.compile(r"(?<![\w_\\])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), "s"),
)
_DISCORD_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+|mailto:[^)\s]+)\)")
_DISCORD_ESCAPE = re.compile(r"\\([\\*_~|`>#\-\[\]()<@:!+=.])")
# A user mention: Discord's ids are numbers; the console platform's are handles, which the
# preview names the same way when it knows the person.
_DISCORD_MENTION = re.compile(r"<@!?(\d{1,20})>|<@([\w.-]{1,80})>")
# Any platform's user mention in the bot's own text (Slack's may carry a label).
_ANY_MENTION = re.compile(r"<@!?([\w.-]{1,80})(?:\|[^<>]*)?>")


def mentioned_ids(*texts: str | None) -> set[str]:
    """The user ids the ``<@id>`` mentions of ``texts`` name (to look their names up)."""
    return {found for text in texts if text for found in _ANY_MENTION.findall(text)}


def _discord_mention(found: re.Match[str], names: Names) -> str:
    number, handle = found.group(1), found.group(2)
    if number is not None:
        return _mention(number, names)
    if handle in names:
        return _mention(handle, names)
    return html.escape(found.group(0))  # not a mention Discord knows: its text


def _discord_line(text: str, names: Names) -> str:
    # Backslash escapes show their character literally: hold them aside, then format.
    held: list[str] = []

    def hold(value: str) -> str:
        held.append(value)
        return f"\ue000{len(held) - 1}\ue001"

    text = _DISCORD_ESCAPE.sub(lambda m: hold(html.escape(m.group(1))), text)
    text = _DISCORD_LINK.sub(lambda m: hold(_link(m.group(2), m.group(1))), text)
    text = _DISCORD_MENTION.sub(lambda m: hold(_discord_mention(m, names)), text)
    rendered = _inline(text, _DISCORD_RULES, _DISCORD_CODE)
    return re.sub("\ue000(\\d+)\ue001", lambda m: held[int(m.group(1))], rendered)


def markdown_html(text: str, names: Names = _NOBODY) -> str:
    """Discord Markdown (as the Discord renderer writes it) as HTML, mentions by ``names``."""
    lines: list[str] = []
    for line in text.split("\n"):
        if line.startswith("-# "):
            lines.append(f'<span class="pv-subtext">{_discord_line(line[3:], names)}</span>')
        elif line.startswith("> "):
            lines.append(f'<span class="quote">{_discord_line(line[2:], names)}</span>')
        else:
            heading = re.match(r"^(#{1,3}) (.*)$", line)
            if heading:
                level = len(heading.group(1))
                lines.append(
                    f'<span class="pv-h{level}">{_discord_line(heading.group(2), names)}</span>'
                )
            else:
                lines.append(_discord_line(line, names))
    return "<br>".join(lines)


def _discord_embed(embed: dict[str, Any], names: Names) -> str:
    # The bot gives announcements one colour (blurple): a class, as the CSP forbids inline
    # styles.
    accent = " pv-embed-accent" if isinstance(embed.get("color"), int) else ""
    parts: list[str] = []
    if embed.get("title"):
        parts.append(
            f'<div class="pv-embed-title">{markdown_html(str(embed["title"]), names)}</div>'
        )
    if embed.get("description"):
        parts.append(
            f'<div class="pv-embed-text">{markdown_html(str(embed["description"]), names)}</div>'
        )
    image = embed.get("image", {}).get("url")
    if image:
        parts.append(_image_box(str(image), ""))
    footer = embed.get("footer", {}).get("text")
    if footer:
        parts.append(f'<div class="pv-embed-footer">{html.escape(str(footer))}</div>')
    return f'<div class="pv-embed{accent}">{"".join(parts)}</div>'


_DISCORD_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link"}


def _discord_buttons(rows: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for row in rows:
        items: list[str] = []
        for item in row.get("components", ()):
            label = html.escape(str(item.get("label", "")))
            style = _DISCORD_STYLES.get(int(item.get("style", 2)), "secondary")
            if item.get("url"):
                items.append(
                    f'<a class="pv-button pv-{style}" href="{html.escape(str(item["url"]))}"'
                    f' rel="noopener noreferrer">{label} ↗</a>'
                )
            else:
                items.append(f'<span class="pv-button pv-{style}">{label}</span>')
        out.append(f'<div class="pv-actions">{"".join(items)}</div>')
    return "".join(out)


def discord_html(rendered: Any, names: Names = _NOBODY) -> Markup:
    """A :class:`~bot.adapters.discord.render.RenderedMessage` as Discord shows it."""
    name = str(rendered.username or "Rallybot")
    body: list[str] = []
    if rendered.content:
        body.append(f'<div class="pv-section">{markdown_html(rendered.content, names)}</div>')
    body.extend(_discord_embed(embed.to_dict(), names) for embed in rendered.embeds)
    if rendered.view is not None:
        body.append(_discord_buttons(rendered.view.to_components()))
    return Markup(
        f'<div class="pv pv-discord">{_avatar(name)}<div class="pv-body">'
        f'<div class="pv-name">{html.escape(name)} <span class="pv-app">APP</span></div>'
        f"{''.join(body)}</div></div>"
    )


def _discord_renderer() -> Callable[[Message], Any] | None:
    try:
        from rallybot.bot.adapters.discord.render import (  # noqa: PLC0415 (the discord extra)
            render_message,
        )
    except ImportError:  # the discord extra is not installed
        return None
    return render_message


def preview(message: Message, names: Names = _NOBODY) -> Preview:
    """``message`` as Slack and as Discord show it, from the bot's own renderers; the
    people it mentions by their ``names``."""
    slack = slack_html(render_slack(message), names)
    render_discord = _discord_renderer()
    if render_discord is None:
        return Preview(slack, None, NOT_INSTALLED)
    try:
        rendered = render_discord(message)
    except ValueError as exc:  # buttons Discord cannot hold: the send would fail the same way
        return Preview(slack, None, str(exc))
    return Preview(slack, discord_html(rendered, names))
