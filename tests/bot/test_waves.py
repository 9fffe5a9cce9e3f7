"""Waves over 120 days on a simulated clock: nobody hears anything before their wave opens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.cli import app
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import CommandInvoked, UserRef
from rallybot.bot.waves import open_wave
from rallybot.campaigns.loader import load_campaign
from rallybot.campaigns.planner import NEVER, MemberView, member_opening, plan
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery
from rallybot.storage.repositories import upsert_member

LAUNCH = datetime(2026, 9, 15, 7, 30, tzinfo=UTC)  # 09:30 in Paris (summer time)
WAVE_2 = LAUNCH + timedelta(days=30)

CAMPAIGN = """\
id: connect
title: Connect
timezone: Europe/Paris
milestones:
  launch: 2026-09-15 09:30
channels:
  annonces: general
audiences:
  pilote: { cohort: pilote, opens: launch }
  vague-2: { cohort: vague-2, opens: launch + 30d }
  vague-3: { cohort: vague-3, opens: manual }
  tous: everyone
steps:
  - id: teaser
    at: launch - 7d at 09:00
    post: annonces
    text: "Soon"
  - id: live
    at: launch
    dm: "Connect is live"
  - id: welcome
    for: [pilote, vague-2, vague-3]
    at: join + 0d at 10:00
    dm: "Welcome {first_name}"
  - id: nudge
    for: [pilote, vague-2, vague-3]
    at: join + 2d at 10:00
    dm: "Two days in"
  - id: weekly
    for: tous
    every: monday at 09:00
    from: launch - 14d
    until: launch + 119d
    dm: "This week on Connect"
"""

COHORTS = {"p0": "pilote", "p1": "pilote", "w2a": "vague-2", "w2b": "vague-2"}
COHORTS |= {"w3a": "vague-3", "w3b": "vague-3", "free": None}


async def _members(db: Database, joined: datetime) -> dict[str, int]:
    ids: dict[str, int] = {}
    for user, cohort in COHORTS.items():
        member = await upsert_member(
            db,
            "memory",
            user,
            joined,
            display_name=f"Member {user}",
            first_name=user,
            cohort=cohort,
            joined_at=joined,
            timezone="Europe/Paris",
        )
        assert member.id is not None
        ids[user] = member.id
    return ids


def _bot(db: Database, path: Path, clock: SimulatedClock) -> tuple[Rallybot, MemoryAdapter]:
    adapter = MemoryAdapter()
    settings = Settings(
        database_url=f"sqlite:///{path.with_suffix('.db')}",
        quiet_hours="21:00-08:00",
        admins=["memory:cm"],
    )
    return Rallybot(settings, db, adapter, clock, campaign_paths=[path]), adapter


async def test_waves_over_120_days(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "connect.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH - timedelta(days=21))
    bot, adapter = _bot(db, path, clock)
    sends: list[tuple[str, str, datetime]] = []  # (user, step, when)
    keys: list[str] = []
    users: dict[int, str] = {}

    def on_sent(row: Delivery, sent: object) -> None:
        keys.append(row.key)
        if "member_id" in row.payload:
            member_id = int(row.payload["member_id"])
            sends.append((users.get(member_id, "cm"), row.step_id, clock.now()))

    bot.dispatcher.on_sent = on_sent
    await bot.reload()
    ids = await _members(db, LAUNCH - timedelta(days=20))
    users.update({v: k for k, v in ids.items()})
    # A feature's own message (a badge, a challenge note) to a member of wave 2, written long
    # before the wave opens: the outbox gate holds it until the opening.
    async with db.session() as session:
        await outbox.insert_deliveries(
            session,
            [
                {
                    "campaign_id": "points",
                    "step_id": "badge",
                    "recipient": f"member:{ids['w2a']}",
                    "occurrence": "once",
                    "due_at": LAUNCH - timedelta(days=5),
                    "grace_until": LAUNCH - timedelta(days=5) + timedelta(hours=1),
                    "status": "pending",
                    "payload": {"message": {"text": "A badge"}, "member_id": ids["w2a"]},
                    "content_hash": "",
                    "attempts": 0,
                }
            ],
        )

    manual_open = LAUNCH + timedelta(days=60, hours=3)  # 12:30 Paris, a Saturday
    await bot.advance_to(manual_open)
    await bot.handle(
        CommandInvoked(
            event_id="w1",
            platform="memory",
            user=UserRef("memory", "cm"),
            occurred_at=clock.now(),
            name="wave",
            args=("open", "vague-3"),
        )
    )
    answers = [d.message.text for d in adapter.directs if d.target == "cm"]
    assert any("« vague-3 » est ouverte" in text for text in answers), answers
    await bot.advance_to(LAUNCH + timedelta(days=120))

    opening = {"pilote": LAUNCH, "vague-2": WAVE_2, "vague-3": manual_open}
    for user, step, when in sends:
        cohort = COHORTS.get(user)  # the manager who ran the command is in no wave
        if cohort is not None:
            assert when >= opening[cohort], (user, step, when)
    first = {}
    for user, step, when in sends:
        first.setdefault((user, step), when)
    assert len(keys) == len(set(keys))  # nothing sent twice
    # The journey starts at the wave's opening: the first 10:00 (Paris) after it.
    assert first[("p0", "welcome")] == datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
    assert first[("w2a", "welcome")] == datetime(2026, 10, 15, 8, 0, tzinfo=UTC)
    assert first[("w2a", "nudge")] == datetime(2026, 10, 17, 8, 0, tzinfo=UTC)
    assert first[("w3a", "welcome")] == datetime(2026, 11, 15, 9, 0, tzinfo=UTC)  # winter
    # "everyone" means everyone whose wave is open: the launch DM reaches the pilots and the
    # member in no wave, not the later waves.
    assert sorted(u for u, s, _ in sends if s == "live") == [
        "free",
        "p0",
        "p1",
    ]  # the manager joined later
    # The member in no wave hears the weekly message from the start; wave 2 after its opening.
    weekly_free = [w for u, s, w in sends if u == "free" and s == "weekly"]
    weekly_w2 = [w for u, s, w in sends if u == "w2a" and s == "weekly"]
    assert min(weekly_free) < LAUNCH
    assert weekly_w2 and min(weekly_w2) >= WAVE_2
    assert min(weekly_w2) - WAVE_2 < timedelta(days=7)
    # The badge written before the opening went out at the opening, once.
    badge = [w for u, s, w in sends if s == "badge"]
    assert badge == [WAVE_2]
    # Channel posts are not held (the channel decides who reads them).
    assert [p.message.text for p in adapter.posts] == ["Soon"]
    async with db.session() as session:
        statuses = (await session.execute(sa.select(Delivery.status))).scalars().all()
    assert set(statuses) == {"sent"}


def test_member_opening_is_the_earliest_of_their_waves(tmp_path: Path) -> None:
    path = tmp_path / "connect.yaml"
    path.write_text(CAMPAIGN.replace("{ cohort: vague-2,", "{ cohort: [vague-2, pilote],"))
    campaign = load_campaign(path)
    pilot = MemberView(key="1", cohort="pilote")
    late = MemberView(key="2", cohort="vague-3")
    free = MemberView(key="3")
    assert member_opening(pilot, [campaign]) == LAUNCH
    assert member_opening(late, [campaign]) == NEVER
    assert member_opening(late, [campaign], {"vague-3": WAVE_2}) == WAVE_2
    assert member_opening(free, [campaign]) is None
    # The planner leaves a closed wave's members out, whatever the step's audience.
    joined = LAUNCH - timedelta(days=1)
    members = [
        MemberView(key="1", cohort="pilote", joined_at=joined),
        MemberView(key="2", cohort="vague-3", joined_at=joined),
    ]
    keys = {d.recipient for d in plan(campaign, members, LAUNCH, LAUNCH + timedelta(days=3))}
    assert "member:2" in keys
    openings = {"2": NEVER}
    held = {
        d.recipient
        for d in plan(campaign, members, LAUNCH, LAUNCH + timedelta(days=3), openings=openings)
    }
    assert held == {"member:1"}


ROSTER = """\
id,email,name,first_name,team,cohort,groups,start_date,locale,timezone
U1,one@example.com,Member One,One,sales,pilote,,2026-08-26,en,Europe/Paris
U2,two@example.com,Member Two,Two,sales,vague-2,,2026-08-26,en,Europe/Paris
U3,three@example.com,Member Three,Three,ops,vague-3,,2026-08-26,en,Europe/Paris
U4,four@example.com,Member Four,Four,ops,,,2026-08-26,en,Europe/Paris
"""


def test_plan_shows_the_openings_and_who_waits(tmp_path: Path) -> None:
    path = tmp_path / "connect.yaml"
    path.write_text(CAMPAIGN.replace("title: Connect\n", "title: Connect\nroster: roster.csv\n"))
    (tmp_path / "roster.csv").write_text(ROSTER)
    env = {"COLUMNS": "200", "RALLYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    result = CliRunner().invoke(
        app, ["--locale", "en", "plan", str(path), "--to", "launch + 40d"], env=env
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    wave = {line.split()[1]: line for line in lines if line.startswith("│ ") and "vague" in line}
    assert "Thu 2026-10-15 09:30" in wave["vague-2"] and "U2" in wave["vague-2"]
    assert "manual: /rallybot wave open vague-3" in wave["vague-3"] and "U3" in wave["vague-3"]
    result = CliRunner().invoke(
        app, ["plan", str(path), "--to", "launch + 40d", "--format", "json"], env=env
    )
    rows = json.loads(result.output)
    # "everyone" at launch: the pilot and the member in no wave, not the waves still closed.
    assert [r["recipients"] for r in rows if r["step"] == "live"] == [["U1", "U4"]]
    welcomes = {r["recipients"][0]: r["due_local"][:16] for r in rows if r["step"] == "welcome"}
    assert welcomes == {"U1": "2026-09-15T10:00", "U2": "2026-10-15T10:00"}


async def test_the_gate_holds_before_any_plan_and_sees_a_wave_opened_elsewhere(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "connect.yaml"
    path.write_text(CAMPAIGN)
    clock = SimulatedClock(LAUNCH + timedelta(days=1))
    bot, adapter = _bot(db, path, clock)
    ids = await _members(db, LAUNCH - timedelta(days=20))
    await bot.reload()  # no planning pass yet: the gate must know the waves already
    async with db.session() as session:
        await outbox.insert_deliveries(
            session,
            [
                {
                    "campaign_id": "points",
                    "step_id": "badge",
                    "recipient": f"member:{ids['w3a']}",
                    "occurrence": "once",
                    "due_at": clock.now(),
                    "grace_until": clock.now() + timedelta(hours=1),
                    "status": "pending",
                    "payload": {"message": {"text": "A badge"}, "member_id": ids["w3a"]},
                    "content_hash": "",
                    "attempts": 0,
                }
            ],
        )
    await bot.dispatcher.run_once()
    assert adapter.directs == []  # held: vague-3 is a manual wave, not opened
    # Another replica opens the wave; this one has not planned since.
    await open_wave(db, "vague-3", clock.now(), timedelta(hours=1))
    await bot.dispatcher.run_once()
    assert [d.message.text for d in adapter.directs] == ["A badge"]
