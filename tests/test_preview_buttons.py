"""A preview sent to a community manager (``/rallybot preview``, the console's "Preview to
me") shows the step's buttons, but clicking them records nothing: no quiz started, no survey
answered, no task done; the click is answered "this is a preview". Memory adapter, SQLite and
PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import ButtonClicked, ChannelRef, CommandInvoked, UserRef
from rallybot.bot.messages import Message
from rallybot.handlers.console.act_services import preview_to
from rallybot.handlers.steering.feature import find_step
from rallybot.storage.database import Database
from rallybot.storage.models import table_of
from rallybot.storage.onboarding_models import JourneyTask
from rallybot.storage.quiz_models import QuizRun
from rallybot.storage.repositories import get_member_by_platform_id, upsert_member
from rallybot.storage.survey_models import SurveyAnswer
from tests.engagement.quiz_helpers import T0, make_bot, write_files

CAMPAIGN = """\
id: pilote
title: Pilote
timezone: Europe/Paris
locale: en
audiences:
  everyone: {everyone: true}
steps:
  - id: quiz
    at: 2026-11-03 10:00
    quiz: connect-quiz
  - id: pulse
    at: 2026-11-04 10:00
    for: everyone
    dm: "Two minutes?"
    survey:
      questions:
        - {id: mood, kind: rating, text: "Your mood?"}
  - id: rsvp
    at: 2026-11-05 10:00
    for: everyone
    dm: "Will you come?"
    buttons:
      - {label: "Count me in", action: pilot-rsvp, style: primary}
      - {label: "The programme", url: "https://connect.example.com"}
"""
CM = UserRef("memory", "cm", name="CM")
PREVIEW_NOTE = "This is a preview: its buttons do nothing here and nothing is recorded."
_ids = itertools.count()


def _click(action_id: str, value: str) -> ButtonClicked:
    return ButtonClicked(
        event_id=f"preview-click-{next(_ids)}",
        platform="memory",
        user=CM,
        occurred_at=T0,
        channel=ChannelRef("memory", "dm-cm", is_direct=True),
        message_id="m0",
        action_id=action_id,
        value=value,
    )


async def _recorded(db: Database) -> list[int]:
    counts = []
    async with db.read() as session:
        for model in (QuizRun, SurveyAnswer, JourneyTask):
            query = sa.select(sa.func.count()).select_from(table_of(model))
            counts.append(int(await session.scalar(query) or 0))
    return counts


async def test_a_previews_buttons_record_nothing(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0 - timedelta(days=1))
    bot, adapter = await make_bot(db, write_files(tmp_path / "c", CAMPAIGN), clock)
    await upsert_member(db, "memory", "cm", clock.now(), first_name="Cm", locale="en")
    previews: list[Message] = []
    for step in ("quiz", "pulse"):  # from chat
        await bot.handle(
            CommandInvoked(
                event_id=f"preview-{step}",
                platform="memory",
                user=CM,
                occurred_at=clock.now(),
                name="preview",
                args=(step,),
            )
        )
        previews.append(adapter.directs[-1].message)
    me = await get_member_by_platform_id(db, "memory", "cm")
    assert me is not None
    found = find_step(bot.campaigns, "pilote/rsvp")
    assert not isinstance(found, str)
    assert await preview_to(bot, *found, me, "console-key", None) == (1, "en")  # the console's
    await bot.dispatcher.run_once()
    previews.append(adapter.directs[-1].message)

    # each looks as the step's message does: the same labels, the link still a link
    shown = [[(b.label, b.url) for b in p.buttons] for p in previews]
    assert shown == [
        [("Start the quiz", None)],
        [("Answer the survey", None)],
        [("Count me in", None), ("The programme", "https://connect.example.com")],
    ]
    clicks = [(b.action_id, b.value) for p in previews for b in p.buttons if b.url is None]
    before = len(adapter.directs)
    for action_id, value in clicks:
        assert action_id is not None
        await bot.handle(_click(action_id, value))
    answers = [d.message.text for d in adapter.directs[before:] if d.target == "cm"]
    assert answers == [PREVIEW_NOTE] * 3
    assert await _recorded(db) == [0, 0, 0]
