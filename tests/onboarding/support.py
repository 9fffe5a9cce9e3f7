"""A journey campaign, a bot on the memory platform and a simulated clock, and small helpers."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    MemberJoined,
    MessagePosted,
    UserRef,
)
from rallybot.campaigns.timeexpr import localize
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, Member
from rallybot.storage.onboarding_models import JourneyState
from rallybot.storage.repositories import get_member_by_platform_id, upsert_member

PARIS = ZoneInfo("Europe/Paris")
DAY0 = datetime(2026, 11, 2)  # a Monday; Paris is UTC+1 all week

CAMPAIGN = """\
id: onb
title: Onboarding
timezone: Europe/Paris
locale: en
channels:
  general: C-GEN
  community: C-COM
audiences:
  newcomers: {{ cohort: new }}
steps:
  - id: announce
    at: 2026-11-03 09:00
    post: general
    text: "Big news"
  - id: news-dm
    for: newcomers
    at: 2026-11-03 16:00
    dm: "Personal news"
journey:
  for: newcomers
  community: community
{extra}  welcome:
    at: join + 0d at 10:00
    dm: "Welcome {{first_name}}"
  tasks:
    - id: profile
      done_when: profile_complete
      label: Complete your profile
      nudges:
        - {{ at: join + 1d at 10:00, dm: "profile 1" }}
        - {{ at: join + 3d at 10:00, dm: "profile 2" }}
    - id: charter
      done_when: charter_accepted
      label: Accept the charter
      nudges:
        - {{ at: join + 1d at 11:00, dm: "charter 1" }}
        - {{ at: join + 5d at 10:00, dm: "charter 2" }}
    - id: app
      done_when: self_declared
      label: Install the app
      nudges:
        - {{ at: join + 1d at 12:00, dm: "app 1" }}
    - id: channels
      done_when: joined_channels
      channels: [general, community]
      label: Join the channels
      nudges:
        - {{ at: join + 2d at 10:00, dm: "channels 1" }}
    - id: post
      done_when: first_post
      label: Say hello in the community
      nudges:
        - {{ at: join + 2d at 11:00, dm: "post 1" }}
    - id: quiz
      done_when: quiz_answered
      label: Answer a quiz
      nudges:
        - {{ at: join + 4d at 10:00, dm: "quiz 1" }}
  done:
    dm: "Congratulations {{first_name}}"
    points: 20
"""

ALL_NUDGES = [
    "profile 1",
    "charter 1",
    "app 1",
    "channels 1",
    "post 1",
    "profile 2",
    "quiz 1",
    "charter 2",
]
"""Every nudge of the campaign, in the order they fall due."""

_ids = itertools.count(1)


def local(day: int, hour: int, minute: int = 0, zone: ZoneInfo = PARIS) -> datetime:
    """``DAY0 + day`` at ``hour:minute`` in ``zone``, aware."""
    naive = DAY0 + timedelta(days=day)
    return localize(naive.replace(hour=hour, minute=minute), zone)


def write_campaign(path: Path, extra: str = "") -> Path:
    """The journey campaign; ``extra`` adds journey keys (two-space indented lines)."""
    path.write_text(CAMPAIGN.format(extra=extra), encoding="utf-8")
    return path


def make_bot(
    db: Database,
    campaign: Path,
    clock: SimulatedClock,
    adapter: MemoryAdapter | None = None,
    *,
    worker_id: str | None = None,
    **settings: object,
) -> tuple[Rallybot, MemoryAdapter]:
    """The real bot on the memory platform."""
    adapter = adapter or MemoryAdapter()
    options: dict[str, object] = {
        "database_url": "sqlite://",
        "quiet_hours": "21:00-08:00",
        "admins": ["memory:cm"],
        "timezone": "Europe/Paris",
        "onboarding_max_nudges_per_day": 10,
        **settings,
    }
    bot = Rallybot(
        Settings(**options), db, adapter, clock, campaign_paths=[campaign], worker_id=worker_id
    )
    return bot, adapter


async def newcomer(
    db: Database,
    user_id: str,
    joined: datetime,
    *,
    timezone: str = "Europe/Paris",
    cohort: str = "new",
    locale: str = "en",
) -> Member:
    """A member of the journey's audience who joined at ``joined``, reading in ``locale``."""
    return await upsert_member(
        db,
        "memory",
        user_id,
        joined,
        display_name=user_id.title(),
        first_name=user_id.title(),
        locale=locale,
        timezone=timezone,
        cohort=cohort,
        joined_at=joined,
    )


def keyed_dms(adapter: MemoryAdapter, user_id: str) -> list[str]:
    """Texts of the outbox's direct messages to ``user_id`` (not command answers), in order."""
    return [
        d.message.text
        for d in adapter.directs
        if d.target == user_id and d.idempotency_key is not None
    ]


def nudges_of(adapter: MemoryAdapter, user_id: str) -> list[str]:
    """The nudges (of :data:`ALL_NUDGES`) sent to ``user_id``, in order."""
    return [text for text in keyed_dms(adapter, user_id) if text in ALL_NUDGES]


def user(user_id: str) -> UserRef:
    """A member on the memory platform."""
    return UserRef("memory", user_id, user_id.title())


def dm_channel(user_id: str) -> ChannelRef:
    """The member's direct conversation."""
    return ChannelRef("memory", f"dm-{user_id}", is_direct=True)


async def click(bot: Rallybot, user_id: str, action: str, value: str) -> None:
    """The member presses a button of a message the bot sent."""
    await bot.handle(
        ButtonClicked(
            event_id=f"click-{next(_ids)}",
            platform="memory",
            user=user(user_id),
            occurred_at=bot.clock.now(),
            channel=dm_channel(user_id),
            message_id="m",
            action_id=action,
            value=value,
        )
    )


async def command(bot: Rallybot, user_id: str, name: str, *args: str) -> None:
    """The member runs ``/rallybot name args``."""
    await bot.handle(
        CommandInvoked(
            event_id=f"cmd-{next(_ids)}",
            platform="memory",
            user=user(user_id),
            occurred_at=bot.clock.now(),
            name=name,
            args=args,
        )
    )


async def post(bot: Rallybot, user_id: str, channel: str, text: str = "Hello!") -> None:
    """The member posts in a channel."""
    await bot.handle(
        MessagePosted(
            event_id=f"post-{next(_ids)}",
            platform="memory",
            user=user(user_id),
            occurred_at=bot.clock.now(),
            channel=ChannelRef("memory", channel),
            message_id=f"p{next(_ids)}",
            text=text,
        )
    )


async def join(bot: Rallybot, user_id: str, channel: str | None = None) -> None:
    """The member joins the workspace (``channel`` None) or a channel."""
    await bot.handle(
        MemberJoined(
            event_id=f"join-{next(_ids)}",
            platform="memory",
            user=user(user_id),
            occurred_at=bot.clock.now(),
            channel=ChannelRef("memory", channel) if channel else None,
        )
    )


async def journey_state(db: Database, user_id: str) -> JourneyState | None:
    """The member's journey row of the ``onb`` campaign."""
    member = await get_member_by_platform_id(db, "memory", user_id)
    assert member is not None and member.id is not None
    async with db.session() as session:
        return await session.get(JourneyState, (member.id, "onb"))


async def rows(db: Database, step_prefix: str = "") -> list[Delivery]:
    """Outbox rows, optionally of steps whose id starts with ``step_prefix``."""
    async with db.session() as session:
        query = sa.select(Delivery).order_by(Delivery.id)  # type: ignore[arg-type]
        found = list((await session.execute(query)).scalars())
    return [row for row in found if row.step_id.startswith(step_prefix)]
