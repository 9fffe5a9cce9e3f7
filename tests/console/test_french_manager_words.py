"""What a French community manager still tripped on: an erased member named by a raw id,
"de {name}" before a vowel, filters whose words do not agree, zones the timeline's filter
left out, replaced sends read as cancelled, steps named by their ids."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.storage.models import CampaignState, Member
from rallybot.storage.outbox import insert_deliveries
from rallybot.storage.repositories import get_member_by_platform_id
from tests.console.conftest import ConsoleClient, ConsoleEnv
from tests.console.test_words_not_ids import _post


@pytest.fixture
async def french(console: ConsoleEnv) -> None:
    """Everyone reads French."""
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
        session.add(CampaignState(id="connect-launch", title="Connect launch", source="x.yaml"))


@pytest.mark.usefixtures("french")
async def test_an_erased_member_is_named_erased_member(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    mel = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert mel is not None
    at = console.clock.now() - timedelta(hours=2)
    async with console.db.session() as session:
        row: dict[str, Any] = _post("teaser-1", "once", at, recipient=f"member:{mel.id}")
        await insert_deliveries(session, [row])
    erased = await as_manager.post(f"/api/members/{mel.id}/erase", headers=as_manager.csrf_header())
    assert erased.json() == {"erased": True}
    timeline = (await as_manager.get("/timeline", params={"to": "2026-09-01"})).text
    assert "forgotten-" not in timeline
    assert "membre effacé" in timeline
