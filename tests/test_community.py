"""The community file: the community's set-up in git beside the campaigns, people named as a
person names them, laid over the settings at run time."""

from __future__ import annotations

import asyncio
import logging
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.cli import app
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.community import legacy_notes
from rallybot.bot.config import Settings
from rallybot.campaigns.community import load_community, load_community_text
from rallybot.campaigns.loader import CampaignLoadError, is_community_file
from rallybot.storage.database import Database

COMMUNITY = """\
community: connect
locale: fr
timezone: Europe/Paris
quiet_hours: "20:00-08:30"
managers: [cm@example.com, "memory:owner"]
managers_channel: connect-managers
channels: {aide: C0HELP}
help:
  channel: connect-aide
  timezone: America/Cayenne
  rota:
    - {days: mon-fri, hours: "09:00-18:00", people: [helper1@example.com, "@nobody-here"]}
onboarding:
  buddies: [buddy@example.com]
  escalation_channel: connect-managers
"""

CAMPAIGN = """\
id: launch
title: Launch
milestones:
  launch: 2027-03-02 09:30
channels:
  annonces: general
steps:
  - id: a
    at: launch
    post: annonces
    text: Hello
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(CampaignLoadError) as info:
        load_community_text(textwrap.dedent(text), "community.yaml")
    return [str(e) for e in info.value.errors]


def test_people_must_be_named_so_the_platform_can_find_them() -> None:
    # Once accepted: the bot then mentioned <@NAME1>, which is nobody.
    text = """\
    community: connect
    help:
      channel: connect-aide
      rota:
        - {days: mon-fri, hours: "09:00-18:00", people: [NAME1, NAME2]}
    """
    message = (
        "names nobody the bot can find: write their work email (first.last@example.com), their "
        "platform handle (@first.last) or their platform id (slack:U0123ABC)"
    )
    assert errors_of(text) == [
        f'community.yaml:5:54: help.rota[0].people[0]: "NAME1" {message}',
        f'community.yaml:5:61: help.rota[0].people[1]: "NAME2" {message}',
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "timezone: Europe/Cayenne",
            'community.yaml:2:11: timezone: unknown time zone "Europe/Cayenne" (did you mean '
            '"America/Cayenne"?)',
        ),
        (
            "quiet_hours: tonight",
            'community.yaml:2:14: quiet_hours: "tonight" is not a quiet-hours window: write '
            "21:00-08:00 or off",
        ),
        (
            'help: {channel: aide, rota: [{days: weekdays, hours: "09:00-18:00", people: ["@a"]}]}',
            'community.yaml:2:37: help.rota[0].days: "weekdays" is not a set of days: write '
            "mon-fri, sat, mon,wed,fri or daily",
        ),
        (
            'help: {channel: aide, rota: [{days: mon, hours: "9h-18h", people: ["@a"]}]}',
            'community.yaml:2:49: help.rota[0].hours: "9h-18h" is not a time window: write it '
            "like 09:00-18:00",
        ),
    ],
)
def test_mistakes_are_reported_at_their_place(line: str, expected: str) -> None:
    assert errors_of(f"community: connect\n{line}\n") == [expected]


async def test_the_community_file_is_laid_over_the_settings(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "launch.yaml").write_text(CAMPAIGN)
    (folder / "community.yaml").write_text(COMMUNITY)
    adapter = MemoryAdapter()
    adapter.emails = {
        "cm@example.com": "U-CM",
        "helper1@example.com": "U-H1",
        "buddy@example.com": "U-B",
    }
    settings = Settings(
        database_url="sqlite://", admins=["memory:legacy-admin"], helpers="", quiet_hours="off"
    )
    clock = SimulatedClock(datetime(2027, 3, 1, tzinfo=UTC))
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[folder])
    with caplog.at_level(logging.WARNING, logger="rallybot.community"):
        report = await bot.reload()
    assert not report.errors
    assert list(bot.campaigns) == ["launch"]  # the community file is not a campaign
    s = bot.settings
    # Managers from both places: moving them to the file locks nobody out.
    assert s.admins == ["memory:legacy-admin", "memory:U-CM", "memory:owner"]
    assert (s.locale, s.timezone, s.quiet_hours) == ("fr", "Europe/Paris", "20:00-08:30")
    assert (s.help_channel, s.helpers_timezone) == ("connect-aide", "America/Cayenne")
    # "@nobody-here" is marked as not found: nobody is mentioned for them, and their slot
    # keeps its hours.
    assert s.rota.helpers == frozenset({"memory:U-H1", "unknown:@nobody-here"})
    assert s.onboarding_buddies == ["U-B"]
    assert s.channel_map == {"aide": "C0HELP"}
    assert (s.managers_channel, s.onboarding_escalation_channel) == (
        "connect-managers",
        "connect-managers",
    )
    assert "@nobody-here is not a memory account; nobody is named in their place" in caplog.text

    # A broken community file keeps the last good one.
    (folder / "community.yaml").write_text(COMMUNITY.replace("locale: fr", "locale: 12"))
    report = await bot.reload()
    assert report.errors
    assert bot.settings.help_channel == "connect-aide"


def test_validate_checks_the_community_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RALLYBOT_HELPERS", "mon-fri 09:00-18:00 U1")
    (tmp_path / "launch.yaml").write_text(CAMPAIGN)
    (tmp_path / "community.yaml").write_text(COMMUNITY)
    result = CliRunner().invoke(
        app, ["--locale", "en", "validate", str(tmp_path)], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "✓ 2 files checked (1 community file, 1 campaign): no errors, 1 warning."
    # Managers and helpers named in the file count: no "nobody would be told" warning.
    assert not [line for line in lines if line.startswith("settings: warning")]
    assert (
        f"{tmp_path / 'community.yaml'}:1:12: warning: 4 people named by email or handle not "
        "checked (no platform configured: set its token or pass --platform); the bot finds "
        "them when it starts and leaves out, with a warning, anyone it cannot find"
    ) in lines
    assert (
        "note: RALLYBOT_HELPERS still works; it belongs in the community file now (help: "
        "rota), where a community manager can change it"
    ) in lines


def test_legacy_notes_only_for_settings_that_are_set() -> None:
    assert legacy_notes({"RALLYBOT_HELP_CHANNEL": "aide", "RALLYBOT_ADMINS": " "}) == [
        "note: RALLYBOT_HELP_CHANNEL still works; it belongs in the community file now (help: "
        "channel), where a community manager can change it"
    ]


SHIPPED = sorted(
    path
    for path in (Path(__file__).resolve().parent.parent / "campaigns" / "examples").rglob("*.yaml")
    if is_community_file(path)
)


def test_both_examples_ship_a_community_file() -> None:
    assert [p.name for p in SHIPPED] == ["community.yaml", "communaute.yaml"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_the_shipped_community_files_load(path: Path) -> None:
    community = load_community(path)
    assert community.spec.help is not None and community.spec.help.rota


def test_validate_finds_the_people_on_the_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rallybot.bot.adapters.base

    def create(name: str, **kwargs: object) -> MemoryAdapter:
        assert name == "memory"
        adapter = MemoryAdapter()
        adapter.emails = {"cm@example.com": "U-CM", "helper1@example.com": "U-H1"}
        return adapter

    monkeypatch.setattr(rallybot.bot.adapters.base, "create_adapter", create)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "launch.yaml").write_text(CAMPAIGN)
    path = tmp_path / "community.yaml"
    path.write_text(COMMUNITY)
    result = CliRunner().invoke(
        app,
        ["--locale", "en", "validate", str(tmp_path), "--platform", "memory"],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert [line for line in lines if "is not a memory account" in line] == [
        f'{path}:12:75: help, item 1 of rota, item 2 of people: "@nobody-here" is not a memory '
        "account: check the spelling, or name them by id",
        f'{path}:14:13: onboarding, item 1 of buddies: "buddy@example.com" is not a memory '
        "account: check the spelling, or name them by id",
    ]
    assert lines[-1] == "✗ 2 errors in 1 of 2 files checked; valid: 1 community file, 1 campaign."


def test_the_community_file_says_how_roster_dates_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    campaign = CAMPAIGN.replace("title: Launch\n", "title: Launch\nroster: pilote.csv\n")
    (tmp_path / "launch.yaml").write_text(campaign)
    (tmp_path / "pilote.csv").write_text("id,start_date\nU1,02/03/2027\n")
    result = CliRunner().invoke(
        app, ["--locale", "en", "validate", str(tmp_path)], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 1
    assert "can be read as 2 March 2027 (day-first) or 3 February 2027" in result.output
    (tmp_path / "community.yaml").write_text("community: connect\ndate_format: day-first\n")
    result = CliRunner().invoke(
        app, ["--locale", "en", "validate", str(tmp_path)], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 0, result.output
    imported = CliRunner().invoke(
        app,
        ["roster", "import", "pilote.csv", "--dry-run"],
        env={"RALLYBOT_CAMPAIGNS_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
    )
    assert imported.exit_code == 0, imported.output
    assert "dates day-first" in imported.output


def test_a_console_start_names_only_the_people_its_rosters_do_not_bring(
    tmp_path: Path,
) -> None:
    """On the console platform the members come from the campaigns' rosters, imported after
    the files are read: the community file's people are looked for again then, and only
    those still missing are named (the shipped example's manager, helpers and buddies were
    all said "not a console account" at each start, although they were found a moment later)."""
    from rallybot.bot.runner import run_bot

    examples = Path(__file__).resolve().parents[1] / "campaigns" / "examples" / "fr"
    folder = tmp_path / "fr"
    folder.mkdir()
    for source in examples.iterdir():
        if source.is_file():
            (folder / source.name).write_bytes(source.read_bytes())
    # A helper the roster does not bring (their row taken out): they alone are named, once.
    roster = (examples / "pilote.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "pilote.csv").write_text(
        "".join(line for line in roster if not line.startswith("aide2,")), encoding="utf-8"
    )
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    # On the logger itself: the run sets the root logger's handlers anew.
    records: list[logging.LogRecord] = []
    catch = logging.Handler(logging.WARNING)
    catch.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("rallybot.community").addHandler(catch)
    try:
        code = asyncio.run(
            run_bot(
                settings,
                platform="console",
                campaign_paths=[folder],
                watch=False,
                interactive=False,
                stop_after=0.3,
            )
        )
    finally:
        logging.getLogger("rallybot.community").removeHandler(catch)
    assert code == 0
    named = [r.getMessage() for r in records if "nobody is named" in r.getMessage()]
    assert len(named) == 1 and "aide2@example.com is not a console account" in named[0]
