"""Onboarding in Spanish and German (SQLite and PostgreSQL): the checklist, the buttons'
acknowledgements, buddies, stop and start in the newcomer's language; escalations in the
bot's; the campaign's own texts (task labels, nudges) as written."""

from __future__ import annotations

from pathlib import Path

from rallybot.bot.clock import SimulatedClock
from rallybot.campaigns.journey import ACCEPT_ACTION, DONE_ACTION
from rallybot.storage.database import Database
from tests.onboarding.support import (
    click,
    command,
    join,
    keyed_dms,
    local,
    make_bot,
    newcomer,
    rows,
    write_campaign,
)


async def test_a_spanish_newcomer_reads_the_bot_in_spanish(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(local(0, 9, 30))
    bot, adapter = make_bot(
        db, write_campaign(tmp_path / "c.yaml"), clock, onboarding_buddies=["b1"], locale="en"
    )
    await bot.reload()
    await newcomer(db, "lucia", local(0, 9, 30), locale="es")
    await join(bot, "lucia")
    await bot.advance_to(local(0, 10, 30))
    assert (
        "<@b1> te acompañará en Onboarding: pregúntale lo que quieras, ya ha pasado por ahí."
        in keyed_dms(adapter, "lucia")
    )
    # The buddy has no language of their own: the campaign's (English).
    assert keyed_dms(adapter, "b1") == [
        "You are the buddy of <@lucia>, who just arrived. A short hello makes all the difference!"
    ]

    await command(bot, "lucia", "onboarding")
    lines = adapter.directs[-1].message.text.splitlines()
    assert lines[0] == "Tu lista de bienvenida — Onboarding: 0/6 hechas"
    assert "⬜ Accept the charter" in lines  # the campaign's label, as written
    assert lines[-1] == "Tu acompañante: <@b1>"

    await bot.advance_to(local(1, 13))
    await click(bot, "lucia", DONE_ACTION, "onb/journey-app-1")
    assert adapter.directs[-1].message.text == (
        "Anotado: «Install the app» está hecho. /rallybot onboarding muestra tu lista."
    )
    await click(bot, "lucia", ACCEPT_ACTION, "onb/journey-charter-1")
    assert adapter.directs[-1].message.text == (
        "Gracias: aceptaste el código de conducta el 03/11/2026 a las 13:00."
    )
    await command(bot, "lucia", "onboarding")
    assert adapter.directs[-1].message.text.splitlines()[0] == (
        "Tu lista de bienvenida — Onboarding: 2/6 hechas"
    )

    await command(bot, "lucia", "stop")
    assert adapter.directs[-1].message.text.startswith(
        "Hecho: Rallybot ya no te enviará recordatorios."
    )
    await command(bot, "lucia", "onboarding")
    assert adapter.directs[-1].message.text.splitlines()[-1] == (
        "Los recordatorios están desactivados (/rallybot start para volver a activarlos)."
    )
    await command(bot, "lucia", "start")
    assert adapter.directs[-1].message.text == (
        "Los recordatorios vuelven a estar activados. /rallybot onboarding muestra tu lista."
    )


async def test_a_german_newcomer_and_a_german_bot(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(
        db,
        write_campaign(tmp_path / "c.yaml"),
        clock,
        onboarding_escalate_after_days=1,
        locale="de",
    )
    await bot.reload()
    await newcomer(db, "jonas", local(0, 9, 30), locale="de")
    await bot.advance_to(local(0, 12))
    await click(bot, "jonas", DONE_ACTION, "onb/journey-app-1")
    assert adapter.directs[-1].message.text == (
        "Notiert: „Install the app“ ist erledigt. /rallybot onboarding zeigt deine Checkliste."
    )
    await command(bot, "jonas", "onboarding")
    assert adapter.directs[-1].message.text.splitlines()[0] == (
        "Deine Onboarding-Checkliste – Onboarding: 1/6 erledigt"
    )
    await command(bot, "jonas", "stop")
    await bot.advance_to(local(2, 9, 0))
    # The community managers read the bot's language, here German.
    (alert,) = keyed_dms(adapter, "cm")
    assert alert.startswith(
        "Jonas (<@jonas>) (Erinnerungen ausgeschaltet) ist seit 1 Tag dabei und hat das "
        "Onboarding (Onboarding) noch nicht abgeschlossen. Offen: Complete your profile, "
        "Accept the charter, Join the channels,"
    )
    # Someone without an onboarding checklist, and without a language: the bot's.
    await command(bot, "visitor", "onboarding")
    assert adapter.directs[-1].message.text == "Du hast keine Onboarding-Checkliste."


async def test_a_task_acknowledgement_is_named_by_the_tasks_label(
    db: Database, tmp_path: Path
) -> None:
    """The button's acknowledgement is a journey's own message (no step of the file): the
    console names it by the task's label, in the reader's language."""
    from rallybot.campaigns.journey import task_of_done_step
    from rallybot.handlers.console.names import step_words

    clock = SimulatedClock(local(0, 9, 30))
    bot, _adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock, locale="en")
    await bot.reload()
    await newcomer(db, "lucia", local(0, 9, 30), locale="es")
    await join(bot, "lucia")
    await bot.advance_to(local(1, 13))
    await click(bot, "lucia", DONE_ACTION, "onb/journey-app-1")
    [done] = [row for row in await rows(db) if task_of_done_step(row.step_id) is not None]
    assert task_of_done_step(done.step_id) == "app"
    campaign = bot.campaigns["onb"]
    assert step_words(campaign, done.step_id, "en", clock.now()) == "Task “Install the app” done"
    assert step_words(None, done.step_id, "fr", clock.now()) == (
        "Parcours d'arrivée : une tâche faite"
    )
