"""The ``journey:`` section of campaign files: what it compiles to, and its mistakes, each at
its file, line and field."""

from __future__ import annotations

import pytest

from rallybot.bot import i18n
from rallybot.campaigns.journey import ACCEPT_ACTION, DONE_ACTION, journey_of
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.campaigns.schema import Campaign

HEAD = """\
id: c
title: C
locale: en
channels:
  general: C1
audiences:
  newcomers: { cohort: new }
steps:
  - { id: hello, at: 2026-11-02 09:00, post: general, text: Hi }
"""

GOOD = (
    HEAD
    + """\
journey:
  for: newcomers
  welcome:
    dm: "Welcome {first_name}"
  tasks:
    - id: charter
      done_when: charter_accepted
      label: { en: Accept the charter, fr: Accepter la charte }
      nudges:
        - { at: join + 1d at 11:00, dm: "The charter" }
        - { id: charter-again, at: join + 3d at 11:00, dm: "The charter, again" }
    - id: app
      done_when: self_declared
      button: Installed!
      label: Install the app
      nudges:
        - at: join + 2d at 12:00
          dm: Install it
          buttons: [{ label: Store, url: "https://store.example.com" }]
    - id: channels
      done_when: joined_channels
      channels: [general]
      label: Join general
"""
)


def load(text: str) -> Campaign:
    return load_campaign_text(text, "journey.yaml")


def errors(text: str) -> list[str]:
    with pytest.raises(CampaignLoadError) as caught:
        load(text)
    return [str(error) for error in caught.value.errors]


def test_a_journey_becomes_direct_message_steps_with_buttons_and_conditions() -> None:
    campaign = load(GOOD)
    ids = [step.id for step in campaign.steps]
    assert ids == [
        "hello",
        "journey-welcome",
        "journey-charter-1",
        "charter-again",
        "journey-app-1",
    ]
    journey = journey_of(campaign)
    assert journey is not None
    assert journey.step_task == {
        "journey-charter-1": "charter",
        "charter-again": "charter",
        "journey-app-1": "app",
    }
    charter = campaign.step("journey-charter-1")
    assert charter is not None and charter.per_member and charter.audiences == ("newcomers",)
    assert charter.spec.unless == "task_done(charter)"
    (accept,) = charter.spec.buttons
    # The label in every language of the bot's catalogs (the kernel's, imported above).
    assert accept.action == ACCEPT_ACTION and accept.label == {
        "de": "Ich stimme zu",
        "en": "I accept",
        "es": "Acepto",
        "fr": "J'accepte",
    }
    assert sorted(accept.label) == i18n.available_languages()
    app = campaign.step("journey-app-1")
    assert app is not None
    assert [(b.url, b.action, b.label) for b in app.spec.buttons] == [
        ("https://store.example.com", None, "Store"),
        (None, DONE_ACTION, "Installed!"),
    ]
    welcome = campaign.step("journey-welcome")
    assert welcome is not None and welcome.spec.unless is None


def test_a_file_without_a_journey_keeps_its_step_hashes() -> None:
    plain = load(HEAD)
    with_journey = load(GOOD)
    assert plain.steps[0].content_hash == with_journey.steps[0].content_hash
    assert journey_of(plain) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("channels: [general]", "channels: [genral]"),
            'journey.yaml:31:18: journey.tasks[2].channels[0]: unknown channel "genral"',
        ),
        (
            ("at: join + 1d at 11:00", "at: 2026-11-03 11:00"),
            "journey.yaml:19:17: journey.tasks[0].nudges[0].at: a journey message is timed "
            "from each member's own start",
        ),
        (
            ("done_when: self_declared", "done_when: installed"),
            'journey.yaml:22:18: journey.tasks[1].done_when: "installed" is not allowed here',
        ),
        (
            ("for: newcomers", "for: newbies"),
            'journey.yaml:11:8: journey.for: unknown audience "newbies"',
        ),
        (
            ("id: app", "id: charter"),
            'journey.yaml:21:11: journey.tasks[1].id: task id "charter" is used twice',
        ),
        (
            ("id: charter-again", "id: hello"),
            'journey.yaml:20:17: journey.tasks[0].nudges[1].id: the step id "hello" is used twice',
        ),
        (
            ('dm: "Welcome {first_name}"', 'dm: "Welcome {frist_name}"'),
            "journey.yaml:13:9: journey.welcome.dm:",
        ),
    ],
)
def test_mistakes_point_at_their_line(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    found = errors(GOOD.replace(old, new, 1))
    assert any(message.startswith(expected) for message in found), found


def test_a_button_task_needs_a_nudge_to_carry_its_button() -> None:
    text = GOOD.replace(
        """      nudges:
        - at: join + 2d at 12:00
          dm: Install it
          buttons: [{ label: Store, url: "https://store.example.com" }]
""",
        "",
    )
    (message,) = errors(text)
    assert message.startswith("journey.yaml:21:7: journey.tasks[1].nudges:")
    assert "give at least one nudge" in message


def test_task_done_conditions_on_steps_must_name_a_task() -> None:
    text = GOOD.replace(
        "text: Hi }", "text: Hi }\n  - { id: dm, at: join + 9d, dm: Hey, unless: task_done(qiz) }"
    )
    (message,) = errors(text)
    assert 'steps[1].unless: unknown onboarding task "qiz"' in message
    assert message.startswith("journey.yaml:10:47:")
    without = HEAD + "  - { id: dm, at: join + 9d, dm: Hey, unless: task_done(quiz) }\n"
    (message,) = errors(without)
    assert "needs a journey: section" in message
    unknown = HEAD + "  - { id: dm, at: join + 9d, dm: Hey, unless: task_dome(quiz) }\n"
    (message,) = errors(unknown)
    assert "task_done(TASK)" in message


def test_the_shipped_examples_carry_a_journey() -> None:
    from pathlib import Path

    from rallybot.campaigns.loader import load_campaign

    root = Path(__file__).resolve().parents[2] / "campaigns" / "examples"
    french = journey_of(load_campaign(root / "fr" / "lancement-connect.yaml"))
    english = journey_of(load_campaign(root / "en" / "connect-launch.yaml"))
    assert french is not None and english is not None
    assert {t.kind for t in french.tasks} == {
        "profile_complete",
        "charter_accepted",
        "joined_channels",
        "first_post",
        "quiz_answered",
        "self_declared",
    }
    assert english.welcome_step == "welcome"
    assert set(english.step_task) == {"profile-nudge", "mobile-app"}


def test_the_readme_journey_snippet_is_valid() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "docs" / "manual" / "onboarding.md").read_text(
        encoding="utf-8"
    )
    [snippet] = [
        b
        for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
        if b.startswith("journey:")
    ]
    wrapper = (
        "id: r\ntitle: R\nchannels: { annonces: C1, communaute: C2 }\n"
        "audiences: { pilote: { cohort: pilote } }\n"
        "steps:\n  - { id: hi, at: 2026-11-02 09:00, post: annonces, text: Hi }\n"
    )
    journey = journey_of(load(wrapper + snippet))
    assert journey is not None and len(journey.tasks) == 6
    assert "relance-profil" in journey.step_task
