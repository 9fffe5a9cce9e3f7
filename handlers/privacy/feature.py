"""``/rallybot mydata`` (a JSON export of everything stored about me, in direct messages) and
``/rallybot forget`` (after a confirmation button, erase my personal data: see
:mod:`.personal_data`). A community manager erases someone else, who left the company, with
``/rallybot forget @member`` (confirmed the same way, audited: who and when, not whom)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rallybot.bot import i18n, notices
from rallybot.bot.adapters.base import file_sender
from rallybot.bot.context import locale_for
from rallybot.bot.events import ButtonClicked, CommandInvoked
from rallybot.bot.feature import Feature, RetentionTick, Subscription
from rallybot.bot.journal import dedup_id
from rallybot.bot.messages import Button, Message
from rallybot.handlers.privacy.commands import COMMAND_SPECS
from rallybot.handlers.privacy.personal_data import (
    erase_departed,
    erase_member,
    export_json,
    export_member,
    forget_member,
    purge_expired,
)
from rallybot.storage.models import Member
from rallybot.storage.repositories import get_member_by_platform_id
from rallybot.storage.secret import server_secret

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "CHUNK",
    "COMMANDS",
    "CONFIRM_MINUTES",
    "PrivacyFeature",
    "chunks",
    "erase_gone",
    "on_button",
    "on_command",
    "purge_old",
]

log = logging.getLogger("rallybot.privacy")

COMMANDS = frozenset({"mydata", "forget"})
CHUNK = 1800
"""Characters of JSON per direct message when the platform takes no file (Discord: 2,000)."""
CONFIRM_MINUTES = 15
"""How long the "forget me" confirmation button stays valid."""
OUTBOX_CAMPAIGN = ".privacy"
"""The outbox campaign id of the "erased" confirmations (no campaign file can take it)."""


async def _request_key(ctx: BotContext, platform: str, *parts: object) -> str:
    """A key for one erasure request (who clicked, the button's time stamp): the same for a
    click handled again after a crash, so its confirmation is queued once. A keyed hash: the
    outbox row must not name the person it erased."""
    secret = await server_secret(ctx.db, ctx.settings.secret_key)
    return dedup_id(secret, platform, ":".join(str(part) for part in parts))[:40]


def _confirm_dm(locale: str) -> str:
    return i18n.gettext(locale, "Please confirm in your direct messages.")


def _cancel(locale: str) -> str:
    # Translators: a button: do not erase.
    return i18n.pgettext(locale, "privacy button", "Cancel")


def _expired(locale: str) -> str:
    return i18n.gettext(locale, "This confirmation has expired: run /rallybot forget again.")


def _managers_only(locale: str) -> str:
    return i18n.gettext(locale, "Erasing someone else is for community managers only.")


def _nothing(locale: str) -> str:
    return i18n.gettext(locale, "I have nothing stored about you.")


_MENTION = re.compile(r"^<@!?([^>|]+)(\|[^>]*)?>$")


def mentioned_id(arg: str) -> str:
    """The platform user id in a mention (``<@U1>``, ``<@U1|name>``, ``<@!1>``) or as typed."""
    found = _MENTION.match(arg.strip())
    return found.group(1) if found else arg.strip().removeprefix("@")


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


async def send_export(ctx: BotContext, user_id: str, text: str, locale: str) -> int:
    """Send the export to ``user_id``: one file where the adapter takes files (``send_file``),
    else direct messages holding it in code blocks. Returns the number of messages sent."""
    title = i18n.gettext(locale, "Your data")
    # Translators: {part} is a file name, or a part number such as "2/3".
    about = i18n.gettext(locale, "Everything Rallybot stores about you, as JSON ({part}).")
    send_file = file_sender(ctx.adapter)
    if send_file is not None:
        message = Message(text=about.format(part="rallybot-data.json"), title=title)
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
                context=about.format(part=label),
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
    locale = locale_for(ctx, member)
    if member is None or member.id is None:
        await ctx.answer(event, _nothing(locale))
        return
    if name == "mydata":
        data = await export_member(ctx.db, member.id)
        if data is None:
            await ctx.answer(event, _nothing(locale))
            return
        # The export changes nothing (and must not be copied into the outbox): sent directly.
        await send_export(ctx, event.user.id, export_json(data), locale)
        await ctx.answer(event, i18n.gettext(locale, "Your data is in your direct messages."))
        return
    stamp = str(int(ctx.clock.now().timestamp()))
    # A question that changes nothing yet: sent directly (run the command again if lost).
    await ctx.adapter.send_direct(
        event.user.id,
        Message(
            text=i18n.gettext(
                locale,
                "Erase your personal data? Your name, e-mail, messages to the bot and free-text "
                "answers are deleted, and what remains (points, answers counted in statistics) is "
                "no longer linked to you. This cannot be undone.",
            ),
            buttons=(
                Button(
                    label=i18n.pgettext(locale, "privacy button", "Erase my data"),
                    action_id="forget-confirm",
                    value=stamp,
                    style="danger",
                ),
                Button(label=_cancel(locale), action_id="forget-cancel", value=stamp),
            ),
        ),
    )
    await ctx.answer(event, _confirm_dm(locale))


async def _forget_other(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot forget @member``: a community manager is asked to confirm."""
    me = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    locale = locale_for(ctx, me)
    if not ctx.is_admin(event.user):
        await ctx.answer(event, _managers_only(locale))
        return
    who = " ".join(event.args)
    target = await get_member_by_platform_id(ctx.db, event.platform, mentioned_id(who))
    if target is None or target.id is None or target.forgotten:
        await ctx.answer(
            event,
            i18n.gettext(
                locale, "No member {who} is known (mention them, or give their platform id)."
            ).format(who=who),
        )
        return
    stamp = str(int(ctx.clock.now().timestamp()))
    value = f"{target.id}:{stamp}"
    await ctx.adapter.send_direct(
        event.user.id,
        Message(
            text=i18n.gettext(
                locale,
                "Erase the personal data of {who}? Their name, e-mail, messages to the bot and "
                "free-text answers are deleted, mentions of them in other messages are replaced, "
                "and what remains is no longer linked to them. This cannot be undone, and it is "
                "logged (who asked and when).",
            ).format(who=_label(target)),
            buttons=(
                Button(
                    label=i18n.pgettext(locale, "privacy button", "Erase their data"),
                    action_id="forget-member-confirm",
                    value=value,
                    style="danger",
                ),
                Button(label=_cancel(locale), action_id="forget-cancel", value=stamp),
            ),
        ),
    )
    await ctx.answer(event, _confirm_dm(locale))


def _label(member: Member) -> str:
    return f"<@{member.platform_user_id}>"


async def _forget_other_confirmed(event: ButtonClicked, ctx: BotContext) -> None:
    me = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    locale = locale_for(ctx, me)
    if not ctx.is_admin(event.user):
        await ctx.adapter.send_direct(event.user.id, Message(text=_managers_only(locale)))
        return
    target, _, stamp = event.value.partition(":")
    now = ctx.clock.now()
    try:
        asked = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
        target_id = int(target)
    except (ValueError, OverflowError, OSError):
        return
    if not 0 <= (now - asked).total_seconds() <= CONFIRM_MINUTES * 60:
        await ctx.adapter.send_direct(event.user.id, Message(text=_expired(locale)))
        return
    done = Message(
        text=i18n.gettext(locale, "Done: Rallybot no longer holds personal data about that person.")
    )
    key = await _request_key(ctx, event.platform, event.user.id, event.value)
    # The erasure, its audit and the manager's confirmation in one transaction.
    async with ctx.db.shared():
        report = await erase_member(
            ctx.db,
            target_id,
            now,
            requested_by=event.user.key,
            via="chat",
            is_manager=ctx.settings.is_admin,
            secret_key=ctx.settings.secret_key,
        )
        if me is not None and me.id is not None:
            row = notices.direct_row(OUTBOX_CAMPAIGN, f"erased-{key}", me.id, done, now)
            async with ctx.db.session() as session:
                await notices.queue(session, [row])
    if report is not None:
        log.info("a community manager had a member erased")
        ctx.request_plan()
    if me is None or me.id is None:  # a manager the bot never saw: no member row to write to
        await ctx.adapter.send_direct(event.user.id, done)


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
    locale = locale_for(ctx, member)
    if event.action_id == "forget-cancel":
        await ctx.adapter.send_direct(
            event.user.id, Message(text=i18n.gettext(locale, "Nothing was erased."))
        )
        return
    now = ctx.clock.now()
    try:
        asked = datetime.fromtimestamp(int(event.value), tz=now.tzinfo)
    except (ValueError, OverflowError, OSError):
        return
    if not 0 <= (now - asked).total_seconds() <= CONFIRM_MINUTES * 60:
        await ctx.adapter.send_direct(event.user.id, Message(text=_expired(locale)))
        return
    done = Message(
        text=i18n.gettext(locale, "Done: Rallybot no longer holds personal data about you.")
    )
    # The confirmation goes through the outbox, written with the erasure: the member row is
    # gone then, so it names the person by platform id until it is sent, then forgets it
    # (bot.outbox); its key comes from the request, so a click handled again after a crash
    # (the member already erased) finds it queued and adds none.
    key = await _request_key(ctx, event.platform, event.user.id, event.value)
    row = notices.person_row(OUTBOX_CAMPAIGN, "forgotten", key, event.user.id, done, now)
    async with ctx.db.shared():
        report = None
        if member is not None and member.id is not None:
            report = await forget_member(
                ctx.db,
                member.id,
                now,
                is_manager=ctx.settings.is_admin,
                secret_key=ctx.settings.secret_key,
            )
        async with ctx.db.session() as session:
            await notices.queue(session, [row])
    if report is not None:
        log.info("a member was forgotten (rows moved: %s)", sum(report.moved.values()))
        ctx.request_plan()


async def erase_gone(ctx: BotContext) -> int:
    """Erase the members deactivated by ``roster import --remove-missing`` at least
    ``RALLYBOT_ERASE_REMOVED_AFTER_DAYS`` days ago; returns how many."""
    erased = await erase_departed(
        ctx.db,
        ctx.clock.now(),
        ctx.settings.erase_removed_after_days,
        is_manager=ctx.settings.is_admin,
    )
    if erased:
        log.info("members gone from the roster erased: %d", erased)
        ctx.request_plan()
    return erased


async def purge_old(ctx: BotContext) -> int:
    """Delete the deduplication rows of handled inbound events after
    ``RALLYBOT_DEDUP_KEEP_DAYS`` (or ``RALLYBOT_RETENTION_DAYS`` when shorter), and unfinished
    survey drafts after ``RALLYBOT_RETENTION_DAYS`` (kept when unset); returns the rows
    deleted."""
    settings = ctx.settings
    counts = await purge_expired(
        ctx.db, ctx.clock.now(), settings.retention_days, settings.dedup_keep_days
    )
    return counts.inbound_events + counts.survey_drafts


class PrivacyFeature(Feature):
    """ "My data" and "forget me"."""

    name = "privacy"
    # Last of those that record a click: "forget" runs after they did.
    after = ("stats",)
    commands = COMMAND_SPECS
    personal_data = ("erasure_audit",)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (
            Subscription(CommandInvoked, on_command),
            Subscription(ButtonClicked, on_button),
        )

    def retention_ticks(self) -> Sequence[RetentionTick]:
        """Members gone from the roster erased, then deduplication rows and drafts past their
        keeping time."""
        return (erase_gone, purge_old)
