"""Every message of the help desk goes through the outbox (the first answer to a question, the
"Solved" note, the edits of the bot's reply, reminders, escalations and stale notices): a failed
send is retried, a restart loses nothing and sends nothing twice, and a closed ticket keeps no
copy of its question in the messages sent about it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rallybot.bot.clock import SimulatedClock
from rallybot.handlers.helpdesk.feature import ACTION_SOLVED
from rallybot.storage.database import Database
from tests.helpdesk.helpers import (
    T0,
    click,
    edit,
    helpdesk_rows,
    make_bot,
    post,
    react,
    thread_replies,
    ticket,
)

QUESTION = "The page does not load at all"


async def test_the_first_answer_is_retried_when_the_platform_fails_and_arrives_once(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    adapter.fail_next(1)  # the platform refuses the bot's answer once
    question = post("asker", "How do I reset my password?", clock)
    await adapter.push(question)
    assert thread_replies(adapter, question.message_id) == []
    assert (await ticket(db)).state == "open"
    await bot.advance_to(T0 + timedelta(minutes=1))
    [answer] = thread_replies(adapter, question.message_id)
    assert "change it on the IT support portal" in answer.message.text
    assert answer.message.buttons[0].action_id == ACTION_SOLVED
    await bot.advance_to(T0 + timedelta(minutes=5))
    assert len(thread_replies(adapter, question.message_id)) == 1


async def test_solved_reaches_the_thread_and_the_reply_once_when_the_platform_fails(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("asker", QUESTION, clock)
    await adapter.push(question)
    [answer] = thread_replies(adapter, question.message_id)
    await adapter.push(post("helper1", "Clear your cache", clock, thread=question.message_id))
    adapter.fail_next(2)  # the edit of the bot's reply and the note in the thread both fail
    await adapter.push(react("asker", question.message_id, clock))
    assert (await ticket(db)).state == "solved"
    await bot.advance_to(T0 + timedelta(minutes=2))
    notes = [r for r in thread_replies(adapter, question.message_id) if "Solved" in r.message.text]
    assert len(notes) == 1 and "<@helper1>" in notes[0].message.text
    [edited] = adapter.updates
    assert edited.sent == answer.sent
    assert "Solved" in edited.message.text and not any(b.action_id for b in edited.message.buttons)
    await bot.advance_to(T0 + timedelta(minutes=10))
    assert len(adapter.updates) == 1
    assert len(thread_replies(adapter, question.message_id)) == 2


async def test_an_edited_question_updates_the_reply_once_when_the_platform_fails(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("asker", "The page does not load", clock)
    await adapter.push(question)
    [answer] = thread_replies(adapter, question.message_id)
    adapter.fail_next(1)
    await adapter.push(edit("asker", question.message_id, "How do I reset my password?", clock))
    assert adapter.updates == []
    await bot.advance_to(T0 + timedelta(minutes=1))
    [edited] = adapter.updates
    assert edited.sent == answer.sent
    assert "change it on the IT support portal" in edited.message.text
    await bot.advance_to(T0 + timedelta(minutes=5))
    assert len(adapter.updates) == 1


async def test_a_click_on_a_closed_ticket_is_answered_once_when_the_platform_fails(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("asker", QUESTION, clock)
    await adapter.push(question)
    await adapter.push(react("asker", question.message_id, clock))
    found = await ticket(db)
    assert found.id is not None and found.state == "solved"
    adapter.fail_next(1)
    await adapter.push(click("asker", ACTION_SOLVED, found.id, clock))
    await bot.advance_to(T0 + timedelta(minutes=1))
    notes = [d for d in adapter.directs if d.target == "asker"]
    assert [n.message.text for n in notes] == ["This ticket is closed."]


async def test_a_question_solved_before_its_answer_went_gets_the_closed_answer(
    db: Database, tmp_path: Path
) -> None:
    """The platform refused the first answer and the asker solved the question meanwhile: the
    answer goes out once, already in its closed form (no edit, no Solved button)."""
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    adapter.fail_next(1)
    question = post("asker", "How do I reset my password?", clock)
    await adapter.push(question)
    await adapter.push(react("asker", question.message_id, clock))
    await bot.advance_to(T0 + timedelta(minutes=1))
    replies = thread_replies(adapter, question.message_id)
    assert len(replies) == 2 and adapter.updates == []
    answer = next(r for r in replies if "IT support portal" in r.message.text)
    assert not any(b.action_id for b in answer.message.buttons)


async def test_a_failed_reminder_and_escalation_are_retried_once(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("asker", QUESTION, clock)
    await adapter.push(question)
    await bot.advance_to(T0 + timedelta(minutes=29))

    adapter.fail_next(2)  # the platform refuses the reminder twice, then comes back
    await bot.advance_to(T0 + timedelta(minutes=40))
    reminders = [r for r in thread_replies(adapter, question.message_id) if "⏰" in r.message.text]
    assert len(reminders) == 1 and "<@helper1>" in reminders[0].message.text

    adapter.fail_next(1)  # and the escalation to the community manager once
    await bot.advance_to(T0 + timedelta(hours=3))
    escalations = [d for d in adapter.directs if d.target == "cm"]
    assert len(escalations) == 1 and QUESTION in escalations[0].message.text
    replies = [r.message.text for r in thread_replies(adapter, question.message_id)]
    assert sum("⏰" in t for t in replies) == 1 and sum("📣" in t for t in replies) == 1
    assert {(r.step_id.rsplit("-", 1)[1], r.status) for r in await helpdesk_rows(db)} == {
        ("welcome", "sent"),
        ("remind", "sent"),
        ("escalate", "sent"),
    }


async def test_a_restart_while_the_platform_is_down_loses_and_doubles_nothing(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    first, down = await make_bot(db, tmp_path / "files", clock)
    question = post("asker", QUESTION, clock)
    await down.push(question)
    down.fail_next(50)  # the platform is down from here on; the process then stops
    await first.advance_to(T0 + timedelta(minutes=31))
    assert (await ticket(db)).reminded_at == T0 + timedelta(minutes=30)
    assert [r for r in thread_replies(down, question.message_id) if "⏰" in r.message.text] == []

    # A new process on the same database, with the platform back.
    second, adapter = await make_bot(db, tmp_path / "files", clock)
    await second.advance_to(T0 + timedelta(hours=3))
    texts = [r.message.text for r in adapter.replies if r.thread_id == question.message_id]
    assert sum("⏰" in t for t in texts) == 1, texts
    assert sum("📣" in t for t in texts) == 1, texts
    assert len([d for d in adapter.directs if d.target == "cm"]) == 1
    assert all(r.status == "sent" for r in await helpdesk_rows(db))


async def test_a_closed_ticket_keeps_no_copy_of_its_question(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("asker", QUESTION, clock)
    await adapter.push(question)
    await bot.advance_to(T0 + timedelta(hours=3))  # reminded and escalated: the excerpt was sent
    assert any(QUESTION in d.message.text for d in adapter.directs)
    assert any(QUESTION in str(r.payload) for r in await helpdesk_rows(db))

    await adapter.push(react("asker", question.message_id, clock))
    assert (await ticket(db)).state == "solved"
    rows = await helpdesk_rows(db)
    assert rows and not any(QUESTION in str(r.payload) for r in rows)
    assert all(r.status == "sent" for r in rows)


async def test_a_reminder_queued_for_a_ticket_solved_meanwhile_is_cancelled(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("asker", QUESTION, clock)
    await adapter.push(question)
    adapter.fail_next(1)  # the reminder cannot go at once: it waits in the outbox
    await bot.advance_to(T0 + timedelta(minutes=30))
    [_welcome, row] = await helpdesk_rows(db)
    assert row.status == "pending"
    await adapter.push(react("asker", question.message_id, clock))  # solved meanwhile
    await bot.advance_to(T0 + timedelta(minutes=40))
    [_welcome, row, *_after] = await helpdesk_rows(db)
    assert (row.status, row.reason) == ("cancelled", "the ticket was closed")
    assert not [r for r in thread_replies(adapter, question.message_id) if "⏰" in r.message.text]


WAVES = """\
id: waves
title: Waves
milestones:
  launch: 2026-11-03 09:30
audiences:
  later: { cohort: later, opens: manual }
steps:
  - id: hello
    for: later
    at: launch
    dm: "Hello"
"""


async def test_a_manager_in_a_wave_not_open_yet_still_gets_the_escalation(
    db: Database, tmp_path: Path
) -> None:
    from rallybot.storage.repositories import upsert_member

    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "waves.yaml").write_text(WAVES)
    clock = SimulatedClock(T0)
    await upsert_member(db, "memory", "cm", T0, display_name="CM", cohort="later")
    bot, adapter = await make_bot(db, folder, clock)
    question = post("asker", QUESTION, clock)
    await adapter.push(question)
    await bot.advance_to(T0 + timedelta(hours=3))
    # The campaign's own DM waits for the wave; the help desk's escalation does not.
    to_cm = [d.message.text for d in adapter.directs if d.target == "cm"]
    assert "Hello" not in to_cm
    assert len(to_cm) == 1 and QUESTION in to_cm[0]


async def test_a_private_question_the_platform_refuses_reaches_the_helper_once(
    db: Database, tmp_path: Path
) -> None:
    from tests.helpdesk.helpers import command

    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    # The platform refuses the next two sends: the asker's acknowledgement, then the helper's
    # direct message (which the outbox retries).
    adapter.fail_next(2)
    await adapter.push(command("alice", "--private Can my manager read my messages?", clock))
    await bot.advance_to(T0 + timedelta(minutes=5))
    to_helper = [d for d in adapter.directs if d.target == "helper1"]
    assert len(to_helper) == 1 and "Can my manager read" in to_helper[0].message.text
