"""``/rallybot mydata`` (a JSON export of everything stored about me, in direct messages) and
``/rallybot forget`` (after a confirmation button, erase my personal data: see
:mod:`bot.privacy`). A community manager erases someone else, who left the company, with
``/rallybot forget @member`` (confirmed the same way, audited: who and when, not whom)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rallybot.bot.adapters.base import file_sender
from rallybot.bot.commands import specs
from rallybot.bot.events import ButtonClicked, CommandInvoked
from rallybot.bot.feature import Feature, Subscription
from rallybot.bot.messages import Button, Message
from rallybot.bot.privacy import erase_member, export_json, export_member, forget_member
from rallybot.storage.models import Member
from rallybot.storage.repositories import get_member_by_platform_id

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "CHUNK",
    "COMMANDS",
    "CONFIRM_MINUTES",
    "PrivacyFeature",
    "chunks",
    "on_button",
    "on_command",
]

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
    "managers_only": {
        "en": "Erasing someone else is for community managers only.",
        "fr": "Effacer quelqu'un d'autre est réservé aux animateurs de la communauté.",
    },
    "no_such": {
        "en": "No member {who} is known (mention them, or give their platform id).",
        "fr": "Aucun membre {who} n'est connu (mentionnez-le ou donnez son identifiant).",
    },
    "confirm_other": {
        "en": (
            "Erase the personal data of {who}? Their name, e-mail, messages to the bot and "
            "free-text answers are deleted, mentions of them in other messages are replaced, "
            "and what remains is no longer linked to them. This cannot be undone, and it is "
            "logged (who asked and when)."
        ),
        "fr": (
            "Effacer les données personnelles de {who} ? Son nom, son e-mail, ses messages au "
            "bot et ses réponses libres sont supprimés, les mentions dans d'autres messages "
            "remplacées, et ce qui reste n'est plus lié à cette personne. C'est définitif, et "
            "journalisé (qui l'a demandé et quand)."
        ),
    },
    "erase_other": {"en": "Erase their data", "fr": "Effacer ses données"},
    "done_other": {
        "en": "Done: Rallybot no longer holds personal data about that person.",
        "fr": "C'est fait : Rallybot ne conserve plus de données sur cette personne.",
    },
}

_MENTION = re.compile(r"^<@!?([^>|]+)(\|[^>]*)?>$")


def mentioned_id(arg: str) -> str:
    """The platform user id in a mention (``<@U1>``, ``<@U1|name>``, ``<@!1>``) or as typed."""
    found = _MENTION.match(arg.strip())
    return found.group(1) if found else arg.strip().removeprefix("@")


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
    if name == "forget" and event.args:
        await _forget_other(event, ctx)
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


async def _forget_other(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot forget @member``: a community manager is asked to confirm."""
    me = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    locale = me.locale if me is not None else None
    if not ctx.is_admin(event.user):
        await ctx.answer(event, _t(locale, "managers_only"))
        return
    who = " ".join(event.args)
    target = await get_member_by_platform_id(ctx.db, event.platform, mentioned_id(who))
    if target is None or target.id is None or target.forgotten:
        await ctx.answer(event, _t(locale, "no_such", who=who))
        return
    stamp = str(int(ctx.clock.now().timestamp()))
    value = f"{target.id}:{stamp}"
    await ctx.adapter.send_direct(
        event.user.id,
        Message(
            text=_t(locale, "confirm_other", who=_label(target)),
            buttons=(
                Button(
                    label=_t(locale, "erase_other"),
                    action_id="forget-member-confirm",
                    value=value,
                    style="danger",
                ),
                Button(label=_t(locale, "cancel"), action_id="forget-cancel", value=stamp),
            ),
        ),
    )
    await ctx.answer(event, _t(locale, "confirm_dm"))


def _label(member: Member) -> str:
    return f"<@{member.platform_user_id}>"


async def _forget_other_confirmed(event: ButtonClicked, ctx: BotContext) -> None:
    me = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    locale = me.locale if me is not None else None
    if not ctx.is_admin(event.user):
        await ctx.adapter.send_direct(event.user.id, Message(text=_t(locale, "managers_only")))
        return
    target, _, stamp = event.value.partition(":")
    now = ctx.clock.now()
    try:
        asked = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
        target_id = int(target)
    except (ValueError, OverflowError, OSError):
        return
    if not 0 <= (now - asked).total_seconds() <= CONFIRM_MINUTES * 60:
        await ctx.adapter.send_direct(event.user.id, Message(text=_t(locale, "expired")))
        return
    report = await erase_member(
        ctx.db,
        target_id,
        now,
        requested_by=event.user.key,
        via="chat",
        is_manager=ctx.settings.is_admin,
    )
    if report is not None:
        log.info("a community manager had a member erased")
        ctx.request_plan()
    await ctx.adapter.send_direct(event.user.id, Message(text=_t(locale, "done_other")))


async def on_button(event: ButtonClicked, ctx: BotContext) -> None:
    """The confirmation (or not) of ``/rallybot forget``: it erases the clicker's own data
    (or, for a manager's ``/rallybot forget @member``, that member's)."""
    if event.user.is_bot:
        return
    if event.action_id == "forget-member-confirm":
        await _forget_other_confirmed(event, ctx)
        return
    if event.action_id not in {"forget-confirm", "forget-cancel"}:
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
        report = await forget_member(ctx.db, member.id, now, is_manager=ctx.settings.is_admin)
        if report is not None:
            log.info("a member was forgotten (rows moved: %s)", sum(report.moved.values()))
        ctx.request_plan()
    await ctx.adapter.send_direct(event.user.id, Message(text=_t(locale, "done")))


class PrivacyFeature(Feature):
    """ "My data" and "forget me"."""

    name = "privacy"
    # Last of those that record a click: "forget" runs after they did.
    after = ("stats",)
    commands = specs("mydata", "forget")
    personal_data = ("erasure_audit",)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (
            Subscription(CommandInvoked, on_command),
            Subscription(ButtonClicked, on_button),
        )
