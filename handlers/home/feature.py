"""``/rallybot me``: my own space in one answer: my onboarding checklist, my points, level and
badges, my challenges, and what comes next for me (the next quiz, the next messages).

It only gathers what the features' public summaries say (:func:`onboarding.checklist`,
:func:`points.summary`, :func:`challenges.summary`) and what the campaigns plan for me.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rallybot.bot import formats, i18n
from rallybot.bot.context import locale_for
from rallybot.bot.events import CommandInvoked, HomeOpened
from rallybot.bot.feature import Feature, Subscription
from rallybot.bot.messages import Message
from rallybot.bot.views import member_view
from rallybot.campaigns.planner import plan
from rallybot.handlers.challenges import service as challenges
from rallybot.handlers.home.commands import COMMAND_SPECS
from rallybot.handlers.onboarding import service as onboarding
from rallybot.handlers.points import service as points
from rallybot.storage.repositories import (
    get_or_create_member,
)

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext
    from rallybot.storage.models import Member

__all__ = [
    "COMMANDS",
    "HomeFeature",
    "home_text",
    "on_command",
    "on_home_opened",
]

COMMANDS = frozenset({"me"})
AHEAD = timedelta(days=30)
"""How far ahead "what comes next" looks."""


async def _next(ctx: BotContext, member: Member) -> list[str]:
    """The next quiz and the next messages the campaigns plan for the member."""
    now = ctx.clock.now()
    locale = locale_for(ctx, member)
    view = member_view(member)
    quizzes: list[tuple[datetime, str, str]] = []
    messages: list[tuple[datetime, str, str]] = []
    for campaign in ctx.campaigns.values():
        for channel_quizzes in (False, True):
            for delivery in plan(
                campaign,
                [view],
                now,
                now + AHEAD,
                default_timezone=ctx.settings.timezone,
                channel_quizzes=channel_quizzes,
            ):
                when = formats.moment(locale, delivery.local_due, "MMMEd")
                item = (delivery.due_at, delivery.step.id, when)
                if delivery.step.spec.quiz is not None:
                    quizzes.append(item)
                elif delivery.member is not None:  # channel posts are for everyone
                    messages.append(item)
    # Translators: {step} is the id of a campaign step, {when} a day and hour.
    quiz = i18n.gettext(locale, "Next quiz: {step}, {when}.")
    # Translators: a message planned for the member; {step} is its step id.
    coming = i18n.gettext(locale, "Coming up: {step}, {when}.")
    lines = [quiz.format(step=step, when=when) for _, step, when in sorted(quizzes)[:1]]
    lines += [coming.format(step=step, when=when) for _, step, when in sorted(messages)[:3]]
    if lines:
        return lines
    nothing = i18n.ngettext(
        locale,
        "Nothing planned for you in the next {days} day.",
        "Nothing planned for you in the next {days} days.",
        AHEAD.days,
    )
    return [nothing.format(days=AHEAD.days)]


async def home_text(ctx: BotContext, member: Member) -> str:
    """My space, as text: the sections of ``/rallybot me`` (and of Slack's Home tab)."""
    locale = locale_for(ctx, member)
    # Translators: the titles of the sections of a member's own space (/rallybot me).
    onboarding_title = i18n.pgettext(locale, "home section", "Onboarding")
    points_title = i18n.pgettext(locale, "home section", "Points")
    # Translators: the section of a member's own space that lists what comes next for them.
    next_title = i18n.pgettext(locale, "home section", "Next")
    sections = [
        f"🧭 {onboarding_title}\n" + await onboarding.checklist(ctx, member),
        f"⭐ {points_title}\n" + "\n".join(await points.summary(ctx, member, entries=0)),
        "🏁 " + "\n".join(await challenges.summary(ctx, member)),  # its title comes with it
        f"📅 {next_title}\n" + "\n".join(await _next(ctx, member)),
    ]
    return "\n\n".join(sections)


async def on_home_opened(event: HomeOpened, ctx: BotContext) -> None:
    """A member opened the App Home tab (Slack): show their space there."""
    publish = getattr(ctx.adapter, "publish_home", None)  # an optional adapter capability
    if publish is None:
        return
    member = await get_or_create_member(ctx.db, event.platform, event.user.id, ctx.clock.now())
    await publish(event.user.id, Message(text=await home_text(ctx, member)))


async def on_command(event: CommandInvoked, ctx: BotContext) -> None:
    """``/rallybot me``: my space, privately."""
    if event.name.lower() not in COMMANDS:
        return
    member = await get_or_create_member(
        ctx.db, event.platform, event.user.id, ctx.clock.now(), display_name=event.user.name
    )
    await ctx.answer(event, await home_text(ctx, member))


class HomeFeature(Feature):
    """``/rallybot me`` and the member's home tab."""

    name = "home"
    commands = COMMAND_SPECS

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (
            Subscription(CommandInvoked, on_command),
            Subscription(HomeOpened, on_home_opened),
        )
