"""A pure Block Kit renderer for the neutral :class:`~bot.messages.Message` (no I/O).

:func:`render_message` returns the keyword arguments of ``chat.postMessage`` and
``chat.update`` other than ``channel``: ``text`` (the notification fallback), ``blocks``,
``unfurl_links`` and, for a named sender, ``username`` and ``icon_url``.

Text format. Campaign texts are written once for every platform in light Markdown (the
shipped campaigns write ``**Connect**``), so the renderer translates the few constructs that
differ in Slack's mrkdwn and leaves the rest alone:

- ``**bold**`` → ``*bold*``, ``*italic*`` → ``_italic_``, ``~~struck~~`` → ``~struck~``;
- ``[label](https://...)`` → ``<https://...|label>`` (also ``mailto:``);
- a ``* `` list item → ``• `` (Slack has no Markdown lists);
- Slack's own control sequences already in the text are kept verbatim: links
  ``<https://...|label>``, mentions ``<@U123>``, ``<#C123>``, ``<!here>``, ``<!date^...>``;
- code spans and fenced blocks are not translated;
- ``&``, ``<`` and ``>`` are escaped as Slack requires (``&amp;``, ``&lt;``, ``&gt;``),
  except in the control sequences above, in entities the author already escaped, and for a
  ``>`` that opens a quoted line;
- ``plain_text`` (the header, button labels, image alt text) is sent as it is: Slack shows
  it literally and escapes it itself.

Member text (between the marks of :func:`~bot.messages.member`) is never translated: it is
escaped by :func:`member_mrkdwn` so that it shows literally and can produce no control
sequence (no ``<!channel>``, ``<@U…>``, ``<url|label>``), no emphasis, code, strike or quote.
A text holding member text is sent with ``verbatim: true`` so that Slack links no bare URL,
channel name or ``@name`` in it either; the author's bare URLs in it are then written as
explicit ``<url>`` links.

Slack's limits are respected rather than sent and refused: at most 50 blocks (text is cut
with an ellipsis when it would need more), 3,000 characters per section (longer text is split
over several sections at paragraph, line or word boundaries), a 150-character header (a
longer title becomes a bold section), 25 buttons per actions block (125 in all),
75-character button labels and 255-character action ids unique within the message.

Two buttons may share a neutral action id (a quiz's answers differ by value): the second and
later copies get a ``::dup<N>`` suffix, which :func:`original_action_id` strips from a
clicked action. Link buttons carry an action id starting with :data:`LINK_ACTION_PREFIX`;
Slack still sends a ``block_actions`` payload for them, which must be acknowledged and can
be ignored (:func:`is_link_action`).
"""

from __future__ import annotations

import re
from typing import Any

from rallybot.bot.messages import (
    MEMBER_OPEN,
    Button,
    Form,
    Message,
    clean_member_text,
    member_segments,
    plain,
)

__all__ = [
    "FORM_CALLBACK_PREFIX",
    "LINK_ACTION_PREFIX",
    "MAX_BLOCKS",
    "SECTION_TEXT_LIMIT",
    "escape",
    "fallback_text",
    "is_link_action",
    "member_mrkdwn",
    "original_action_id",
    "render_blocks",
    "render_form",
    "render_message",
    "split_text",
    "to_mrkdwn",
]

MAX_BLOCKS = 50
"""Blocks in one message."""
SECTION_TEXT_LIMIT = 3000
"""Characters in a section's text (and in any text object but the header's)."""
HEADER_TEXT_LIMIT = 150
ACTIONS_PER_BLOCK = 25
MAX_ACTIONS_BLOCKS = 5  # 125 buttons: more is a mistake in a campaign, the rest are dropped
BUTTON_LABEL_LIMIT = 75
ACTION_ID_LIMIT = 255
BUTTON_VALUE_LIMIT = 2000
URL_LIMIT = 3000
ALT_TEXT_LIMIT = 2000
USERNAME_LIMIT = 80
FALLBACK_LIMIT = 3000  # notifications show the first lines; the blocks carry the whole text

LINK_ACTION_PREFIX = "rallybot-link-"
"""Action ids of link buttons start with this; a click on one needs no handling."""
_DUP_SUFFIX = re.compile(r"::dup\d+$")
_ELLIPSIS = "…"

# Slack control sequences: links, user/channel mentions, special mentions and dates.
_CONTROL = re.compile(r"<(?:https?://|mailto:|tel:|[@#!])[^<>\n]*>")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s()]+)\)")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\\\w])\*(?=[^*\s])([^*\n]+?)(?<=[^*\s])\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_QUOTE = re.compile(r"^&gt;(?= |$)", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)\* (?=\S)", re.MULTILINE)
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_BARE_URL = re.compile(r"(?<![<|\w])(?:https?://|mailto:)[^\s<>|\ue000\ue001]+")
# Slack has no escape for its emphasis characters: member text shows look-alikes instead.
_MEMBER_MARKUP = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
_MEMBER_LIMIT = 4000


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` as Slack requires, leaving existing entities alone."""
    out: list[str] = []
    position = 0
    for match in _ENTITY.finditer(text):
        out.append(_escape_raw(text[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(_escape_raw(text[position:]))
    return "".join(out)


def _escape_raw(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def member_mrkdwn(text: str) -> str:
    """A member's text as Slack mrkdwn that shows it literally: ``&``, ``<`` and ``>``
    escaped (no mention, link or date of any form), emphasis, strike and code characters
    replaced by look-alikes, a leading ``>`` unable to open a quote."""
    cleaned = clean_member_text(text, _MEMBER_LIMIT).translate(_MEMBER_MARKUP)
    if cleaned.startswith(">"):
        cleaned = "›" + cleaned[1:]
    return _escape_raw(cleaned)


def has_member_text(text: str | None) -> bool:
    """Whether ``text`` holds member text (then it is sent with ``verbatim: true``)."""
    return bool(text) and MEMBER_OPEN in (text or "")


def to_mrkdwn(text: str) -> str:
    """Translate the neutral light Markdown of ``text`` to escaped Slack mrkdwn; member text
    in it is escaped (:func:`member_mrkdwn`), never translated."""
    if not has_member_text(text):
        return _author_mrkdwn(plain(text))
    out: list[str] = []
    for is_member, part in member_segments(text):
        if is_member:
            out.append(member_mrkdwn(part))
        else:  # verbatim: true, so the author's bare links are made explicit
            out.append(_BARE_URL.sub(lambda m: f"<{m.group(0)}>", _author_mrkdwn(part)))
    return "".join(out)


def _author_mrkdwn(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _CODE.finditer(text):
        out.append(_prose(text[position : match.start()]))
        out.append(escape(match.group(0)))  # code: escaped, not translated
        position = match.end()
    out.append(_prose(text[position:]))
    return _QUOTE.sub(">", "".join(out))


def _prose(text: str) -> str:
    if not text:
        return ""
    kept: list[str] = []

    def keep(rendered: str) -> str:
        kept.append(rendered)
        return f"\ue000{len(kept) - 1}\ue001"

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        return keep(f"<{escape(url)}|{escape(label).replace('|', '¦')}>")

    text = _CONTROL.sub(lambda m: keep(m.group(0)), text)  # the author's own: verbatim
    text = _MD_LINK.sub(link, text)
    text = _BULLET.sub("\\1• ", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _BOLD.sub(r"*\1*", text)
    text = _STRIKE.sub(r"~\1~", text)
    return _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], escape(text))


def _truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, never inside a link or entity."""
    if len(text) <= limit:
        return text
    cut = _safe_cut(text, limit - 1) or limit - 1
    return text[:cut].rstrip() + _ELLIPSIS


def _safe_cut(text: str, cut: int) -> int:
    """Move ``cut`` back so that it does not fall inside ``<...>`` or ``&...;``."""
    opening = text.rfind("<", 0, cut)
    if opening != -1 and text.find(">", opening) >= cut:
        cut = opening
    amp = text.rfind("&", max(0, cut - 4), cut)
    entity = _ENTITY.match(text, amp) if amp != -1 else None
    if entity is not None and entity.end() > cut:
        cut = amp
    return cut


def split_text(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Split rendered mrkdwn into chunks of at most ``limit`` characters.

    Cuts at a paragraph break, else a line break, else a space, never inside a link,
    mention or entity; whitespace at the cut is dropped.
    """
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator, 0, limit + 1)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        cut = _safe_cut(rest, cut)
        if cut <= 0:  # one token longer than the limit: cut it anyway
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return [chunk for chunk in chunks if chunk]


def original_action_id(action_id: str) -> str:
    """The neutral action id of a clicked Slack ``action_id`` (without a ``::dup`` suffix)."""
    return _DUP_SUFFIX.sub("", action_id)


def is_link_action(action_id: str) -> bool:
    """True for the action id of a link button (its click needs nothing but an ack)."""
    return action_id.startswith(LINK_ACTION_PREFIX)


def _buttons(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, button in enumerate(buttons[: ACTIONS_PER_BLOCK * MAX_ACTIONS_BLOCKS]):
        label = plain(button.label).strip() or button.action_id or "…"
        label = _truncate(label, BUTTON_LABEL_LIMIT)
        element: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": label, "emoji": True},
        }
        if button.url is not None:
            if len(button.url) > URL_LIMIT:
                continue  # Slack would refuse the whole message
            element["action_id"] = f"{LINK_ACTION_PREFIX}{index}"
            element["url"] = button.url
        else:
            base = (button.action_id or f"button-{index}")[: ACTION_ID_LIMIT - 12]
            count = seen.get(base, 0) + 1
            seen[base] = count
            element["action_id"] = base if count == 1 else f"{base}::dup{count}"
            if button.value:
                element["value"] = button.value[:BUTTON_VALUE_LIMIT]
        if button.style in ("primary", "danger"):
            element["style"] = button.style
        elements.append(element)
    return elements


def _images(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for image in message.images:
        if not image.url or len(image.url) > URL_LIMIT:
            continue
        alt = plain(image.alt).strip() or plain(message.title or "").strip() or "image"
        blocks.append(
            {"type": "image", "image_url": image.url, "alt_text": _truncate(alt, ALT_TEXT_LIMIT)}
        )
    return blocks


def _inline(text: str) -> str:
    """``text`` escaped, not translated; its member text as :func:`member_mrkdwn`."""
    return "".join(
        member_mrkdwn(part) if is_member else escape(part)
        for is_member, part in member_segments(text)
    )


def _title_block(title: str) -> dict[str, Any]:
    shown = " ".join(plain(title).split())
    if len(shown) <= HEADER_TEXT_LIMIT:  # plain_text: Slack shows it literally
        return {"type": "header", "text": {"type": "plain_text", "text": shown, "emoji": True}}
    bold = _truncate(_inline(" ".join(title.split())), SECTION_TEXT_LIMIT - 2)
    return _section(f"*{bold}*", verbatim=has_member_text(title))


def _section(text: str, *, verbatim: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "mrkdwn", "text": text}
    if verbatim:
        body["verbatim"] = True
    return {"type": "section", "text": body}


def render_blocks(message: Message) -> list[dict[str, Any]]:
    """The Block Kit blocks of ``message``: title, text, images, buttons, context."""
    head = [_title_block(message.title)] if message.title and message.title.strip() else []
    elements = _buttons(message.buttons)
    actions = [
        {"type": "actions", "elements": elements[i : i + ACTIONS_PER_BLOCK]}
        for i in range(0, len(elements), ACTIONS_PER_BLOCK)
    ]
    context: list[dict[str, Any]] = []
    if message.context and message.context.strip():
        text = _truncate(to_mrkdwn(message.context.strip()), SECTION_TEXT_LIMIT)
        element: dict[str, Any] = {"type": "mrkdwn", "text": text}
        if has_member_text(message.context):
            element["verbatim"] = True
        context = [{"type": "context", "elements": [element]}]
    room = MAX_BLOCKS - len(head) - len(actions) - len(context)
    chunks = split_text(to_mrkdwn(message.text))
    if len(chunks) > room:
        last = _truncate(chunks[room - 1], SECTION_TEXT_LIMIT - 1).removesuffix(_ELLIPSIS)
        chunks = [*chunks[: room - 1], last + _ELLIPSIS]
    verbatim = has_member_text(message.text)
    sections = [_section(chunk, verbatim=verbatim) for chunk in chunks]
    images = _images(message)[: room - len(sections)]
    return [*head, *sections, *images, *actions, *context]


def fallback_text(message: Message) -> str:
    """The top-level ``text``: shown in notifications and where blocks cannot be; never empty."""
    parts: list[str] = []
    if message.title and message.title.strip():
        parts.append(f"*{_inline(' '.join(message.title.split()))}*")
    if message.text.strip():
        parts.append(to_mrkdwn(message.text.strip()))
    if not parts:
        candidates = [
            message.context or "",
            *(b.label for b in message.buttons),
            *(i.alt for i in message.images),
            message.sender.name if message.sender else "",
        ]
        parts = [_inline(c.strip()) for c in candidates if c.strip()][:1] or ["Rallybot"]
    text = "\n".join(parts)
    if len(text) <= FALLBACK_LIMIT:
        return text
    return _truncate(text, FALLBACK_LIMIT)


def render_message(message: Message) -> dict[str, Any]:
    """The ``chat.postMessage`` / ``chat.update`` arguments for ``message``, but ``channel``."""
    kwargs: dict[str, Any] = {
        "text": fallback_text(message),
        "blocks": render_blocks(message),
        "unfurl_links": False,
        "unfurl_media": False,
    }
    if message.sender is not None:
        name = plain(message.sender.name).strip()
        kwargs["username"] = _truncate(name, USERNAME_LIMIT) or "Rallybot"
        if message.sender.icon_url:
            kwargs["icon_url"] = message.sender.icon_url
    return kwargs


FORM_CALLBACK_PREFIX = "rallybot-form:"
"""The ``callback_id`` of a modal opened for a :class:`~bot.messages.Form` is this + its id."""
MODAL_TITLE_LIMIT = 24
INPUT_LABEL_LIMIT = 2000
PLACEHOLDER_LIMIT = 150
INPUT_MAX_LENGTH = 3000


def _plain(text: str, limit: int) -> dict[str, Any]:
    shown = plain(text).strip()
    return {"type": "plain_text", "text": _truncate(shown, limit) or "…", "emoji": True}


def render_form(form: Form, *, private_metadata: str = "") -> dict[str, Any]:
    """The ``views.open`` modal of ``form``: one input block per field, whose ``block_id``
    and ``action_id`` are the field id (the submission's values come back under them)."""
    blocks: list[dict[str, Any]] = []
    for field in form.fields:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": field.id,
            "multiline": field.multiline,
            "max_length": max(1, min(field.max_length, INPUT_MAX_LENGTH)),
        }
        if field.placeholder:
            element["placeholder"] = _plain(field.placeholder, PLACEHOLDER_LIMIT)
        blocks.append(
            {
                "type": "input",
                "block_id": field.id,
                "optional": not field.required,
                "label": _plain(field.label, INPUT_LABEL_LIMIT),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": (FORM_CALLBACK_PREFIX + form.id)[:255],
        "title": _plain(form.title, MODAL_TITLE_LIMIT),
        "submit": _plain(form.submit, MODAL_TITLE_LIMIT),
        "close": _plain("Cancel", MODAL_TITLE_LIMIT),
        "private_metadata": private_metadata[:3000],
        "blocks": blocks[:MAX_BLOCKS],
    }
