"""Onboarding badges: ``onboarding_tasks`` counts tasks only (not the completion bonus) and
``onboarding_done: true`` is earned when the checklist is complete, announced once through the
outbox; a real bot on the memory adapter and a simulated clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    Event,
    MemberJoined,
    UserRef,
)
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.campaigns.rules import RulesLoadError, load_rules_text
from rallybot.storage import ledger
from rallybot.storage.database import Database
from rallybot.storage.models import PointEntry, table_of
from rallybot.storage.repositories import get_member_by_platform_id

LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # 09:30 in Paris
E = table_of(PointEntry).c
_ids = itertools.count()

CAMPAIGN = """\
id: onb
title: Onboarding
timezone: Europe/Paris
locale: en
milestones:
  launch: 2026-11-03 09:30
channels:
  general: general
steps:
  - id: hello
    at: launch
    post: general
    text: Hello
journey:
  welcome: {{at: join + 0d at 10:00, dm: "Welcome"}}
  tasks:
    - id: app
      done_when: self_declared
      label: Install the app
      nudges:
        - {{at: join + 1d at 12:00, dm: "app 1"}}
    - id: desk
      done_when: self_declared
      label: Book a desk
      nudges:
        - {{at: join + 1d at 13:00, dm: "desk 1"}}
  done:
    dm: "All done"
    points: {done_points}
"""

RULES = """\
points: {{onboarding_task: {task_points}}}
badges:
  - id: two-tasks
    name: Two tasks
    when: {{onboarding_tasks: 2}}
  - id: three-tasks
    name: Three tasks
    when: {{onboarding_tasks: 3}}
  - id: onboarded
    name: Onboarded
    when: {{onboarding_done: true}}
"""


class World:
    """A bot with the journey and the rules above; helpers to push events at it."""

    def __init__(self, bot: Rallybot, adapter: MemoryAdapter, db: Database) -> None:
        self.bot, self.adapter, self.db = bot, adapter, db

    async def handle(self, event: Event) -> None:
        await self.bot.handle(event)

    def base(self, who: str) -> dict[str, object]:
        return {
            "event_id": f"o{next(_ids)}",
            "platform": "memory",
            "user": UserRef("memory", who, name=who.capitalize()),
            "occurred_at": self.bot.clock.now(),
        }

    async def join(self, who: str) -> None:
        await self.handle(MemberJoined(**self.base(who)))  # type: ignore[arg-type]

    async def done(self, who: str, task: str) -> None:
        """The member says the task is done (its nudge's button)."""
        await self.handle(
            ButtonClicked(
                **self.base(who),  # type: ignore[arg-type]
                channel=ChannelRef("memory", f"dm-{who}", is_direct=True),
                message_id=f"m{next(_ids)}",
                action_id="onboarding-done",
                value=f"onb/journey-{task}-1",
            )
        )

    async def command(self, who: str, name: str) -> None:
        await self.handle(CommandInvoked(**self.base(who), name=name))  # type: ignore[arg-type]

    async def badge_dms(self, who: str) -> list[str]:
        """The badge announcements sent to ``who`` (the outbox is sent first)."""
        await self.bot.dispatch_tick(drain=True)
        return [
            d.message.text
            for d in self.adapter.directs
            if d.target == who and "🏅" in d.message.text
        ]

    async def badges(self, who: str) -> list[str]:
        member = await get_member_by_platform_id(self.db, "memory", who)
        assert member is not None and member.id is not None
        return sorted(b.badge_id for b in await ledger.badges_of(self.db, member.id))

    async def onboarding_points(self) -> int:
        async with self.db.session() as session:
            total = await session.scalar(
                sa.select(sa.func.sum(E.amount)).where(E.source == "onboarding")
            )
        return int(total or 0)


async def make_world(db: Database, tmp_path: Path, *, task_points: int, done_points: int) -> World:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "onb.yaml").write_text(CAMPAIGN.format(done_points=done_points))
    (tmp_path / "rules.yaml").write_text(RULES.format(task_points=task_points))
    clock = SimulatedClock(LAUNCH - timedelta(hours=1))
    adapter = MemoryAdapter()
    settings = Settings(
        database_url="sqlite://",
        admins=["memory:cm"],
        quiet_hours="off",
        locale="en",
        rules_file=tmp_path / "rules.yaml",
    )
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[folder])
    report = await bot.reload()
    assert not report.errors, report.summary()
    await bot.advance_to(LAUNCH + timedelta(minutes=1))
    return World(bot, adapter, db)


async def test_the_checklist_badge_comes_once_and_the_bonus_is_not_a_task(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path, task_points=5, done_points=20)
    await w.join("dan")
    await w.done("dan", "app")
    assert await w.badges("dan") == []
    await w.done("dan", "desk")  # the last task: 5 points, then the completion bonus of 20
    assert await w.onboarding_points() == 30
    # Two tasks (not three: the bonus is not a task), and the checklist done.
    assert await w.badges("dan") == ["onboarded", "two-tasks"]
    assert sorted(await w.badge_dms("dan")) == [
        "🏅 New badge: Onboarded! Well done Dan.",
        "🏅 New badge: Two tasks! Well done Dan.",
    ]
    # The same button again, the checklist shown, a restart, days later: nothing more.
    await w.done("dan", "desk")
    await w.command("dan", "onboarding")
    await w.bot.advance_to(LAUNCH + timedelta(days=3))
    assert len(await w.badge_dms("dan")) == 2
    assert await w.badges("dan") == ["onboarded", "two-tasks"]


async def test_the_checklist_badge_needs_no_points(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path, task_points=0, done_points=0)
    await w.join("eve")
    await w.done("eve", "app")
    assert await w.badges("eve") == []
    await w.done("eve", "desk")
    assert await w.onboarding_points() == 0  # nothing in the ledger...
    assert await w.badges("eve") == ["onboarded"]  # ...and the badge all the same
    assert await w.badge_dms("eve") == ["🏅 New badge: Onboarded! Well done Eve."]


def test_onboarding_done_accepts_only_true_and_the_done_task_id_is_reserved() -> None:
    text = "badges:\n  - id: a\n    name: A\n    when: {onboarding_done: false}\n"
    with pytest.raises(RulesLoadError) as caught:
        load_rules_text(text, "rules.yaml")
    assert [str(e) for e in caught.value.errors] == [
        "rules.yaml:4:29: badges[0].when.onboarding_done: onboarding_done can only be true "
        "(leave it out otherwise)"
    ]
    campaign = CAMPAIGN.format(done_points=1).replace("- id: desk", "- id: done")
    with pytest.raises(CampaignLoadError) as failed:
        load_campaign_text(campaign, "onb.yaml")
    assert [str(e) for e in failed.value.errors] == [
        'onb.yaml:22:11: journey.tasks[1].id: task id "done" is reserved '
        "(the checklist's completion)"
    ]
