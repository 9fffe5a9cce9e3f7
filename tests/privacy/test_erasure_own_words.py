"""Erasing a member takes their own words out of the messages others were sent: a kudos
reason in the receiver's direct message and in the recognition post, evidence sent to the
managers, a help question sent to the helpers. The outbox, the console's timeline API and
its pages keep no trace of them afterwards; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.handlers.privacy.personal_data import erase_member
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, table_of
from rallybot.storage.repositories import get_member_by_platform_id
from tests.console.conftest import MANAGER, _env, _signed_in, console_settings

WORDS = "ALICEKUDOSREASON"


async def _outbox_with(db: Database, words: str) -> list[int]:
    """The delivery rows whose payload still holds ``words``."""
    table = table_of(Delivery)
    async with db.read() as session:
        found = (await session.execute(sa.select(table.c.id, table.c.payload))).all()
    return [int(i) for i, payload in found if words in json.dumps(payload, ensure_ascii=False)]


async def _erase(db: Database, uid: str) -> None:
    member = await get_member_by_platform_id(db, "memory", uid)
    assert member is not None and member.id is not None
    assert await erase_member(db, member.id, datetime.now(UTC), requested_by="cli", via="cli")


async def test_an_erased_members_kudos_reason_leaves_the_outbox_and_the_timeline(
    db: Database, tmp_path: Path
) -> None:
    from tests.engagement.test_points_scenarios import make_world, user

    world = await make_world(db, tmp_path, recognition_channel="annonces")
    alice, bob = user("alice"), user("bob")
    await world.post(alice)
    await world.post(bob)
    await world.command(alice, "kudos", "<@bob>", WORDS, "thanks")
    await world.command(bob, "kudos", "<@alice>", "BOBSOWNWORDS")
    await world.bot.dispatch_tick(drain=True)
    told = [d.message.text for d in world.adapter.directs if d.target == "bob"]
    assert any(WORDS in t for t in told)  # the test is not blind: bob was told the reason
    held = await _outbox_with(db, WORDS)
    assert len(held) == 2  # bob's direct message and the recognition post

    env = _env(db, console_settings(database_url=db.url))
    async with await _signed_in(env, MANAGER) as http:
        day = {"from": "2026-11-01", "to": "2026-11-30"}
        before = (await http.get("/api/timeline", params=day)).text
        assert WORDS in before

        await _erase(db, "alice")

        assert await _outbox_with(db, WORDS) == []
        assert (await http.get("/api/timeline", params=day)).text.count(WORDS) == 0
        assert WORDS not in (await http.get("/timeline", params=day)).text
        for row_id in held:
            entry = await http.get(f"/api/timeline/d{row_id}")
            assert entry.status_code == 200 and WORDS not in entry.text
            assert WORDS not in (await http.get(f"/timeline/d{row_id}")).text
        # The reason is replaced, the rest of the message stays. (The reasons of the kudos
        # alice received go too, as they go from the points ledger.)
        assert await _outbox_with(db, "BOBSOWNWORDS") == []
        shown = (await http.get(f"/api/timeline/d{held[0]}")).json()
        assert "…" in json.dumps(shown, ensure_ascii=False)
        assert "kudos" in json.dumps(shown).lower()


async def test_an_erased_members_evidence_and_help_question_leave_the_outbox(
    db: Database, tmp_path: Path
) -> None:
    from tests.engagement.test_challenges import POSTS, PROOF, make_world

    world = await make_world(db, tmp_path, POSTS, PROOF)
    await world.post("alice")
    await world.command("alice", "challenge", "submit", "proof", "ALICEEVIDENCEWORDS here")
    await world.bot.dispatch_tick(drain=True)
    assert await _outbox_with(db, "ALICEEVIDENCEWORDS")
    await _erase(db, "alice")
    assert await _outbox_with(db, "ALICEEVIDENCEWORDS") == []


async def test_an_erased_askers_help_question_leaves_the_helpers_messages(
    db: Database, tmp_path: Path
) -> None:
    from rallybot.bot.clock import SimulatedClock
    from tests.helpdesk.helpers import T0, make_bot, post

    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    words = "ALICEQUESTIONWORDS how do I reset the frobnicator of the intranet portal " * 3
    await adapter.push(post("alice", words, clock))
    await bot.advance_to(clock.now() + timedelta(hours=3))  # reminders and escalations
    assert await _outbox_with(db, "ALICEQUESTIONWORDS")
    await _erase(db, "alice")
    assert await _outbox_with(db, "ALICEQUESTIONWORDS") == []


async def test_own_words_with_accents_and_quotes_are_found_too(
    db: Database, tmp_path: Path
) -> None:
    from tests.engagement.test_points_scenarios import make_world, user

    world = await make_world(db, tmp_path, recognition_channel="annonces")
    alice, bob = user("alice"), user("bob")
    await world.post(alice)
    await world.post(bob)
    words = 'ALICEÉTÉ « café » "merci" \\ 🎉 ' + "x" * 300  # cut in the messages (200)
    await world.command(alice, "kudos", "<@bob>", words)
    await world.bot.dispatch_tick(drain=True)
    assert len(await _outbox_with(db, "ALICEÉTÉ")) == 2
    await _erase(db, "alice")
    assert await _outbox_with(db, "ALICEÉTÉ") == []
    assert await _outbox_with(db, "xxxxxxxx") == []
