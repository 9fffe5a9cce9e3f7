"""Teams from Slack user groups: ``usergroups.list`` with its users, paced as Tier 2, feeding
the team sync (``RALLYBOT_TEAM_GROUPS``) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.slack.adapter import SlackAdapter
from rallybot.bot.adapters.slack.limits import rate_keys
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.teams import TeamSync
from rallybot.storage.database import Database
from rallybot.storage.models import Member
from rallybot.storage.repositories import upsert_member
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import NOW, slack_adapter, slack_settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(scale=50) as server:
        for user_id, name in (("U1", "Ana"), ("U2", "Bo"), ("U3", "Cy")):
            server.add_user(user_id, name)
        server.add_usergroup("S1", "sales", ["U1", "U2"])
        server.add_usergroup("S2", "marketing", ["U2", "U3"])
        server.add_usergroup("S3", "former-sales", ["U3"], disabled=True)
        yield server


async def teams(db: Database) -> dict[str, str | None]:
    async with db.session() as session:
        rows = await session.execute(sa.select(Member.platform_user_id, Member.team))  # type: ignore[call-overload]
        return {str(user): team for user, team in rows.all()}


def test_usergroups_list_is_budgeted_as_tier_2() -> None:
    assert rate_keys("usergroups.list") == ("tier2:usergroups.list",)


async def test_member_groups_reads_the_handles_of_enabled_groups(
    fake: FakeSlack, db: Database
) -> None:
    async with slack_adapter(fake, db) as adapter:
        groups = await adapter.member_groups()  # works before start, like the CLI uses it
    assert groups == {"U1": ["sales"], "U2": ["sales", "marketing"], "U3": ["marketing"]}
    [call] = fake.calls_to("usergroups.list")
    assert str(call.params.get("include_users")).lower() in {"1", "true"}


async def test_the_bot_gives_members_the_team_of_their_user_group(
    fake: FakeSlack, db: Database, tmp_path: Path
) -> None:
    for user_id in ("U1", "U2", "U3"):
        await upsert_member(db, "slack", user_id, NOW, display_name=user_id)
    await upsert_member(db, "slack", "U4", NOW, team="Support")  # a roster team, in no group
    settings = slack_settings(fake, team_groups="marketing,sales")
    adapter = SlackAdapter(
        settings=settings, db=db, clock=SimulatedClock(NOW), limiter_scale=fake.scale
    )
    bot = Rallybot(settings, db, adapter, SimulatedClock(NOW), campaign_paths=[tmp_path])
    try:
        assert await bot.teams_tick() == TeamSync(teamed=3, changed=3)
        assert await teams(db) == {
            "U1": "sales",
            "U2": "marketing",
            "U3": "marketing",
            "U4": "Support",
        }
        fake.usergroups["S2"]["users"] = ["U2"]  # Cy left marketing
        assert await bot.teams_tick() == TeamSync(teamed=2, changed=1, cleared=1)
        assert await teams(db) == {"U1": "sales", "U2": "marketing", "U3": None, "U4": "Support"}
        fake.fail_next("usergroups.list", "slack_error", error="missing_scope")
        assert await bot.teams_tick() is None  # the scope is missing: nothing changes
        assert await teams(db) == {"U1": "sales", "U2": "marketing", "U3": None, "U4": "Support"}
    finally:
        await adapter.stop()
    assert len(fake.calls_to("usergroups.list", status=200)) == 3  # one call per sync
