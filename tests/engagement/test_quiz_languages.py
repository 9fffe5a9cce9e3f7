"""The quiz in Spanish and German, end to end (SQLite and PostgreSQL): the bot's words come
from the member's language for a self-paced quiz and its notes, and from the campaign's for a
live quiz in a channel, while the questions stay in the bank's language."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rallybot.bot.clock import SimulatedClock
from rallybot.storage.database import Database
from tests.engagement.quiz_helpers import (
    T0,
    add_members,
    click,
    command,
    make_bot,
    notes,
    quiz_posts,
    say,
    write_files,
)

SELF_PACED = """\
id: quiz-dm
title: Quiz in DMs
timezone: Europe/Madrid
locale: es
steps:
  - id: invitation
    at: 2026-11-03 10:00
    quiz: connect-quiz
"""

LIVE = """\
id: quiz-live
title: Live quiz
timezone: Europe/Berlin
locale: de
channels:
  ankuendigungen: general
steps:
  - id: friday-quiz
    at: 2026-11-03 10:00
    quiz: connect-quiz
    post: ankuendigungen
    questions: 2
    window: 30s
"""

BANK_TITLE = "Connect: the four questions"


async def test_a_spanish_member_plays_a_self_paced_quiz(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0 - timedelta(hours=1))
    bot, adapter = await make_bot(db, write_files(tmp_path / "c", SELF_PACED), clock)
    await add_members(db, "Alba", locale="es_MX")  # Mexican Spanish: the "es" catalog
    await bot.advance_to(T0 + timedelta(minutes=1))

    [invitation] = [d.message for d in adapter.directs if d.target == "alba"]
    assert invitation.text == "Te espera un quiz breve: responde a tu ritmo, aquí mismo."
    [start] = invitation.buttons
    assert start.label == "Empezar el quiz"
    assert start.action_id is not None
    await adapter.push(click("Alba", start.action_id, "dm-alba", start.value))
    [first] = quiz_posts(adapter, "alba")
    assert first.title == "Pregunta 1/4"
    assert first.text == "Why did the company open Connect?"  # the bank's own words
    assert first.context == "Responde a tu ritmo · equivocarse no cuesta nada"
    run_id = int(first.metadata["quiz_run"])

    await adapter.push(click("Alba", f"quiz:{run_id}:0:0", "dm-alba"))
    await adapter.push(click("Alba", f"quiz:{run_id}:0:1", "dm-alba"))
    assert notes(adapter, "alba") == [
        "Ya respondiste a esta pregunta: solo cuenta tu primera respuesta."
    ]
    second = quiz_posts(adapter, "alba")[-1]
    assert second.text.splitlines()[-1] == (
        "Puede haber varias respuestas correctas: elígelas y pulsa «Enviar»."
    )
    assert second.buttons[-1].label == "Enviar"
    await adapter.push(click("Alba", f"quiz:{run_id}:1:ok", "dm-alba"))
    assert notes(adapter, "alba")[-1] == "Primero elige al menos una respuesta."
    for choice in ("0", "1"):
        await adapter.push(click("Alba", f"quiz:{run_id}:1:{choice}", "dm-alba"))
    assert notes(adapter, "alba")[-1] == "Tu selección: A, B. Pulsa «Enviar» cuando termines."
    for choice in ("2", "ok"):
        await adapter.push(click("Alba", f"quiz:{run_id}:1:{choice}", "dm-alba"))
    third = quiz_posts(adapter, "alba")[-1]
    assert third.text.splitlines()[-1] == "Escribe tu respuesta aquí."
    await adapter.push(say("Alba", "my profile", at=clock.now()))
    await adapter.push(click("Alba", f"quiz:{run_id}:3:1", "dm-alba"))  # wrong

    summary = quiz_posts(adapter, "alba")[-1]
    assert summary.title == f"Quiz terminado: {BANK_TITLE}"
    lines = summary.text.splitlines()
    assert lines[0] == "Tu puntuación: 3/4. ¡Gracias por jugar!"
    assert "   La respuesta: profile / my profile / your profile (tu respuesta: “my profile”)" in (
        lines
    )

    await adapter.push(command("Alba", "top"))
    assert notes(adapter, "alba")[-1].splitlines() == [
        f"Resultados del quiz: {BANK_TITLE}",
        "1. Alba: 3/4 aciertos",
    ]
    await adapter.push(command("Alba", "nope"))
    assert notes(adapter, "alba")[-1] == (
        'No conozco el quiz "nope". Quizzes disponibles: connect-quiz.'
    )
    await adapter.push(command("Alba", "live", "connect-quiz", channel="general"))
    assert notes(adapter, "alba")[-1] == (
        "Solo los community managers pueden lanzar un quiz en directo."
    )


async def test_a_live_quiz_in_german(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0 - timedelta(hours=1))
    bot, adapter = await make_bot(db, write_files(tmp_path / "c", LIVE), clock)
    await add_members(db, "Jonas", "Lena", locale="de")
    await add_members(db, "Alice", locale="en")  # an English member in a German quiz

    await bot.advance_to(T0 + timedelta(seconds=1))
    intro, first = quiz_posts(adapter, "general")
    assert intro.text == "Quizzeit: 2 Fragen, je 30 s. Bereit?"
    assert first.title == "Frage 1/2"
    assert first.context == (
        "Antworte innerhalb von 30 s · eine Antwort pro Person · eine falsche Antwort kostet nichts"
    )
    run_id = int(first.metadata["quiz_run"])
    clock.set(T0 + timedelta(seconds=2))
    await adapter.push(click("Jonas", f"quiz:{run_id}:0:0"))
    await adapter.push(click("Alice", f"quiz:{run_id}:0:1"))
    await adapter.push(click("Jonas", f"quiz:{run_id}:0:1"))
    await adapter.push(click("Alice", f"quiz:{run_id}:0:0"))
    assert notes(adapter, "jonas") == [
        "Du hast diese Frage schon beantwortet: Nur deine erste Antwort zählt."
    ]
    # A note to one member is in that member's language.
    assert notes(adapter, "alice") == [
        "You already answered this question: only your first answer counts."
    ]

    await bot.advance_to(T0 + timedelta(seconds=31))
    results, second = quiz_posts(adapter, "general")[2:]
    assert results.title == "Antwort auf Frage 1"
    assert results.text.splitlines()[0].startswith("Die Antwort: **A. ")
    assert results.text.splitlines()[3:] == [
        "Antworten: A: 1 · B: 1 · C: 0",
        "Richtig lagen: Jonas",
        "Am schnellsten (Tempobonus): Jonas",
    ]
    assert second.buttons[-1].label == "Absenden"
    await adapter.push(click("Lena", f"quiz:{run_id}:0:0"))
    assert notes(adapter, "lena") == ["Zu spät: Diese Frage ist schon geschlossen."]
    await adapter.push(click("Lena", f"quiz:{run_id}:1:0"))
    assert notes(adapter, "lena")[-1] == (
        "Deine Auswahl: A. Drücke „Absenden“, wenn du fertig bist."
    )

    await bot.advance_to(T0 + timedelta(seconds=62))
    board = quiz_posts(adapter, "general")[-1]
    assert board.title == f"Quiz-Ergebnisse: {BANK_TITLE}"
    lines = board.text.splitlines()
    assert lines[0].startswith("1. Jonas: 1/2 richtig (") and lines[0].endswith(" Pkt.)")
    assert lines[-1] == "Danke fürs Mitspielen! Für eine falsche Antwort verliert niemand Punkte."
