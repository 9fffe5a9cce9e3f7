"""The indicators page counts the right people and says who it leaves out: the team and cohort
filters match as the members search does, future starters have not arrived yet."""

from __future__ import annotations

from datetime import timedelta

from rallybot.storage.repositories import upsert_member
from tests.console.conftest import ConsoleClient, ConsoleEnv


async def _roster(console: ConsoleEnv) -> None:
    now = console.clock.now()
    for user_id, team, cohort in (
        ("amelie", "Ventes", "pilote"),
        ("bastien", "Ventes", "pilote"),
        ("chloe", "Marketing", "pilote"),
    ):
        await upsert_member(
            console.db, "console", user_id, now - timedelta(days=30), team=team, cohort=cohort
        )


async def test_the_team_filter_ignores_case_and_accents(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _roster(console)
    for typed in ("ventes", "VENTES", "Véntes"):
        api = (await as_manager.get("/api/indicators", params={"team": typed})).json()
        assert api["funnel"][0]["count"] == 2, typed  # amelie and bastien
    api = (await as_manager.get("/api/indicators", params={"cohort": "PILOTE"})).json()
    assert api["funnel"][0]["count"] == 3
    page = await as_manager.get("/indicators", params={"team": "ventes"})
    assert page.status_code == 200
    assert ">Team<" in page.text and "exact name" not in page.text
