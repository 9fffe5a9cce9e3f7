"""The steering and approval functions the console shares with the chat commands: send now
once per key, skip, retry; a decision with its reason told to the member, once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.handlers.challenges.feature import decide_submission, decide_submission_alone
from rallybot.handlers.steering.feature import (
    find_step,
    recipients,
    send_now,
    skip_outlook,
    skip_step,
)
from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, DeliveryStatus
from tests.engagement.test_evidence import office, submit
from tests.test_steering import make_world


async def _rows(db: Database, step: str) -> list[Delivery]:
    async with db.read() as session:
        query = sa.select(Delivery).where(Delivery.step_id == step)
        return list((await session.execute(query)).scalars())


async def test_send_now_goes_once_per_key_and_leaves(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    found = find_step(w.bot.campaigns, "launch/invite")
    assert not isinstance(found, str)
    campaign, step = found
    chosen = await recipients(db, campaign, step)
    assert not isinstance(chosen, str)
    assert sorted(m.first_name or "" for m in chosen) == ["M1", "M2"]  # the pilote cohort
    assert (await send_now(w.bot, campaign, step, chosen, "form-1", "CM")).queued == 2
    again = await send_now(w.bot, campaign, step, chosen, "form-1", "CM")  # a double submit
    assert (again.queued, again.already) == (0, 0)
    await w.bot.dispatcher.run_once()
    assert w.dms_to("m1") == ["Bonjour M1, bienvenue dans le pilote"]
    assert w.dms_to("m2") == ["Hello M2, welcome to the pilot"]
    one = await recipients(db, campaign, step, "@m3")
    assert not isinstance(one, str) and len(one) == 1
    assert isinstance(await recipients(db, campaign, step, "@nobody"), str)


async def test_find_step_says_what_is_known(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    answer = find_step(w.bot.campaigns, "nope")
    assert isinstance(answer, str) and "invite" in answer


async def test_skip_step_skips_pending_and_later(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    found = find_step(w.bot.campaigns, "invite")
    assert not isinstance(found, str)
    assert await skip_step(w.bot, *found) == 2
    await w.bot.advance_to(w.clock.now() + timedelta(days=5))
    assert w.dms_to("m1") == [] and w.dms_to("m2") == []
    rows = await _rows(db, "invite")
    assert {r.status for r in rows} == {DeliveryStatus.skipped.value}


async def test_skip_outlook_counts_the_planned_messages_it_then_skips(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    found = find_step(w.bot.campaigns, "invite")
    assert not isinstance(found, str)
    assert await _rows(db, "invite") == []  # planned, nothing written in the outbox yet
    told = await skip_outlook(w.bot, *found)
    assert told == 2
    assert await skip_step(w.bot, *found) == told
    assert await skip_outlook(w.bot, *found) == 0  # nothing left to stop


async def test_a_rejection_with_a_reason_is_stored_and_told_once(
    db: Database, tmp_path: Path
) -> None:
    world = await office(db, tmp_path, ("memory:cm",))
    await world.bot.handle(submit(world, "https://x.test/proof"))
    async with db.read() as session:
        [submission_id] = (await session.execute(sa.select(ChallengeSubmission.id))).scalars()
    decision = await decide_submission(
        world.bot, submission_id, approve=False, by="memory:cm", reason="The photo is blurred"
    )
    assert decision is not None and decision.decided and decision.state == "rejected"
    await world.bot.dispatcher.run_once()  # the notice is an outbox row: the next pass sends it
    told = world.directs_to("ana")[-1].text
    assert "not accepted" in told and "The photo is blurred" in told
    again = await decide_submission(world.bot, submission_id, approve=True, by="memory:cm")
    assert again is not None and not again.decided and again.state == "rejected"
    async with db.read() as session:
        row = await session.get(ChallengeSubmission, submission_id)
    assert row is not None and row.reason == "The photo is blurred"
    assert await decide_submission(world.bot, 999, approve=True, by="memory:cm") is None


async def test_an_approval_made_without_the_bot_counts_at_its_tick(
    db: Database, tmp_path: Path
) -> None:
    world = await office(db, tmp_path, ("memory:cm",))
    await world.bot.handle(submit(world, "https://x.test/proof"))
    async with db.read() as session:
        [submission_id] = (await session.execute(sa.select(ChallengeSubmission.id))).scalars()
    decision = await decide_submission_alone(
        db,
        world.bot.campaigns,
        world.clock.now(),
        submission_id,
        approve=True,
        by="memory:cm",
        reason="Well done",
    )
    assert decision is not None and decision.decided
    assert await world.challenge_points() == {}  # nothing counted, nobody told yet
    assert not any("approved" in m.text for m in world.directs_to("ana"))
    await world.bot.advance_to(world.clock.now() + timedelta(minutes=1))
    [points] = (await world.challenge_points()).values()
    assert points == 30
    told = [m.text for m in world.directs_to("ana") if "approved" in m.text]
    assert len(told) == 1 and "Well done" in told[0]
    again = await decide_submission_alone(
        db, world.bot.campaigns, world.clock.now(), submission_id, approve=False, by="memory:cm"
    )
    assert again is not None and not again.decided
    await world.bot.advance_to(world.clock.now() + timedelta(minutes=1))
    assert list((await world.challenge_points()).values()) == [30]  # counted once
