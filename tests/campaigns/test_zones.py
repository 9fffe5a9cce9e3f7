"""Time-zone advice: suggestions only when safe, offsets explained (literal messages)."""

from __future__ import annotations

import pytest

from rallybot.campaigns.roster import RosterLoadError, load_roster_text
from rallybot.campaigns.zones import is_zone, zone_problem


@pytest.mark.parametrize(
    ("name", "message"),
    [
        # Once "did you mean Europe/Vienna?": the city decides, not the spelling of the region.
        ("Europe/Cayenne", 'unknown time zone "Europe/Cayenne" (did you mean "America/Cayenne"?)'),
        ("Cayenne", 'unknown time zone "Cayenne" (did you mean "America/Cayenne"?)'),
        ("Europe/Cayene", 'unknown time zone "Europe/Cayene" (did you mean "America/Cayenne"?)'),
        ("Madrid", 'unknown time zone "Madrid" (did you mean "Europe/Madrid"?)'),
        ("europe/paris", 'unknown time zone "europe/paris" (did you mean "Europe/Paris"?)'),
        ("Europe/Pari", 'unknown time zone "Europe/Pari" (did you mean "Europe/Paris"?)'),
        (
            "America/Sao Paulo",
            'unknown time zone "America/Sao Paulo" (did you mean "America/Sao_Paulo"?)',
        ),
        # Nothing close in the same region: no guess from another continent.
        (
            "Europe/Atlantis",
            'unknown time zone "Europe/Atlantis" (use a Region/City name such as Europe/Paris)',
        ),
        (
            "Mars/Olympus",
            'unknown time zone "Mars/Olympus" (use a Region/City name such as Europe/Paris)',
        ),
        # Once "did you mean UTC?" and "GMT-0": an offset is explained, with real places.
        (
            "UTC-3",
            '"UTC-3" is a fixed offset, not a time zone: name the place instead (its zone follows '
            "its daylight saving time), e.g. America/Araguaina, America/Argentina/Buenos_Aires, "
            "America/Argentina/Catamarca for UTC-3 all year",
        ),
        (
            "GMT-3",
            '"GMT-3" is a fixed offset, not a time zone: name the place instead (its zone follows '
            "its daylight saving time), e.g. America/Araguaina, America/Argentina/Buenos_Aires, "
            "America/Argentina/Catamarca for UTC-3 all year",
        ),
        (
            "UTC+05:30",
            '"UTC+05:30" is a fixed offset, not a time zone: name the place instead (its zone '
            "follows its daylight saving time), e.g. Asia/Calcutta, Asia/Colombo, Asia/Kolkata "
            "for UTC+5:30 all year",
        ),
    ],
)
def test_zone_advice(name: str, message: str) -> None:
    assert not is_zone(name)
    assert zone_problem(name) == message


def test_real_zones_are_zones() -> None:
    assert is_zone("America/Cayenne")
    assert is_zone("Europe/Paris")
    assert not is_zone("Europe")  # a folder of the database, not a zone


def test_a_roster_row_gets_the_same_advice() -> None:
    with pytest.raises(RosterLoadError) as info:
        load_roster_text(b"id,timezone\nU1,Europe/Cayenne\n", "r.csv", default_timezone="UTC")
    assert [str(e) for e in info.value.errors] == [
        'r.csv:2:2: timezone: unknown time zone "Europe/Cayenne" (did you mean "America/Cayenne"?)'
    ]
