"""Roster rows matched to platform accounts by email, with the rows that did not match."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.cli import app
from rallybot.campaigns.roster import load_roster_text
from rallybot.handlers.onboarding.feature import match_roster
from rallybot.storage.database import create_database
from rallybot.storage.models import Member

ROSTER = """\
id,email,name,cohort,start_date
,ada@example.com,Ada,new,2026-11-02 09:30
,Bob@Example.com,Bob,new,2026-11-02 09:30
,ghost@example.com,Ghost,new,2026-11-02 09:30
U-CY,cy@example.com,Cy,new,2026-11-02 09:30
"""

runner = CliRunner()


def platform() -> MemoryAdapter:
    adapter = MemoryAdapter()
    adapter.emails.update({"ada@example.com": "U-ADA", "bob@example.com": "U-BOB"})
    return adapter


async def test_rows_get_their_account_and_the_others_are_reported() -> None:
    entries = load_roster_text(ROSTER, "team.csv", default_timezone="Europe/Paris")
    result = await match_roster(platform(), entries)
    assert [(e.id, e.email) for e in result.entries] == [
        ("U-ADA", "ada@example.com"),
        ("U-BOB", "Bob@Example.com"),  # any case
        ("U-CY", "cy@example.com"),  # an id wins: no lookup
    ]
    assert result.report("team.csv") == [
        "team.csv:4: ghost@example.com: no account with this email on the platform"
    ]


async def test_a_platform_without_email_lookup_says_so() -> None:
    from rallybot.bot.adapters.console import ConsoleAdapter

    entries = load_roster_text(ROSTER, "team.csv", default_timezone="Europe/Paris")
    with pytest.raises(TypeError, match="cannot look members up by email"):
        await match_roster(ConsoleAdapter(interactive=False), entries)


def test_roster_import_match_emails(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rallybot.bot.adapters.base

    real = rallybot.bot.adapters.base.create_adapter

    def create(name: str, **kwargs: Any) -> Any:
        if name == "memory":  # the platform's accounts, with their emails
            assert kwargs == {}
            return platform()
        return real(name, **kwargs)

    monkeypatch.setattr(rallybot.bot.adapters.base, "create_adapter", create)
    monkeypatch.setenv("DATABASE_URL", db_url)
    roster = tmp_path / "team.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "--locale",
            "en",
            "roster",
            "import",
            str(roster),
            "--platform",
            "memory",
            "--match-emails",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{roster}:4: ghost@example.com: no account" in result.output
    assert "1 row matched no account on memory" in result.output
    assert "3 members created" in result.output

    async def stored() -> list[tuple[str, str | None]]:
        db = create_database(db_url)
        try:
            async with db.session() as session:
                query = sa.select(Member.platform_user_id, Member.email)  # type: ignore[call-overload]
                return sorted((str(u), e) for u, e in (await session.execute(query)).all())
        finally:
            await db.dispose()

    assert asyncio.run(stored()) == [
        ("U-ADA", "ada@example.com"),
        ("U-BOB", "Bob@Example.com"),
        ("U-CY", "cy@example.com"),
    ]
    console = runner.invoke(
        app, ["--locale", "en", "roster", "import", str(roster), "--match-emails"]
    )
    assert console.exit_code == 2 and "cannot look members up by email" in console.output
