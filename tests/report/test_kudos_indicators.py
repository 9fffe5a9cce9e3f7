"""Kudos in the indicators and the report: given and received, over a hand-seeded ledger.

On top of tests/report/seed.py (alice 1, bob 2, carol 3: pilot; dan 4, eve 5, frank 6: wave2;
alice, bob, eve: sales; carol, dan: tech; frank is known after the range; botty 7 is a bot).
Range: the weeks of 2026-11-02, 11-09 and 11-16.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from rallybot.handlers.reporting import indicators as ind
from rallybot.handlers.reporting.indicators import KudosStats, KudosWeek, Scope
from rallybot.handlers.reporting.report import (
    compute,
    render_html,
    render_tables,
    summary_text,
    write_csv,
)
from rallybot.storage.database import Database
from rallybot.storage.models import PointEntry
from tests.report.seed import END, START, WEEKS, _insert, at, seed

RANGE = Scope(start=START, end=END)

# (id, giver, receiver, when, source, reverts)
LEDGER: list[tuple[int, int, int, datetime, str, int | None]] = [
    (101, 1, 2, at(11, 3), "kudos", None),  # week 11-02
    (102, 1, 3, at(11, 4), "kudos", None),  # week 11-02
    (103, 2, 1, at(11, 10), "kudos", None),  # week 11-09
    (104, 5, 1, at(11, 11), "kudos", None),  # week 11-09
    (105, 3, 5, at(11, 17), "kudos", None),  # revoked below: never counted
    (106, 3, 5, at(11, 17, 12), "kudos", 105),  # the revocation (negative)
    (107, 4, 5, at(11, 18), "kudos", None),  # week 11-16
    (108, 6, 4, at(11, 19), "kudos", None),  # frank gives: he is out of the range's scope
    (109, 1, 2, at(10, 20), "kudos", None),  # before the range
    (110, 1, 2, at(11, 5), "admin", None),  # an admin adjustment with an actor: not kudos
]


@pytest.fixture
async def seeded(db: Database) -> Database:
    await seed(db)
    await _insert(
        db,
        PointEntry,
        [
            {
                "id": entry_id,
                "member_id": receiver,
                "actor_id": giver,
                "amount": -5 if reverts else 5,
                "source": source,
                "action": "kudos_received" if source == "kudos" else None,
                "reason": "",
                "idempotency_key": f"kudos-seed:{entry_id}",
                "reverts_id": reverts,
                "created_at": when,
            }
            for entry_id, giver, receiver, when, source, reverts in LEDGER
        ],
    )
    return db


def figures(k: KudosStats) -> tuple[int, int, int, int]:
    return (k.given, k.givers, k.received, k.receivers)


async def test_kudos_count_for_the_giver_and_the_receiver(seeded: Database) -> None:
    # Given in the range by members in scope: 101, 102 (alice), 103 (bob), 104 (eve), 107
    # (dan); frank's 108 is out (known after the end). Received: 101 (bob), 102 (carol),
    # 103 and 104 (alice), 107 (eve), 108 (dan): frank's kudos still counts for dan.
    k = await ind.kudos(seeded, RANGE)
    assert figures(k) == (5, 4, 6, 5)
    assert k.weekly == [
        KudosWeek(WEEKS[0], given=2, givers=1, received=2, receivers=2),
        KudosWeek(WEEKS[1], given=2, givers=2, received=2, receivers=1),
        KudosWeek(WEEKS[2], given=1, givers=1, received=2, receivers=2),
    ]
    # All time: 109 (before the range) and frank's 108 now count; 105 stays revoked.
    assert figures(await ind.kudos(seeded)) == (7, 5, 7, 5)


async def test_kudos_per_cohort_and_team(seeded: Database) -> None:
    by_cohort = await ind.kudos_by(seeded, RANGE, "cohort")
    assert {name: figures(k) for name, k in by_cohort.items()} == {
        "pilot": (3, 2, 4, 3),  # given by alice (2) and bob; received by bob, carol, alice (2)
        "wave2": (2, 2, 2, 2),  # given by eve and dan; received by eve and dan
    }
    by_team = await ind.kudos_by(seeded, RANGE, "team")
    assert {name: figures(k) for name, k in by_team.items()} == {
        "sales": (4, 3, 4, 3),
        "tech": (1, 1, 2, 2),
    }
    wave2 = await ind.kudos(seeded, Scope(cohort="wave2", start=START, end=END))
    assert figures(wave2) == (2, 2, 2, 2)
    assert [(w.given, w.givers, w.received, w.receivers) for w in wave2.weekly] == [
        (0, 0, 0, 0),
        (1, 1, 0, 0),
        (1, 1, 2, 2),
    ]


async def test_the_report_shows_kudos_in_every_format(seeded: Database, tmp_path: Path) -> None:
    data = await compute(seeded, RANGE, END)
    assert figures(data.kudos) == (5, 4, 6, 5)
    assert set(data.kudos_by_cohort) == {"pilot", "wave2"}
    console = Console(record=True, width=200)
    render_tables(data, console)
    shown = console.export_text()
    assert "Kudos per week" in shown and "Kudos per cohort" in shown
    assert "5 (by 4 members)" in shown and "6 (by 5 members)" in shown
    write_csv(data, tmp_path)
    weekly = (tmp_path / "kudos_weekly.csv").read_text(encoding="utf-8").splitlines()
    assert weekly == [
        "week,given,givers,received,receivers",
        "2026-11-02,2,1,2,2",
        "2026-11-09,2,2,2,1",
        "2026-11-16,1,1,2,2",
    ]
    by_cohort = (tmp_path / "kudos_by_cohort.csv").read_text(encoding="utf-8").splitlines()
    assert by_cohort[1:] == ["all,5,4,6,5", "pilot,3,2,4,3", "wave2,2,2,2,2"]
    summary = (tmp_path / "summary.csv").read_text(encoding="utf-8")
    assert "kudos_given,5" in summary and "kudos_receivers,5" in summary
    page = render_html(data, {})
    assert '<table id="table-kudos-per-week">' in page
    assert "<td>Nov 16, 2026</td><td>1</td><td>1</td><td>2</td><td>2</td>" in page
    assert "Kudos: 5 given by 4 members, 6 received by 5 members" in summary_text(data)
