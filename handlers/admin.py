"""``/rallybot`` commands: help for everyone; campaigns, pause, resume, reload for managers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rallybot.bot.events import CommandInvoked
from rallybot.storage.models import CampaignStatus
from rallybot.storage.repositories import list_states, set_campaign_status

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = ["HELP", "on_command", "register"]

HELP = """Rallybot commands:
  /rallybot help                 this list
  /rallybot help [--private] QUESTION   ask the helpers (in the help channel, or privately)
  /rallybot points               my points, rank, badges and last entries
  /rallybot top [all|season|7d|30d] [team]   the leaderboard
  /rallybot kudos @member reason thank a colleague (a few a day)
  /rallybot quiz [BANK]          take a quiz at your own pace, in direct messages
  /rallybot quiz top [BANK]      the quiz leaderboard
  /rallybot challenges           my challenges and my progress
  /rallybot challenge submit ID text-or-link   evidence for a challenge (a manager judges it)
  /rallybot invite @colleague    say you invited a colleague (counts when they join)
  /rallybot onboarding           my onboarding checklist: what is done, what is left
  /rallybot stop                 no more reminders (announcements go on); start: again
  /rallybot mydata               everything stored about me, as JSON, in direct messages
  /rallybot forget               erase my personal data (asks for a confirmation)
Helpers:
  /rallybot helpdesk             the open help tickets
Community managers:
  /rallybot campaigns            the campaigns and their state
  /rallybot pause CAMPAIGN       stop sending a campaign's messages
  /rallybot resume CAMPAIGN      send them again
  /rallybot reload               re-read the campaign files
  /rallybot stats [WEEKS] [cohort=X] [team=X] [campaign=ID]   indicators and charts (4 weeks)
  /rallybot points add|remove @member N reason   adjust points (audited)
  /rallybot points revert ENTRY_ID               undo a ledger entry
  /rallybot season start NAME    start a new points season
  /rallybot quiz live BANK [N] [30s]   run a live quiz in this channel
  /rallybot survey list          the surveys and their responses
  /rallybot survey results ID    a survey's results and response rate"""

ADMIN_COMMANDS = frozenset({"campaigns", "pause", "resume", "reload", "stats"})


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """Answer a ``/rallybot`` command privately."""
    name = event.name.lower()
    if name == "" or (name == "help" and not event.args):  # with a question: handlers.helpdesk
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
    elif name == "stats":
        from rallybot.handlers.stats import stats_command

        await stats_command(event, ctx)


def register(router: object) -> None:
    """Attach this module's handlers."""
    from rallybot.bot.router import Router

    assert isinstance(router, Router)
    router.add(CommandInvoked, on_command)
