"""A live quiz in a channel, end to end on the memory adapter and a simulated clock (SQLite and
PostgreSQL): answers by button, one per member, late clicks, speed bonus, results, the answer and
its explanation revealed after each window, a final leaderboard, points through the ledger, and
a restart in the middle that resumes the quiz without asking a question twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from rallybot.bot.clock import SimulatedClock
from rallybot.handlers.quiz.feature import SPEED_BONUS_COUNT
from rallybot.storage.database import Database
from rallybot.storage.quiz_models import QuizAnswer, QuizRun
from tests.engagement.quiz_helpers import (
    T0,
    add_members,
    click,
    command,
    delivered_questions,
    ledger_keys,
    make_bot,
    notes,
    points,
    quiz_posts,
    say,
    write_files,
)

LIVE = """\
id: quiz-live
title: Live quiz
timezone: Europe/Paris
locale: en
channels:
  annonces: general
steps:
  - id: friday-quiz
    at: 2026-11-03 10:00
    quiz: connect-quiz
    post: annonces
    questions: 2
    window: 30s
"""


async def test_a_live_quiz_end_to_end(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0 - timedelta(hours=1))
    bot, adapter = await make_bot(db, write_files(tmp_path / "c", LIVE), clock)
    ids = await add_members(db, "Alice", "Bob", "Carol", "Dave", "Eve")

    await bot.advance_to(T0 + timedelta(seconds=1))
    intro, first = quiz_posts(adapter, "general")
    assert intro.title == "Connect: the four questions"
    assert intro.text == "Quiz time: 2 questions, 30 s each. Ready?"
    assert first.title == "Question 1/2"
    assert first.text == "Why did the company open Connect?"
    assert first.context is not None and "a wrong answer costs nothing" in first.context
    run_id = int(first.metadata["quiz_run"])
    assert [(b.action_id, b.value) for b in first.buttons] == [
        ("quiz", f"{run_id}:0:{i}") for i in range(3)
    ]

    # Answers, two seconds apart: A is right.
    for seconds, (name, choice) in enumerate(
        [("Alice", 0), ("Bob", 1), ("Carol", 0), ("Dave", 0), ("Eve", 0)], 1
    ):
        clock.set(T0 + timedelta(seconds=2 * seconds))
        await adapter.push(click(name, f"quiz:{run_id}:0:{choice}"))
    # A second click by Alice changes nothing and tells her so, privately.
    await adapter.push(click("Alice", f"quiz:{run_id}:0:2"))
    assert notes(adapter, "alice") == [
        "You already answered this question: only your first answer counts."
    ]
    assert quiz_posts(adapter, "general") == [intro, first]  # nothing shown before the window ends

    await bot.advance_to(T0 + timedelta(seconds=31))
    results, second = quiz_posts(adapter, "general")[2:]
    assert results.title == "Answer to question 1"
    assert results.text.splitlines() == [
        "The answer: **A. So everyone quickly finds the right person and the right information**",
        "Connect exists so that anyone finds an expert, a document or an answer in minutes, "
        "instead of digging through email threads.",
        "",
        "Answers: A: 4 · B: 1 · C: 0",
        "Right: Alice, Carol, Dave, Eve",
        "Fastest (speed bonus): Alice, Carol, Dave",
    ]
    assert second.title == "Question 2/2"
    assert [b.label for b in second.buttons][-1] == "Submit"

    # A click on question 1 after its window: refused, with a note.
    await adapter.push(click("Bob", f"quiz:{run_id}:0:0"))
    assert notes(adapter, "bob") == ["Too late: this question is closed."]

    # Question 2, several right answers (A, B, C): toggles, then submit.
    for option in ("0", "1", "2", "ok"):
        await adapter.push(click("Alice", f"quiz:{run_id}:1:{option}"))
    await adapter.push(click("Bob", f"quiz:{run_id}:1:0"))
    await adapter.push(click("Bob", f"quiz:{run_id}:1:3"))  # a draft, never submitted
    await adapter.push(click("Carol", f"quiz:{run_id}:1:ok"))
    assert notes(adapter, "carol")[-1] == "Pick at least one answer first."
    assert notes(adapter, "bob")[-1] == "Your selection: A, D. Press “Submit” when you are done."
    await adapter.push(click("Alice", f"quiz:{run_id}:1:3"))
    assert notes(adapter, "alice")[-1] == (
        "You already answered this question: only your first answer counts."
    )

    # The window closes just before second 62; a click at 62 is late.
    clock.set(T0 + timedelta(seconds=61, milliseconds=500))
    await adapter.push(click("Dave", f"quiz:{run_id}:1:0"))
    assert notes(adapter, "dave") == ["Too late: this question is closed."]

    await bot.advance_to(T0 + timedelta(minutes=5))
    results2, board = quiz_posts(adapter, "general")[4:]
    assert results2.text.splitlines()[0] == (
        "The answer: **A. Fewer emails, B. Help from colleagues, C. Your successes seen by all**"
    )
    assert "Answers: A: 2 · B: 1 · C: 1 · D: 1" in results2.text
    assert "Right: Alice\n" in results2.text + "\n"
    assert board.title == "Quiz results: Connect: the four questions"
    assert board.text.splitlines() == [
        "1. Alice: 2/2 right (30 pts)",
        "2. Carol: 1/2 right (15 pts)",
        "3. Dave: 1/2 right (15 pts)",
        "4. Eve: 1/2 right (10 pts)",
        "5. Bob: 0/2 right",
        "",
        "Thank you all for playing: no one loses points for a wrong answer.",
    ]

    # Points: 10 per right answer, 5 for the first three right answers; none lost by Bob.
    assert await points(db) == {
        (ids["Alice"], "quiz_correct"): 20,
        (ids["Alice"], "quiz_speed_bonus"): 10,
        (ids["Carol"], "quiz_correct"): 10,
        (ids["Carol"], "quiz_speed_bonus"): 5,
        (ids["Dave"], "quiz_correct"): 10,
        (ids["Dave"], "quiz_speed_bonus"): 5,
        (ids["Eve"], "quiz_correct"): 10,
    }
    assert SPEED_BONUS_COUNT == 3
    assert f"quiz:{run_id}:why:{ids['Alice']}" in await ledger_keys(db)
    async with db.session() as session:
        answers = (
            await session.execute(sa.select(sa.func.count()).select_from(QuizAnswer))
        ).scalar_one()
        run = await session.get(QuizRun, run_id)
    assert answers == 5 + 2  # one row per member per question, whatever the clicks
    assert run is not None and run.state == "finished"

    # Nothing more happens later, and a replayed click (same event id) is dropped.
    before = len(adapter.delivered)
    await bot.advance_to(T0 + timedelta(days=2))
    assert len(adapter.delivered) == before


async def test_a_restart_mid_quiz_resumes_without_asking_twice(
    db: Database, tmp_path: Path
) -> None:
    folder = write_files(tmp_path / "c", LIVE.replace("questions: 2", "questions: 3"))
    clock = SimulatedClock(T0 - timedelta(minutes=1))
    first_bot, adapter = await make_bot(db, folder, clock)
    await add_members(db, "Alice")
    await first_bot.advance_to(T0 + timedelta(seconds=31))  # question 2 is open
    asked = [d.message.metadata["question"] for d in delivered_questions(adapter, "general")]
    assert asked == ["why", "benefits"]
    run_id = int(quiz_posts(adapter, "general")[-1].metadata["quiz_run"])
    await first_bot.shutdown()

    # A new process on the same database, 10 seconds later: it picks the quiz up.
    clock.set(T0 + timedelta(seconds=41))
    second_bot, _ = await make_bot(db, folder, clock, adapter)
    await adapter.push(click("Alice", f"quiz:{run_id}:1:0"))
    await adapter.push(click("Alice", f"quiz:{run_id}:1:ok"))
    await second_bot.advance_to(T0 + timedelta(seconds=61))
    asked = [d.message.metadata["question"] for d in delivered_questions(adapter, "general")]
    assert asked == ["why", "benefits", "first-step"]  # none asked twice
    assert quiz_posts(adapter, "general")[-1].text.endswith("Type your answer in this channel.")
    # A free-text question in the channel: the first message of each member is the answer.
    await adapter.push(say("Alice", "  my   PROFILE! ", channel="general", at=clock.now()))
    await adapter.push(say("Alice", "no wait: photo", channel="general", at=clock.now()))
    await adapter.push(say("Bob", "photo", channel="general", at=clock.now()))
    await second_bot.advance_to(T0 + timedelta(minutes=10))
    asked = [d.message.metadata["question"] for d in delivered_questions(adapter, "general")]
    assert asked == ["why", "benefits", "first-step"]
    results, board = quiz_posts(adapter, "general")[-2:]
    assert results.text.splitlines()[0] == "The answer: **profile / my profile / your profile**"
    assert "2 answers" in results.text and "Right: Alice" in results.text
    assert board.metadata.get("leaderboard") == "1"
    assert board.text.splitlines()[:2] == [
        "1. Alice: 1/3 right (15 pts)",  # A alone is not all of question 2's right answers
        "2. Bob: 0/3 right",
    ]


async def test_a_manager_starts_a_live_quiz_with_a_command(db: Database, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "c", LIVE.replace("2026-11-03", "2027-11-03"))
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, folder, clock)
    await add_members(db, "Bob")  # English: the bot's default language is French
    await adapter.push(command("Bob", "live", "connect-quiz", channel="general"))
    assert notes(adapter, "bob") == ["Only community managers start a live quiz."]
    await adapter.push(command("cm", "live", "connect-quiz", "1", "45s", channel="general"))
    intro, question = quiz_posts(adapter, "general")
    assert intro.text == "Quiz time: 1 question, 45 s. Ready?"
    assert question.title == "Question 1/1"
    await bot.advance_to(T0 + timedelta(seconds=46))
    assert quiz_posts(adapter, "general")[-1].metadata.get("leaderboard") == "1"


def test_a_discord_click_is_read_like_a_slack_one() -> None:
    from rallybot.bot.adapters.discord.render import custom_id, parse_custom_id
    from rallybot.bot.events import ButtonClicked
    from rallybot.handlers.quiz.feature import _parse_action

    parsed = parse_custom_id(custom_id("quiz", "12:3:4"))
    assert parsed is not None
    action_id, value = parsed
    event = click("Alice", action_id, value=value)
    assert isinstance(event, ButtonClicked)
    assert _parse_action(event) == (12, 3, "4")
    assert _parse_action(click("Alice", "quiz:12:3:ok")) == (12, 3, "ok")
    assert _parse_action(click("Alice", "quiz", value="12:3:1")) == (12, 3, "1")
    assert _parse_action(click("Alice", "quiz:x:3:1")) is None
    assert _parse_action(click("Alice", "pilot-rsvp", value="c/s")) is None


def test_every_question_renders_on_slack_and_discord() -> None:
    from rallybot.bot.adapters.discord.render import render_message as discord_message
    from rallybot.bot.adapters.slack.render import original_action_id
    from rallybot.bot.adapters.slack.render import render_message as slack_message
    from rallybot.campaigns.quiz import load_bank_text
    from rallybot.handlers.quiz.feature import _Asked, question_message
    from rallybot.storage.quiz_models import QuizRun

    choices = "\n".join(f"      - {{text: choice number {i}, correct: true}}" for i in range(24))
    bank = load_bank_text(
        f"bank: big\ntitle: Big\nlocale: en\nquestions:\n  - id: many\n    kind: multiple\n"
        f"    prompt: Which?\n    choices:\n{choices}\n",
        "big.yaml",
    )
    for mode in ("live", "self-paced", "daily"):
        run = QuizRun(
            id=99_999, key="k", bank_id="big", mode=mode, platform="slack", questions=["many"]
        )
        message = question_message(_Asked(run, bank, bank.questions[0], 0))
        assert len(message.buttons) == 25
        blocks = slack_message(message)["blocks"]
        elements = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
        assert len(elements) == 25
        assert {original_action_id(e["action_id"]) for e in elements} == {"quiz"}
        assert elements[-1]["value"] == "99999:0:ok"
        view = discord_message(message).view
        assert view is not None
        custom_ids = [getattr(item, "custom_id", None) for item in view.children]
        assert custom_ids[0] == "rb:quiz:99999:0:0" and custom_ids[-1] == "rb:quiz:99999:0:ok"
        assert len(set(custom_ids)) == 25
