"""The console's draft checker: the same loaders as validate, errors at their line, the
timeline a campaign draft would produce, nothing saved."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rallybot.campaigns.drafts import check_draft, draft_kind
from rallybot.campaigns.loader import MAX_FILE_BYTES
from rallybot.campaigns.planner import MemberView

EXAMPLES = Path(__file__).parents[2] / "campaigns" / "examples" / "en"

CAMPAIGN = """\
id: draft
title: A draft
timezone: Europe/London
milestones:
  launch: 2030-03-04 09:30
channels:
  news: general
audiences:
  pilot: { cohort: pilot }
steps:
  - id: teaser
    at: launch - 2d at 09:00
    post: news
    text: "Soon."
  - id: hello
    at: launch at 10:00
    for: pilot
    dm: "Hello {first_name}"
"""


def _members() -> list[MemberView]:
    joined = datetime(2030, 1, 1, tzinfo=UTC)
    return [
        MemberView(key="1", name="Ann", first_name="Ann", cohort="pilot", joined_at=joined),
        MemberView(key="2", name="Bo", first_name="Bo", cohort="pilot", locale="fr"),
        MemberView(key="3", name="Cy", first_name="Cy", cohort="later"),
    ]


def test_a_good_campaign_draft_gives_its_timeline_against_the_members() -> None:
    report = check_draft(CAMPAIGN, "draft.yaml", members=_members())
    assert report.kind == "campaign"
    assert report.ok, report.errors
    steps = [(row.step, row.kind, row.count) for row in report.timeline]
    # The post once, the DM to the two pilot members (one row per language).
    assert ("teaser", "post", 1) in steps
    assert sum(count for step, _, count in steps if step == "hello") == 2
    assert report.lines[0] == "id: draft"


def test_an_error_is_at_its_line_and_the_timeline_is_empty() -> None:
    broken = CAMPAIGN.replace("at: launch at 10:00", "at: lunch at 10:00")
    report = check_draft(broken, "draft.yaml", members=_members())
    assert not report.ok
    line = broken.splitlines().index("    at: lunch at 10:00") + 1
    assert [e.line for e in report.errors] == [line]
    assert "lunch" in report.errors[0].message
    assert report.issues_on(line) == report.errors
    assert report.timeline == []


def test_a_yaml_syntax_error_is_positioned() -> None:
    report = check_draft("id: x\nsteps:\n  - id: a\n   at: b\n", "bad.yaml")
    assert not report.ok
    assert report.errors[0].line in {3, 4}


def test_warnings_are_positioned_too() -> None:
    cut = CAMPAIGN.replace('text: "Soon."', "text: Soon #launch")
    report = check_draft(cut, "draft.yaml")
    line = cut.splitlines().index("    text: Soon #launch") + 1
    assert any(w.line == line and "#launch" in w.message for w in report.warnings)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("quiz-connect.yaml", "quiz"),
        ("faq.yaml", "faq"),
        ("rules/points.yaml", "rules"),
        ("community.yaml", "community"),
        ("connect-launch.yaml", "campaign"),
    ],
)
def test_every_kind_of_shipped_file_is_told_apart_and_loads(name: str, kind: str) -> None:
    raw = (EXAMPLES / name).read_bytes()
    assert draft_kind(raw.decode()) == kind
    report = check_draft(raw, name)
    assert report.kind == kind
    assert report.ok, report.errors


def test_a_broken_quiz_bank_names_its_line() -> None:
    text = (EXAMPLES / "quiz-connect.yaml").read_text()
    broken = text.replace("questions:", "questionz:", 1)
    report = check_draft(broken, "quiz.yaml")
    assert report.kind == "quiz"
    assert not report.ok
    line = broken.splitlines().index("questionz:") + 1
    assert line in {e.line for e in report.errors}


def test_binary_and_oversized_drafts_are_refused_by_the_loader() -> None:
    binary = check_draft(b"id: x\x00\n", "x.yaml")
    assert not binary.ok and "binary" in binary.errors[0].message
    huge = check_draft(b"a: " + b"x" * MAX_FILE_BYTES, "x.yaml")
    assert not huge.ok and "1 MB" in huge.errors[0].message
