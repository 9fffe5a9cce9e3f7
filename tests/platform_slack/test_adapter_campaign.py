"""The shipped example campaign, end to end on the fake Slack on a simulated clock:
every delivery reaches Slack exactly once, even across ambiguous sends and server errors."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml

from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.campaigns.roster import load_roster
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, Member
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import slack_adapter, slack_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "campaigns" / "examples" / "en"
LAUNCH = datetime(2026, 9, 15, 8, 30, tzinfo=UTC)  # 09:30 in London (summer time)
GENERAL = "C0GENERAL"


async def test_the_example_campaign_runs_once_on_slack(db: Database) -> None:
    clock = SimulatedClock(LAUNCH - timedelta(days=31))
    async with FakeSlack(scale=20) as fake:
        entries = load_roster(EXAMPLE / "pilot.csv", default_timezone="Europe/London")
        slack_ids: dict[str, str] = {}
        for n, entry in enumerate(entries):
            slack_ids[entry.id or ""] = f"U0{n:04d}"
            fake.add_user(f"U0{n:04d}", entry.name or "", tz=entry.timezone or "Europe/London")
        fake.add_channel(GENERAL, "general", slack_ids.values())
        settings = slack_settings(fake, channel_map={"announcements": GENERAL})
        async with slack_adapter(fake, db, clock) as adapter:
            bot = Rallybot(
                settings, db, adapter, clock, campaign_paths=[EXAMPLE / "connect-launch.yaml"]
            )
            report = await bot.reload()
            assert report.errors == []
            await bot.import_roster(
                [dataclasses.replace(e, id=slack_ids[e.id or ""]) for e in entries], "slack"
            )
            # Slack stores the first teaser but the answer is lost; then a 500 on a DM.
            fake.fail_next("chat.postMessage", "drop_after_store")
            await bot.advance_to(LAUNCH - timedelta(days=7, hours=-3))
            fake.fail_next("chat.postMessage", "status_500")
            await bot.advance_to(LAUNCH + timedelta(days=120))

    async with db.session() as session:
        rows = (await session.execute(sa.select(Delivery))).scalars().all()
        members = (await session.execute(sa.select(Member))).scalars().all()
    statuses = Counter(r.status for r in rows)
    assert set(statuses) == {"sent"}, statuses
    keys = Counter(
        m["metadata"]["event_payload"]["key"] for _, m in fake.all_messages() if "metadata" in m
    )
    assert len(fake.all_messages()) == sum(keys.values())  # every message is a keyed delivery
    assert [k for k, n in keys.items() if n > 1] == []  # nothing twice
    assert set(keys) == {r.key for r in rows}  # nothing lost
    assert {r.platform_message_id for r in rows} == {m["ts"] for _, m in fake.all_messages()}
    assert max(r.attempts for r in rows) == 2  # the interrupted sends were retried once

    posts = fake.messages(GENERAL)
    steps = [m["metadata"]["event_payload"]["key"].split("/")[1] for m in posts]
    assert steps[:6] == [
        "teaser-1",
        "teaser-2",
        "teaser-3",
        "teaser-4",
        "teaser-eve",
        "ceo-announcement",
    ]
    assert steps.count("digest") == 13  # every Monday for 90 days
    ceo = posts[5]
    spec = yaml.safe_load((EXAMPLE / "connect-launch.yaml").read_text())
    sender = next(s for s in spec["steps"] if s["id"] == "ceo-announcement")["sender"]
    assert (ceo["username"], ceo["icon_url"]) == (sender["name"], sender["icon"])
    assert fake.pins == {(GENERAL, ceo["ts"])}
    # Five pilots (Frank is in wave 2): invitation, welcome, nudge and tip each, in their DM.
    pilots = [slack_ids[e.id or ""] for e in entries if e.cohort == "pilot"]
    for user_id in pilots:
        dm_steps = [
            m["metadata"]["event_payload"]["key"].split("/")[1] for m in fake.messages(user_id)
        ]
        assert dm_steps == ["pilot-invitation", "welcome", "profile-nudge", "mobile-app"]
    chloe = fake.messages(slack_ids["chloe"])
    assert chloe[1]["text"].startswith("Bienvenue sur Connect, Chloé")
    assert len(fake.calls_to("conversations.open")) == len(pilots)
    assert {m.platform_user_id: m.dm_channel_id for m in members if m.dm_channel_id} == {
        uid: fake.dms[uid] for uid in pilots
    }
