"""The Act page's steps: in the order they go out, and their words filled in as the bot
fills them (milestones in the campaign's zone and the reader's language, a member's fields as
markers), in the rows and in the confirmations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.handlers.console.act_services import step_label, step_rows
from rallybot.handlers.steering.feature import find_step
from rallybot.storage.database import Database

# Written out of date order, with the placeholders a French campaign uses.
CAMPAIGN = """\
id: lancement
title: Lancement
timezone: Europe/Paris
locale: fr
milestones:
  launch: 2027-03-02 09:30
channels:
  annonces: general
audiences:
  pilote: {cohort: pilote}
steps:
  - id: veille
    at: launch - 1d at 17:00
    post: annonces
    text: "Demain {launch:HH:mm} : le mot de notre PDG."
  - id: invitation
    at: launch - 7d at 10:00
    for: pilote
    dm: "Bonjour {first_name}, rendez-vous le {launch:EEEE d MMMM} ({days_to_launch} jours)."
  - id: bienvenue
    at: join + 0d at 10:00
    for: pilote
    dm: "Bienvenue, {first_name} !"
  - id: ancien
    at: launch - 30d at 09:00
    post: annonces
    text: "Bientôt."
  - id: teaser
    at: launch - 3d at 09:00
    post: annonces
    text: "J-{days_to_launch}"
"""
NOW = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)  # after "ancien", before the others


async def _bot(db: Database, tmp_path: Path) -> Rallybot:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "lancement.yaml").write_text(CAMPAIGN)
    settings = Settings(database_url="sqlite://", admins=["memory:cm"], quiet_hours="off")
    bot = Rallybot(settings, db, MemoryAdapter(), SimulatedClock(NOW), campaign_paths=[folder])
    assert not (await bot.reload()).errors
    return bot


async def test_the_steps_come_in_the_order_they_go_out(db: Database, tmp_path: Path) -> None:
    bot = await _bot(db, tmp_path)
    rows = await step_rows(bot, "fr")
    # to come by their time, then the past one, then the journey's (no date of their own)
    assert [r.step for r in rows] == ["invitation", "teaser", "veille", "ancien", "bienvenue"]
    assert [r.due_next for r in rows[:3]] == [True, True, True]
    assert rows[3].state == "passed" and rows[4].due is None


async def test_the_words_are_filled_in_as_the_bot_fills_them(db: Database, tmp_path: Path) -> None:
    bot = await _bot(db, tmp_path)
    rows = {r.step: r for r in await step_rows(bot, "fr")}
    assert rows["veille"].extract == "Demain 09:30 : le mot de notre PDG."
    # due on 23 February: 7 days before the launch; the member's name as a marker
    assert rows["invitation"].extract == (
        "Bonjour [prénom], rendez-vous le mardi 2 mars (7 jours)."
    )
    assert rows["teaser"].extract == "J-3"
    for row in rows.values():
        assert "{" not in row.extract, row
    english = {r.step: r for r in await step_rows(bot, "en")}
    assert english["invitation"].extract.startswith("Bonjour [first name], rendez-vous le mardi")
    found = find_step(bot.campaigns, "lancement/veille")
    assert not isinstance(found, str)
    label = step_label(*found, "fr", NOW + timedelta(days=1))
    assert label == "Demain 09:30 : le mot de notre PDG."
