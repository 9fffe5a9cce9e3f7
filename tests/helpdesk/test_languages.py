"""The help channel in Spanish and German (SQLite and PostgreSQL): the reply, its buttons and
the thread's notices in the asker's language, a click answered in the clicker's, and the
reminders to the helpers and managers in the bot's; the FAQ's own texts as written."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rallybot.bot.clock import SimulatedClock
from rallybot.handlers.helpdesk.feature import ACTION_FAQ, ACTION_SOLVED
from rallybot.storage.database import Database
from rallybot.storage.repositories import upsert_member
from tests.helpdesk.helpers import (
    T0,
    click,
    make_bot,
    post,
    react,
    thread_replies,
    ticket,
)


async def test_a_spanish_question_is_answered_in_spanish(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    await upsert_member(db, "memory", "alba", T0, display_name="Alba", locale="es")
    question = post("alba", "How do I reset my password?", clock)
    await adapter.push(question)

    [reply] = adapter.replies
    parts = reply.message.text.split("\n\n")
    assert parts[0] == "¡Gracias por tu pregunta! Alguien te responderá en este hilo."
    assert parts[1] == (
        "Mientras tanto, estas respuestas de las preguntas frecuentes pueden ayudarte:"
    )
    assert parts[-1] == "Personas de guardia: <@helper1>"
    labels = [b.label for b in reply.message.buttons if b.action_id]
    assert labels == ["Resuelto", "Las preguntas frecuentes me bastaron"]

    await adapter.push(post("bob", "On the IT portal", clock, thread=question.message_id))
    clock.advance(timedelta(minutes=5))
    await adapter.push(react("alba", question.message_id, clock))
    assert thread_replies(adapter, question.message_id)[-1].message.text == (
        "✅ Resuelto. ¡Gracias, <@bob>! (+10 puntos)"
    )
    assert adapter.content_of(reply.sent).text.startswith("✅ Resuelto.")

    # A helper with no language of their own clicks on the closed ticket: the ticket's.
    found = await ticket(db)
    assert found.id is not None
    await adapter.push(click("helper1", ACTION_SOLVED, found.id, clock))
    assert adapter.directs[-1].message.text == "Esta consulta ya está cerrada."


async def test_a_german_question_and_a_german_bot(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock, locale="de")
    await upsert_member(db, "memory", "jonas", T0, display_name="Jonas", locale="de")
    await upsert_member(db, "memory", "alice", T0, display_name="Alice", locale="en")
    question = post("jonas", "How do I reset my password?", clock)
    await adapter.push(question)
    [reply] = adapter.replies
    assert reply.message.text.startswith("Danke für deine Frage! Jemand antwortet dir")
    assert [b.label for b in reply.message.buttons if b.action_id] == [
        "Gelöst",
        "Die FAQ hat mir geholfen",
    ]

    await bot.advance_to(T0 + timedelta(minutes=31))
    assert thread_replies(adapter, question.message_id)[-1].message.text == (
        "⏰ Diese Frage wartet seit 30 Min. auf eine Antwort. <@helper1>"
    )
    await bot.advance_to(T0 + timedelta(minutes=121))
    [alert] = [d.message.text for d in adapter.directs if d.target == "cm"]
    assert alert.startswith(
        "📣 Hilfe-Ticket Nr. 1 (<#help>) von <@jonas> ist seit 120 Min. unbeantwortet: "
    )
    assert thread_replies(adapter, question.message_id)[-1].message.text == (
        "📣 Die Community-Manager sind informiert."
    )

    found = await ticket(db)
    assert found.id is not None
    # Someone else says the FAQ answered: refused, in their own language (English).
    await adapter.push(click("alice", ACTION_FAQ, found.id, clock))
    assert adapter.directs[-1].message.text == (
        "Only the person who asked can say the FAQ answered them."
    )
    await adapter.push(click("jonas", ACTION_FAQ, found.id, clock))
    assert thread_replies(adapter, question.message_id)[-1].message.text == (
        "✅ Durch die FAQ gelöst."
    )
