"""A small launch for the console's tests: one campaign with channel posts and direct
messages, three members in two zones and two languages, the launch day sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.storage.database import Database
from rallybot.storage.repositories import upsert_member

LAUNCH = datetime(2027, 3, 2, 8, 30, tzinfo=UTC)  # 09:30 in Paris

CAMPAIGN = """\
id: launch
title: Launch
timezone: Europe/Paris
locale: en
milestones:
  launch: 2027-03-02 09:30
channels:
  annonces: general
audiences:
  pilote: {cohort: pilote}
  everyone: {everyone: true}
steps:
  - id: teaser
    at: launch - 1d at 09:00
    post: annonces
    text: Tomorrow!
  - id: ceo
    at: launch
    post: annonces
    text: Connect is open.
  - id: invite
    at: launch + 1d at 10:00
    for: pilote
    dm:
      en: "Hello {first_name}, welcome to the pilot"
      fr: "Bonjour {first_name}, bienvenue dans le pilote"
  - id: recap
    at: launch + 3d at 10:00
    for: everyone
    dm: "Three days already, {first_name}!"
"""


async def launch_world(
    db: Database, tmp_path: Path, **settings: object
) -> tuple[Rallybot, SimulatedClock]:
    """The bot on the memory adapter just after the launch post went out."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "launch.yaml").write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(days=3))
    config = Settings(
        database_url="sqlite://",
        quiet_hours="off",
        timezone="Europe/Paris",
        **settings,  # type: ignore[arg-type]
    )
    bot = Rallybot(config, db, MemoryAdapter(), clock, campaign_paths=[folder])
    assert not (await bot.reload()).errors
    people = (
        ("m1", "pilote", "fr", "Europe/Paris"),
        ("m2", "pilote", "en", "America/New_York"),
        ("m3", "x", None, "Europe/Paris"),
    )
    for uid, cohort, locale, zone in people:
        await upsert_member(
            db,
            "memory",
            uid,
            clock.now(),
            first_name=uid.upper(),
            display_name=uid.upper(),
            cohort=cohort,
            locale=locale,
            timezone=zone,
        )
    for when in (LAUNCH - timedelta(days=1), LAUNCH + timedelta(minutes=1)):
        clock.set(when)
        await bot.plan_tick()
        await bot.dispatch_tick(drain=True)
    return bot, clock
