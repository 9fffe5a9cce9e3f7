"""``/rallybot stop`` across the features (issue 7, "opt-outs are honoured by every feature"):
a member who stopped gets no personal message from any of them — journey welcome and nudges,
campaign direct messages, quiz invitations, survey invitations, badge announcements — while the
channel announcements (posts, the question of the day) go out; ``/rallybot start`` resumes."""

from __future__ import annotations

import shutil
from pathlib import Path

from rallybot.bot.clock import SimulatedClock
from rallybot.campaigns.journey import DONE_ACTION
from rallybot.storage.database import Database
from tests.onboarding.support import click, command, keyed_dms, local, make_bot, newcomer

ROOT = Path(__file__).resolve().parents[2]

CAMPAIGN = """\
id: onb
title: Opt-out everywhere
timezone: Europe/Paris
locale: en
channels:
  general: C-GEN
  community: C-COM
audiences:
  newcomers: { cohort: new }
steps:
  - id: announce
    at: 2026-11-03 09:00
    post: general
    text: "Big news"
  - id: question-of-the-day
    every: weekday at 09:30
    until: 2026-11-04 12:00
    quiz: connect-quiz
    mode: daily
    post: general
  - id: news-dm
    for: newcomers
    at: 2026-11-03 16:00
    dm: "Personal news"
  - id: quiz-invitation
    for: newcomers
    at: 2026-11-03 10:00
    quiz: connect-quiz
  - id: pulse
    for: newcomers
    at: 2026-11-03 11:00
    dm: "Two minutes?"
    survey:
      questions:
        - {id: mood, kind: rating, text: "Your mood?"}
journey:
  for: newcomers
  community: community
  welcome:
    at: join + 0d at 10:00
    dm: "Welcome {first_name}"
  tasks:
    - id: app
      done_when: self_declared
      label: Install the app
      nudges:
        - { at: join + 1d at 12:00, dm: "app 1" }
    - id: profile
      done_when: profile_complete
      label: Complete your profile
      nudges:
        - { at: join + 1d at 10:00, dm: "profile 1" }
        - { at: join + 3d at 10:00, dm: "profile 2" }
"""

RULES = """\
points: {onboarding_task: 5}
announce: dm
badges:
  - {id: first-task, name: First step, when: {onboarding_tasks: 1}}
"""


async def test_stop_silences_every_feature_but_not_the_announcements(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "onb.yaml").write_text(CAMPAIGN, encoding="utf-8")
    shutil.copyfile(ROOT / "campaigns/examples/en/quiz-connect.yaml", folder / "quiz.yaml")
    rules = tmp_path / "points.yaml"
    rules.write_text(RULES, encoding="utf-8")
    clock = SimulatedClock(local(0, 9, 0))
    bot, adapter = make_bot(db, folder, clock, rules_file=rules)
    report = await bot.reload()
    assert not report.errors, report.summary()
    for name in ("ana", "paul"):
        await newcomer(db, name, local(0, 9, 30))
    await command(bot, "paul", "stop")
    await bot.advance_to(local(1, 13))
    # Both declare the app installed (a button of the checklist): points, and a badge.
    for name in ("ana", "paul"):
        await click(bot, name, DONE_ACTION, "onb/journey-app-1")
    await bot.advance_to(local(2, 12))

    ana = keyed_dms(adapter, "ana")
    for expected in ("Welcome Ana", "profile 1", "Personal news", "Two minutes?", "First step"):
        assert any(expected in text for text in ana), (expected, ana)
    quiz_invitations = [
        d for d in adapter.directs if d.message.metadata.get("step") == "quiz-invitation"
    ]
    assert [d.target for d in quiz_invitations] == ["ana"]
    assert keyed_dms(adapter, "paul") == []  # nothing personal at all
    posts = [p.message.text for p in adapter.posts]
    assert "Big news" in posts
    runs = {p.message.metadata.get("quiz_run") for p in adapter.posts} - {None}
    assert len(runs) == 3  # the question of the day, each weekday (Monday to Wednesday)

    # Resumed from the next one due.
    await command(bot, "paul", "start")
    await bot.advance_to(local(4, 12))
    assert keyed_dms(adapter, "paul") == ["profile 2"]
