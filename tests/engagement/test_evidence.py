"""Challenge evidence goes through the outbox: retried, never lost; and nobody is told "sent to
the community managers" when there is none."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import CommandInvoked
from rallybot.bot.outbox import DispatchStats
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery
from rallybot.storage.repositories import upsert_member
from tests.engagement.test_challenges import CAMPAIGN, LAUNCH, PROOF, World, eid, user


class Office(World):
    """The challenges world with the managers' settings chosen by the test."""

    admins: tuple[str, ...] = ("memory:cm",)

    def new_bot(self) -> Rallybot:
        settings = Settings(
            database_url=f"sqlite:///{self.folder.parent / 'settings.db'}",
            admins=list(self.admins),
            quiet_hours="off",
            locale="en",
        )
        return Rallybot(settings, self.db, self.adapter, self.clock, campaign_paths=[self.folder])


async def office(db: Database, tmp_path: Path, admins: tuple[str, ...]) -> Office:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "ch.yaml").write_text(CAMPAIGN.format(challenges=PROOF))
    Office.admins = admins
    world = Office(db, folder, SimulatedClock(LAUNCH - timedelta(hours=1)))
    assert not (await world.bot.reload()).errors
    await upsert_member(db, "memory", "ana", world.clock.now(), display_name="Ana", locale="en")
    await world.bot.advance_to(LAUNCH + timedelta(minutes=1))
    return world


def submit(world: World, text: str) -> CommandInvoked:
    return CommandInvoked(
        event_id=eid(),
        platform="memory",
        user=user("ana"),
        occurred_at=world.clock.now(),
        name="challenge",
        args=("submit", "proof", text),
    )


async def evidence_rows(db: Database) -> list[Delivery]:
    async with db.session() as session:
        query = sa.select(Delivery).where(Delivery.step_id.like("%-evidence-%"))
        return list((await session.execute(query)).scalars())


async def no_send_now(keys: object) -> DispatchStats:
    """In place of the dispatcher's immediate send: the rows wait for the next pass."""
    return DispatchStats()


async def test_evidence_that_fails_to_send_is_retried_and_arrives_once(
    db: Database, tmp_path: Path
) -> None:
    world = await office(db, tmp_path, ("memory:cm",))
    world.bot.dispatcher.send_now = no_send_now  # type: ignore[method-assign]
    await world.bot.handle(submit(world, "https://x.test/proof"))
    assert "was sent to the community managers" in world.directs_to("ana")[-1].text
    world.adapter.fail_next(1)  # the platform is down when the evidence goes
    await world.bot.dispatcher.run_once()
    assert [m for m in world.directs_to("cm") if m.buttons] == []
    [row] = await evidence_rows(db)
    assert row.status == "pending" and (row.reason or "").startswith("retrying")
    await world.bot.advance_to(world.clock.now() + timedelta(minutes=1))
    [review] = [m for m in world.directs_to("cm") if m.buttons]
    assert "https://x.test/proof" in review.text
    [row] = await evidence_rows(db)
    assert row.status == "sent"


async def test_with_no_manager_the_submitter_is_told_so(db: Database, tmp_path: Path) -> None:
    world = await office(db, tmp_path, ("discord:123",))  # a manager, but on another platform
    await world.bot.handle(submit(world, "my proof"))
    answer = world.directs_to("ana")[-1].text
    assert "no community manager is set up" in answer
    assert "was sent to the community managers" not in answer
    assert await evidence_rows(db) == []
