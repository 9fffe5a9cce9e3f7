"""``/rallybot mydata`` (a JSON export of everything stored about me, in direct messages) and
``/rallybot forget`` (after a confirmation button, erase my personal data: see
:mod:`bot.privacy`)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from rallybot.bot.adapters.base import file_sender
from rallybot.bot.events import ButtonClicked, CommandInvoked
from rallybot.bot.messages import Button, Message
from rallybot.bot.privacy import export_json, export_member, forget_member
from rallybot.storage.repositories import get_member_by_platform_id

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = ["CHUNK", "COMMANDS", "CONFIRM_MINUTES", "chunks", "on_button", "on_command", "register"]

log = logging.getLogger("rallybot.privacy")

COMMANDS = frozenset({"mydata", "forget"})
CHUNK = 1800
"""Characters of JSON per direct message when the platform takes no file (Discord: 2,000)."""
CONFIRM_MINUTES = 15
"""How long the "forget me" confirmation button stays valid."""

_WORDS: dict[str, dict[str, str]] = {
    "nothing": {
        "en": "I have nothing stored about you.",
        "fr": "Je n'ai rien d'enregistré à votre sujet.",
    },
    "sent": {
        "en": "Your data is in your direct messages.",
        "fr": "Vos données sont dans vos messages privés.",
    },
    "export_title": {"en": "Your data", "fr": "Vos données"},
    "export_text": {
        "en": "Everything Rallybot stores about you, as JSON ({part}).",
        "fr": "Tout ce que Rallybot enregistre à votre sujet, en JSON ({part}).",
    },
    "confirm": {
        "en": (
            "Erase your personal data? Your name, e-mail, messages to the bot and free-text "
            "answers are deleted, and what remains (points, answers counted in statistics) is "
            "no longer linked to you. This cannot be undone."
        ),
        "fr": (
            "Effacer vos données personnelles ? Votre nom, e-mail, messages au bot et réponses "
            "libres sont supprimés, et ce qui reste (points, réponses comptées dans les "
            "statistiques) n'est plus lié à vous. C'est définitif."
        ),
    },
    "confirm_dm": {
        "en": "Please confirm in your direct messages.",
        "fr": "Confirmez dans vos messages privés.",
    },
    "erase": {"en": "Erase my data", "fr": "Effacer mes données"},
    "cancel": {"en": "Cancel", "fr": "Annuler"},
    "cancelled": {"en": "Nothing was erased.", "fr": "Rien n'a été effacé."},
    "expired": {
        "en": "This confirmation has expired: run /rallybot forget again.",
        "fr": "Cette confirmation a expiré : relancez /rallybot forget.",
    },
    "done": {
        "en": "Done: Rallybot no longer holds personal data about you.",
        "fr": "C'est fait : Rallybot ne conserve plus de données personnelles sur vous.",
    },
}


def _t(locale: str | None, key: str, **values: object) -> str:
    words = _WORDS[key]
    language = (locale or "en").split("-")[0].split("_")[0].lower()
    return words.get(language, words["en"]).format(**values)


def chunks(text: str, size: int = CHUNK) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters, at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for whole in text.splitlines(keepends=True):
        line = whole
        while len(line) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:size])
            line = line[size:]
        if len(current) + len(line) > size:
            pieces.append(current)
            current = ""
        current += line
    if current:
        pieces.append(current)
    return pieces


async def send_export(ctx: BotContext, user_id: str, text: str, locale: str | None) -> int:
    """Send the export to ``user_id``: one file where the adapter takes files (``send_file``),
    else direct messages holding it in code blocks. Returns the number of messages sent."""
    title = _t(locale, "export_title")
    send_file = file_sender(ctx.adapter)
    if send_file is not None:
        message = Message(text=_t(locale, "export_text", part="rallybot-data.json"), title=title)
        await send_file(user_id, "rallybot-data.json", text.encode(), message)
        return 1
    parts = chunks(text)
    for number, part in enumerate(parts, start=1):
        label = f"{number}/{len(parts)}"
        await ctx.adapter.send_direct(
            user_id,
            Message(
                text=f"```\n{part.rstrip(chr(10))}\n```",
                title=title if number == 1 else None,
                context=_t(locale, "export_text", part=label),
                metadata={"export_part": label},
            ),
        )
    return len(parts)


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot mydata`` and ``/rallybot forget``."""
    name = event.name.lower()
    if name not in COMMANDS:
        return
    member = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    locale = member.locale if member is not None else None
    if member is None or member.id is None:
        await ctx.answer(event, _t(locale, "nothing"))
        return
    if name == "mydata":
        data = await export_member(ctx.db, member.id)
        if data is None:
            await ctx.answer(event, _t(locale, "nothing"))
            return
        await send_export(ctx, event.user.id, export_json(data), locale)
        await ctx.answer(event, _t(locale, "sent"))
        return
    stamp = str(int(ctx.clock.now().timestamp()))
    await ctx.adapter.send_direct(
        event.user.id,
        Message(
            text=_t(locale, "confirm"),
            buttons=(
                Button(
                    label=_t(locale, "erase"),
                    action_id="forget-confirm",
                    value=stamp,
                    style="danger",
                ),
                Button(label=_t(locale, "cancel"), action_id="forget-cancel", value=stamp),
            ),
        ),
    )
    await ctx.answer(event, _t(locale, "confirm_dm"))


async def on_button(event: ButtonClicked, ctx: BotContext) -> None:
    """The confirmation (or not) of ``/rallybot forget``: it erases the clicker's own data."""
    if event.action_id not in {"forget-confirm", "forget-cancel"} or event.user.is_bot:
        return
    member = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    locale = member.locale if member is not None else None
    if event.action_id == "forget-cancel":
        await ctx.adapter.send_direct(event.user.id, Message(text=_t(locale, "cancelled")))
        return
    now = ctx.clock.now()
    try:
        asked = datetime.fromtimestamp(int(event.value), tz=now.tzinfo)
    except (ValueError, OverflowError, OSError):
        return
    if not 0 <= (now - asked).total_seconds() <= CONFIRM_MINUTES * 60:
        await ctx.adapter.send_direct(event.user.id, Message(text=_t(locale, "expired")))
        return
    if member is not None and member.id is not None:
        report = await forget_member(ctx.db, member.id, now)
        if report is not None:
            log.info("a member was forgotten (rows moved: %s)", sum(report.moved.values()))
        ctx.request_plan()
    await ctx.adapter.send_direct(event.user.id, Message(text=_t(locale, "done")))


def register(router: object) -> None:
    """Attach this module's handlers."""
    from rallybot.bot.router import Router

    assert isinstance(router, Router)
    router.add(CommandInvoked, on_command)
    router.add(ButtonClicked, on_button)
