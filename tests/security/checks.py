"""What a rendered message must never do, per platform, whatever member text it carries.

Each function returns a list of problems (empty when the message is safe), so a failing test
shows every problem at once. ``benign`` is the same message built with harmless member text:
member text may not add a mention, a link, a control sequence or a formatting character
that the benign rendering does not have. ``mentions`` are the user ids the bot means to
mention (the helper on duty, the buddy): they must still be there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rallybot.bot.adapters.discord.render import (
    CONTENT_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    RenderedMessage,
)
from rallybot.bot.adapters.slack.render import HEADER_TEXT_LIMIT, MAX_BLOCKS, SECTION_TEXT_LIMIT
from rallybot.bot.messages import clean_member_text
from tests.security.corpus import EVIL_HOST

__all__ = ["benign_twin", "discord_problems", "slack_problems"]

# Never in anything sent: bidi controls, zero-width characters but the emoji joiner, the
# C0/C1 controls but the line break, and the renderers' own private-use marks.
_FORBIDDEN = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200b\u200c\u200e\u200f\u2060\ufeff\u061c"
    "\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ue000-\ue01f]"
)
_SLACK_CONTROL = re.compile(r"<([^<>]*)>")
_SLACK_FORMATTING = "*_~`"
_DISCORD_ESCAPED = re.compile(r"\\.", re.DOTALL)
_DISCORD_TOKENS = {
    "mass mention": re.compile(r"@(?:everyone|here)"),
    "mention or reference": re.compile(r"<(?:@[!&]?|#|/|:|a:|t:)"),
    "masked link": re.compile(r"\]\("),
    "link": re.compile(r"://|www\."),
    "angle link": re.compile(r"<(?:https?|mailto):"),
}
_DISCORD_FORMATTING = "*_~|`"
_DISCORD_LINE_STARTS = re.compile(r"^(?:#|>|-#|- |\d+\. )", re.MULTILINE)


def benign_twin(text: str) -> str:
    """Harmless member text that renders with the same layout as ``text``: its letters, digits
    and punctuation turned into ``a``, its spaces kept, after the same cleaning."""
    return "".join(" " if c.isspace() else "a" for c in clean_member_text(text, 1_000_000))


def _slack_texts(rendered: dict[str, Any]) -> tuple[list[tuple[str, bool]], list[str]]:
    """The mrkdwn texts (with their ``verbatim`` flag) and the plain texts of a message."""
    mrkdwn: list[tuple[str, bool]] = [(str(rendered.get("text", "")), False)]
    plain: list[str] = [str(rendered.get("username", ""))]
    for block in rendered.get("blocks", []):
        kind = block["type"]
        if kind == "header":
            plain.append(block["text"]["text"])
        elif kind == "section":
            mrkdwn.append((block["text"]["text"], bool(block["text"].get("verbatim"))))
        elif kind == "context":
            mrkdwn.extend((e["text"], bool(e.get("verbatim"))) for e in block["elements"])
        elif kind == "actions":
            plain.extend(e["text"]["text"] for e in block["elements"])
        elif kind == "image":
            plain.append(block["alt_text"])
    return mrkdwn, plain


def _count(texts: Iterable[str], chars: str) -> int:
    return sum(text.count(char) for text in texts for char in chars)


def slack_problems(
    rendered: dict[str, Any],
    benign: dict[str, Any] | None = None,
    *,
    mentions: Iterable[str] = (),
) -> list[str]:
    """What is wrong with ``chat.postMessage`` arguments (see the module docstring)."""
    problems: list[str] = []
    mrkdwn, plain = _slack_texts(rendered)
    wanted = {f"@{user}" for user in mentions}
    blocks = rendered.get("blocks", [])
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks")
    for index, (text, verbatim) in enumerate(mrkdwn):
        for control in _SLACK_CONTROL.findall(text):
            if control.startswith("!"):
                problems.append(f"mass mention or special control <{control}>")
            elif control.startswith(("@", "#")) and control.split("|")[0] not in wanted:
                problems.append(f"unwanted mention <{control}>")
            elif EVIL_HOST in control:
                problems.append(f"member link <{control}>")
        # index 0 is the notification fallback: never shown as a message, never clickable
        if EVIL_HOST in text and not verbatim and index > 0:
            problems.append("a member URL in a text Slack would link (not verbatim)")
        if len(text) > SECTION_TEXT_LIMIT:
            problems.append(f"a text of {len(text)} characters")
    for text in [t for t, _ in mrkdwn] + plain:
        if _FORBIDDEN.search(text):
            problems.append(f"forbidden character {_FORBIDDEN.search(text)!r}")
    for block in blocks:
        if block["type"] == "header" and len(block["text"]["text"]) > HEADER_TEXT_LIMIT:
            problems.append("a header over 150 characters")
    shown = " ".join(t for t, _ in mrkdwn)
    for user in wanted:
        if f"<{user}>" not in shown:
            problems.append(f"the wanted mention <{user}> is gone")
    if benign is not None:
        benign_mrkdwn, _ = _slack_texts(benign)
        texts = [t for t, _ in mrkdwn[1:]]
        before = [t for t, _ in benign_mrkdwn[1:]]
        if _count(texts, _SLACK_FORMATTING) > _count(before, _SLACK_FORMATTING):
            problems.append("member text added formatting characters")
        quoted = sum(len(re.findall(r"^>", t, re.MULTILINE)) for t in texts)
        if quoted > sum(len(re.findall(r"^>", t, re.MULTILINE)) for t in before):
            problems.append("member text opened a quote")
        controls = sum(len(_SLACK_CONTROL.findall(t)) for t in texts)
        if controls > sum(len(_SLACK_CONTROL.findall(t)) for t in before):
            problems.append("member text added a control sequence")
    return problems


def _discord_texts(rendered: RenderedMessage) -> tuple[list[str], list[str]]:
    """Markdown texts (content, titles, descriptions) and plain ones (footers, name)."""
    markdown = [rendered.content]
    plain = [rendered.username or ""]
    for embed in rendered.embeds:
        markdown.extend([embed.title or "", embed.description or ""])
        plain.append(embed.footer.text or "")
    if rendered.view is not None:
        plain.extend(str(getattr(item, "label", "") or "") for item in rendered.view.children)
    return markdown, plain


def _unescaped(text: str) -> str:
    """``text`` with every backslash escape replaced by an inert character."""
    return _DISCORD_ESCAPED.sub("·", text)


def discord_problems(
    rendered: RenderedMessage,
    benign: RenderedMessage | None = None,
    *,
    mentions: Iterable[str] = (),
) -> list[str]:
    """What is wrong with a rendered Discord message (see the module docstring)."""
    problems: list[str] = []
    allowed = rendered.allowed_mentions.to_dict()
    wanted = {int(user) for user in mentions}
    if allowed.get("parse"):
        problems.append(f"allowed_mentions parses {allowed['parse']}")
    if allowed.get("roles"):
        problems.append("allowed_mentions names roles")
    users = {int(u) for u in allowed.get("users", [])}
    if not wanted <= users:
        problems.append(f"the wanted mentions {sorted(wanted - users)} are not allowed")
    markdown, plain = _discord_texts(rendered)
    for text in markdown + plain:
        if _FORBIDDEN.search(text):
            problems.append(f"forbidden character {_FORBIDDEN.search(text)!r}")
    live = [_unescaped(text) for text in markdown]
    for text in live:
        if EVIL_HOST in text and re.search(rf"(?:://|www\.)[^\s]*{re.escape(EVIL_HOST)}", text):
            problems.append("a member URL Discord would link")
    if len(rendered.content) > CONTENT_LIMIT:
        problems.append(f"content of {len(rendered.content)} characters")
    total = 0
    for embed in rendered.embeds:
        if len(embed.description or "") > EMBED_DESCRIPTION_LIMIT:
            problems.append("an embed description over the limit")
        total += len(embed.title or "") + len(embed.description or "")
        total += len(embed.footer.text or "")
    if total > EMBED_TOTAL_LIMIT:
        problems.append(f"embeds of {total} characters")
    for user in wanted:
        if not any(f"<@{user}>" in text for text in live):
            problems.append(f"the wanted mention <@{user}> is gone")
    if benign is None:
        for name in ("mass mention",):
            if any(_DISCORD_TOKENS[name].search(text) for text in live):
                problems.append(name)
        return problems
    before = [_unescaped(text) for text in _discord_texts(benign)[0]]
    for name, pattern in _DISCORD_TOKENS.items():
        if sum(len(pattern.findall(t)) for t in live) > sum(
            len(pattern.findall(t)) for t in before
        ):
            problems.append(f"member text added a {name}")
    if _count(live, _DISCORD_FORMATTING) > _count(before, _DISCORD_FORMATTING):
        problems.append("member text added formatting characters")
    if sum(len(_DISCORD_LINE_STARTS.findall(t)) for t in live) > sum(
        len(_DISCORD_LINE_STARTS.findall(t)) for t in before
    ):
        problems.append("member text started a heading, quote or list")
    return problems
