"""The console's acting service: steps with what waits, whom a send reaches, a preview to
myself through the outbox, evidence waiting, member search and erasure, a roster upload all
or nothing."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from rallybot.handlers.console.act_services import (
    current_members,
    erase,
    import_roster,
    pending_submissions,
    preview_to,
    reach_of,
    search_members,
    step_rows,
)
from rallybot.handlers.steering.feature import find_step
from rallybot.storage.database import Database
from rallybot.storage.models import Member
from rallybot.storage.onboarding_models import JourneyState, JourneyTask
from rallybot.storage.repositories import add_channel_member, get_member_by_platform_id
from rallybot.storage.survey_models import ErasureAudit
from tests.engagement.test_evidence import office, submit
from tests.test_steering import make_world

ROSTER = b"""id,email,name,cohort
u1,u1@example.com,Una,pilote
u2,u2@example.com,Ugo,pilote
"""
BAD_ROSTER = b"""id,email,name,start_date
u1,u1@example.com,Una,2027-01-01
u2,not-an-email,Ugo,2027-02-31
"""


async def test_steps_and_their_reach(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    rows = {(r.campaign, r.step): r for r in await step_rows(w.bot)}
    assert set(rows) == {("launch", "teaser"), ("launch", "ceo"), ("launch", "invite")}
    assert rows["launch", "invite"].kind == "dm"
    assert rows["launch", "teaser"].target == "#annonces"
    found = find_step(w.bot.campaigns, "invite")
    assert not isinstance(found, str)
    reach = await reach_of(w.bot, *found)
    assert reach.people == 2 and reach.problem is None
    one = await reach_of(w.bot, *found, "@m3")
    assert one.people == 1
    unknown = await reach_of(w.bot, *found, "@ghost")
    assert unknown.people == 0 and unknown.problem
    post = find_step(w.bot.campaigns, "teaser")
    assert not isinstance(post, str)
    assert (await reach_of(w.bot, *post)).people == 0  # nobody seen in #general yet
    m1 = await get_member_by_platform_id(db, "memory", "m1")
    assert m1 is not None and m1.id is not None
    await add_channel_member(db, "memory", "general", m1.id)
    assert (await reach_of(w.bot, *post)).people == 1


async def test_a_preview_goes_to_me_once_per_key(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    found = find_step(w.bot.campaigns, "invite")
    assert not isinstance(found, str)
    me = await get_member_by_platform_id(db, "memory", "cm")
    assert me is not None
    assert await preview_to(w.bot, *found, me, "k1", "en") == (1, "en")
    assert await preview_to(w.bot, *found, me, "k1", "en") == (0, "en")
    await w.bot.dispatcher.run_once()
    assert w.dms_to("cm") == ["Hello Cm, welcome to the pilot"]
    assert w.dms_to("m1") == []


async def test_pending_evidence_lists_its_links(db: Database, tmp_path: Path) -> None:
    world = await office(db, tmp_path, ("memory:cm",))
    await world.bot.handle(submit(world, "see https://x.test/proof please"))
    rows, total = await pending_submissions(world.bot, "en")
    assert total == 1
    [row] = rows
    assert row.member == "Ana" and row.links == ["https://x.test/proof"]
    assert row.challenge.endswith("proof")


async def test_member_search_progress_and_erasure(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    rows, total = await search_members(w.bot, "M1")
    assert total == 1 and rows[0].user_id == "m1"
    everyone, total = await search_members(w.bot)
    assert total == 4 and len(everyone) == 4
    assert (await search_members(w.bot, "%"))[1] == 0  # a wildcard is a character
    # a search's total counts every match, not the page's, nor nothing past the last page
    page, total = await search_members(w.bot, "m", limit=3, offset=2)
    assert total == 4 and [r.user_id for r in page] == [r.user_id for r in everyone[2:]]
    assert await search_members(w.bot, "m", limit=3, offset=10) == ([], 4)
    m1 = rows[0].id
    async with db.session() as session:
        now = w.clock.now()
        session.add(JourneyState(member_id=m1, campaign_id="launch", started_at=now))
        session.add(JourneyTask(member_id=m1, campaign_id="launch", task_id="a", done_at=now))
    [row], _ = await search_members(w.bot, "m1")
    assert [(p.campaign, p.done, p.completed) for p in row.onboarding] == [("launch", 1, False)]
    assert await erase(w.bot, m1, "memory:cm")
    assert not await erase(w.bot, m1, "memory:cm")  # already erased
    assert (await search_members(w.bot, "m1"))[1] == 0
    async with db.read() as session:
        audits = (await session.execute(sa.select(ErasureAudit))).scalars().all()
    assert [(a.requested_by, a.via) for a in audits] == [("memory:cm", "console")]
    assert len(await current_members(w.bot)) == 3


async def _count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(Member)) or 0)


async def test_a_roster_upload_is_all_or_nothing(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    before = await _count(db)
    bad = await import_roster(w.bot, BAD_ROSTER, "team.csv", platform="memory")
    assert not bad.imported
    assert any("team.csv:3:" in line and "email" in line for line in bad.problems)
    assert any("team.csv:3:" in line and "start_date" in line for line in bad.problems)
    assert await _count(db) == before
    good = await import_roster(w.bot, ROSTER, "team.csv", platform="memory")
    assert good.imported and (good.created, good.members) == (2, 2)
    assert await _count(db) == before + 2
    again = await import_roster(w.bot, ROSTER, "team.csv", platform="memory")
    assert (again.created, again.unchanged) == (0, 2)
    huge = await import_roster(w.bot, b"x" * (21 * 1024 * 1024), "big.csv", platform="memory")
    assert not huge.imported and "limited to 5 MB" in huge.problems[0]  # the page's limit
