"""Members: newcomers joining the workspace or a channel are recorded, with their profile,
and the profile is kept up to date when the member changes it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rallybot.bot.events import MemberJoined, ProfileChanged
from rallybot.bot.feature import Feature, Subscription
from rallybot.storage.repositories import (
    add_channel_member,
    get_member_by_platform_id,
    upsert_member,
)

if TYPE_CHECKING:
    from rallybot.bot.context import BotContext

__all__ = [
    "MembersFeature",
    "on_member_joined",
    "on_profile_changed",
]


async def on_member_joined(event: MemberJoined, ctx: BotContext) -> None:
    """Record a newcomer (their join date starts their journey) or a channel membership."""
    profile = await ctx.adapter.fetch_profile(event.user.id)
    fields: dict[str, object] = {"display_name": event.user.name or event.user.id}
    if profile is not None:
        fields.update(
            display_name=profile.display_name or event.user.name or event.user.id,
            first_name=profile.first_name,
            is_bot=profile.is_bot,
            profile_complete=profile.profile_complete,
        )
        if profile.locale:
            fields["locale"] = profile.locale
        if profile.timezone:
            fields["timezone"] = profile.timezone
    existing_join = await ctx.member_join_date(event.platform, event.user.id)
    if event.channel is None or existing_join is None:
        fields["joined_at"] = existing_join or event.occurred_at
    member = await upsert_member(ctx.db, event.platform, event.user.id, ctx.clock.now(), **fields)
    if event.channel is not None and member.id is not None:
        await add_channel_member(ctx.db, event.platform, event.channel.id, member.id)
    ctx.request_plan()


async def on_profile_changed(event: ProfileChanged, ctx: BotContext) -> None:
    """Store the new profile of a member the bot knows (names, time zone, locale, whether it
    is complete); people it does not know yet are recorded when they join."""
    member = await get_member_by_platform_id(ctx.db, event.platform, event.user.id)
    if member is None:
        return
    profile = event.profile
    fields: dict[str, object] = {
        "is_bot": profile.is_bot,
        "profile_complete": profile.profile_complete,
    }
    for name in ("display_name", "first_name", "locale", "timezone"):
        value = getattr(profile, name)
        if value:  # a field the platform left out never erases what is known
            fields[name] = value
    updated = await upsert_member(ctx.db, event.platform, event.user.id, ctx.clock.now(), **fields)
    if (updated.timezone, updated.locale) != (member.timezone, member.locale):
        ctx.request_plan()  # personal messages go at the member's local time, in their language


class MembersFeature(Feature):
    """Members: joins and profiles."""

    name = "members"
    personal_data = ("channel_member",)

    def subscriptions(self) -> Sequence[Subscription]:
        """Attach this module's handlers."""
        return (
            Subscription(MemberJoined, on_member_joined),
            Subscription(ProfileChanged, on_profile_changed),
        )
