"""The managers' commands and ``/rallybot help`` in the reader's language: a Spanish member's
help, a German manager's waves, campaigns and reload, with dates and plurals of their own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import CommandInvoked, UserRef
from rallybot.storage.database import Database
from rallybot.storage.repositories import upsert_member

from .test_waves import CAMPAIGN, LAUNCH, _bot


async def _ask(bot: Rallybot, adapter: MemoryAdapter, who: str, name: str, *args: str) -> str:
    before = len(adapter.directs)
    await bot.handle(
        CommandInvoked(
            event_id=f"{who}-{name}-{len(adapter.directs)}-{'-'.join(args)}",
            platform="memory",
            user=UserRef("memory", who),
            occurred_at=bot.clock.now(),
            name=name,
            args=args,
        )
    )
    [answer] = [d.message.text for d in adapter.directs[before:] if d.target == who]
    return answer


async def test_help_and_the_managers_commands_speak_the_readers_language(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "connect.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(days=1))
    bot, adapter = _bot(db, path, clock)
    await upsert_member(db, "memory", "cm", clock.now(), locale="de")
    await upsert_member(db, "memory", "ana", clock.now(), locale="es_MX")
    await upsert_member(db, "memory", "sam", clock.now(), locale="en")

    help_es = (await _ask(bot, adapter, "ana", "help")).splitlines()
    assert help_es[0] == "Comandos de Rallybot:"
    assert any(
        line.startswith("  /rallybot challenges") and line.endswith("Mis retos y mi progreso")
        for line in help_es
    )
    assert "Community managers:" in help_es
    help_en = (await _ask(bot, adapter, "sam", "help")).splitlines()
    assert help_en[0] == "Rallybot commands:"
    assert any(line.endswith("My challenges and my progress") for line in help_en)
    assert await _ask(bot, adapter, "ana", "pause", "connect") == (
        "«/rallybot pause» es solo para community managers."
    )

    assert await _ask(bot, adapter, "cm", "reload") == "1 Kampagne geladen."
    assert await _ask(bot, adapter, "cm", "campaigns") == "Kampagnen:\n• connect — Connect — aktiv"
    assert await _ask(bot, adapter, "cm", "pause", "connect") == (
        "Die Kampagne „connect“ ist jetzt pausiert."
    )
    assert (await _ask(bot, adapter, "cm", "wave")).splitlines() == [
        "Wellen (Start in UTC):",
        "• pilote — startet am 15. Sept. 2026, 07:30",
        "• vague-2 — startet am 15. Okt. 2026, 07:30",
        "• vague-3 — manuell, noch nicht geöffnet",
    ]
    assert await _ask(bot, adapter, "cm", "wave", "open", "vague-3") == (
        "Die Welle „vague-3“ ist offen: Ihre Mitglieder bekommen ab jetzt ihre Nachrichten, "
        "ihr Weg beginnt heute."
    )
    assert await _ask(bot, adapter, "cm", "wave", "open", "vague-3") == (
        "Die Welle „vague-3“ wurde bereits am 14. Sept. 2026, 07:30 UTC geöffnet."
    )


async def test_the_help_usages_speak_the_readers_language(db: Database, tmp_path: Path) -> None:
    """The words standing for a value in ``/rallybot help`` are the reader's; what is typed
    as it is (names, flags, choices, prefixes) stays."""
    path = tmp_path / "connect.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(days=1))
    bot, adapter = _bot(db, path, clock)
    await upsert_member(db, "memory", "ana", clock.now(), locale="es_MX")
    await upsert_member(db, "memory", "sam", clock.now(), locale="en")

    usages_es = [
        line.split("  ")[1]
        for line in (await _ask(bot, adapter, "ana", "help")).splitlines()[1:]
        if line.startswith("  ")
    ]
    assert "/rallybot help [PREGUNTA] [--private]" in usages_es
    assert "/rallybot points [add|remove|revert] [@miembro] [CANTIDAD] [MOTIVO]" in usages_es
    assert "/rallybot kudos @miembro [MOTIVO]" in usages_es
    assert "/rallybot send PASO [to DESTINATARIO]" in usages_es
    assert (
        "/rallybot stats [SEMANAS] [cohort=COHORTE] [team=EQUIPO] [campaign=CAMPAÑA]" in usages_es
    )
    help_en = await _ask(bot, adapter, "sam", "help")
    assert "/rallybot kudos @member [REASON]" in help_en
    assert "/rallybot send STEP [to TO]" in help_en


async def test_a_reload_error_says_where_as_the_manager_reads_the_file(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "connect.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(days=1))
    bot, adapter = _bot(db, path, clock)
    await upsert_member(db, "memory", "cm", clock.now(), locale="fr")
    assert await _ask(bot, adapter, "cm", "reload") == "1 campagne chargée."
    path.write_text(CAMPAIGN.replace("at: launch - 7d at 09:00", "at: lunch - 7d at 09:00"))
    answer = (await _ask(bot, adapter, "cm", "reload")).splitlines()
    # in French, and where she reads it in her file: the step from 1 and its id
    assert any(
        ":15:9: étape 1 (id teaser), champ at: jalon inconnu « lunch »" in line for line in answer
    ), answer
    assert not any("steps[" in line for line in answer), answer
