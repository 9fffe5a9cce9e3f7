"""The pseudo-locale: a catalog, built at test time from the English one, whose every
translation is its message wrapped in ``⟦…⟧`` (placeholders kept), and the check that every
word the bot sends lies inside such a wrap.

A scenario plays a feature for members, a campaign and a bot that all read :data:`PSEUDO`,
then :func:`bare_words` lists, for each text, button label and form title the bot sent, the
words found outside every wrap. Two kinds of text are not the bot's words and are left out
precisely: member text (names, answers, questions: between the member marks of
:mod:`rallybot.bot.messages`, which every feature already uses) and the community manager's
texts from the loaded campaign, quiz, FAQ and rules files (:func:`file_texts`), where a
``{placeholder}`` of theirs stands for whatever the templates put there. Platform references
(``<@U1>``, ``<#C1>``) are not words either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from rallybot.bot import i18n
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.messages import Message, member_segments

PSEUDO = "eo"
"""The pseudo-locale's tag: Esperanto's code, which Babel (hence the settings) and campaign
files accept and for which no catalog ships; the test installs its own under it."""
OPEN, CLOSE = "⟦", "⟧"

_REFERENCE = re.compile(r"<[@#!][^<>\s]*>")  # a mention of a member or a channel
_WORD = re.compile(r"[^\W\d_]+")  # letters: a word to translate (digits and signs are not)
_FIELD = re.compile(r"\\\{[^{}]*\\\}")  # a {placeholder}, once escaped


def _wrap(text: str) -> str:
    return f"{OPEN}{text}{CLOSE}"


def pseudo_catalog(domain: str = i18n.DOMAIN) -> Catalog:
    """The English catalog of ``domain`` with every translation wrapped:
    ``⟦You have {total} points.⟧``."""
    source = resources.files("rallybot.bot").joinpath("locale", "en", "LC_MESSAGES", f"{domain}.po")
    with source.open("rb") as po:
        english = read_po(po, locale="en")
    pseudo = Catalog(locale="en", domain=domain)
    for message in english:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        string: str | tuple[str, ...] = (
            tuple(_wrap(i) for i in ids) if message.pluralizable else _wrap(ids[0])
        )
        pseudo.add(message.id, string, context=message.context)
    return pseudo


DOMAINS = (i18n.DOMAIN, "console")
"""The bot's words and the web console's."""


@contextmanager
def pseudo_locale() -> Iterator[None]:
    """The pseudo catalogs (the bot's and the console's) installed under :data:`PSEUDO` for
    the duration."""
    for domain in DOMAINS:
        i18n.install_catalog(PSEUDO, pseudo_catalog(domain), domain)
    try:
        yield
    finally:
        for domain in DOMAINS:
            i18n.uninstall_catalog(PSEUDO, domain)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():  # the values only: keys are the file's own syntax
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def file_texts(*folders: Path) -> set[str]:
    """Every text of the YAML files in ``folders``: the community's words, not the bot's."""
    found: set[str] = set()
    for folder in folders:
        for path in sorted(folder.rglob("*.y*ml")):
            found.update(s.strip() for s in _strings(yaml.safe_load(path.read_text())) if s)
    return found


def _outside(text: str) -> tuple[list[str], bool]:
    """The pieces of ``text`` outside every wrap, and whether its wraps are balanced."""
    pieces, current, depth = [], [], 0
    for char in text:
        if char == OPEN:
            depth += 1
            if depth == 1:
                pieces.append("".join(current))
                current = []
        elif char == CLOSE:
            depth -= 1
            if depth < 0:
                return pieces, False
        elif depth == 0:
            current.append(char)
    pieces.append("".join(current))
    return pieces, depth == 0


def _pattern(text: str) -> re.Pattern[str]:
    """A file's text as a pattern: its ``{placeholders}`` match whatever the templates put
    there, within the line (as little as can be, but a last one runs to the line's end)."""
    body = _FIELD.sub(lambda _: r"[^\n\0]*?", re.escape(text))
    if body.endswith("*?"):
        body = body[:-1]
    return re.compile(body)


def bare_words(text: str, foreign: Iterable[str]) -> list[str]:
    """The words of ``text`` the catalogs did not give: outside every wrap, outside member
    text, not in a ``foreign`` text (the files'), not a platform reference. Unbalanced wraps
    (a wrapped text cut short) are reported too."""
    # Member text becomes one mark (\1): a placeholder of a file's text may stand for it.
    own = "".join("\1" if is_member else part for is_member, part in member_segments(text))
    pieces, balanced = _outside(own)
    patterns = [_pattern(t) for t in sorted(foreign, key=len, reverse=True)]
    words: list[str] = [] if balanced else [f"unbalanced {OPEN}{CLOSE} in {text!r}"]
    for piece in pieces:
        rest = _REFERENCE.sub("\0", piece)
        for pattern in patterns:
            rest = pattern.sub("\0", rest)
        words.extend(_WORD.findall(rest))
    return words


@dataclass(frozen=True, slots=True)
class Shown:
    """One text the bot showed: where (for the failure message) and what."""

    where: str
    text: str


def _message(where: str, message: Message) -> Iterator[Shown]:
    for name in ("title", "text", "context"):
        value = getattr(message, name)
        if value:
            yield Shown(f"{where} {name}", value)
    for button in message.buttons:
        yield Shown(f"{where} button", button.label)


def everything_shown(adapter: MemoryAdapter) -> list[Shown]:
    """Every text the bot showed on the memory platform: messages (with their marks), their
    edits, buttons, forms (title, fields, submit button) and files' messages."""
    shown: list[Shown] = []
    for delivered in adapter.delivered:
        where = f"{delivered.kind} to {delivered.target}"
        shown.extend(_message(where, delivered.raw or delivered.message))
    for update in adapter.updates:
        shown.extend(_message("edit", update.raw or update.message))
    for opened in adapter.forms:
        form = opened.form
        shown.append(Shown("form title", form.title))
        shown.append(Shown("form submit", form.submit))
        shown.extend(Shown("form field", field.label) for field in form.fields)
    for sent in adapter.files:
        if sent.message is not None:
            shown.extend(_message(f"file to {sent.target}", sent.message))
    return shown


def unwrapped(adapter: MemoryAdapter, foreign: Iterable[str]) -> list[str]:
    """``where: words`` for every text the bot showed with words the catalogs did not give."""
    texts = set(foreign)
    return [
        f"{item.where}: {words} in {item.text!r}"
        for item in everything_shown(adapter)
        if (words := bare_words(item.text, texts))
    ]
