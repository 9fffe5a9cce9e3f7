"""Messages written when they are sent: the render hook of the outbox, and the leaderboard step.

The planner writes a step's message into the outbox ahead of time; a step whose content must
reflect the moment it goes out (a leaderboard) carries a marker in its payload
(``{"render": {"kind": "leaderboard", ...}}``), and :func:`make_render` gives the dispatcher
the hook that fills it in just before sending.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rallybot.bot import formats, i18n
from rallybot.bot.feature import Feature
from rallybot.bot.messages import Message
from rallybot.bot.messages import member as member_text
from rallybot.bot.outbox import Render
from rallybot.handlers.points.service import PERIODS, rules_of
from rallybot.storage import ledger
from rallybot.storage.models import Delivery

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "RENDERERS",
    "LeaderboardFeature",
    "leaderboard_text",
    "make_render",
    "render_leaderboard",
]

Renderer = Callable[["BotContext", Delivery, Message, dict[str, Any]], Awaitable[Message]]


def _title(locale: str | None, period: str) -> str:
    """The default title of a leaderboard post for ``period``."""
    if period == "all":
        return i18n.gettext(locale, "Leaderboard, all time")
    if period == "season":
        return i18n.gettext(locale, "Leaderboard, this season")
    if period == "30d":
        return i18n.gettext(locale, "Leaderboard, the last 30 days")
    return i18n.gettext(locale, "Leaderboard, the last 7 days")


async def leaderboard_text(
    ctx: BotContext, *, period: str, top: int, team: str | None, locale: str | None
) -> str:
    """The standings as lines of text (names as member text), as of now."""
    rules = rules_of(ctx)
    if rules.leaderboard.private:  # a channel post shows no more than the rules' top N
        top = min(top, rules.leaderboard.top)
    standings = (
        await ledger.leaderboard(
            ctx.db, period=PERIODS[period], now=ctx.clock.now(), team=team, limit=top
        )
        if top > 0
        else []
    )
    lines = [
        f"{s.rank}. {member_text(s.display_name or str(s.member_id), 80)} — "
        # Translators: a member's points in a leaderboard line, abbreviated ("50 pts").
        + i18n.ngettext(locale, "{total} pt", "{total} pts", s.total).format(
            total=formats.number(locale, s.total)
        )
        for s in standings
    ]
    return "\n".join(lines) if lines else i18n.gettext(locale, "No points yet.")


async def render_leaderboard(
    ctx: BotContext, row: Delivery, message: Message, marker: dict[str, Any]
) -> Message:
    """The step's text (a default title when it has none) followed by the standings."""
    period = str(marker.get("period") or "7d")
    if period not in PERIODS:
        period = "7d"
    team = marker.get("team")
    team = str(team) if team else None
    top = int(marker.get("top") or 10)
    locale = message.metadata.get("locale")
    header = message.text.strip()
    if not header:
        header = _title(locale, period)
        if team:
            # Translators: added to a leaderboard's title when it ranks one team's members.
            header += i18n.gettext(locale, ", team {team}").format(team=member_text(team, 80))
        header += ":"
    body = await leaderboard_text(ctx, period=period, top=top, team=team, locale=locale)
    return replace(message, text=f"{header}\n{body}")


RENDERERS: dict[str, Renderer] = {"leaderboard": render_leaderboard}
"""Render kinds -> the function that writes the message when it is sent."""


def make_render(ctx: BotContext) -> Callable[[Delivery, Message], Awaitable[Message]]:
    """The dispatcher's render hook: fills in the message of a payload with a ``render``
    marker (an unknown kind leaves the message as planned)."""

    async def render(row: Delivery, message: Message) -> Message:
        marker = row.payload.get("render")
        if not isinstance(marker, dict):
            return message
        renderer = RENDERERS.get(str(marker.get("kind")))
        if renderer is None:
            return message
        return await renderer(ctx, row, message, marker)

    return render


class LeaderboardFeature(Feature):
    """Leaderboard steps, written when sent."""

    name = "leaderboard"

    def renders(self, ctx: BotContext) -> Sequence[Render]:
        """Leaderboard steps: written when sent."""
        return (make_render(ctx),)
