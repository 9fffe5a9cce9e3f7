"""Issue 13: the same submission or answer arriving again under a new platform event id (a
Slack retry, a Discord interaction replayed, a member sending the same thing twice) or handled
again after a crash counts once, on SQLite and PostgreSQL, through the router as real events.

Challenges: one submission per piece of evidence (the text, or the files' links) from a member
for a challenge; the managers get it once; the replay is answered as the first was (or with
the decision since); other evidence is a new submission. Self-paced quizzes: a free-text answer
replayed after the quiz moved on answers nothing else (it is not scored for the next question).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import ChannelRef, FileRef, MessagePosted
from rallybot.bot.messages import Message
from rallybot.handlers.challenges.feature import evidence_key
from rallybot.handlers.privacy.personal_data import forget_member
from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.database import Database, create_database
from rallybot.storage.migrate import current_revision, downgrade, head_revision, upgrade
from rallybot.storage.models import table_of
from rallybot.storage.quiz_models import QuizAnswer, QuizRun
from rallybot.storage.repositories import upsert_member
from tests.engagement import quiz_helpers as quiz
from tests.engagement import test_challenges as challenges
from tests.reliability.test_notices import crash_on, dies_before_closing, recover

_ids = itertools.count(1)


def _replayed(event: Any) -> Any:
    """``event`` as the platform sends it again: the same message, a new event id."""
    return dataclasses.replace(event, event_id=f"replay-{next(_ids)}")


async def _submissions(db: Database) -> list[tuple[int, str, str]]:
    s = table_of(ChallengeSubmission).c
    async with db.session() as session:
        rows = await session.execute(sa.select(s.id, s.text, s.state).order_by(s.id))
        return [(int(i), str(t), str(st)) for i, t, st in rows.all()]


def _reviews(world: Any) -> list[Message]:
    return [m for m in world.directs_to("cm") if m.buttons]


# ---------------------------------------------------------------------------- challenges


async def test_a_replayed_submit_command_is_one_submission_told_once_to_the_managers(
    db: Database, tmp_path: Path
) -> None:
    world = await challenges.make_world(db, tmp_path, challenges.PROOF)
    first = await world.command("ana", "challenge", "submit", "proof", "https://x.test/proof")
    assert first == "Thanks! Submission #1 was sent to the community managers."
    # The same command again under a new event id (a platform retry, a double submit, even
    # with other spacing): answered as the first was; no second row, no second notice.
    again = await world.command("ana", "challenge", "submit", "proof", " https://x.test/proof ")
    assert again == first
    assert len(await _submissions(db)) == 1
    assert len(_reviews(world)) == 1
    # Other evidence is a new submission, with its own notice for the managers.
    other = await world.command("ana", "challenge", "submit", "proof", "https://x.test/other")
    assert other == "Thanks! Submission #2 was sent to the community managers."
    assert [text for _, text, _ in await _submissions(db)] == [
        "https://x.test/proof",
        "https://x.test/other",
    ]
    assert len(_reviews(world)) == 2
    # Once judged, the same evidence again is told its decision (no new notice, no new count).
    await world.click("cm", "challenge-approve", "1")
    late = await world.command("ana", "challenge", "submit", "proof", "https://x.test/proof")
    assert late == "Submission #1 was already approved."
    assert len(_reviews(world)) == 2
    assert len(await world.challenge_points()) == 1
    # Another member's same evidence is theirs: a submission of its own.
    bob = await world.command("bob", "challenge", "submit", "proof", "https://x.test/proof")
    assert bob == "Thanks! Submission #3 was sent to the community managers."


async def test_a_replayed_file_message_is_one_submission_with_one_receipt(
    db: Database, tmp_path: Path
) -> None:
    world = await challenges.make_world(db, tmp_path, challenges.PROOF)
    dm = ChannelRef("memory", "dm-ana", is_direct=True)
    shot = FileRef(name="screen.png", url="https://files.example.test/F1/screen.png")

    def message(text: str, *files: FileRef) -> MessagePosted:
        return MessagePosted(
            event_id=f"file-{next(_ids)}",
            platform="memory",
            user=challenges.user("ana"),
            occurred_at=world.clock.now(),
            channel=dm,
            message_id=f"msg-{next(_ids)}",
            text=text,
            files=files,
        )

    def receipts() -> list[str]:
        return [m.text for m in world.directs_to("ana") if m.text.startswith("Thanks!")]

    posted = message("here it is", shot)
    await world.handle(posted)
    assert receipts() == ["Thanks! Submission #1 (screen.png) was sent to the community managers."]
    await world.handle(_replayed(posted))  # the platform delivers the same message again
    await world.handle(message("here it is again", shot))  # the member sends the same file
    assert len(await _submissions(db)) == 1
    assert len(_reviews(world)) == 1
    assert len(receipts()) == 1  # the receipt is said once
    # A different file is a new submission.
    await world.handle(message("and this", FileRef(name="b.png", url="https://f.test/F2/b.png")))
    assert len(await _submissions(db)) == 2
    assert len(_reviews(world)) == 2
    assert receipts()[-1] == "Thanks! Submission #2 (b.png) was sent to the community managers."
    # Judged, then the same file again: the member is told the decision, nothing else.
    await world.click("cm", "challenge-reject", "1")
    await world.handle(_replayed(posted))
    assert world.directs_to("ana")[-1].text == "Submission #1 was already rejected."
    assert len(await _submissions(db)) == 2 and len(_reviews(world)) == 2


async def test_a_submit_command_handled_again_after_a_crash_is_one_submission(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await challenges.make_world(db, tmp_path, challenges.PROOF)
    submit = challenges.CommandInvoked(
        event_id="submit-1",
        platform="memory",
        user=challenges.user("ana"),
        occurred_at=world.clock.now(),
        name="challenge",
        args=("submit", "proof", "https://x.test/proof"),
    )
    dies_before_closing(monkeypatch)
    await crash_on(world.bot, submit)
    monkeypatch.undo()
    world.bot = world.new_bot()  # a restarted process takes the event up again
    assert not (await world.bot.reload()).errors
    await recover(world.bot)
    assert len(await _submissions(db)) == 1
    assert len(_reviews(world)) == 1


async def test_a_submission_and_its_replay_handled_at_once_by_two_replicas_are_one(
    db: Database, tmp_path: Path
) -> None:
    world = await challenges.make_world(db, tmp_path, challenges.PROOF)
    other = world.new_bot()  # a second replica on the same database
    assert not (await other.reload()).errors
    submit = challenges.CommandInvoked(
        event_id="submit-a",
        platform="memory",
        user=challenges.user("ana"),
        occurred_at=world.clock.now(),
        name="challenge",
        args=("submit", "proof", "https://x.test/proof"),
    )
    await asyncio.gather(world.bot.handle(submit), other.handle(_replayed(submit)))
    await world.bot.dispatcher.run_once()
    await other.dispatcher.run_once()
    assert len(await _submissions(db)) == 1
    assert len(_reviews(world)) == 1
    answers = [m.text for m in world.directs_to("ana")]
    assert answers == ["Thanks! Submission #1 was sent to the community managers."] * 2


# ------------------------------------------------------- submissions from before 0025

SHOT = FileRef(name="screen.png", url="https://files.example.test/F1/screen.png")
NOTES = FileRef(name="notes.txt", url="slack-file://F2")  # no plain https link: not stored


async def _old_submissions(url: str) -> dict[str, int]:
    """Submissions as a version before 0025 wrote them (no evidence key), on a database at
    0027, and two written since by a replay (with a key); their ids by name."""
    old = create_database(url)
    try:
        members = {}
        for name in ("ana", "bob"):
            member = await upsert_member(old, "memory", name, challenges.LAUNCH)
            assert member.id is not None
            members[name] = member.id
        long_text = "x" * 998 + "…"  # a text cut to 1,000 characters: its evidence is unknown
        rows = [
            ("first", "ana", "https://x.test/proof", "approved", None),
            ("again", "ana", "https://x.test/proof", "pending", None),  # a replay before 0025
            ("file", "ana", f"here it is 📎 screen.png {SHOT.url}", "pending", None),
            ("no link", "ana", "📎 notes.txt", "pending", None),
            ("cut", "ana", long_text, "pending", None),
            ("bob old", "bob", "https://x.test/bob", "pending", None),
            # Bob's old one replayed after 0025: a second row, with the key.
            (
                "bob since",
                "bob",
                "https://x.test/bob",
                "pending",
                evidence_key("https://x.test/bob"),
            ),
        ]
        s = table_of(ChallengeSubmission)
        ids = {}
        async with old.session() as session:
            for minute, (name, who, text, state, key) in enumerate(rows):
                result = await session.execute(
                    sa.insert(s)
                    .values(
                        challenge="ch/proof",
                        member_id=members[who],
                        text=text,
                        state=state,
                        submitted_at=challenges.LAUNCH + timedelta(minutes=minute + 2),
                        evidence_key=key,
                    )
                    .returning(s.c.id)
                )
                ids[name] = int(result.scalar_one())
        return ids
    finally:
        await old.dispose()


async def _keys(db: Database) -> dict[int, str | None]:
    s = table_of(ChallengeSubmission).c
    async with db.session() as session:
        rows = await session.execute(sa.select(s.id, s.evidence_key))
        return {int(i): k for i, k in rows.all()}


async def test_submissions_from_before_0025_get_their_keys_and_a_replay_finds_them(
    db_url: str, tmp_path: Path
) -> None:
    try:
        downgrade(db_url, "0027")
        ids = await _old_submissions(db_url)
        upgrade(db_url)
        assert current_revision(db_url) == head_revision()
        db = create_database(db_url)
        try:
            proof, bob = evidence_key("https://x.test/proof"), evidence_key("https://x.test/bob")
            expected = {
                ids["first"]: proof,
                ids["again"]: None,  # the same evidence: the earliest keeps the key
                ids["file"]: evidence_key(files=[SHOT]),
                ids["no link"]: None,
                ids["cut"]: None,
                ids["bob old"]: bob,  # the key moves to the earliest row
                ids["bob since"]: None,
            }
            assert await _keys(db) == expected
            # Down to 0027 and up again: the keys stay, and the upgrade finds nothing to do.
            downgrade(db_url, "0027")
            assert await _keys(db) == expected
            upgrade(db_url)
            assert await _keys(db) == expected

            world = await challenges.make_world(db, tmp_path, challenges.PROOF)
            # The old command replayed: the first submission, and its decision, no new row.
            again = await world.command(
                "ana", "challenge", "submit", "proof", "https://x.test/proof"
            )
            assert again == f"Submission #{ids['first']} was already approved."
            bobs = await world.command("bob", "challenge", "submit", "proof", "https://x.test/bob")
            assert bobs == (
                f"Thanks! Submission #{ids['bob old']} was sent to the community managers."
            )
            # The old file message replayed: no new row, no new receipt, nothing for managers.
            await world.handle(
                MessagePosted(
                    event_id=f"file-{next(_ids)}",
                    platform="memory",
                    user=challenges.user("ana"),
                    occurred_at=world.clock.now(),
                    channel=ChannelRef("memory", "dm-ana", is_direct=True),
                    message_id=f"msg-{next(_ids)}",
                    text="here it is",
                    files=(SHOT,),
                )
            )
            assert len(await _submissions(db)) == len(ids)
            assert _reviews(world) == []
            assert [m.text for m in world.directs_to("ana")] == [again]
        finally:
            await db.dispose()
    finally:
        upgrade(db_url)  # leave the shared PostgreSQL database at head whatever happened


# ---------------------------------------------------------------------------- quiz

CAMPAIGN = """\
id: words-dm
title: Words in DMs
timezone: Europe/Paris
locale: en
steps:
  - id: invitation
    at: 2026-12-03 10:00
    quiz: words
"""
BANK = """\
bank: words
title: Three words
locale: en
questions:
  - id: colour
    kind: text
    prompt: "The colour of the sky?"
    answers: ["blue"]
  - id: animal
    kind: text
    prompt: "The animal that barks?"
    answers: ["dog"]
  - id: fruit
    kind: text
    prompt: "The yellow fruit, long and curved?"
    answers: ["banana"]
"""


async def _words_quiz(db: Database, tmp_path: Path) -> tuple[Rallybot, MemoryAdapter, Path]:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "campaign.yaml").write_text(CAMPAIGN)
    (folder / "words.yaml").write_text(BANK)
    adapter = MemoryAdapter()
    bot, _ = await quiz.make_bot(db, folder, SimulatedClock(quiz.T0), adapter)
    await quiz.add_members(db, "Alice")
    await adapter.push(quiz.command("Alice", "words"))
    assert [m.title for m in quiz.quiz_posts(adapter, "alice")] == ["Question 1/3"]
    return bot, adapter, folder


async def _answers(db: Database) -> dict[str, str]:
    a = table_of(QuizAnswer).c
    async with db.session() as session:
        rows = await session.execute(sa.select(a.question_id, a.answer))
        return {str(q): str(text) for q, text in rows.all()}


async def _current(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(sa.select(table_of(QuizRun).c.current))).scalar_one())


async def test_a_free_text_answer_replayed_after_the_quiz_moved_on_answers_nothing_else(
    db: Database, tmp_path: Path
) -> None:
    _, adapter, _ = await _words_quiz(db, tmp_path)
    await adapter.push(quiz.say("Alice", "blue"))
    second = quiz.say("Alice", "dog")
    await adapter.push(second)
    assert [m.title for m in quiz.quiz_posts(adapter, "alice")][-1] == "Question 3/3"
    before = len(adapter.delivered)
    await adapter.push(_replayed(second))  # "dog" again, now that question 3 is asked
    assert await _answers(db) == {"colour": "blue", "animal": "dog"}
    assert await _current(db) == 2  # question 3 is still waiting for its own answer
    assert len(adapter.delivered) == before  # not even "you already answered"
    await adapter.push(quiz.say("Alice", "banana"))
    assert await _answers(db) == {"colour": "blue", "animal": "dog", "fruit": "banana"}
    summary = quiz.quiz_posts(adapter, "alice")[-1]
    assert summary.text.splitlines()[0] == "Your score: 3/3. Thank you for playing!"
    keys = [key.split(":")[2] for key in await quiz.ledger_keys(db)]
    assert keys == ["colour", "animal", "fruit"]  # each question scored once
    # After the end, and in the next run of the same quiz, the old message answers nothing.
    await adapter.push(quiz.command("Alice", "words"))
    await adapter.push(_replayed(second))
    assert len(await _answers(db)) == 3


def _notes(adapter: MemoryAdapter) -> list[str]:
    """Alice's private notes after the reply to the command that started her quiz."""
    start, *notes = quiz.notes(adapter, "alice")
    assert start == "Your quiz is in your direct messages."
    return notes


BEFORE_2 = (
    "Your message was written before question 2 was asked, so it does not count as its "
    "answer: reply to the question once you see it."
)


async def test_a_message_written_before_the_next_question_does_not_answer_it(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter, _ = await _words_quiz(db, tmp_path)
    clock = bot.clock
    assert isinstance(clock, SimulatedClock)
    # Alice types "blue", then at once "oh, and dog": the bot handles "blue" at 10 s and asks
    # question 2 then; her second message, written at 9 s, comes in after that.
    blue = quiz.say("Alice", "blue", at=quiz.T0 + timedelta(seconds=8))
    clock.set(quiz.T0 + timedelta(seconds=10))
    await adapter.push(blue)
    assert [m.title for m in quiz.quiz_posts(adapter, "alice")][-1] == "Question 2/3"
    await adapter.push(quiz.say("Alice", "oh, and dog", at=quiz.T0 + timedelta(seconds=9)))
    assert await _answers(db) == {"colour": "blue"}  # not taken for question 2
    assert await _current(db) == 1
    assert _notes(adapter) == [BEFORE_2]  # told why, and what to do
    # "blue" delivered again by the platform: it answered question 1, nothing to say.
    await adapter.push(_replayed(blue))
    assert _notes(adapter) == [BEFORE_2]
    # Written after question 2 was asked: its answer.
    clock.set(quiz.T0 + timedelta(seconds=20))
    await adapter.push(quiz.say("Alice", "dog", at=clock.now()))
    assert await _answers(db) == {"colour": "blue", "animal": "dog"}
    assert [m.title for m in quiz.quiz_posts(adapter, "alice")][-1] == "Question 3/3"
    keys = [key.split(":")[2] for key in await quiz.ledger_keys(db)]
    assert keys == ["colour", "animal"]


async def test_a_message_written_while_the_next_question_waits_to_be_sent_does_not_answer_it(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter, _ = await _words_quiz(db, tmp_path)
    clock = bot.clock
    assert isinstance(clock, SimulatedClock)
    adapter.fail_next()  # question 2's send fails: it waits in the outbox for its retry
    await adapter.push(quiz.say("Alice", "blue", at=clock.now()))
    assert [m.title for m in quiz.quiz_posts(adapter, "alice")] == ["Question 1/3"]
    clock.set(quiz.T0 + timedelta(seconds=5))
    await adapter.push(quiz.say("Alice", "dog", at=clock.now()))  # before she could see it
    assert await _answers(db) == {"colour": "blue"}
    assert _notes(adapter) == [BEFORE_2]
    await bot.advance_to(quiz.T0 + timedelta(minutes=5))  # the retry asks question 2
    assert [m.title for m in quiz.quiz_posts(adapter, "alice")][-1] == "Question 2/3"
    await adapter.push(quiz.say("Alice", "dog", at=clock.now()))
    assert await _answers(db) == {"colour": "blue", "animal": "dog"}


async def test_a_free_text_answer_handled_again_after_a_crash_answers_nothing_else(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, adapter, folder = await _words_quiz(db, tmp_path)
    await adapter.push(quiz.say("Alice", "blue"))
    dies_before_closing(monkeypatch)
    await crash_on(bot, quiz.say("Alice", "dog"))  # answered, moved on, then the crash
    monkeypatch.undo()
    again, _ = await quiz.make_bot(db, folder, bot.clock, adapter)  # type: ignore[arg-type]
    await recover(again)  # the restarted process handles the same event again
    assert await _answers(db) == {"colour": "blue", "animal": "dog"}
    assert await _current(db) == 2
    titles = [m.title for m in quiz.quiz_posts(adapter, "alice")]
    assert titles == ["Question 1/3", "Question 2/3", "Question 3/3"]


async def test_a_message_number_used_again_later_is_a_new_answer(
    db: Database, tmp_path: Path
) -> None:
    """The console numbers its messages from 1 at each run: on a kept database, a later
    run's message 1 is a new message, not a replay of the earlier one."""
    _, adapter, _ = await _words_quiz(db, tmp_path)
    first = dataclasses.replace(quiz.say("Alice", "blue"), message_id="console-msg-1")
    await adapter.push(first)
    later = dataclasses.replace(
        quiz.say("Alice", "dog"),
        message_id="console-msg-1",
        occurred_at=first.occurred_at + timedelta(hours=1),
    )
    await adapter.push(later)
    assert await _answers(db) == {"colour": "blue", "animal": "dog"}


# ---------------------------------------------------------------------------- forget


async def test_forget_empties_the_message_and_evidence_keys(db: Database, tmp_path: Path) -> None:
    """The message of a typed answer names the member's DM conversation; the evidence key is
    a hash of their text: neither stays once the member is forgotten."""
    bot, adapter, _ = await _words_quiz(db, tmp_path)
    await adapter.push(quiz.say("Alice", "blue"))
    (tmp_path / "w").mkdir()
    world = await challenges.make_world(db, tmp_path / "w", challenges.PROOF)
    await world.command("ana", "challenge", "submit", "proof", "https://x.test/proof")
    a, s = table_of(QuizAnswer).c, table_of(ChallengeSubmission).c
    async with db.session() as session:
        [(alice, ref)] = (await session.execute(sa.select(a.member_id, a.message_ref))).all()
        [(ana, key)] = (await session.execute(sa.select(s.member_id, s.evidence_key))).all()
    assert ref.startswith("memory:dm-alice:") and key.startswith("text:")
    for member_id in (alice, ana):
        assert await forget_member(db, member_id, bot.clock.now()) is not None
    async with db.session() as session:
        assert (await session.execute(sa.select(a.message_ref))).scalars().all() == [None]
        assert (await session.execute(sa.select(s.evidence_key))).scalars().all() == [None]
