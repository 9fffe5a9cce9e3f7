"""The timeline says which campaigns are paused, on the list and the calendar: a paused
campaign's messages to come are left out, and an empty list must not read as nothing left."""

from __future__ import annotations

from rallybot.storage.models import CampaignState, CampaignStatus
from tests.console.conftest import ConsoleClient, ConsoleEnv


async def test_the_timeline_names_the_paused_campaigns(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    async with console.db.session() as session:
        await session.merge(
            CampaignState(id="connect-launch", title="Connect", status=CampaignStatus.paused.value)
        )
    for view in ("list", "calendar"):
        page = (await as_manager.get("/timeline", params={"view": view})).text
        assert (
            "Connect launch is paused: it sends nothing, and its messages to come are not shown "
            "here until it is resumed."
        ) in page, view
        assert 'campaigns">Pause or resume on the Campaigns page</a>' in page, view
    list_page = (await as_manager.get("/timeline")).text
    assert "Nothing to send from today on (the paused campaigns send nothing)." in list_page
    # Another campaign chosen: no word of this one.
    other = (await as_manager.get("/timeline", params={"campaign": "other"})).text
    assert "is paused" not in other
