"""A pure renderer from the neutral :class:`~bot.messages.Message` to what discord.py sends.

Nothing here talks to Discord: :func:`render_message` returns content, embeds, a view and the
webhook identity (name and avatar), all within Discord's limits:

- a message without a title is plain content (up to 2,000 characters), its context a subtext
  line (``-# ...``); a longer text moves into embed descriptions;
- a titled message (an announcement) is an embed: title (256), description (4,096, continued
  in a second embed when longer), context as the footer (2,048); never more than 6,000
  characters over all embeds, cut with "…" beyond;
- images are embed images, one embed per image (at most 10 embeds; further images are
  listed as links in the content);
- buttons become a :class:`RallyView`: link buttons open their url, action buttons carry a
  custom id ``rb:<action_id>:<value>`` (see :func:`custom_id`), five per row, five rows.

Buttons keep working after a restart without registering any view: the custom id carries the
action and its value, so the adapter handles every component interaction generically in
``on_interaction`` with :func:`parse_custom_id`. :class:`RallyView` has ``timeout=None`` (it
is persistent in discord.py's sense) and no callbacks of its own.

Member text (between the marks of :func:`~bot.messages.member`) is escaped by
:func:`member_markdown`: every Markdown and mention character gets a backslash, so it shows
literally (no ``@everyone``, ``<@id>``, ``<@&role>``, ``[label](url)``, emphasis, spoiler,
code, heading or quote); the colon of a URL is escaped too, so a member's URL shows as text:
neither a link nor a preview. In an embed footer (plain text on Discord) it is only
cleaned. Whatever the text says, a message mentions only the users the bot's own text names
with ``<@id>``:
:attr:`RenderedMessage.allowed_mentions` is set on every send, never ``@everyone``, ``@here``
or a role.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import discord

from rallybot.bot.messages import Button, Message, clean_member_text, member_segments, plain

__all__ = [
    "BUTTONS_PER_ROW",
    "CONTENT_LIMIT",
    "CUSTOM_ID_LIMIT",
    "CUSTOM_ID_PREFIX",
    "EMBEDS_PER_MESSAGE",
    "EMBED_DESCRIPTION_LIMIT",
    "EMBED_FOOTER_LIMIT",
    "EMBED_TITLE_LIMIT",
    "EMBED_TOTAL_LIMIT",
    "MAX_BUTTONS",
    "NONCE_LIMIT",
    "RallyView",
    "RenderedMessage",
    "custom_id",
    "member_markdown",
    "mentioned_users",
    "nonce_for",
    "parse_custom_id",
    "render_message",
]

CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
BUTTON_LABEL_LIMIT = 80
LINK_URL_LIMIT = 512
BUTTONS_PER_ROW = 5
MAX_ROWS = 5
MAX_BUTTONS = BUTTONS_PER_ROW * MAX_ROWS
CUSTOM_ID_LIMIT = 100
CUSTOM_ID_PREFIX = "rb:"
USERNAME_LIMIT = 80
NONCE_LIMIT = 25
ELLIPSIS = "…"
ANNOUNCEMENT_COLOUR = discord.Colour.blurple()

# Backslash-escapable Markdown and mention characters (Discord shows ``\\x`` as ``x``).
_MARKDOWN_CHARS = re.compile(r"([\\*_~|`>#\-\[\]()<@:!+=.])")
_USER_MENTION = re.compile(r"<@!?(\d{1,20})>")
_MEMBER_LIMIT = 4000

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
    "success": discord.ButtonStyle.success,
}


@dataclass
class RenderedMessage:
    """What to pass to ``send`` (``content or None``, ``embeds``, ``view``) or to a webhook."""

    content: str
    embeds: list[discord.Embed]
    view: discord.ui.View | None
    username: str | None
    avatar_url: str | None
    mention_ids: tuple[int, ...] = field(default=())

    @property
    def allowed_mentions(self) -> discord.AllowedMentions:
        """Exactly the users the bot's own text mentions: never everyone, here or a role."""
        return discord.AllowedMentions(
            everyone=False,
            roles=False,
            users=[discord.Object(id=user) for user in self.mention_ids],
            replied_user=False,
        )


def member_markdown(text: str) -> str:
    """A member's text as Discord Markdown that shows it literally (see the module doc)."""
    return _MARKDOWN_CHARS.sub(r"\\\1", clean_member_text(text, _MEMBER_LIMIT))


def _markdown(text: str) -> str:
    """``text`` for content, descriptions and titles: its member text escaped."""
    return "".join(
        member_markdown(part) if is_member else part for is_member, part in member_segments(text)
    )


def mentioned_users(text: str) -> tuple[int, ...]:
    """The user ids the bot's own text (not member text) mentions with ``<@id>``."""
    ids: list[int] = []
    for is_member, part in member_segments(text):
        if not is_member:
            ids.extend(int(found) for found in _USER_MENTION.findall(part))
    return tuple(dict.fromkeys(ids))[:100]  # Discord accepts 100 users at most


def custom_id(action_id: str, value: str) -> str:
    """The component custom id of an action button: ``rb:<action_id>:<value>``.

    Raises ValueError when ``action_id`` is empty or holds ``:``, or when the result exceeds
    Discord's 100 characters (the value is never hashed: it must survive a restart).
    """
    if not action_id or ":" in action_id:
        raise ValueError(f'a button action id must be non-empty and without ":", not "{action_id}"')
    result = f"{CUSTOM_ID_PREFIX}{action_id}:{value}"
    if len(result) > CUSTOM_ID_LIMIT:
        raise ValueError(
            f"button custom id for action {action_id!r} is {len(result)} characters long; "
            f"Discord allows {CUSTOM_ID_LIMIT}: shorten the action id or its value {value!r}"
        )
    return result


def parse_custom_id(custom_id: str) -> tuple[str, str] | None:
    """The ``(action_id, value)`` of one of our custom ids; None for anyone else's."""
    if not custom_id.startswith(CUSTOM_ID_PREFIX):
        return None
    action_id, sep, value = custom_id[len(CUSTOM_ID_PREFIX) :].partition(":")
    if not sep or not action_id:
        return None
    return action_id, value


def nonce_for(key: str) -> str:
    """A Discord message nonce (25 characters at most) derived from an outbox key.

    Deterministic, so a retried send carries the same nonce and, with ``enforce_nonce``,
    Discord returns the message it already created instead of a duplicate.
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:NONCE_LIMIT]


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1].rstrip() + ELLIPSIS


def _split(text: str, limit: int) -> list[str]:
    """Cut ``text`` into chunks of at most ``limit``, preferring paragraph, line, word ends."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut > limit // 2:
                break
        if cut <= limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def _button(button: Button, row: int) -> discord.ui.Button[RallyView]:
    label = _truncate(plain(button.label), BUTTON_LABEL_LIMIT) or "…"
    if button.url:
        if len(button.url) > LINK_URL_LIMIT:
            raise ValueError(
                f"link button {button.label!r}: its url is longer than {LINK_URL_LIMIT} characters"
            )
        return discord.ui.Button(
            style=discord.ButtonStyle.link, label=label, url=button.url, row=row
        )
    if not button.action_id:
        raise ValueError(f"button {button.label!r} has neither a url nor an action id")
    style = _STYLES.get(button.style or "", discord.ButtonStyle.secondary)
    return discord.ui.Button(
        style=style, label=label, custom_id=custom_id(button.action_id, button.value), row=row
    )


class RallyView(discord.ui.View):
    """The buttons of one message: persistent (``timeout=None``), without callbacks.

    Clicks are handled by the adapter's ``on_interaction`` through :func:`parse_custom_id`,
    so nothing needs re-registering after a restart (``client.add_view`` is not required).
    Raises ValueError for more than 25 buttons, duplicate action buttons (same action and
    value) or an id or url beyond Discord's limits.
    """

    def __init__(self, buttons: Sequence[Button]) -> None:
        super().__init__(timeout=None)
        if len(buttons) > MAX_BUTTONS:
            raise ValueError(
                f"a Discord message holds at most {MAX_BUTTONS} buttons, not {len(buttons)}"
            )
        seen: set[str] = set()
        for index, button in enumerate(buttons):
            item = _button(button, row=index // BUTTONS_PER_ROW)
            if item.custom_id is not None and item.url is None:
                if item.custom_id in seen:
                    raise ValueError(
                        f"two buttons share the action {button.action_id!r} and value "
                        f"{button.value!r}: Discord needs distinct custom ids"
                    )
                seen.add(item.custom_id)
            self.add_item(item)


def _image_embed(url: str) -> discord.Embed:
    return discord.Embed().set_image(url=url)


def render_message(message: Message) -> RenderedMessage:
    """Render ``message`` for discord.py (see the module docstring for the layout).

    Raises ValueError when the buttons cannot be expressed on Discord (see :class:`RallyView`).
    """
    text = _markdown(message.text).strip()
    raw_context = (message.context or "").strip()
    context = _markdown(raw_context)
    images = [image.url for image in message.images]
    content = ""
    embeds: list[discord.Embed] = []

    if message.title is None and len(text) <= CONTENT_LIMIT:
        content = text
        if context:
            line = f"-# {_truncate(' '.join(context.split()), CONTENT_LIMIT)}"
            room = CONTENT_LIMIT - len(content) - (1 if content else 0)
            if len(line) > room:
                line = _truncate(line, room) if room > 3 else ""
            if line:
                content = f"{content}\n{line}" if content else line
    else:
        title = (
            _truncate(_markdown(message.title).strip(), EMBED_TITLE_LIMIT)
            if message.title
            else None
        )
        # A footer is plain text on Discord: member text is cleaned there, not escaped.
        footer_text = "".join(
            clean_member_text(part, _MEMBER_LIMIT) if is_member else part
            for is_member, part in member_segments(raw_context)
        )
        footer = _truncate(footer_text, EMBED_FOOTER_LIMIT) if footer_text else None
        budget = EMBED_TOTAL_LIMIT - len(title or "") - len(footer or "")
        chunks = _split(_truncate(text, budget), EMBED_DESCRIPTION_LIMIT) if text else []
        first = discord.Embed(
            title=title,
            description=chunks[0] if chunks else None,
            colour=ANNOUNCEMENT_COLOUR if title else None,
        )
        embeds.append(first)
        for chunk in chunks[1:]:
            embeds.append(discord.Embed(description=chunk, colour=first.colour))
        if footer:
            embeds[-1].set_footer(text=footer)
        if images:
            first.set_image(url=images.pop(0))

    while images and len(embeds) < EMBEDS_PER_MESSAGE:
        embeds.append(_image_embed(images.pop(0)))
    if images:  # beyond ten embeds: Discord previews plain links itself
        lines = [content] if content else []
        used = len(content)
        for url in images:
            if used + len(url) + 1 > CONTENT_LIMIT:
                break
            lines.append(url)
            used += len(url) + 1
        content = "\n".join(lines)

    view = RallyView(message.buttons) if message.buttons else None
    username = None
    avatar_url = None
    if message.sender is not None:
        username = _truncate(plain(message.sender.name).strip(), USERNAME_LIMIT) or None
        avatar_url = message.sender.icon_url or None
    mention_ids = mentioned_users(f"{message.title or ''}\n{message.text}\n{raw_context}")
    return RenderedMessage(
        content=content,
        embeds=embeds,
        view=view,
        username=username,
        avatar_url=avatar_url,
        mention_ids=mention_ids,
    )
