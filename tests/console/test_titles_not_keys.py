"""Challenges and surveys by their titles, in the reader's language, on the indicators page
and in its downloads (the HTML report and the CSV files, the code of ``rallybot report``);
the key only where no campaign file gives a title."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.handlers.console.serve import load_campaigns
from rallybot.storage.challenge_models import ChallengeDone, ChallengeProgress
from rallybot.storage.models import Member
from tests.console.conftest import EXAMPLES, ConsoleClient, ConsoleEnv, console_settings

CHALLENGES = """
challenges:
  - id: first-post
    title: {en: "Your first post", fr: "Votre premier message"}
    goal: {kind: post_in_channel, channel: announcements}
    start: launch - 20d
    end: launch + 7d
"""


@pytest.fixture
async def with_challenge(console: ConsoleEnv, tmp_path: Path) -> None:
    """The example campaign with a challenge titled in English and French, a member who took
    part in it and completed it, and a member who took part in a challenge no file has."""
    text = (EXAMPLES / "connect-launch.yaml").read_text(encoding="utf-8")
    (tmp_path / "connect-launch.yaml").write_text(text + CHALLENGES, encoding="utf-8")
    campaigns = load_campaigns([tmp_path], console_settings())
    console.state._campaigns = campaigns  # the page reads the campaigns through the state
    at = console.clock.now() - timedelta(hours=1)
    async with console.db.session() as session:
        member = (
            await session.execute(sa.select(Member.id).where(Member.platform_user_id == "UMEMBER"))
        ).scalar_one()
        for key in ("connect-launch/first-post", "old-campaign/gone"):
            session.add(
                ChallengeProgress(
                    challenge=key, subject=f"member:{member}", member_id=member, ref="p1", at=at
                )
            )
        session.add(
            ChallengeDone(
                challenge="connect-launch/first-post",
                subject=f"member:{member}",
                member_id=member,
                completed_at=at,
            )
        )


async def _locale(console: ConsoleEnv, locale: str) -> None:
    async with console.db.session() as session:
        await session.execute(
            sa.update(Member).where(Member.platform_user_id == "UMANAGER").values(locale=locale)
        )


@pytest.mark.usefixtures("with_challenge")
@pytest.mark.parametrize(
    ("locale", "title"), [("fr", "Votre premier message"), ("en", "Your first post")]
)
async def test_a_challenge_by_its_title_on_the_page(
    console: ConsoleEnv, as_manager: ConsoleClient, locale: str, title: str
) -> None:
    await _locale(console, locale)
    page = (await as_manager.get("/indicators")).text
    assert f'<th scope="row">{title}</th>' in page
    assert "connect-launch/first-post" not in page
    # a challenge no campaign file has any more: its key, the only name left
    assert '<th scope="row">old-campaign/gone</th>' in page


@pytest.mark.usefixtures("with_challenge")
async def test_a_challenge_by_its_title_in_the_downloads(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _locale(console, "fr")
    report = (await as_manager.get("/indicators/report.html")).text
    assert "<td>Votre premier message</td>" in report
    assert "connect-launch/first-post" not in report
    archive = zipfile.ZipFile(io.BytesIO((await as_manager.get("/indicators/report.zip")).content))
    rows = archive.read("challenges.csv").decode("utf-8-sig").splitlines()
    assert rows[1].startswith("Votre premier message;1;1;")
    assert any(row.startswith("old-campaign/gone;") for row in rows)
