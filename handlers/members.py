"""Members: newcomers joining the workspace or a channel are recorded, with their profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.events import MemberJoined
from storage.repositories import add_channel_member, upsert_member

if TYPE_CHECKING:
    from bot.context import BotContext

__all__ = ["on_member_joined", "register"]


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


def register(router: object) -> None:
    """Attach this module's handlers."""
    from bot.router import Router

    assert isinstance(router, Router)
    router.add(MemberJoined, on_member_joined)
