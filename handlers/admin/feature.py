"""``/rallybot`` commands: help for everyone; campaigns, pause, resume, reload for managers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rallybot.bot import formats, i18n
from rallybot.bot.commands import CommandSpec
from rallybot.bot.context import user_locale
from rallybot.bot.events import CommandInvoked
from rallybot.bot.feature import Feature, Subscription
from rallybot.bot.waves import open_wave, opened_waves
from rallybot.handlers.admin.commands import COMMAND_SPECS
from rallybot.handlers.stats.service import stats_command
from rallybot.storage.models import CampaignStatus
from rallybot.storage.repositories import list_states, set_campaign_status

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "AdminFeature",
    "help_text",
    "on_command",
    "state_word",
    "synopsis",
]


ADMIN_COMMANDS = frozenset(spec.name for spec in COMMAND_SPECS)


def synopsis(spec: CommandSpec, locale: str | None = None) -> str:
    """``/rallybot NAME PARAMS`` as a Slack user types it, the placeholders in ``locale``'s
    language: ``[...]`` marks what may be left out. Names, flags, choices and prefixes are
    typed as they are, so they stay."""
    words = ["/rallybot", spec.name]
    for param in spec.params:
        if param.kind == "flag":
            word = f"--{param.name}"
        elif param.kind == "member":
            word = "@" + i18n.gettext(locale, param.placeholder or param.name)
        elif param.choices:
            word = "|".join(param.choices)
        else:
            word = param.prefix + i18n.gettext(locale, param.placeholder or param.name.upper())
        words.append(word if param.required else f"[{word}]")
    return " ".join(words)


def help_text(commands: Sequence[CommandSpec], locale: str | None = None) -> str:
    """The ``/rallybot help`` text in ``locale``, made from the command catalogue (Discord's
    application commands come from the same entries): everyone's commands, then the
    managers'."""

    def line(spec: CommandSpec) -> str:
        return f"  {synopsis(spec, locale):<30}  {i18n.gettext(locale, spec.description)}"

    lines = [i18n.gettext(locale, "Rallybot commands:")]
    lines += [line(spec) for spec in commands if not spec.admin]
    lines.append(i18n.gettext(locale, "Community managers:"))
    lines += [line(spec) for spec in commands if spec.admin]
    return "\n".join(lines)


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """Answer a ``/rallybot`` command privately."""
    name = event.name.lower()
    if name not in ADMIN_COMMANDS and name not in {"", "help"} and ctx.handles_command(name):
        return  # another feature's command: its words are its own
    if name == "help" and event.args:
        return  # with a question: handlers.helpdesk
    mine = await user_locale(ctx, event.user)
    if name in {"", "help"}:
        await ctx.answer(event, help_text(ctx.commands, mine))
        return
    if name not in ADMIN_COMMANDS:
        text = i18n.gettext(mine, 'Unknown command "{name}". Try /rallybot help.')
        await ctx.answer(event, text.format(name=name))
        return
    if not ctx.is_admin(event.user):
        text = i18n.gettext(mine, '"/rallybot {name}" is for community managers only.')
        await ctx.answer(event, text.format(name=name))
        return
    if name == "campaigns":
        await ctx.answer(event, await _campaigns(ctx, mine))
    elif name in {"pause", "resume"}:
        await ctx.answer(event, await _pause_or_resume(ctx, mine, name == "pause", event.args))
    elif name == "reload":
        report = await ctx.reload()
        await ctx.answer(event, report.summary(mine))
    elif name == "stats":
        await stats_command(event, ctx)
    elif name == "wave":
        await _wave(event, ctx, mine)


def state_word(locale: str | None, status: str) -> str:
    """A campaign's state (``paused``, ``active``), as a word in ``locale``."""
    # Translators: the state of a campaign.
    if status == CampaignStatus.paused.value:
        return i18n.pgettext(locale, "campaign state", "paused")
    if status == CampaignStatus.active.value:
        return i18n.pgettext(locale, "campaign state", "active")
    return status


async def _campaigns(ctx: BotContext, locale: str) -> str:
    """``/rallybot campaigns``: each campaign and its state."""
    states = await list_states(ctx.db)
    if not states:
        return i18n.gettext(locale, "No campaign loaded.")
    lines = [f"• {s.id} — {s.title} — {state_word(locale, s.status)}" for s in states]
    return i18n.gettext(locale, "Campaigns:") + "\n" + "\n".join(lines)


async def _pause_or_resume(ctx: BotContext, locale: str, pause: bool, args: Sequence[str]) -> str:
    """``/rallybot pause|resume CAMPAIGN``: the answer."""
    if not args:
        # Translators: CAMPAIGN stands for a campaign id the manager types.
        if pause:
            return i18n.gettext(locale, "Usage: /rallybot pause CAMPAIGN")
        return i18n.gettext(locale, "Usage: /rallybot resume CAMPAIGN")
    campaign_id = args[0]
    status = CampaignStatus.paused if pause else CampaignStatus.active
    if await set_campaign_status(ctx.db, campaign_id, status, ctx.clock.now()):
        text = i18n.gettext(locale, 'Campaign "{campaign}" is now {state}.')
        return text.format(campaign=campaign_id, state=state_word(locale, status.value))
    return i18n.gettext(locale, 'Unknown campaign "{campaign}".').format(campaign=campaign_id)


async def _wave(event: CommandInvoked, ctx: BotContext, mine: str) -> None:
    """``/rallybot wave``: list the waves; ``/rallybot wave open NAME``: open one now."""
    waves: dict[str, datetime | None] = {}
    for campaign in ctx.campaigns.values():
        for wave, when in campaign.waves.items():
            known = waves.get(wave, when)
            waves[wave] = when if known is None or when is None else min(known, when)
    args = [a.lower() for a in event.args]
    if not waves:
        await ctx.answer(
            event, i18n.gettext(mine, "No campaign declares a wave (an audience with opens:).")
        )
        return
    now = ctx.clock.now()
    if args[:1] == ["open"] and len(args) == 2:
        await ctx.answer(event, await _open_wave(ctx, mine, args[1], sorted(waves)))
        return
    if args not in ([], ["list"]):
        # Translators: "list" and "open" are typed as they are; NAME stands for a wave's name.
        usage = i18n.gettext(mine, "Usage: /rallybot wave [list] | /rallybot wave open NAME")
        await ctx.answer(event, usage)
        return
    opened = await opened_waves(ctx.db)
    lines = [i18n.gettext(mine, "Waves (opening in UTC):")]
    for wave, when in sorted(waves.items()):
        by_hand = opened.get(wave)
        if by_hand is not None and (when is None or by_hand < when):
            state = i18n.gettext(mine, "opened by hand on {when}")
            state = state.format(when=formats.moment(mine, by_hand))
        elif when is None:
            state = i18n.gettext(mine, "manual, not opened yet")
        elif when <= now:
            state = i18n.gettext(mine, "open since {when}").format(when=formats.moment(mine, when))
        else:
            state = i18n.gettext(mine, "opens {when}").format(when=formats.moment(mine, when))
        lines.append(f"• {wave} — {state}")
    await ctx.answer(event, "\n".join(lines))


async def _open_wave(ctx: BotContext, locale: str, wave: str, known: list[str]) -> str:
    """``/rallybot wave open NAME``: open the wave now; the answer."""
    if wave not in known:
        text = i18n.gettext(locale, 'Unknown wave "{name}". Waves: {known}.')
        return text.format(name=wave, known=", ".join(known))
    already = await open_wave(ctx.db, wave, ctx.clock.now(), ctx.settings.grace)
    if already is not None:
        text = i18n.gettext(locale, 'The wave "{name}" was already opened on {when} UTC.')
        return text.format(name=wave, when=formats.moment(locale, already))
    ctx.request_plan()
    return i18n.gettext(
        locale,
        'The wave "{name}" is open: its members get their messages from now on, '
        "their journeys starting today.",
    ).format(name=wave)


class AdminFeature(Feature):
    """The managers' campaign commands and the help text."""

    name = "admin"
    commands = COMMAND_SPECS

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (Subscription(CommandInvoked, on_command),)
