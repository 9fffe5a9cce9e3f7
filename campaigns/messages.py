"""The neutral message model: what a campaign step renders to, and what every adapter renders
into its platform's format.

It sits in the campaign-file language, below the kernel: the planner builds these messages
from the files, and templates mark members' names as member text, without importing the
kernel; the kernel, its adapters and the features use the same types through
:mod:`rallybot.bot.messages`. Plain data only: no import beyond the standard library.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, NewType

__all__ = [
    "MEMBER_CLOSE",
    "MEMBER_OPEN",
    "MEMBER_TEXT_LIMIT",
    "Button",
    "Image",
    "MemberText",
    "Message",
    "Sender",
    "clean_member_text",
    "member",
    "member_segments",
    "plain",
    "readable",
]

# ---------------------------------------------------------------------------- member text
#
# Text in a message is either the campaign authors' (and the bot's own words), written in
# light Markdown that the renderers translate, or text that came from members or platforms
# (names, answers, questions, reasons, file names, roster cells). The second kind travels in
# the same ``str`` between two private-use marks, so f-strings, templates, the outbox's JSON
# and truncation keep working; each renderer escapes what lies between the marks for its own
# syntax (see :func:`member_segments`). Features never escape member text themselves.

MEMBER_OPEN = "\ue010"
"""Opens member text inside a message's text, title or context (never typed by anyone)."""
MEMBER_CLOSE = "\ue011"
"""Closes member text."""

MemberText = NewType("MemberText", str)
"""A member's text, cleaned and marked: what :func:`member` returns."""

# What a member's text never carries into a message: C0/C1 controls (line breaks included:
# member text is one line), zero-width and bidi controls (U+200B-U+200F, U+202A-U+202E,
# U+2060-U+206F, U+FEFF, U+061C, U+180E), interlinear annotations, line and paragraph
# separators, and the private-use marks the renderers use for themselves.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b\u200c\u200e\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ue000-\ue01f]"
)
# A zero-width joiner is kept only inside an emoji sequence (family, profession emoji).
_LONE_ZWJ = re.compile(
    "(?<![\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\U0001f3fb-\U0001f3ff])\u200d"
    "|\u200d(?![\U0001f000-\U0001faff\u2600-\u27bf])"
)
_MARKS = re.compile("[\ue010\ue011]")
MEMBER_TEXT_LIMIT = 200
"""The default length of one piece of member text in a message."""


def clean_member_text(text: str | None, limit: int = MEMBER_TEXT_LIMIT) -> str:
    """A member's text as it may be shown: NFC, one line, no control, zero-width or bidi
    characters, at most ``limit`` characters (an ellipsis marks a cut). Not escaped: that is
    each renderer's job."""
    cleaned = unicodedata.normalize("NFC", text or "").replace("\r", " ").replace("\n", " ")
    cleaned = _LONE_ZWJ.sub("", _UNSAFE.sub("", cleaned.replace("\t", " ")))
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cleaned = cleaned[: max(limit - 1, 0)].rstrip() + "…"
    return cleaned


def member(text: str | None, limit: int = MEMBER_TEXT_LIMIT, *, empty: str = "?") -> MemberText:
    """``text`` from a member or a platform, cleaned (:func:`clean_member_text`) and marked as
    member text, to put in a message's text, title or context as it is: the renderers escape
    it (mentions, links, markup) for their platform. ``empty`` stands for a blank text."""
    cleaned = clean_member_text(text, limit) or empty
    return MemberText(f"{MEMBER_OPEN}{cleaned}{MEMBER_CLOSE}" if cleaned else "")


def member_segments(text: str) -> Iterator[tuple[bool, str]]:
    """``text`` as ``(is_member, part)`` pieces, in order, without the marks.

    Fails safe: a piece opened and never closed (text cut in the middle) is member text to
    the end; a stray closing mark is dropped; an opening mark inside member text is ignored.
    """
    position = 0
    inside = False
    for match in _MARKS.finditer(text):
        part = text[position : match.start()]
        position = match.end()
        if match.group(0) == MEMBER_OPEN:
            if inside:
                if part:
                    yield True, part
                continue
            if part:
                yield False, part
            inside = True
        else:
            if part:
                yield inside, part
            inside = False
    rest = text[position:]
    if rest:
        yield inside, rest


def plain(text: str) -> str:
    """``text`` without the member marks (for logs, previews, plain-text fallbacks)."""
    return _MARKS.sub("", text)


# The light Markdown of the campaigns' words (links, bold, underline, strike, italic, code),
# as the renderers read it, down to its words.
_MARKUP = (
    (re.compile(r"\[([^\]\n]+)\]\((?:https?://|mailto:)[^\s()]+\)"), r"\1"),
    (re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![*\\\w])\*(?=[^*\s])([^*\n]+?)(?<=[^*\s])\*(?![*\w])"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),
)


def readable(text: str) -> str:
    """``text`` as a person reads it in a one-line extract: no member marks, and the light
    Markdown's marks of the campaign's words left out ("It is called **Connect**" reads "It is
    called Connect")."""
    out: list[str] = []
    for is_member, part in member_segments(text):
        shown = part
        if not is_member:  # a member's own words are shown as they typed them
            for pattern, words in _MARKUP:
                shown = pattern.sub(words, shown)
        out.append(shown)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Button:
    """A button: a link when ``url`` is set, otherwise an action the bot receives back."""

    label: str
    url: str | None = None
    action_id: str | None = None
    value: str = ""
    style: str | None = None  # "primary" or "danger"
    opens_form: bool = False  # the bot answers the click with a form (see Form): do not defer


@dataclass(frozen=True, slots=True)
class Image:
    """An image shown with the message."""

    url: str
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Sender:
    """A named sender for announcements (the CEO's name and picture)."""

    name: str
    icon_url: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One outgoing message, whatever the platform."""

    text: str
    title: str | None = None
    buttons: tuple[Button, ...] = ()
    images: tuple[Image, ...] = ()
    context: str | None = None
    sender: Sender | None = None
    pin: bool = False
    metadata: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stored in the outbox)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """The inverse of :meth:`to_dict`."""
        sender = data.get("sender")
        return cls(
            text=data["text"],
            title=data.get("title"),
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            images=tuple(Image(**i) for i in data.get("images", ())),
            context=data.get("context"),
            sender=Sender(**sender) if sender else None,
            pin=bool(data.get("pin", False)),
            metadata=dict(data.get("metadata", {})),
        )

    def plain_text(self) -> str:
        """A plain-text rendering, used as a fallback and in previews."""
        parts = [f"*{plain(self.title)}*"] if self.title else []
        parts.append(plain(self.text))
        parts.extend(
            f"[{plain(b.label)}]({b.url})" if b.url else f"[{plain(b.label)}]" for b in self.buttons
        )
        parts.extend(f"![{plain(i.alt)}]({i.url})" for i in self.images)
        if self.context:
            parts.append(plain(self.context))
        return "\n".join(parts)
