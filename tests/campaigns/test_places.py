"""Where a problem is, as the file's author reads it: list elements counted from 1 with their
id, then the key; in the reader's language."""

from __future__ import annotations

import rallybot.bot.i18n  # noqa: F401  (its catalogs give the campaign language its words)
from rallybot.campaigns.loader import field_places

TEXT = """\
id: launch
steps:
  - id: teaser-1
    at: launch - 7d
  - id: teaser-2
    at: lunch - 3d
    buttons:
      - {label: Go, action: go}
  - at: launch
"""


def test_a_path_reads_as_the_file_is_read() -> None:
    place = field_places(TEXT)
    assert place("steps[1].at", "en") == "step 2 (id teaser-2), field at"
    assert place("steps[1].at", "fr") == "étape 2 (id teaser-2), champ at"
    assert place("steps[1].at", "de") == "Schritt 2 (ID teaser-2), Feld at"
    assert place("steps[1].buttons[0].label", "en") == (
        "step 2 (id teaser-2), button 1, field label"
    )
    assert place("steps[2]", "en") == "step 3"  # no id written
    assert place("steps[7].at", "en") == "step 8, field at"  # past the end: its number
    assert place("milestones.launch", "fr") == "milestones.launch"  # no list: as written
    assert place("badges[0].name", "en") == "item 1 of badges, field name"


def test_an_unreadable_file_still_gets_the_numbers() -> None:
    place = field_places("steps: [\n")
    assert place("steps[0].at", "en") == "step 1, field at"
