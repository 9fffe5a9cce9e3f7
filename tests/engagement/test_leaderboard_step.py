"""The leaderboard step: a channel post whose standings are written when it is sent, on a
real bot with the memory adapter and a simulated clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.messages import Message
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.handlers.points.feature import grant
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, table_of
from rallybot.storage.repositories import upsert_member

START = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)  # Monday 08:00 in Paris
D = table_of(Delivery).c

CAMPAIGN = """\
id: board
title: Board
timezone: Europe/Paris
milestones:
  launch: 2026-11-02 09:00
channels:
  annonces: general
steps:
  - id: weekly-top
    every: day at 18:00
    from: launch
    post: annonces
    text: "Top of the week for {campaign}"
    leaderboard: {period: 7d, top: 2}
  - id: sales-top
    at: launch + 1d at 12:00
    post: annonces
    leaderboard: {period: all, top: 5, team: sales}
"""


async def _bot(
    db: Database, tmp_path: Path, campaign: str = CAMPAIGN
) -> tuple[Rallybot, MemoryAdapter, SimulatedClock]:
    clock = SimulatedClock(START)
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "board.yaml").write_text(campaign)
    adapter = MemoryAdapter()
    settings = Settings(
        database_url="sqlite://",
        quiet_hours="off",
        locale="en",
        lookahead_seconds=3 * 86400,  # rows are written days before they are sent
    )
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[folder])
    assert not (await bot.reload()).errors
    return bot, adapter, clock


async def _member(db: Database, clock: SimulatedClock, name: str, team: str | None) -> int:
    member = await upsert_member(db, "memory", name, clock.now(), display_name=name, team=team)
    assert member.id is not None
    return member.id


async def test_the_standings_are_those_of_the_moment_the_post_goes_out(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter, clock = await _bot(db, tmp_path)
    ana = await _member(db, clock, "Ana", "sales")
    bob = await _member(db, clock, "Bob", "support")
    cyd = await _member(db, clock, "Cyd", "sales")
    await bot.plan_tick()
    async with db.session() as session:
        rows = (
            await session.execute(
                sa.select(D.occurrence, D.payload).where(D.step_id == "weekly-top")
            )
        ).all()
    assert {occurrence for occurrence, _ in rows} >= {"2026-11-02", "2026-11-03"}
    first = next(payload for occurrence, payload in rows if occurrence == "2026-11-02")
    assert first["render"] == {"kind": "leaderboard", "period": "7d", "top": 2, "team": None}
    assert "Ana" not in first["message"]["text"]  # nothing of the standings at planning time

    # Points earned after the rows were written still show.
    await grant(bot, member_id=bob, action="challenge_done", key="k1", amount=30)
    await grant(bot, member_id=ana, action="challenge_done", key="k2", amount=50)
    await grant(bot, member_id=cyd, action="challenge_done", key="k3", amount=10)
    await bot.advance_to(datetime(2026, 11, 2, 17, 1, tzinfo=UTC))
    [post] = adapter.sent_to("general")
    assert post.message.text == "Top of the week for Board\n1. Ana — 50 pts\n2. Bob — 30 pts"

    # The next day: the sales team's all-time board (no text: a default title, in the
    # campaign's language) and the daily board, each with the standings of their own moment.
    await grant(bot, member_id=cyd, action="challenge_done", key="k4", amount=100)
    await bot.advance_to(datetime(2026, 11, 3, 17, 1, tzinfo=UTC))
    texts = [d.message.text for d in adapter.sent_to("general")]
    assert texts[1] == "Classement général, équipe sales:\n1. Cyd — 110 pts\n2. Ana — 50 pts"
    assert texts[2] == "Top of the week for Board\n1. Cyd — 110 pts\n2. Ana — 50 pts"


async def test_a_german_campaign_posts_its_board_in_german(db: Database, tmp_path: Path) -> None:
    german = CAMPAIGN.replace("timezone: Europe/Paris", "timezone: Europe/Berlin\nlocale: de")
    bot, adapter, clock = await _bot(db, tmp_path, german)
    await bot.advance_to(datetime(2026, 11, 2, 17, 1, tzinfo=UTC))
    [empty] = adapter.sent_to("general")
    assert empty.message.text == "Top of the week for Board\nNoch keine Punkte."
    ana = await _member(db, clock, "Ana", "sales")
    cyd = await _member(db, clock, "Cyd", "sales")
    await grant(bot, member_id=ana, action="challenge_done", key="k1", amount=1)
    await grant(bot, member_id=cyd, action="challenge_done", key="k2", amount=1234)
    await bot.advance_to(datetime(2026, 11, 3, 17, 1, tzinfo=UTC))
    texts = [d.message.text for d in adapter.sent_to("general")]
    assert texts[1] == "Rangliste, gesamt, Team sales:\n1. Cyd — 1.234 Pkt.\n2. Ana — 1 Pkt."


async def test_an_empty_board_says_so(db: Database, tmp_path: Path) -> None:
    bot, adapter, clock = await _bot(db, tmp_path)
    await _member(db, clock, "Ana", "sales")
    await bot.advance_to(datetime(2026, 11, 2, 17, 1, tzinfo=UTC))
    [post] = adapter.sent_to("general")
    assert post.message.text == "Top of the week for Board\nPas encore de points."


async def test_a_failing_render_sends_the_message_as_planned(db: Database, tmp_path: Path) -> None:
    bot, adapter, clock = await _bot(db, tmp_path)
    await _member(db, clock, "Ana", "sales")
    calls: list[str] = []

    async def broken(row: Delivery, message: Message) -> Message:
        calls.append(row.step_id)
        raise RuntimeError("the database is gone")

    bot.dispatcher.render = broken
    await bot.advance_to(datetime(2026, 11, 2, 17, 1, tzinfo=UTC))
    [post] = adapter.sent_to("general")
    assert calls == ["weekly-top"]
    assert post.message.text == "Top of the week for Board"


def test_a_leaderboard_is_a_channel_post() -> None:
    text = """\
id: bad
title: Bad
steps:
  - id: top
    at: 2026-11-02 09:00
    dm: "hello"
    leaderboard: {period: 7d}
  - id: top2
    at: 2026-11-02 09:00
    post: general
    leaderboard: {period: 90d, top: 0}
channels:
  general: C1
"""
    with pytest.raises(CampaignLoadError) as caught:
        load_campaign_text(text, "bad.yaml")
    shown = [str(e) for e in caught.value.errors]
    assert any(
        s.startswith("bad.yaml:4:") and "leaderboard is posted in a channel" in s for s in shown
    )
    assert any(s.startswith("bad.yaml:11:") and "leaderboard.period" in s for s in shown)
    assert any(s.startswith("bad.yaml:11:") and "leaderboard.top" in s for s in shown)


def test_other_steps_keep_their_hash() -> None:
    plain = load_campaign_text(
        "id: a\ntitle: A\nchannels: {g: C1}\nsteps:\n"
        "  - {id: s, at: 2026-11-02 09:00, post: g, text: Hi}\n",
        "a.yaml",
    )
    board = load_campaign_text(
        "id: a\ntitle: A\nchannels: {g: C1}\nsteps:\n"
        "  - {id: s, at: 2026-11-02 09:00, post: g, text: Hi, leaderboard: {top: 3}}\n",
        "a.yaml",
    )
    assert plain.steps[0].content_hash != board.steps[0].content_hash
    assert "leaderboard" not in plain.steps[0].spec.model_dump(exclude_unset=True)
