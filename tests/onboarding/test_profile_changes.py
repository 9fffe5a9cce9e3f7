"""A profile completed after joining (a live profile change) completes the onboarding task at
once: the real bot, the memory platform, a simulated clock, SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import MemberProfile, ProfileChanged, UserRef
from rallybot.storage.database import Database
from rallybot.storage.onboarding_models import JourneyTask
from rallybot.storage.repositories import get_member_by_platform_id
from tests.onboarding.support import (
    command,
    journey_state,
    local,
    make_bot,
    newcomer,
    nudges_of,
    rows,
    write_campaign,
)


def changed(user_id: str, n: int, at: object, **profile: object) -> ProfileChanged:
    """The platform tells that ``user_id`` changed their profile (now ``profile``)."""
    return ProfileChanged(
        event_id=f"profile-{user_id}-{n}",
        platform="memory",
        user=UserRef("memory", user_id, str(profile.get("display_name") or user_id)),
        occurred_at=at,  # type: ignore[arg-type]
        profile=MemberProfile(user_id=user_id, **profile),  # type: ignore[arg-type]
    )


async def profile_task(db: Database, user_id: str) -> JourneyTask | None:
    member = await get_member_by_platform_id(db, "memory", user_id)
    assert member is not None
    async with db.session() as session:
        return await session.get(JourneyTask, (member.id, "onb", "profile"))


async def test_a_profile_completed_later_stops_its_nudges_at_once(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    await newcomer(db, "nina", local(0, 9, 30))
    # The platform's own answer stays "incomplete": only the event can tell the bot.
    adapter.set_profile("nina", display_name="Nina", profile_complete=False)

    # Day 0: a first change that does not complete the profile (no photo yet).
    await bot.advance_to(local(0, 15))
    await bot.handle(changed("nina", 1, clock.now(), display_name="nina.b", profile_complete=False))
    assert await profile_task(db, "nina") is None
    # Day 1: the first profile nudge goes; in the afternoon she completes her profile.
    await bot.advance_to(local(1, 15))
    assert "profile 1" in nudges_of(adapter, "nina")
    completed_at = clock.now()
    await bot.handle(
        changed(
            "nina",
            2,
            completed_at,
            display_name="ninab",
            first_name="Nina",
            locale="en-GB",
            timezone="Europe/Paris",
            profile_complete=True,
        )
    )
    # Recorded at once, before any nudge falls due, and the stored profile is the new one.
    task = await profile_task(db, "nina")
    assert task is not None and task.done_at == completed_at and task.how == "detected"
    member = await get_member_by_platform_id(db, "memory", "nina")
    assert member is not None and member.profile_complete
    assert (member.display_name, member.locale) == ("ninab", "en-GB")
    state = await journey_state(db, "nina")
    assert state is not None and state.completed_at is None  # other tasks are still to do

    await bot.advance_to(local(9, 12))
    assert nudges_of(adapter, "nina").count("profile 1") == 1
    assert "profile 2" not in nudges_of(adapter, "nina")
    assert "charter 2" in nudges_of(adapter, "nina")  # the other nudges go on
    (second,) = await rows(db, "journey-profile-2")
    assert second.status == "skipped" and "is done" in (second.reason or "")
    assert not adapter.profiles["nina"].profile_complete  # it was the event, not a fetch

    await command(bot, "nina", "onboarding")
    shown = adapter.directs[-1].message.text
    assert "✅ Complete your profile" in shown and "⬜ Accept the charter" in shown


async def test_profile_changes_of_unknown_people_or_bots_change_nothing(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    bot, _ = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    await bot.handle(changed("stranger", 1, clock.now(), display_name="x", profile_complete=True))
    assert await get_member_by_platform_id(db, "memory", "stranger") is None
    await newcomer(db, "omar", local(0, 9, 30))
    await bot.advance_to(local(0, 12))
    await bot.handle(
        changed("omar", 2, clock.now(), display_name="omar", is_bot=True, profile_complete=True)
    )
    member = await get_member_by_platform_id(db, "memory", "omar")
    assert member is not None and member.is_bot
    assert await profile_task(db, "omar") is None  # bots have no journey
    async with db.session() as session:
        count = await session.execute(sa.select(sa.func.count()).select_from(JourneyTask))
        assert count.scalar_one() == 0
