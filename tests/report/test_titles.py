"""The titles the reports give to challenges, surveys, campaigns and posts: from the campaign
files, in the reader's language, else the file's; the id where no title is written."""

from __future__ import annotations

from pathlib import Path

from rallybot.campaigns.loader import load_campaign
from rallybot.handlers.reporting.titles import titles_of

CAMPAIGN = """\
id: pulse
title: Pulse
locale: fr
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
steps:
  - id: weekly
    every: tuesday at 10:00
    from: launch
    dm: "How was your week?"
    survey:
      title: {fr: "Humeur de la semaine", en: "Weekly mood"}
      questions:
        - {id: mood, kind: rating, text: "Your week, from 1 to 5?"}
  - id: check
    title: {fr: "Point d'étape"}
    renamed_from: old-check
    at: launch + 1d at 10:00
    dm: "One question?"
    survey:
      questions:
        - {id: ok, kind: rating, text: "All right?"}
  - id: bare
    at: launch + 2d at 10:00
    dm: "Another?"
    survey:
      questions:
        - {id: ok, kind: rating, text: "All right?"}
challenges:
  - id: first-post
    title: {fr: "Votre premier message", en: "Your first post"}
    goal: {kind: react}
    start: launch
    end: launch + 7d
"""


def test_titles_from_the_files(tmp_path: Path) -> None:
    (tmp_path / "pulse.yaml").write_text(CAMPAIGN, encoding="utf-8")
    titles = titles_of({"pulse": load_campaign(tmp_path / "pulse.yaml")})
    assert titles.challenge("pulse/first-post", "en") == "Your first post"
    assert titles.challenge("pulse/first-post", "de") == "Votre premier message"  # the file's
    assert titles.challenge("gone/challenge", "fr") == "gone/challenge"  # nothing known
    # a challenge its campaign's file no longer has: its words and the campaign's title
    assert titles.challenge("pulse/share-a_photo", "fr") == "share a photo · Pulse"
    assert titles.survey("pulse/weekly", "en-GB") == "Weekly mood"
    # a survey without a title of its own: its step's, under the id its answers keep
    assert titles.survey("pulse/old-check", "en") == "Point d'étape"
    assert titles.survey("pulse/bare", "fr") == "pulse/bare"
    assert titles.campaign("pulse") == "Pulse" and titles.campaign("gone") == "gone"
    assert titles.step("pulse", "check", "fr") == "Point d'étape"
    assert titles.step("pulse", "bare", "fr") == "bare"
