"""Onboarding journeys end to end: the real bot, the memory platform, a simulated clock, and
SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from rallybot.bot.clock import SimulatedClock
from rallybot.campaigns.journey import ACCEPT_ACTION, DONE_ACTION
from rallybot.campaigns.rules import DEFAULT_RULES
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, PointEntry
from rallybot.storage.quiz_models import QuizAnswer, QuizRun
from rallybot.storage.repositories import get_member_by_platform_id
from tests.onboarding.support import (
    ALL_NUDGES,
    click,
    command,
    join,
    journey_state,
    keyed_dms,
    local,
    make_bot,
    newcomer,
    nudges_of,
    post,
    rows,
    write_campaign,
)


async def answer_a_quiz(db: Database, user_id: str, when: object) -> None:
    """Store a quiz answer as the quiz feature does (its own tables)."""
    member = await get_member_by_platform_id(db, "memory", user_id)
    assert member is not None and member.id is not None
    async with db.session() as session:
        run = QuizRun(key=f"self:{member.id}:1", bank_id="b", mode="self-paced", platform="memory")
        run.member_id = member.id
        session.add(run)
        await session.flush()
        assert run.id is not None
        session.add(
            QuizAnswer(
                run_id=run.id,
                question_id="q1",
                member_id=member.id,
                answer="0",
                correct=True,
                answered_at=when,  # type: ignore[arg-type]
            )
        )


async def test_tasks_done_out_of_order_get_exactly_the_nudges_still_needed(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    await newcomer(db, "nina", local(0, 9, 30))

    # Day 0: a first post in the community channel, before any nudge about it.
    await bot.advance_to(local(0, 15))
    await post(bot, "nina", "C-COM")
    # Day 1: the app nudge's button, right after it arrived.
    await bot.advance_to(local(1, 13))
    await click(bot, "nina", DONE_ACTION, "onb/journey-app-1")
    # Day 2: the profile gets completed on the platform, and a quiz answered.
    await bot.advance_to(local(2, 12))
    adapter.set_profile("nina", display_name="Nina", profile_complete=True)
    await answer_a_quiz(db, "nina", clock.now())
    # Day 4: she joins both channels.
    await bot.advance_to(local(4, 15))
    await join(bot, "nina", "C-GEN")
    await join(bot, "nina", "C-COM")
    # Day 5: the second charter nudge still goes; she accepts.
    await bot.advance_to(local(5, 11))
    accepted = clock.now()
    await click(bot, "nina", ACCEPT_ACTION, "onb/journey-charter-2")
    await bot.advance_to(local(9, 12))

    assert nudges_of(adapter, "nina") == [
        "profile 1",
        "charter 1",
        "app 1",
        "channels 1",
        "charter 2",
    ]
    dms = keyed_dms(adapter, "nina")
    assert dms[0] == "Welcome Nina" and dms[-1] == "Congratulations Nina"
    assert dms.count("Congratulations Nina") == 1
    skipped = {r.step_id: r.reason for r in await rows(db, "journey-") if r.status == "skipped"}
    assert set(skipped) == {
        "journey-post-1",
        "journey-profile-2",
        "journey-quiz-1",
    }
    assert all("is done" in (reason or "") for reason in skipped.values())
    state = await journey_state(db, "nina")
    assert state is not None and state.completed_at is not None
    assert state.charter_accepted_at == accepted.astimezone(UTC)
    # Points: each task once, then the completion bonus (E1's ledger), never twice.
    async with db.session() as session:
        amounts = list(
            (
                await session.execute(
                    sa.select(PointEntry).where(PointEntry.source == "onboarding")
                )
            ).scalars()
        )
    assert sorted(e.amount for e in amounts) == sorted(
        [DEFAULT_RULES.amount("onboarding_task")] * 6 + [20]
    )
    # The charter acknowledgement names the acceptance time.
    acks = [d.message.text for d in adapter.directs]  # through the outbox: keyed, as the others
    assert any("accepted the charter on 2026-11-07 at 11:00" in text for text in acks)
    # The checklist shows everything done.
    await command(bot, "nina", "onboarding")
    shown = adapter.directs[-1].message.text
    assert "6/6 done" in shown and "⬜" not in shown and shown.count("✅") == 6


async def test_nothing_done_gets_every_nudge_once_at_most_n_a_day(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(
        db, write_campaign(tmp_path / "c.yaml"), clock, onboarding_max_nudges_per_day=2
    )
    recorded: list[tuple[str, object]] = []
    bot.dispatcher.on_sent = lambda row, sent: recorded.append((row.step_id, clock.now()))
    await bot.reload()
    await newcomer(db, "omar", local(0, 9, 30))
    await bot.advance_to(local(10, 12))

    # Every nudge once; none lost, none repeated.
    assert sorted(nudges_of(adapter, "omar")) == sorted(ALL_NUDGES)
    per_day = Counter(
        when.astimezone(ZoneInfo("Europe/Paris")).date()  # type: ignore[attr-defined]
        for step, when in recorded
        if step.startswith("journey-") and step != "journey-welcome"
    )
    assert max(per_day.values()) == 2
    # Day 1 has three nudges due (10:00, 11:00, 12:00): the third moved to the next day, then
    # again (day 2 has two of its own), and went on day 3 at 12:00 local time.
    app = next(when for step, when in recorded if step == "journey-app-1")
    assert app == local(3, 12)


async def test_stop_pauses_nudges_but_not_announcements_and_start_resumes(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    await newcomer(db, "paul", local(0, 9, 30))
    await bot.advance_to(local(0, 12))
    await command(bot, "paul", "stop")
    assert "no more reminders" in adapter.directs[-1].message.text
    member = await get_member_by_platform_id(db, "memory", "paul")
    assert member is not None and member.opted_out
    await bot.advance_to(local(2, 15))
    # Nothing personal while stopped; the channel announcement went out as planned.
    assert keyed_dms(adapter, "paul") == ["Welcome Paul"]
    assert [p.message.text for p in adapter.posts] == ["Big news"]
    await command(bot, "paul", "start")
    await command(bot, "paul", "onboarding")
    assert "0/6 done" in adapter.directs[-1].message.text
    await bot.advance_to(local(9, 12))
    # Resumed: the nudges due after day 2 15:00, and those only.
    assert nudges_of(adapter, "paul") == ["profile 2", "quiz 1", "charter 2"]
    assert "Personal news" not in keyed_dms(adapter, "paul")


async def test_quiet_hours_and_the_members_time_zone(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(local(0, 0, 0))
    bot, _adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    sends: list[tuple[str, str, object]] = []
    bot.dispatcher.on_sent = lambda row, sent: sends.append(
        (row.recipient, row.step_id, clock.now())
    )
    await bot.reload()
    tokyo = ZoneInfo("Asia/Tokyo")
    # Joined at 22:30 their time: the welcome waits for 10:00 the next morning, and so do the
    # "join + 1d" nudges (10:00, 11:00, 12:00 Tokyo time, not Paris time).
    late = await newcomer(db, "kenji", local(0, 22, 30, tokyo), timezone="Asia/Tokyo")
    await bot.advance_to(local(3, 0))
    mine = {step: when for recipient, step, when in sends if recipient == f"member:{late.id}"}
    assert mine["journey-welcome"] == local(1, 10, 0, tokyo)
    assert mine["journey-profile-1"] == local(1, 10, 0, tokyo)
    assert mine["journey-charter-1"] == local(1, 11, 0, tokyo)
    assert mine["journey-channels-1"] == local(2, 10, 0, tokyo)
    for when in mine.values():
        hour = when.astimezone(tokyo).hour  # type: ignore[attr-defined]
        assert 8 <= hour < 21, when


async def test_a_nudge_in_quiet_hours_waits_for_the_morning(db: Database, tmp_path: Path) -> None:
    extra = "  max_nudges_per_day: 5\n"
    path = write_campaign(tmp_path / "c.yaml", extra)
    text = path.read_text().replace("join + 1d at 12:00", "join + 1d at 22:15")
    path.write_text(text)
    clock = SimulatedClock(local(0, 9, 0))
    bot, _adapter = make_bot(db, path, clock)
    sends: dict[str, object] = {}
    bot.dispatcher.on_sent = lambda row, sent: sends.setdefault(row.step_id, clock.now())
    await bot.reload()
    await newcomer(db, "lea", local(0, 9, 30))
    await bot.advance_to(local(3, 12))
    assert sends["journey-app-1"] == local(2, 8, 0)


async def test_a_restart_mid_journey_neither_repeats_nor_skips(
    db: Database, tmp_path: Path
) -> None:
    campaign = write_campaign(tmp_path / "c.yaml")
    clock = SimulatedClock(local(0, 9, 0))
    first, first_adapter = make_bot(db, campaign, clock, worker_id="one")
    await first.reload()
    for name in ("ana", "bob", "cyd"):
        await newcomer(db, name, local(0, 9, 30))
    await first.advance_to(local(1, 11, 30))
    await click(first, "bob", DONE_ACTION, "onb/journey-app-1")  # before the app nudge
    await first.shutdown()

    second, second_adapter = make_bot(db, campaign, clock, worker_id="two")
    await second.reload()
    await second.advance_to(local(9, 12))
    for name in ("ana", "cyd"):
        both = nudges_of(first_adapter, name) + nudges_of(second_adapter, name)
        assert both == ALL_NUDGES, name
    bob = nudges_of(first_adapter, "bob") + nudges_of(second_adapter, "bob")
    assert bob == [n for n in ALL_NUDGES if n != "app 1"]
    keys = [d.idempotency_key for d in first_adapter.directs + second_adapter.directs]
    keyed = [k for k in keys if k is not None]
    assert len(keyed) == len(set(keyed))


async def test_buddies_are_assigned_round_robin_and_introduced(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(local(0, 9, 30))
    bot, adapter = make_bot(
        db,
        write_campaign(tmp_path / "c.yaml"),
        clock,
        onboarding_buddies=["b1", "b2", "b3"],
    )
    await bot.reload()
    names = [f"n{i}" for i in range(7)]
    for name in names:
        await newcomer(db, name, local(0, 9, 30))
        await join(bot, name)  # the workspace join starts the journey
    await bot.advance_to(local(0, 9, 45))

    buddies = [(await journey_state(db, name)).buddy_user_id for name in names]  # type: ignore[union-attr]
    assert buddies == ["b1", "b2", "b3", "b1", "b2", "b3", "b1"]
    counts = Counter(buddies)
    assert max(counts.values()) - min(counts.values()) <= 1
    # Each buddy heard about each of their newcomers once; each newcomer about their buddy.
    assert len(keyed_dms(adapter, "b1")) == 3 and len(keyed_dms(adapter, "b3")) == 2
    assert "<@n0>" in keyed_dms(adapter, "b1")[0]
    assert "<@b2>" in keyed_dms(adapter, "n1")[0]
    # A restart or a second join event never assigns again.
    await join(bot, "n0")
    await bot.advance_to(local(0, 10, 30))
    assert len(keyed_dms(adapter, "b1")) == 3


async def test_newcomers_stuck_after_n_days_are_escalated_once(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(
        db,
        write_campaign(tmp_path / "c.yaml"),
        clock,
        onboarding_escalate_after_days=3,
        locale="en",
    )
    await bot.reload()
    await newcomer(db, "stuck", local(0, 9, 30))
    await bot.advance_to(local(3, 9, 0))
    assert keyed_dms(adapter, "cm") == []
    await bot.advance_to(local(6, 9, 0))
    (alert,) = keyed_dms(adapter, "cm")
    assert "Stuck" in alert and "3 days ago" in alert and "Accept the charter" in alert
    escalated = await journey_state(db, "stuck")
    assert escalated is not None and escalated.escalated_at == local(3, 9, 30)


async def test_escalation_to_a_channel(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(
        db,
        write_campaign(tmp_path / "c.yaml"),
        clock,
        onboarding_escalate_after_days=2,
        onboarding_escalation_channel="general",
    )
    await bot.reload()
    await newcomer(db, "late", local(0, 9, 30))
    await bot.advance_to(local(4, 9, 0))
    alerts = [
        p.message.text for p in adapter.posts if p.target == "C-GEN" and "Late" in p.message.text
    ]
    assert len(alerts) == 1 and keyed_dms(adapter, "cm") == []


WAVE = """\
id: onb
title: Wave
timezone: Europe/Paris
locale: en
audiences:
  newcomers: { cohort: new }
steps:
  - { id: hello, at: 2026-11-20 09:00, dm: "Later" }
journey:
  for: newcomers
  tasks:
    - id: profile
      done_when: profile_complete
      label: Complete your profile
      nudges:
        - { at: join + 0d at 10:00, dm: "Your profile, {first_name}?" }
"""


async def test_a_wave_of_1000_newcomers_is_paced_without_loss(db: Database, tmp_path: Path) -> None:
    from rallybot.bot.ratelimit import RateLimiter, Rule
    from rallybot.storage.repositories import import_members

    clock = SimulatedClock(local(0, 9, 0))
    limiter = RateLimiter(
        {"global": Rule(rate=20, burst=5)},
        time_func=lambda: clock.now().timestamp(),
        sleep=clock.sleep,
    )
    path = tmp_path / "wave.yaml"
    path.write_text(WAVE, encoding="utf-8")
    bot, adapter = make_bot(db, path, clock)
    bot.dispatcher.limiter = limiter
    sends: list[tuple[str, float]] = []

    def record(row: Delivery, sent: object) -> None:
        sends.append((row.key, clock.now().timestamp()))

    bot.dispatcher.on_sent = record
    await bot.reload()
    names = [f"w{i:04d}" for i in range(1000)]
    rows_in = [
        (
            name,
            {
                "first_name": name,
                "cohort": "new",
                "timezone": "Europe/Paris",
                "joined_at": local(0, 9, 0) + timedelta(seconds=3 * index),
                "profile_complete": index % 10 == 0,  # these did it before any reminder
            },
        )
        for index, name in enumerate(names)
    ]
    await import_members(db, "memory", rows_in, clock.now())
    adapter.fail_next(3)  # a few platform hiccups on the way: retried, not lost
    await bot.advance_to(local(0, 11, 0))

    expected = {name for index, name in enumerate(names) if index % 10}
    nudged = Counter(
        d.target for d in adapter.directs if d.message.metadata.get("step") == "journey-profile-1"
    )
    assert set(nudged) == expected
    assert set(nudged.values()) == {1}  # every nudge once
    # The 100 who were done got no nudge but their (one) celebration.
    assert len(sends) == len({key for key, _ in sends}) == 1000
    skipped = [r for r in await rows(db, "journey-") if r.status == "skipped"]
    assert len(skipped) == 100 and all("is done" in (r.reason or "") for r in skipped)
    # Paced: never more than the burst plus the rate in any one second, and it took the time
    # the rate asks for.
    by_second = Counter(int(when) for _, when in sends)
    assert max(by_second.values()) <= 25
    times = [when for _, when in sends]
    assert max(times) - min(times) >= (1000 - 5) / 20


async def test_joining_the_community_channel_starts_an_invited_members_journey(
    db: Database, tmp_path: Path
) -> None:
    from rallybot.storage.repositories import upsert_member

    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(db, write_campaign(tmp_path / "c.yaml"), clock)
    await bot.reload()
    # Invited from the roster without a start date: no journey yet.
    await upsert_member(db, "memory", "ivy", clock.now(), first_name="Ivy", cohort="new")
    await bot.advance_to(local(1, 12))
    assert keyed_dms(adapter, "ivy") == []
    await join(bot, "ivy", "C-COM")
    state = await journey_state(db, "ivy")
    assert state is not None and state.started_at == local(1, 12)
    await bot.advance_to(local(2, 10, 30))
    assert keyed_dms(adapter, "ivy") == ["Personal news", "Welcome Ivy", "profile 1"]


async def test_a_renamed_task_keeps_who_did_it_and_its_nudges(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(local(0, 9, 0))
    path = write_campaign(tmp_path / "c.yaml")
    bot, adapter = make_bot(db, path, clock)
    await bot.reload()
    await newcomer(db, "nina", local(0, 9, 30))
    await newcomer(db, "omar", local(0, 9, 30))
    await bot.advance_to(local(1, 13))  # both got "app 1"; nina says she installed it
    await click(bot, "nina", DONE_ACTION, "onb/journey-app-1")

    renamed = path.read_text().replace(
        "    - id: app\n", "    - id: mobile\n      renamed_from: app\n"
    )
    path.write_text(renamed)
    report = await bot.reload()
    assert not report.errors and report.cancelled == 0, report.summary()
    await bot.advance_to(local(9, 12))

    # Nobody hears the renamed task's nudge again; nina's task stays done under its new id.
    assert nudges_of(adapter, "nina").count("app 1") == 1
    assert nudges_of(adapter, "omar").count("app 1") == 1
    async with db.session() as session:
        done = (await session.execute(sa.text("SELECT task_id FROM onboarding_task"))).all()
    assert [t for (t,) in done] == ["mobile"]
    await command(bot, "nina", "onboarding")
    checklist = adapter.directs[-1].message.text
    assert "1/6 done" in checklist, checklist
    # Points for the task once: the rename does not credit it again.
    async with db.session() as session:
        entries = list(
            (
                await session.execute(
                    sa.select(PointEntry).where(PointEntry.source == "onboarding")
                )
            ).scalars()
        )
    assert len(entries) == 1


def test_a_task_renamed_from_one_still_there_is_refused(tmp_path: Path) -> None:
    from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text

    text = write_campaign(tmp_path / "c.yaml").read_text()
    text = text.replace(
        "    - id: channels\n",
        "    - id: mobile\n      renamed_from: app\n      done_when: self_declared\n"
        "      label: Install it\n    - id: channels\n",
    )
    try:
        load_campaign_text(text, "c.yaml")
    except CampaignLoadError as exc:
        assert 'task "app" is still in the file' in str(exc)
    else:
        raise AssertionError("a task renamed from one still in the file was accepted")


def test_a_task_renamed_without_renamed_from_is_warned_about_on_the_task(tmp_path: Path) -> None:
    from rallybot.bot.reloads import rename_warnings
    from rallybot.campaigns.loader import load_campaign_text

    text = write_campaign(tmp_path / "c.yaml").read_text()
    before = load_campaign_text(text, "c.yaml")
    after = load_campaign_text(text.replace("    - id: app\n", "    - id: mobile\n"), "c.yaml")
    assert rename_warnings(before, after) == [
        'onboarding task "app" is gone and task "mobile" has the same nudge: if it was renamed, '
        'add "renamed_from: app" to task "mobile"; otherwise its nudges go again to everyone who '
        'had them, and those who did "app" must do it again'
    ]
    said = load_campaign_text(
        text.replace("    - id: app\n", "    - id: mobile\n      renamed_from: app\n"), "c.yaml"
    )
    assert rename_warnings(before, said) == []
