"""A survey's next question and its thanks go through the outbox, written with the answer
(SQLite and PostgreSQL), for a named survey and an anonymous one:

(a) the platform refuses the next question, or the process dies as the thanks goes, after the
answer was committed: a restarted bot delivers it, once, and the member goes on;
(b) the answer is handled again after a crash (the process died after the answer was recorded,
before its journal row was closed): the next question (or the thanks) goes once, and nothing
else is said ("that question is behind you", "you already answered");
(c) an anonymous survey's rows name no member in their key, hold no time finer than the day,
and keep nothing once sent, even when a process dies between the send and the scrub.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ButtonClicked, ChannelRef, UserRef
from rallybot.bot.messages import Button
from rallybot.handlers.survey.feature import OUTBOX_CAMPAIGN
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, table_of
from rallybot.storage.repositories import upsert_member
from rallybot.storage.survey_models import SurveyAnswer, SurveyDraft, SurveyResponder
from tests.reliability.test_notices import Flaky, crash_on, dies_before_closing, recover, texts

LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
CAMPAIGN = """\
id: pulse
title: Pulse
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
steps:
  - id: named
    at: launch + 1d at 10:00
    dm: "Two named questions?"
    survey:
      questions:
        - {id: mood, kind: rating, text: "Your mood?"}
        - {id: why, kind: single, text: "Why so?", choices: [Work, People]}
  - id: anon
    at: launch + 1d at 11:00
    dm: "Two anonymous questions?"
    survey:
      anonymous: true
      questions:
        - {id: mood, kind: rating, text: "Your mood?"}
        - {id: why, kind: single, text: "Why so?", choices: [Work, People]}
"""
NEXT = "Why so?"
THANKS = "Thank you"
STEPS = ["named", "anon"]
_ids = itertools.count(1)


async def _bot(db: Database, tmp_path: Path, adapter: Flaky, clock: SimulatedClock) -> Rallybot:
    path = tmp_path / "pulse.yaml"
    if not path.exists():
        path.write_text(CAMPAIGN)
    settings = Settings(database_url=db.url, quiet_hours="off", admins=["memory:cm"])
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[path])
    assert not (await bot.reload()).errors
    await bot.start_adapter()
    return bot


async def _invited(db: Database, tmp_path: Path) -> tuple[Rallybot, Flaky]:
    """A bot whose two surveys were sent to u0 (and u1), neither answered yet."""
    adapter = Flaky()
    clock = SimulatedClock(LAUNCH)
    bot = await _bot(db, tmp_path, adapter, clock)
    for uid in ("u0", "u1"):
        await upsert_member(
            db, "memory", uid, LAUNCH - timedelta(days=2), display_name=uid, locale="en"
        )
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=3, minutes=7, seconds=13))
    return bot, adapter


def _click(bot: Rallybot, uid: str, button: Button) -> ButtonClicked:
    assert button.action_id is not None
    return ButtonClicked(
        event_id=f"click-{next(_ids)}",
        platform="memory",
        user=UserRef("memory", uid, name=uid),
        occurred_at=bot.clock.now(),
        channel=ChannelRef("memory", f"dm-{uid}", is_direct=True),
        message_id="m",
        action_id=button.action_id,
        value=button.value,
    )


def _button(adapter: Flaky, uid: str, label: str, text: str | None = None) -> Button:
    """The button ``label`` of the last direct message to ``uid`` (whose text holds ``text``)."""
    for sent in reversed(adapter.sent_to(uid)):
        if text is None or text in sent.message.text:
            return next(b for b in sent.message.buttons if b.label == label)
    raise AssertionError(f"no message with {text!r} to {uid}")


async def _started(bot: Rallybot, adapter: Flaky, step: str, uid: str = "u0") -> None:
    invitation = next(d for d in adapter.sent_to(uid) if d.message.metadata.get("step") == step)
    start = next(b for b in invitation.message.buttons if b.action_id == "survey-start")
    await bot.handle(_click(bot, uid, start))
    assert "Your mood?" in adapter.sent_to(uid)[-1].message.text


def _count(adapter: Flaky, uid: str, words: str) -> int:
    return sum(words in t for t in texts(adapter, uid))


async def _stored(db: Database) -> tuple[int, int, int]:
    counts = []
    for model in (SurveyAnswer, SurveyResponder, SurveyDraft):
        async with db.session() as session:
            counts.append(
                int(await session.scalar(sa.select(sa.func.count()).select_from(table_of(model))))
            )
    return counts[0], counts[1], counts[2]


async def _rows(db: Database) -> list[Delivery]:
    async with db.session() as session:
        found = await session.execute(
            sa.select(Delivery).where(table_of(Delivery).c.campaign_id == OUTBOX_CAMPAIGN)
        )
        return list(found.scalars())


@pytest.mark.parametrize("step", STEPS)
async def test_the_next_question_survives_a_refused_send(
    db: Database, tmp_path: Path, step: str
) -> None:
    bot, adapter = await _invited(db, tmp_path)
    await _started(bot, adapter, step)
    adapter.fail(NEXT)
    await bot.handle(_click(bot, "u0", _button(adapter, "u0", "4")))
    assert _count(adapter, "u0", NEXT) == 0  # refused: the member would be stuck
    again = await _bot(db, tmp_path, adapter, bot.clock)  # type: ignore[arg-type]
    await recover(again)
    assert _count(adapter, "u0", NEXT) == 1
    await again.handle(_click(again, "u0", _button(adapter, "u0", "People", NEXT)))
    assert _count(adapter, "u0", THANKS) == 1
    assert (await _stored(db))[1] == 1


@pytest.mark.parametrize("step", STEPS)
async def test_the_thanks_survives_a_process_that_dies_as_it_goes(
    db: Database, tmp_path: Path, step: str
) -> None:
    bot, adapter = await _invited(db, tmp_path)
    await _started(bot, adapter, step)
    await bot.handle(_click(bot, "u0", _button(adapter, "u0", "4")))
    adapter.die(THANKS)
    with pytest.raises(asyncio.CancelledError):
        await bot.handle(_click(bot, "u0", _button(adapter, "u0", "People", NEXT)))
    assert _count(adapter, "u0", THANKS) == 0
    again = await _bot(db, tmp_path, adapter, bot.clock)  # type: ignore[arg-type]
    await recover(again)
    assert _count(adapter, "u0", THANKS) == 1
    assert (await _stored(db))[1] == 1  # one response recorded


@pytest.mark.parametrize("step", STEPS)
async def test_an_answer_handled_again_after_a_crash_asks_the_next_question_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    bot, adapter = await _invited(db, tmp_path)
    await _started(bot, adapter, step)
    before = len(texts(adapter, "u0"))
    dies_before_closing(monkeypatch)
    await crash_on(bot, _click(bot, "u0", _button(adapter, "u0", "4")))
    monkeypatch.undo()
    again = await _bot(db, tmp_path, adapter, bot.clock)  # type: ignore[arg-type]
    await recover(again)
    after = texts(adapter, "u0")[before:]
    assert len(after) == 1 and NEXT in after[0], after  # no "that question is behind you"


@pytest.mark.parametrize("step", STEPS)
async def test_a_last_answer_handled_again_after_a_crash_thanks_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    bot, adapter = await _invited(db, tmp_path)
    await _started(bot, adapter, step)
    await bot.handle(_click(bot, "u0", _button(adapter, "u0", "4")))
    before = len(texts(adapter, "u0"))
    dies_before_closing(monkeypatch)
    await crash_on(bot, _click(bot, "u0", _button(adapter, "u0", "People", NEXT)))
    monkeypatch.undo()
    again = await _bot(db, tmp_path, adapter, bot.clock)  # type: ignore[arg-type]
    await recover(again)
    after = texts(adapter, "u0")[before:]
    assert len(after) == 1 and THANKS in after[0], after  # no "you already answered"
    assert (await _stored(db))[1] == 1
    # Another answer to the last question, once recorded, is refused as before.
    await again.handle(_click(again, "u0", _button(adapter, "u0", "Work", NEXT)))
    assert "already answered" in texts(adapter, "u0")[-1]


async def test_an_anonymous_surveys_rows_name_nobody_and_keep_only_the_day(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter = await _invited(db, tmp_path)
    await _started(bot, adapter, "anon")
    await bot.handle(_click(bot, "u0", _button(adapter, "u0", "4")))
    bot.clock.advance(timedelta(minutes=3, seconds=41))
    await bot.handle(_click(bot, "u0", _button(adapter, "u0", "People", NEXT)))
    assert _count(adapter, "u0", NEXT) == _count(adapter, "u0", THANKS) == 1
    rows = await _rows(db)
    assert len(rows) == 2
    day = bot.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for row in rows:
        assert row.status == "sent"
        assert row.recipient.startswith(outbox.ANONYMOUS)
        key = f"{row.step_id}{row.recipient}{row.occurrence}"
        assert "member" not in key and "pulse" not in key
        assert row.payload == {"scrubbed": True}  # no words, no member id
        assert row.platform_channel_id is None and row.platform_message_id is None
        assert row.claimed_by is None and row.lease_until is None
        times = [row.created_at, row.updated_at, row.due_at, row.sent_at, row.attempted_at]
        assert {t.astimezone(UTC) for t in times if t is not None} == {day}, times
        assert row.grace_until.astimezone(UTC) - day in (timedelta(days=2),)
    if db.engine.dialect.name == "sqlite":
        # The rows' earlier versions (the member id, the claim and the send to the second) are
        # not left in the write-ahead log (nor, with secure_delete, in the file's free space).
        path = Path(str(db.engine.url.database))
        blob = b"".join(
            p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )
        assert b'"blur"' not in blob


async def test_an_anonymous_row_left_unscrubbed_by_a_dead_process_is_scrubbed(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies between the send and the scrub: the survey's tick scrubs the row."""
    bot, adapter = await _invited(db, tmp_path)
    await _started(bot, adapter, "anon")

    async def dies(*args: object, **kwargs: object) -> bool:
        raise asyncio.CancelledError

    monkeypatch.setattr(outbox, "scrub_finished", dies)
    with pytest.raises(asyncio.CancelledError):
        await bot.handle(_click(bot, "u0", _button(adapter, "u0", "4")))
    monkeypatch.undo()
    [row] = await _rows(db)
    assert row.status == "sent" and "member_id" in row.payload
    again = await _bot(db, tmp_path, adapter, bot.clock)  # type: ignore[arg-type]
    await recover(again)
    [row] = await _rows(db)
    assert row.payload == {"scrubbed": True} and row.platform_message_id is None
    assert row.sent_at == row.created_at == row.updated_at
    assert _count(adapter, "u0", NEXT) == 1
