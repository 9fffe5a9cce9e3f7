"""One way to see a stored member as the planner does: :func:`member_view`."""

from __future__ import annotations

from collections.abc import Iterable

from rallybot.campaigns.planner import MemberView
from rallybot.storage.models import Member

__all__ = ["member_view"]


def member_view(member: Member, channels: Iterable[str] = ()) -> MemberView:
    """The planner's view of a stored member (``channels``: the platform channels they are
    in, for channel audiences). The key is the member's database id."""
    return MemberView(
        key=str(member.id),
        name=member.display_name,
        first_name=member.first_name,
        locale=member.locale,
        timezone=member.timezone,
        joined_at=member.joined_at,
        team=member.team,
        cohort=member.cohort,
        groups=frozenset(member.groups or ()),
        channels=frozenset(channels),
        profile_complete=member.profile_complete,
        opted_out=member.opted_out,
        is_bot=member.is_bot,
    )
