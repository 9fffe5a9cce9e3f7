"""Messages that report a change go through the outbox, written with the change: a quiz answer's
next question, a challenge decision, the "forget me" confirmation, a poll's results and a
question asked with ``/rallybot help QUESTION``; the Retry button's confirmation and
onboarding's acknowledgement of a task (SQLite and PostgreSQL).

For each: (a) the platform fails (or the process dies) when the message goes, after the change
was committed: a restarted bot delivers it, once; (b) the event is handled again after a crash
(the process died after the handler's writes, before its journal row was closed, as a platform
retry or a recovery replays it): the message goes once, and nothing else is said about it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.bot import notices
from rallybot.bot.adapters.base import SentMessage, TransientSendError
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ButtonClicked, ChannelRef, Event, UserRef
from rallybot.bot.messages import Message
from rallybot.campaigns.journey import DONE_ACTION
from rallybot.handlers.steering.feature import RETRY_ACTION
from rallybot.storage import journal as journal_store
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, table_of
from rallybot.storage.outbox import skip_overdue
from rallybot.storage.repositories import upsert_member
from tests.engagement import quiz_helpers as quiz
from tests.helpdesk import helpers as help_desk
from tests.onboarding import support as onboarding
from tests.polls import helpers as polls


class Flaky(MemoryAdapter):
    """The memory adapter, whose next send of a message holding a marker fails once: the
    platform refuses it (``fail``), or the process dies as it goes (``die``)."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse: list[tuple[str, BaseException]] = []

    def fail(self, marker: str) -> None:
        """The platform refuses the next message holding ``marker``, once."""
        self.refuse.append((marker, TransientSendError("the platform is down")))

    def die(self, marker: str) -> None:
        """The process dies as the next message holding ``marker`` goes (nothing goes)."""
        self.refuse.append((marker, asyncio.CancelledError()))

    async def _send(
        self, kind: Any, target: str, channel_id: str, message: Message, **kw: Any
    ) -> SentMessage:
        words = f"{message.title or ''} {message.text}"
        for item in self.refuse:
            if item[0] in words:
                self.refuse.remove(item)
                raise item[1]
        return await super()._send(kind, target, channel_id, message, **kw)


class FlakySending(Flaky, help_desk.SendingAdapter):
    """The help desk's adapter (the outbox is sent after each pushed event), flaky."""


def dies_before_closing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process stops after an event's handlers wrote their effects, just before its
    journal row is committed as handled: a restart handles the event again."""
    real_close = journal_store.close_in

    async def close_then_die(session: object, ids: object, now: object) -> None:
        await real_close(session, ids, now)  # type: ignore[arg-type]
        raise asyncio.CancelledError

    monkeypatch.setattr(journal_store, "close_in", close_then_die)


async def crash_on(bot: Rallybot, event: Event) -> None:
    """Record ``event`` and handle it in a process that dies before closing its row."""
    journal_id = await bot._record(event)
    assert journal_id is not None
    bot.inbox.put(event, journal_id)
    await asyncio.wait_for(bot.idle(), timeout=60)


async def recover(bot: Rallybot) -> None:
    """A restarted process with the same worker id: it takes back its earlier life's claims,
    handles the events it left, and sends what is due (a minute later)."""
    await bot.dispatcher.take_back()
    await bot.start_replica()
    try:
        await bot.idle()
        await bot.advance_to(bot.clock.now() + timedelta(minutes=1))
        await bot.advance_to(bot.clock.now() + timedelta(minutes=10))
    finally:
        await bot.stop_replica()


def texts(adapter: MemoryAdapter, target: str) -> list[str]:
    return [f"{d.message.title or ''}|{d.message.text}" for d in adapter.sent_to(target)]


# ---------------------------------------------------------------------------- quiz

QUIZ_CAMPAIGN = """\
id: quiz-dm
title: Quiz in DMs
timezone: Europe/Paris
locale: en
steps:
  - id: invitation
    at: 2026-12-03 10:00
    quiz: connect-quiz
"""
NEXT = "Question 2/4"


async def _quiz_started(db: Database, tmp_path: Path) -> tuple[Rallybot, Flaky, Path, int]:
    folder = quiz.write_files(tmp_path / "c", QUIZ_CAMPAIGN, "en")
    adapter = Flaky()
    bot, _ = await quiz.make_bot(db, folder, SimulatedClock(quiz.T0), adapter)
    await quiz.add_members(db, "Alice")
    await adapter.push(quiz.command("Alice"))
    [first] = quiz.quiz_posts(adapter, "alice")
    assert first.title == "Question 1/4"
    return bot, adapter, folder, int(first.metadata["quiz_run"])


async def test_a_quiz_answers_next_question_survives_a_refused_send(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter, folder, run_id = await _quiz_started(db, tmp_path)
    adapter.fail(NEXT)
    await adapter.push(quiz.click("Alice", f"quiz:{run_id}:0:0", "dm-alice"))
    assert not any(NEXT in t for t in texts(adapter, "alice"))
    again, _ = await quiz.make_bot(db, folder, bot.clock, adapter)  # type: ignore[arg-type]
    await recover(again)
    assert sum(NEXT in t for t in texts(adapter, "alice")) == 1


async def test_a_quiz_answer_handled_again_after_a_crash_shows_its_result_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, adapter, folder, run_id = await _quiz_started(db, tmp_path)
    before = len(texts(adapter, "alice"))
    dies_before_closing(monkeypatch)
    await crash_on(bot, quiz.click("Alice", f"quiz:{run_id}:0:0", "dm-alice"))
    monkeypatch.undo()
    again, _ = await quiz.make_bot(db, folder, bot.clock, adapter)  # type: ignore[arg-type]
    await recover(again)
    after = texts(adapter, "alice")[before:]
    assert len(after) == 1 and NEXT in after[0], after  # no "you already answered" either
    assert len(await quiz.points(db)) == 1  # the right answer counted once


# ---------------------------------------------------------------------------- challenges


async def _judged_world(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Flaky]:
    from tests.engagement import test_challenges as challenges

    monkeypatch.setattr(challenges, "MemoryAdapter", Flaky)
    world = await challenges.make_world(db, tmp_path, challenges.PROOF)
    monkeypatch.undo()
    await world.command("ana", "challenge", "submit", "proof", "https://x.test/proof")
    [review] = [m for m in world.directs_to("cm") if m.buttons]
    assert review.buttons[0].action_id == "challenge-approve"
    assert isinstance(world.adapter, Flaky)
    return world, world.adapter


def _approve(world: Any) -> ButtonClicked:
    from tests.engagement.test_challenges import eid, user

    return ButtonClicked(
        event_id=eid(),
        platform="memory",
        user=user("cm"),
        occurred_at=world.clock.now(),
        channel=ChannelRef("memory", "dm-cm", is_direct=True),
        message_id=eid(),
        action_id="challenge-approve",
        value="1",
    )


async def test_a_challenge_approval_notice_survives_a_refused_send(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, adapter = await _judged_world(db, tmp_path, monkeypatch)
    adapter.fail("was approved")
    await world.bot.handle(_approve(world))
    assert not any("was approved" in t for t in texts(adapter, "ana"))
    world.bot = world.new_bot()  # the process stopped; a new one on the same database
    assert not (await world.bot.reload()).errors
    await recover(world.bot)
    assert sum("was approved" in t for t in texts(adapter, "ana")) == 1
    assert sum("Submission #1 approved." in t for t in texts(adapter, "cm")) == 1


async def test_a_challenge_approval_handled_again_after_a_crash_is_told_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, adapter = await _judged_world(db, tmp_path, monkeypatch)
    to_ana, to_cm = len(texts(adapter, "ana")), len(texts(adapter, "cm"))
    dies_before_closing(monkeypatch)
    await crash_on(world.bot, _approve(world))
    monkeypatch.undo()
    world.bot = world.new_bot()
    assert not (await world.bot.reload()).errors
    await recover(world.bot)
    told = texts(adapter, "ana")[to_ana:]
    assert len([t for t in told if "was approved" in t]) == 1, told
    assert texts(adapter, "cm")[to_cm:] == ["|Submission #1 approved."]
    assert len(await world.challenge_points()) == 1


# ---------------------------------------------------------------------------- privacy

DONE = "no longer holds personal data about you"


async def _privacy_bot(
    db: Database, tmp_path: Path, adapter: Flaky, clock: SimulatedClock
) -> Rallybot:
    folder = tmp_path / "campaigns"
    folder.mkdir(exist_ok=True)
    settings = Settings(database_url="sqlite://", admins=["memory:cm"], locale="en")
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[folder])
    assert not (await bot.reload()).errors
    await bot.start_adapter()
    return bot


def _forget_click(clock: SimulatedClock, event_id: str = "forget-1") -> ButtonClicked:
    return ButtonClicked(
        event_id=event_id,
        platform="memory",
        user=UserRef("memory", "alice", "Alice"),
        occurred_at=clock.now(),
        channel=ChannelRef("memory", "dm-alice", is_direct=True),
        message_id="m1",
        action_id="forget-confirm",
        value=str(int(clock.now().timestamp())),
    )


async def _privacy_rows(db: Database) -> list[Delivery]:
    async with db.session() as session:
        query = sa.select(Delivery).where(table_of(Delivery).c.campaign_id == ".privacy")
        return list((await session.execute(query)).scalars())


async def test_the_forget_me_confirmation_survives_a_refused_send_and_keeps_nobody(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(quiz.T0)
    adapter = Flaky()
    bot = await _privacy_bot(db, tmp_path, adapter, clock)
    await upsert_member(db, "memory", "alice", clock.now(), display_name="Alice Martin")
    adapter.fail(DONE)
    await bot.handle(_forget_click(clock))
    assert not any(DONE in t for t in texts(adapter, "alice"))
    [row] = await _privacy_rows(db)
    assert "Alice Martin" not in str(row.payload)
    again = await _privacy_bot(db, tmp_path, adapter, clock)
    await recover(again)
    assert sum(DONE in t for t in texts(adapter, "alice")) == 1
    [row] = await _privacy_rows(db)  # sent, then emptied: it names nobody
    assert row.status == "sent" and row.payload == {"scrubbed": True}
    assert "alice" not in f"{row.recipient}{row.step_id}{row.occurrence}"
    assert row.platform_channel_id is None


async def test_forget_me_confirmed_again_is_answered_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the erasure (the erasure deletes the click's journal row, which
    names the person, so no restart replays it); then the same confirmation arrives again
    (a platform retry under a new id, a second click on the button): one confirmation."""
    clock = SimulatedClock(quiz.T0)
    adapter = Flaky()
    bot = await _privacy_bot(db, tmp_path, adapter, clock)
    await upsert_member(db, "memory", "alice", clock.now(), display_name="Alice Martin")
    click = _forget_click(clock)
    dies_before_closing(monkeypatch)
    await crash_on(bot, click)
    monkeypatch.undo()
    again = await _privacy_bot(db, tmp_path, adapter, clock)
    await recover(again)
    await again.handle(dataclasses.replace(click, event_id="forget-2"))
    await recover(again)
    assert texts(adapter, "alice") == ["|Done: Rallybot no longer holds personal data about you."]


# ---------------------------------------------------------------------------- polls


async def _poll_bot(
    db: Database, tmp_path: Path, adapter: Flaky, clock: SimulatedClock
) -> Rallybot:
    path = tmp_path / "empty.yaml"
    if not path.exists():
        path.write_text(polls.CAMPAIGN)
    settings = Settings(database_url=db.url, quiet_hours="off", admins=["memory:cm"])
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[path])
    assert not (await bot.reload()).errors
    await bot.start_adapter()
    return bot


def _results(adapter: MemoryAdapter) -> list[str]:
    return [
        p.message.text
        for p in adapter.posts
        if p.message.metadata.get("results") and "Friday" in f"{p.message.title}{p.message.text}"
    ]


async def _poll_closing(db: Database, tmp_path: Path) -> tuple[Rallybot, Flaky]:
    clock = SimulatedClock(polls.POSTED)
    adapter = Flaky()
    bot = await _poll_bot(db, tmp_path, adapter, clock)
    members = await polls.add_members(db, 2)
    assert members
    await polls.command(bot, "cm", '"Friday drinks?"', "Yes", "No", "closes=2h")
    [post] = [p for p in adapter.posts if p.message.text == "Friday drinks?"]
    await polls.click(bot, "u0", polls.button(post, "Yes"))
    return bot, adapter


async def test_poll_results_survive_a_process_that_dies_as_they_are_posted(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter = await _poll_closing(db, tmp_path)
    adapter.die("Friday")
    with pytest.raises(asyncio.CancelledError):
        await bot.advance_to(bot.clock.now() + timedelta(hours=3))
    assert _results(adapter) == []
    again = await _poll_bot(db, tmp_path, adapter, bot.clock)  # type: ignore[arg-type]
    await recover(again)
    [results] = _results(adapter)
    assert "Yes: 1 vote" in results


async def test_poll_results_are_posted_once_when_two_replicas_close_it(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter = await _poll_closing(db, tmp_path)
    other = await _poll_bot(db, tmp_path, adapter, bot.clock)  # type: ignore[arg-type]
    other.dispatcher.worker_id = other.worker_id = "other-replica"
    bot.clock.set(bot.clock.now() + timedelta(hours=3))  # type: ignore[attr-defined]
    await asyncio.gather(bot.dispatch_tick(drain=True), other.dispatch_tick(drain=True))
    await bot.dispatch_tick(drain=True)
    assert len(_results(adapter)) == 1


# ---------------------------------------------------------------------------- /rallybot help

QUESTION = "How do I reset my password?"


def _questions(*adapters: MemoryAdapter) -> list[str]:
    return [p.message.text for a in adapters for p in a.posts if QUESTION in p.message.text]


def _answers(*adapters: MemoryAdapter) -> list[Any]:
    return [r for a in adapters for r in a.replies if "IT support portal" in r.message.text]


async def test_a_help_question_survives_a_refused_post(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock(help_desk.T0)
    monkeypatch.setattr(help_desk, "SendingAdapter", FlakySending)
    _, adapter = await help_desk.make_bot(db, tmp_path / "files", clock)
    assert isinstance(adapter, Flaky)
    adapter.fail("❓")
    await adapter.push(help_desk.command("alice", QUESTION, clock))
    assert _questions(adapter) == []
    again, later = await help_desk.make_bot(db, tmp_path / "files", clock)
    await recover(again)
    [question] = [p for a in (adapter, later) for p in a.posts if QUESTION in p.message.text]
    [answer] = _answers(adapter, later)
    assert question.target == help_desk.HELP and answer.thread_id == question.sent.message_id
    [ticket] = await help_desk.tickets(db)
    # A ✅ of the asker on the question the bot posted for them solves it.
    await later.push(help_desk.react("alice", question.sent.message_id, clock))
    assert (await help_desk.ticket(db)).state == "solved"
    assert ticket.excerpt
    rows = await help_desk.helpdesk_rows(db)
    assert not any(QUESTION in str(r.payload) for r in rows)  # closed: no copy kept


async def test_a_help_question_handled_again_after_a_crash_is_posted_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock(help_desk.T0)
    bot, adapter = await help_desk.make_bot(db, tmp_path / "files", clock)
    dies_before_closing(monkeypatch)
    await crash_on(bot, help_desk.command("alice", QUESTION, clock))
    monkeypatch.undo()
    again, later = await help_desk.make_bot(db, tmp_path / "files", clock)
    await recover(again)
    assert len(_questions(adapter, later)) == 1
    assert len(_answers(adapter, later)) == 1
    assert len(await help_desk.tickets(db)) == 1


# ---------------------------------------------------------------------------- steering


async def test_a_retry_handled_again_after_a_crash_is_confirmed_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock(quiz.T0)
    adapter = Flaky()
    bot = await _privacy_bot(db, tmp_path, adapter, clock)
    alice = await upsert_member(db, "memory", "alice", clock.now())
    assert alice.id is not None
    failed = notices.direct_row("c", "s", alice.id, Message(text="hello"), clock.now())
    failed.update(status="failed", reason="the platform refused it")
    async with db.session() as session:
        await notices.queue(session, [failed])
    click = ButtonClicked(
        event_id="retry-1",
        platform="memory",
        user=UserRef("memory", "cm", "Cm"),
        occurred_at=clock.now(),
        channel=ChannelRef("memory", "dm-cm", is_direct=True),
        message_id="m1",
        action_id=RETRY_ACTION,
        value="c/s",
    )
    dies_before_closing(monkeypatch)
    await crash_on(bot, click)
    monkeypatch.undo()
    again = await _privacy_bot(db, tmp_path, adapter, clock)
    await recover(again)
    assert texts(adapter, "cm") == ["|c/s: 1 failed delivery queued again."]


# ---------------------------------------------------------------------------- onboarding


async def test_a_task_button_handled_again_after_a_crash_is_acknowledged_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimulatedClock(onboarding.local(0, 9, 0))
    adapter = Flaky()
    path = onboarding.write_campaign(tmp_path / "c.yaml")
    bot, _ = onboarding.make_bot(db, path, clock, adapter)
    await bot.reload()
    await onboarding.newcomer(db, "nina", onboarding.local(0, 9, 30))
    await bot.advance_to(onboarding.local(1, 13))
    before = len(texts(adapter, "nina"))
    click = ButtonClicked(
        event_id="task-1",
        platform="memory",
        user=onboarding.user("nina"),
        occurred_at=clock.now(),
        channel=onboarding.dm_channel("nina"),
        message_id="m",
        action_id=DONE_ACTION,
        value="onb/journey-app-1",
    )
    dies_before_closing(monkeypatch)
    await crash_on(bot, click)
    monkeypatch.undo()
    again, _ = onboarding.make_bot(db, path, clock, adapter)
    await again.reload()
    await recover(again)
    acks = [t for t in texts(adapter, "nina")[before:] if "is done" in t]
    assert len(acks) == 1, texts(adapter, "nina")[before:]


async def test_a_forget_me_confirmation_that_never_went_keeps_nobody(db: Database) -> None:
    """The bot was down longer than the confirmation's grace: it is skipped, and emptied."""
    clock = SimulatedClock(quiz.T0)
    row = notices.person_row(
        ".privacy", "forgotten", "k1", "alice", Message(text="Done"), clock.now()
    )
    async with db.session() as session:
        await notices.queue(session, [row])
    await skip_overdue(db, clock.now() + timedelta(days=2), "missed")
    [kept] = await _privacy_rows(db)
    assert kept.status == "skipped" and kept.payload == {"scrubbed": True}
