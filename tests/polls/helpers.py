"""A bot with a campaign of poll steps on the memory adapter, and clicks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from rallybot.bot.adapters.memory import Delivered, MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ButtonClicked, ChannelRef, CommandInvoked, UserRef
from rallybot.bot.messages import Button
from rallybot.storage.database import Database
from rallybot.storage.models import Member, table_of
from rallybot.storage.repositories import add_channel_member, upsert_member

LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
POSTED = LAUNCH + timedelta(days=1, hours=2)  # after the polls' posts (launch + 1d at 10:00)
CLOSED = LAUNCH + timedelta(days=2, hours=9)  # after their close (launch + 2d at 17:00)

CAMPAIGN = """\
id: launch
title: Launch
timezone: Europe/Paris
locale: en
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
steps:
  - id: lunch
    at: launch + 1d at 10:00
    post: annonces
    text: {en: "Where shall we have lunch?", fr: "Où déjeuner ?"}
    poll:
      choices: [Pizza, Sushi, {en: Salad bar, fr: Bar à salades}]
      closes: launch + 2d at 17:00
  - id: tools
    at: launch + 1d at 10:00
    post: annonces
    text: "Which tools do you use?"
    poll:
      choices: [Docs, Chat, Wiki]
      multiple: true
      closes: launch + 2d at 17:00
  - id: mood
    at: launch + 1d at 10:00
    post: annonces
    text: "How is the launch going?"
    poll:
      choices: [Great, Fine, Rough]
      anonymous: true
      closes: launch + 2d at 17:00
  - id: wishes
    at: launch + 1d at 10:00
    post: annonces
    text: "What would you like next?"
    poll:
      choices: [A, B, C, D, E, F, G, H, I, J]
      multiple: true
      anonymous: true
      closes: launch + 2d at 17:00
"""

_ids = itertools.count(1)


def make_bot(db: Database, tmp_path: Path, text: str = CAMPAIGN) -> tuple[Rallybot, MemoryAdapter]:
    path = tmp_path / "launch.yaml"
    path.write_text(text)
    adapter = MemoryAdapter()
    clock = SimulatedClock(LAUNCH - timedelta(days=1))
    settings = Settings(database_url=db.url, quiet_hours="21:00-08:00", admins=["memory:cm"])
    return Rallybot(settings, db, adapter, clock, campaign_paths=[path]), adapter


async def add_members(db: Database, count: int, channel: str | None = "general") -> list[Member]:
    """Members u0..u{count-1}, in ``channel`` (the poll's audience) unless None; and the
    community manager ``cm``, who reads English."""
    await upsert_member(db, "memory", "cm", LAUNCH, display_name="CM", locale="en")
    members = []
    for i in range(count):
        member = await upsert_member(
            db,
            "memory",
            f"u{i}",
            LAUNCH - timedelta(days=2),
            display_name=f"User {i}",
            joined_at=LAUNCH - timedelta(days=2),
            timezone="Europe/Paris",
            locale="en",
        )
        assert member.id is not None
        if channel is not None:
            await add_channel_member(db, "memory", channel, member.id)
        members.append(member)
    return members


def user(uid: str) -> UserRef:
    return UserRef("memory", uid, name=uid)


async def click(
    bot: Rallybot,
    uid: str,
    button: Button,
    *,
    event_id: str | None = None,
    value: str | None = None,
) -> None:
    assert button.action_id is not None
    await bot.handle(
        ButtonClicked(
            event_id=event_id or f"click-{next(_ids)}",
            platform="memory",
            user=user(uid),
            occurred_at=bot.clock.now(),
            channel=ChannelRef("memory", "general"),
            message_id="m",
            action_id=button.action_id,
            value=button.value if value is None else value,
        )
    )


async def command(bot: Rallybot, uid: str, *args: str, channel: str = "general") -> None:
    await bot.handle(
        CommandInvoked(
            event_id=f"command-{next(_ids)}",
            platform="memory",
            user=user(uid),
            occurred_at=bot.clock.now(),
            name="poll",
            args=args,
            channel=ChannelRef("memory", channel, is_direct=channel.startswith("dm-")),
        )
    )


def post_of(adapter: MemoryAdapter, step: str) -> Delivered:
    return next(d for d in adapter.posts if d.message.metadata.get("step") == step)


def button(delivered: Delivered, label: str) -> Button:
    return next(b for b in delivered.message.buttons if b.label == label)


def last_dm(adapter: MemoryAdapter, uid: str) -> str:
    return [d for d in adapter.directs if d.target == uid][-1].message.text


async def rows(db: Database, model: type[SQLModel]) -> list[dict[str, Any]]:
    async with db.session() as session:
        return [dict(r) for r in (await session.execute(sa.select(table_of(model)))).mappings()]
