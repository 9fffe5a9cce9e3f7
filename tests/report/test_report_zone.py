"""The HTML report gives every time in the zone its header names, and says how weeks are cut.

Over tests/report/seed.py: the channel post "teaser" was sent on 2026-11-03 at 09:00 UTC, that is
10:00 in Paris (winter time).
"""

from __future__ import annotations

import re

import pytest

from rallybot.handlers.reporting.indicators import Scope
from rallybot.handlers.reporting.report import compute, render_html
from rallybot.storage.database import Database
from tests.report.seed import END, START, seed


@pytest.fixture
async def seeded(db: Database) -> Database:
    await seed(db)
    return db


def reach_rows(page: str) -> list[str]:
    start = page.split('<table id="table-reach-of-campaign-posts">', maxsplit=1)[1]
    table = start.split("</table>", maxsplit=1)[0]
    return re.findall(r"<tr><td>([^<]*)</td>", table)


async def test_the_report_shows_times_in_the_zone_its_header_names(seeded: Database) -> None:
    data = await compute(seeded, Scope(start=START, end=END), END)
    page = render_html(data, {}, "en", "Europe/Paris")
    assert "(Europe/Paris)" in page  # the header names the zone...
    # ...and the reach table's "Sent" column is in it, not in UTC
    assert "Nov 3, 2026, 10:00" in reach_rows(page)
    assert "Nov 3, 2026, 09:00" not in reach_rows(page)
    # the footer says plainly that weeks are not cut in that zone
    assert "Times are given in Europe/Paris." in page
    assert "Weeks run from Monday to Sunday in universal time (UTC)" in page
    assert "may count in the next or the previous week" in page


async def test_without_a_zone_the_report_stays_in_utc(seeded: Database) -> None:
    data = await compute(seeded, Scope(start=START, end=END), END)
    page = render_html(data, {}, "en")
    assert "Nov 3, 2026, 09:00" in reach_rows(page)
    assert "Times are given in universal time (UTC). Weeks run from Monday to Sunday." in page
