"""``/rallybot`` commands: help for everyone; campaigns, pause, resume, reload for managers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rallybot.bot.commands import COMMANDS, CommandSpec, catalogue, specs
from rallybot.bot.events import CommandInvoked
from rallybot.bot.feature import Feature, Subscription
from rallybot.bot.waves import open_wave, opened_waves
from rallybot.handlers.stats import stats_command
from rallybot.storage.models import CampaignStatus
from rallybot.storage.repositories import list_states, set_campaign_status

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "HELP",
    "AdminFeature",
    "help_text",
    "on_command",
]


ADMIN_COMMANDS = frozenset({"campaigns", "pause", "resume", "reload", "stats", "wave"})

# The words of /rallybot help and wave, in one place for the translation catalogues.
_WORDS = {
    "help_title": "Rallybot commands:",
    "help_managers": "Community managers:",
    "usage": "Usage: /rallybot wave [list] | /rallybot wave open NAME",
    "none": "No campaign declares a wave (an audience with opens:).",
    "unknown": 'Unknown wave "{name}". Waves: {known}.',
    "already": 'The wave "{name}" was already opened on {when:%Y-%m-%d %H:%M} UTC.',
    "opened": (
        'The wave "{name}" is open: its members get their messages from now on, '
        "their journeys starting today."
    ),
    "title": "Waves (opening in UTC):",
    "manual_closed": "manual, not opened yet",
    "manual_open": "opened by hand on {when:%Y-%m-%d %H:%M}",
    "dated": "opens {when:%Y-%m-%d %H:%M}",
    "dated_open": "open since {when:%Y-%m-%d %H:%M}",
}


def _synopsis(spec: CommandSpec) -> str:
    """``/rallybot NAME PARAMS`` as a Slack user types it: ``[...]`` marks what may be left out."""
    words = ["/rallybot", spec.name]
    for param in spec.params:
        if param.kind == "flag":
            word = f"--{param.name}"
        elif param.kind == "member":
            word = f"@{param.name}"
        elif param.choices:
            word = "|".join(param.choices)
        else:
            word = param.prefix + param.name.upper()
        words.append(word if param.required else f"[{word}]")
    return " ".join(words)


def help_text(commands: Sequence[CommandSpec]) -> str:
    """The ``/rallybot help`` text, made from the command catalogue (Discord's application
    commands come from the same entries): everyone's commands, then the managers'."""

    def line(spec: CommandSpec) -> str:
        return f"  {_synopsis(spec):<30}  {spec.description}"

    lines = [_WORDS["help_title"]]
    lines += [line(spec) for spec in commands if not spec.admin]
    lines.append(_WORDS["help_managers"])
    lines += [line(spec) for spec in commands if spec.admin]
    return "\n".join(lines)


HELP = help_text(COMMANDS)


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """Answer a ``/rallybot`` command privately."""
    name = event.name.lower()
    if name == "" or (name == "help" and not event.args):  # with a question: handlers.helpdesk
        await ctx.answer(event, help_text(catalogue()))  # with the features' own commands
        return
    if name not in ADMIN_COMMANDS:
        if not ctx.handles_command(name):
            await ctx.answer(event, f'Unknown command "{name}". Try /rallybot help.')
        return
    if not ctx.is_admin(event.user):
        await ctx.answer(event, f'"/rallybot {name}" is for community managers only.')
        return
    if name == "campaigns":
        states = await list_states(ctx.db)
        if not states:
            await ctx.answer(event, "No campaign loaded.")
            return
        lines = [f"• {s.id} — {s.title} — {s.status}" for s in states]
        await ctx.answer(event, "Campaigns:\n" + "\n".join(lines))
    elif name in {"pause", "resume"}:
        if not event.args:
            await ctx.answer(event, f"Usage: /rallybot {name} CAMPAIGN")
            return
        campaign_id = event.args[0]
        status = CampaignStatus.paused if name == "pause" else CampaignStatus.active
        if await set_campaign_status(ctx.db, campaign_id, status, ctx.clock.now()):
            await ctx.answer(event, f'Campaign "{campaign_id}" is now {status.value}.')
        else:
            await ctx.answer(event, f'Unknown campaign "{campaign_id}".')
    elif name == "reload":
        report = await ctx.reload()
        await ctx.answer(event, report.summary())
    elif name == "stats":
        await stats_command(event, ctx)
    elif name == "wave":
        await _wave(event, ctx)


async def _wave(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot wave``: list the waves; ``/rallybot wave open NAME``: open one now."""
    words = _WORDS
    waves: dict[str, datetime | None] = {}
    for campaign in ctx.campaigns.values():
        for wave, when in campaign.waves.items():
            known = waves.get(wave, when)
            waves[wave] = when if known is None or when is None else min(known, when)
    args = [a.lower() for a in event.args]
    if not waves:
        await ctx.answer(event, words["none"])
        return
    now = ctx.clock.now()
    if args[:1] == ["open"] and len(args) == 2:
        wave = args[1]
        if wave not in waves:
            await ctx.answer(
                event, words["unknown"].format(name=wave, known=", ".join(sorted(waves)))
            )
            return
        already = await open_wave(ctx.db, wave, now, ctx.settings.grace)
        if already is not None:
            await ctx.answer(event, words["already"].format(name=wave, when=already))
            return
        ctx.request_plan()
        await ctx.answer(event, words["opened"].format(name=wave))
        return
    if args not in ([], ["list"]):
        await ctx.answer(event, words["usage"])
        return
    opened = await opened_waves(ctx.db)
    lines = [words["title"]]
    for wave, when in sorted(waves.items()):
        by_hand = opened.get(wave)
        if by_hand is not None and (when is None or by_hand < when):
            state = words["manual_open"].format(when=by_hand)
        elif when is None:
            state = words["manual_closed"]
        else:
            state = words["dated_open" if when <= now else "dated"].format(when=when)
        lines.append(f"• {wave} — {state}")
    await ctx.answer(event, "\n".join(lines))


class AdminFeature(Feature):
    """The managers' campaign commands and the help text."""

    name = "admin"
    commands = specs(*sorted(ADMIN_COMMANDS))

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (Subscription(CommandInvoked, on_command),)
