"""Channel membership from the platform: who is in each campaign channel.

The joins the bot sees while running are not enough (people who joined before it started,
people who left): :func:`sync_channel_members` reads each channel's members from the platform
(Slack ``conversations.members``, paged 1,000 at a time; Discord: who can read the channel,
from roles and overwrites, through the member cache) and makes ``channel_member`` match, adding
the members who are there and removing those who left. The bot runs it at start and every
:data:`CHANNEL_SYNC_SECONDS`; joins seen in between are applied as events (``handlers.members``).

People the platform lists whom the bot does not know yet are counted, not created: they are
recorded when they join or when the roster names them, and the next sync adds them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from rallybot.bot.adapters.base import Adapter, AdapterError
from rallybot.storage.database import Database
from rallybot.storage.models import ChannelMember, Member, table_of

__all__ = ["CHANNEL_SYNC_SECONDS", "ChannelSync", "sync_channel_members"]

log = logging.getLogger("rallybot.channels")

CHANNEL_SYNC_SECONDS = 15 * 60
"""How often a running bot reads the campaign channels' members again."""

_CHUNK = 500
_CM = table_of(ChannelMember)
_M = table_of(Member)


@dataclass
class ChannelSync:
    """What a sync did: channels read (and failed), memberships added and removed, and
    platform users the bot does not know yet."""

    channels: int = 0
    failed: int = 0
    added: int = 0
    removed: int = 0
    unknown: int = 0


async def _member_ids(db: Database, platform: str, users: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    async with db.session() as session:
        for start in range(0, len(users), _CHUNK):
            chunk = users[start : start + _CHUNK]
            rows = await session.execute(
                sa.select(_M.c.platform_user_id, _M.c.id).where(
                    _M.c.platform == platform, _M.c.platform_user_id.in_(chunk)
                )
            )
            found.update({str(uid): int(mid) for uid, mid in rows.all()})
    return found


async def sync_channel_members(
    db: Database, adapter: Adapter, platform: str, channel_ids: Iterable[str]
) -> ChannelSync:
    """Make ``channel_member`` of each channel match the platform's list (see the module
    docstring). A channel the platform cannot list is left as it is (and counted failed)."""
    result = ChannelSync()
    for channel in sorted(set(channel_ids)):
        try:
            users = sorted(set(await adapter.channel_members(channel)))
        except AdapterError as exc:
            log.warning("could not read the members of channel %s: %s", channel, exc)
            result.failed += 1
            continue
        result.channels += 1
        known = await _member_ids(db, platform, users)
        result.unknown += len(users) - len(known)
        wanted = set(known.values())
        async with db.session() as session:
            current = {
                int(m)
                for m in (
                    await session.execute(
                        sa.select(_CM.c.member_id).where(
                            _CM.c.platform == platform, _CM.c.channel_id == channel
                        )
                    )
                ).scalars()
            }
            joined = sorted(wanted - current)
            left = sorted(current - wanted)
            for start in range(0, len(joined), _CHUNK):
                await session.execute(
                    sa.insert(_CM),
                    [
                        {"platform": platform, "channel_id": channel, "member_id": m}
                        for m in joined[start : start + _CHUNK]
                    ],
                )
            for start in range(0, len(left), _CHUNK):
                await session.execute(
                    sa.delete(_CM).where(
                        _CM.c.platform == platform,
                        _CM.c.channel_id == channel,
                        _CM.c.member_id.in_(left[start : start + _CHUNK]),
                    )
                )
        result.added += len(joined)
        result.removed += len(left)
    return result
