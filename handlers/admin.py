"""``/rallybot`` commands: help for everyone; campaigns, pause, resume, reload for managers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.events import CommandInvoked
from storage.models import CampaignStatus
from storage.repositories import list_states, set_campaign_status

if TYPE_CHECKING:
    from bot.context import BotContext

__all__ = ["HELP", "on_command", "register"]

HELP = """Rallybot commands:
  /rallybot help                 this list
Community managers:
  /rallybot campaigns            the campaigns and their state
  /rallybot pause CAMPAIGN       stop sending a campaign's messages
  /rallybot resume CAMPAIGN      send them again
  /rallybot reload               re-read the campaign files"""

ADMIN_COMMANDS = frozenset({"campaigns", "pause", "resume", "reload"})


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """Answer a ``/rallybot`` command privately."""
    name = event.name.lower()
    if name in {"", "help"}:
        await ctx.answer(event, HELP)
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


def register(router: object) -> None:
    """Attach this module's handlers."""
    from bot.router import Router

    assert isinstance(router, Router)
    router.add(CommandInvoked, on_command)
