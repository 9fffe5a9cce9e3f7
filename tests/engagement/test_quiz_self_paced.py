"""Self-paced quizzes in direct messages and the question of the day, end to end on the memory
adapter and a simulated clock (SQLite and PostgreSQL); a hostile free-text answer."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from pathlib import Path

from rallybot.bot.adapters.discord.render import render_message as discord_render
from rallybot.bot.adapters.slack.render import render_message as slack_render
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.messages import member, plain
from rallybot.handlers.quiz.feature import QuizFeature, shown
from rallybot.storage.database import Database
from tests.engagement.quiz_helpers import (
    T0,
    add_members,
    click,
    command,
    make_bot,
    notes,
    points,
    quiz_posts,
    say,
    write_files,
)

SELF_PACED = """\
id: quiz-dm
title: Quiz in DMs
timezone: Europe/Paris
locale: fr
steps:
  - id: invitation
    at: 2026-11-03 10:00
    quiz: quiz-connect
"""


async def test_a_self_paced_quiz_in_direct_messages(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0 - timedelta(hours=1))
    bot, adapter = await make_bot(db, write_files(tmp_path / "c", SELF_PACED, "fr"), clock)
    ids = await add_members(db, "Alice", locale="fr")
    await bot.advance_to(T0 + timedelta(minutes=1))

    [invitation] = [d.message for d in adapter.directs if d.target == "alice"]
    assert invitation.text == "Un petit quiz vous attend : répondez à votre rythme, ici."
    [start] = invitation.buttons
    assert (start.label, start.action_id, start.value) == (
        "Commencer le quiz",
        "quiz-start",
        "quiz-connect",
    )
    assert start.action_id is not None
    await adapter.push(click("Alice", start.action_id, "dm-alice", start.value))
    [first] = quiz_posts(adapter, "alice")
    assert first.title == "Question 1/4"
    assert first.text == "Pourquoi l'entreprise ouvre-t-elle Connect ?"
    run_id = int(first.metadata["quiz_run"])

    await adapter.push(click("Alice", f"quiz:{run_id}:0:0", "dm-alice"))  # right
    await adapter.push(click("Alice", f"quiz:{run_id}:0:1", "dm-alice"))  # a second answer
    assert notes(adapter, "alice") == [
        "Vous avez déjà répondu à cette question : seule votre première réponse compte."
    ]
    for choice in ("0", "1", "2", "ok"):  # all three right answers, then "Valider"
        await adapter.push(click("Alice", f"quiz:{run_id}:1:{choice}", "dm-alice"))
    third = quiz_posts(adapter, "alice")[-1]
    assert third.title == "Question 3/4" and third.buttons == ()
    assert "Écrivez votre réponse ici." in third.text
    # Free text: accents, case and spaces do not matter ("mon profil" is accepted).
    await adapter.push(say("Alice", "  MON   Prófil ", at=clock.now()))
    fourth = quiz_posts(adapter, "alice")[-1]
    assert fourth.title == "Question 4/4"
    await adapter.push(click("Alice", f"quiz:{run_id}:3:1", "dm-alice"))  # wrong: no penalty

    summary = quiz_posts(adapter, "alice")[-1]
    assert summary.title == "Quiz terminé : Connect : les quatre questions"
    lines = summary.text.splitlines()
    assert lines[0] == "Votre score : 3/4. Merci d'avoir joué !"
    assert "✓ 3. Que faut-il compléter en premier sur Connect ? (un mot : votre ...)" in lines
    assert (
        "   La réponse : profil / mon profil / votre profil (votre réponse : “MON Prófil”)" in lines
    )
    assert (
        "   La réponse : A. Partager ce que je sais et aider ceux qui cherchent "
        in (lines[lines.index("✗ 4. Qu'attend-on de vous sur Connect ?") + 1][:74])
    )
    assert any(line.startswith("   Complétez d'abord votre profil") for line in lines)
    assert await points(db) == {(ids["Alice"], "quiz_correct"): 30}

    # The quiz is over: more text in the DM is not an answer; a stale button says so.
    before = len(adapter.delivered)
    await adapter.push(say("Alice", "profil", at=clock.now()))
    assert len(adapter.delivered) == before
    await adapter.push(click("Alice", f"quiz:{run_id}:3:0", "dm-alice"))
    assert notes(adapter, "alice")[-1].startswith("Vous avez déjà répondu")

    # The quiz leaderboard: each member's best self-paced score.
    await add_members(db, "Chloé", locale="fr")
    await adapter.push(command("Chloé", "quiz-connect"))
    run2 = int(quiz_posts(adapter, "chloé")[-1].metadata["quiz_run"])
    for answer in ("0:0", "1:0", "1:1", "1:2", "1:ok"):
        await adapter.push(click("Chloé", f"quiz:{run2}:{answer}", "dm-chloé"))
    await adapter.push(say("Chloé", "profil", at=clock.now()))
    await adapter.push(click("Chloé", f"quiz:{run2}:3:0", "dm-chloé"))
    await adapter.push(command("Alice", "top"))
    assert notes(adapter, "alice")[-1].splitlines() == [
        "Résultats du quiz : Connect : les quatre questions",
        "1. Chloé : 4/4 bonnes réponses",
        "2. Alice : 3/4 bonnes réponses",
    ]


async def test_the_command_and_a_hostile_answer(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    folder = write_files(tmp_path / "c", SELF_PACED.replace("quiz-connect", "connect-quiz"))
    _, adapter = await make_bot(db, folder, clock)
    await add_members(db, "Bob", locale="en")

    await adapter.push(command("Bob", "nope"))
    assert notes(adapter, "bob") == ['Unknown quiz "nope". Quizzes: connect-quiz.']
    await adapter.push(command("Bob"))
    assert notes(adapter, "bob")[-1] == "Your quiz is in your direct messages."
    first = quiz_posts(adapter, "bob")[-1]
    run_id = int(first.metadata["quiz_run"])
    await adapter.push(click("Bob", f"quiz:{run_id}:0:2", "dm-bob"))
    await adapter.push(click("Bob", f"quiz:{run_id}:1:3", "dm-bob"))
    await adapter.push(click("Bob", f"quiz:{run_id}:1:ok", "dm-bob"))
    # Running the command again resumes the same quiz at its current question.
    await adapter.push(command("Bob", "connect-quiz"))
    again = quiz_posts(adapter, "bob")[-1]
    assert again.title == "Question 3/4" and again.metadata["quiz_run"] == str(run_id)

    hostile = (
        "<!channel> @everyone <@U123> **bold** `code` [x](https://evil.example)\x00\x1b[2J\u202e"
        + "A" * 10_000
    )
    await adapter.push(say("Bob", hostile))
    await adapter.push(click("Bob", f"quiz:{run_id}:3:0", "dm-bob"))
    summary = quiz_posts(adapter, "bob")[-1]
    assert summary.text.splitlines()[0] == "Your score: 1/4. Thank you for playing!"
    [line] = [line for line in summary.text.splitlines() if "your answer: “" in line]
    given = line.split("your answer: ", 1)[1].rstrip(")")
    assert given == plain(shown(hostile))  # member text, shown as typed on the memory platform
    assert given.startswith("“<!channel> @everyone <@U123> **bold** `code` [x](https")
    assert len(given) <= 202 and given.endswith("…”")
    assert not any(unicodedata.category(c) in {"Cc", "Cf"} for c in summary.text if c != "\n")
    # The renderers escape it: no mention, markup or link on Slack or Discord.
    raw = next(d.raw for d in reversed(adapter.delivered) if d.message is summary)
    slack = slack_render(raw or summary)["blocks"][0]["text"]["text"]
    assert "<!channel>" not in slack and "<@U123>" not in slack and "**" not in slack
    discord = discord_render(raw or summary)
    described = " ".join(e.description or "" for e in discord.embeds) + discord.content
    assert "\\@everyone" in described and discord.allowed_mentions.to_dict()["parse"] == []


QOTD = """\
id: quiz-daily
title: Question of the day
timezone: Europe/Paris
locale: en
channels:
  annonces: general
steps:
  - id: qotd
    every: weekday at 10:00
    from: 2026-11-03
    until: 2026-11-05
    quiz: connect-quiz
    mode: daily
    post: annonces
"""


async def test_the_question_of_the_day(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0 - timedelta(hours=1))
    bot, adapter = await make_bot(db, write_files(tmp_path / "c", QOTD), clock)
    ids = await add_members(db, "Alice", "Bob")
    await bot.advance_to(T0 + timedelta(minutes=1))
    [first] = quiz_posts(adapter, "general")
    assert first.title == "Question of the day"
    assert first.text == "Why did the company open Connect?"
    assert first.context == (
        "Answers are open until the next question · a wrong answer costs nothing"
    )
    run_id = int(first.metadata["quiz_run"])

    clock.set(T0 + timedelta(hours=3))
    await adapter.push(click("Alice", f"quiz:{run_id}:0:0"))
    clock.set(T0 + timedelta(hours=23))  # still open the next morning
    await adapter.push(click("Bob", f"quiz:{run_id}:0:2"))
    assert notes(adapter, "bob") == []

    await bot.advance_to(T0 + timedelta(days=1, minutes=1))
    results, second = quiz_posts(adapter, "general")[1:]
    assert results.title == "Question of the day"
    assert results.text.splitlines()[0] == (
        "The answer: **A. So everyone quickly finds the right person and the right information**"
    )
    assert "Right: Alice" in results.text and "Fastest" not in results.text
    assert second.text.startswith("What does Connect bring you? (pick every right answer)")
    # A click on yesterday's question comes too late.
    await adapter.push(click("Bob", f"quiz:{run_id}:0:0"))
    assert notes(adapter, "bob") == ["Too late: this question is closed."]

    await bot.advance_to(T0 + timedelta(days=5))
    texts = [m.text for m in quiz_posts(adapter, "general") if "results" not in m.metadata]
    assert texts == [
        "Why did the company open Connect?",
        "What does Connect bring you? (pick every right answer)\n"
        "Several answers may be right: pick them, then press “Submit”.",
        "What is the first thing to do on Connect? (two words: complete your ...)\n"
        "Type your answer in this channel.",
    ]
    assert len([m for m in quiz_posts(adapter, "general") if "results" in m.metadata]) == 3
    assert await points(db) == {(ids["Alice"], "quiz_correct"): 10}  # no speed bonus daily


async def test_a_broken_bank_keeps_its_last_good_version(db: Database, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "c", QOTD)
    bot, _ = await make_bot(db, folder, SimulatedClock(T0))
    good = bot.feature(QuizFeature).banks["connect-quiz"]
    bank_file = folder / "quiz.yaml"
    broken = bank_file.read_text().replace("kind: multiple", "kind: several")
    bank_file.write_text(broken)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "kind: several" in text)
    report = await bot.reload()
    assert [str(e) for e in report.errors] == [
        f'{bank_file}:{line}:11: questions[1].kind: "several" is not allowed here: '
        'use "single", "multiple" or "text"'
    ]
    assert bot.feature(QuizFeature).banks["connect-quiz"] is good
    # A campaign naming a bank that is not loaded is reported too.
    (folder / "campaign.yaml").write_text(QOTD.replace("quiz: connect-quiz", "quiz: conect-quiz"))
    report = await bot.reload()
    assert [str(e).split(": ", 1)[1] for e in report.errors][-1] == (
        'steps[0].quiz: unknown quiz bank "conect-quiz" (did you mean "connect-quiz"?); '
        "banks: connect-quiz"
    )


def test_names_and_answers_are_defused() -> None:
    from rallybot.handlers.quiz.feature import safe_name

    assert safe_name("<!here> *Ana*_B @everyone\x07") == member("<!here> *Ana*_B @everyone")
    assert plain(safe_name("")) == "?"
    assert shown("`x` <@U1>") == f"“{member('`x` <@U1>')}”"
