"""Every ``rallybot`` command, its output and its exit code."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from rallybot.bot.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "campaigns" / "examples"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each command in an empty folder with its own SQLite file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("RALLYBOT_CAMPAIGNS_DIR", str(EXAMPLES / "fr"))


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "plan", "run", "demo", "db", "campaign", "reload", "health"):
        assert command in result.output


SHIPPED = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and p.name != "schemas")


def test_the_shipped_examples_are_found() -> None:
    assert {"fr", "en"} <= set(SHIPPED)


@pytest.mark.parametrize("lang", SHIPPED)
def test_validate_accepts_the_shipped_examples_with_no_warning(lang: str) -> None:
    # One community per bot: each example is a bot of its own, checked on its own, with its
    # rules files; --strict: a warning fails too (a shipped example is copied as it is).
    folder = EXAMPLES / lang
    rules = [str(p) for p in sorted(folder.iterdir()) if p.is_dir()]
    result = runner.invoke(app, ["--locale", "en", "validate", "--strict", str(folder), *rules])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output, result.output
    assert result.output.splitlines()[-1] == (
        "✓ 6 files checked (1 community file, 1 campaign, 1 quiz bank, 1 FAQ file, "
        "1 rules file, 1 roster): no errors."
    )


def test_validate_prints_every_error_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        textwrap.dedent("""\
        id: bad
        title: Bad
        milestones:
          launch: 2026-09-15 09:30
        channels:
          annonces: general
        steps:
          - id: a
            at: lunch - 3d
            post: annonces
            text: "hello"
          - id: b
            at: launch
            post: anonces
            text: "{first_name}"
    """)
    )
    result = runner.invoke(app, ["--locale", "en", "validate", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 4  # every error, then the summary
    assert lines[-1] == "✗ 3 errors in 1 of 1 file checked; valid: none."
    # where each is as its author reads the file: the step's number from 1, and its id
    assert lines[0].endswith(
        'bad.yaml:9:9: step 1 (id a), field at: unknown milestone "lunch" (did you mean '
        '"launch"?); milestones: launch'
    )
    assert (
        'step 2 (id b), field post: unknown channel "anonces" (did you mean "annonces"?)'
        in lines[1]
    )
    assert "step 2 (id b), field text:" in lines[2]
    assert "only works in direct messages" in lines[2]
    french = runner.invoke(app, ["--locale", "fr", "validate", str(bad)])
    assert "bad.yaml:9:9: étape 1 (id a), champ at: jalon inconnu" in french.output


def test_validate_missing_file_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--locale", "en", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "nope.yaml: no such file or folder" in result.output


def test_plan_table_shows_the_timeline_with_the_roster() -> None:
    result = runner.invoke(
        app,
        ["--locale", "en", "plan", str(EXAMPLES / "fr" / "lancement-connect.yaml")],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "Tue 2026-08-18 09:00" in result.output  # teaser-1, J-28 at 09:00 Paris
    assert "annonce-pdg" in result.output
    # the 6 invited members and the 5 people of the community file (cohort equipe-connect)
    assert "64 messages in 37 sends, 11 members in the roster" in result.output


def test_plan_json_groups_dms_per_instant_and_honours_member_zones() -> None:
    result = runner.invoke(
        app,
        [
            "plan",
            str(EXAMPLES / "fr" / "lancement-connect.yaml"),
            "--format",
            "json",
            "--from",
            "launch - 8d",
            "--to",
            "launch",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    invitations = [r for r in rows if r["step"] == "invitation-pilote"]
    # 4 pilots in Paris at 10:00 local, one in Montreal at 10:00 Montreal time (16:00 Paris).
    assert [(r["due_local"][11:16], r["count"]) for r in invitations] == [
        ("10:00", 4),
        ("16:00", 1),
    ]
    assert invitations[1]["due_utc"].startswith("2026-09-08T14:00")
    assert {r["step"] for r in rows} == {"teaser-4", "invitation-pilote", "teaser-veille"}


def test_plan_refuses_bad_windows_and_broken_files(tmp_path: Path) -> None:
    path = str(EXAMPLES / "fr" / "lancement-connect.yaml")
    result = runner.invoke(app, ["--locale", "en", "plan", path, "--from", "launchh - 2d"])
    assert result.exit_code == 2 and 'unknown milestone "launchh"' in result.output
    result = runner.invoke(
        app, ["--locale", "en", "plan", path, "--from", "launch", "--to", "launch - 1d"]
    )
    assert result.exit_code == 2 and "--to must come after --from" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\ntitle: [unclosed\n")
    result = runner.invoke(app, ["--locale", "en", "plan", str(broken)])
    assert result.exit_code == 1 and "YAML syntax error" in result.output


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_demo_plays_the_example_and_duplicates_nothing(lang: str) -> None:
    result = runner.invoke(app, ["--locale", "en", "demo", "--lang", lang])
    assert result.exit_code == 0, result.output
    assert "nothing duplicated" in result.output
    assert ("Le PDG" if lang == "fr" else "The CEO") in result.output


def test_demo_refuses_an_unknown_language() -> None:
    result = runner.invoke(app, ["demo", "--lang", "de"])
    assert result.exit_code == 2


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 0 and "empty" in result.output
    result = runner.invoke(app, ["--locale", "en", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "is at revision" in result.output
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 0 and "empty" not in result.output


def test_campaign_list_pause_resume_reload_and_health() -> None:
    # Read-only: never creates the schema.
    result = runner.invoke(app, ["--locale", "en", "campaign", "list"])
    assert result.exit_code == 1 and "no schema yet" in result.output
    result = runner.invoke(app, ["campaign", "pause", "ghost"])  # writes: migrates first
    assert result.exit_code == 1 and "Campagne « ghost » inconnue" in result.output  # French
    english = runner.invoke(app, ["--locale", "en", "campaign", "pause", "ghost"])
    assert english.exit_code == 1 and 'Unknown campaign "ghost"' in english.output
    result = runner.invoke(app, ["--locale", "en", "campaign", "list"])
    assert result.exit_code == 0 and "No campaign yet" in result.output
    # Load the campaigns once through the demo-like path: run the bot briefly.
    from rallybot.bot.config import Settings
    from rallybot.bot.runner import run_bot

    settings = Settings()
    code = asyncio.run(
        run_bot(
            settings,
            platform="memory",
            campaign_paths=[EXAMPLES / "fr"],
            watch=False,
            interactive=False,
            stop_after=0.5,
        )
    )
    assert code == 0
    result = runner.invoke(app, ["campaign", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "lancement-connect" in result.output
    result = runner.invoke(app, ["campaign", "pause", "lancement-connect"])
    assert result.exit_code == 0
    assert "La campagne « lancement-connect » est maintenant en pause." in result.output
    result = runner.invoke(app, ["--locale", "de", "campaign", "list"], env={"COLUMNS": "200"})
    assert "Titel" in result.output and "pausiert" in result.output
    result = runner.invoke(app, ["--locale", "es", "campaign", "resume", "lancement-connect"])
    assert result.exit_code == 0
    assert "La campaña «lancement-connect» está ahora activa." in result.output
    result = runner.invoke(app, ["--locale", "en", "reload"])
    assert result.exit_code == 0 and "Reload requested" in result.output
    result = runner.invoke(app, ["--locale", "en", "health"])
    assert result.exit_code == 0 and "Outbox:" in result.output


def test_run_refuses_an_unknown_platform() -> None:
    result = runner.invoke(app, ["--locale", "en", "run", "--platform", "teams"])
    assert result.exit_code == 2
    assert 'Unknown platform "teams"' in result.output and "console" in result.output


def test_invalid_settings_are_reported_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RALLYBOT_TIMEZONE", "Mars/Olympus")
    result = runner.invoke(app, ["--locale", "en", "health"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        'Invalid setting RALLYBOT_TIMEZONE="Mars/Olympus": unknown time zone'
    )
    assert "Traceback" not in result.output


def test_run_starts_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "RALLYBOT_CAMPAIGNS_DIR": str(EXAMPLES / "fr"),
        "SLACK_BOT_TOKEN": "xoxb-123456-secret",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rallybot.bot",
            "run",
            "--platform",
            "console",
            "--no-interactive",
            "--no-watch",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    lines: list[str] = []
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "rallybot running on console" in line:
            break
    else:
        proc.kill()
        pytest.fail("the bot did not start:\n" + "".join(lines))
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    log = "".join(lines) + rest
    assert proc.returncode == 0, log
    assert "stopping: finishing the sends under way" in log
    assert "xoxb-123456-secret" not in log


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["/quit\n", ""], ids=["quit", "end-of-input"])
def test_run_on_the_console_reads_piped_commands_and_stops(tmp_path: Path, ending: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "RALLYBOT_CAMPAIGNS_DIR": str(EXAMPLES / "en"),
        "RALLYBOT_TIMEZONE": "Europe/London",
        "RALLYBOT_LOCALE": "en",  # the terminal's dates are in the community's language
    }
    command = [sys.executable, "-m", "rallybot.bot", "run", "--clock", "simulated", "--speed", "0"]
    command += ["--start", "2026-08-10 06:00", "--no-watch"]
    proc = subprocess.run(
        command,
        check=False,
        input="/advance 40d\n" + ending,
        cwd=tmp_path,
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # The teasers and the CEO's announcement came out once each, at the campaign's times
    # shown in the bot's time zone (09:30 in London for the launch), not the machine's.
    assert out.count("It is called **Connect**") == 1
    assert "The CEO · Tue, Sep 15, 09:30" in out
    assert out.count("Connect is open") == 1
    assert "advanced 40d → Sat, Sep 19" in out


@pytest.mark.parametrize("platform", ["slack", "discord"])
def test_run_without_a_token_says_what_to_set(
    platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(app, ["--locale", "en", "run", "--platform", platform, "--no-watch"])
    assert result.exit_code == 2, result.output
    assert f"Cannot start on {platform}" in result.output
    assert ("SLACK_BOT_TOKEN" if platform == "slack" else "DISCORD_TOKEN") in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------------- global options


def test_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"rallybot {version('rallybot')}\n"


def test_shell_completion_is_on() -> None:
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.output and "--show-completion" in result.output
    # what the installed completion script asks the program: complete "rallybot camp"
    result = runner.invoke(
        app,
        [],
        prog_name="rallybot",
        env={
            "_RALLYBOT_COMPLETE": "complete_bash",
            "COMP_WORDS": "rallybot camp",
            "COMP_CWORD": "1",
        },
    )
    assert result.stdout.split() == ["campaign"]
    result = runner.invoke(
        app,
        [],
        prog_name="rallybot",
        env={
            "_RALLYBOT_COMPLETE": "complete_bash",
            "COMP_WORDS": "rallybot report --format ",
            "COMP_CWORD": "3",
        },
    )
    assert result.stdout.split() == ["table", "csv", "html", "json"]


# ---------------------------------------------------------------------------- --format json


def _json(args: list[str], code: int = 0) -> object:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)  # stdout holds the JSON alone


def test_campaign_list_json() -> None:
    from rallybot.bot.config import Settings
    from rallybot.bot.runner import run_bot

    runner.invoke(app, ["db", "upgrade"])
    assert _json(["campaign", "list", "--format", "json"]) == []
    code = asyncio.run(
        run_bot(
            Settings(),
            platform="memory",
            campaign_paths=[EXAMPLES / "fr"],
            watch=False,
            interactive=False,
            stop_after=0.5,
        )
    )
    assert code == 0
    runner.invoke(app, ["campaign", "pause", "lancement-connect"])
    campaigns = _json(["campaign", "list", "--format", "json"])
    assert isinstance(campaigns, list) and len(campaigns) == 1
    (launch,) = campaigns
    assert launch["id"] == "lancement-connect" and launch["status"] == "paused"
    assert set(launch) == {"id", "title", "status", "source", "deliveries", "steps"}
    deliveries, steps = launch["deliveries"], launch["steps"]
    assert sum(deliveries.values()) == sum(n for step in steps.values() for n in step.values())


def test_run_on_the_console_platform_takes_its_members_from_the_campaigns_roster(
    tmp_path: Path,
) -> None:
    """The tutorial's path: ``rallybot run`` on the console with the campaign's ``roster:``
    file beside it gives the campaign its members (the pilot's DMs have recipients)."""
    import sqlite3

    from rallybot.bot.config import Settings
    from rallybot.bot.runner import run_bot

    pilot = EXAMPLES / "fr" / "pilote.csv"
    rows = len(pilot.read_text(encoding="utf-8").strip().splitlines()) - 1
    for _ in range(2):  # a second start updates the same members
        code = asyncio.run(
            run_bot(
                Settings(),
                platform="console",
                campaign_paths=[EXAMPLES / "fr"],
                watch=False,
                interactive=False,
                stop_after=0.5,
                console=Console(file=io.StringIO()),
            )
        )
        assert code == 0
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        members = connection.execute(
            "SELECT count(*) FROM member WHERE platform = 'console'"
        ).fetchone()[0]
    assert members == rows


def test_roster_import_json(tmp_path: Path) -> None:
    pilot = EXAMPLES / "fr" / "pilote.csv"
    rows = len(pilot.read_text(encoding="utf-8").strip().splitlines()) - 1
    checked = _json(["roster", "import", str(pilot), "--dry-run", "--format", "json"])
    assert checked == {
        "file": str(pilot),
        "platform": "console",
        "dry_run": True,
        "members": rows,
        "imported": False,
    }
    imported = _json(["roster", "import", str(pilot), "--format", "json"])
    assert imported == {
        "file": str(pilot),
        "platform": "console",
        "dry_run": False,
        "members": rows,
        "imported": True,
        "created": rows,
        "updated": 0,
        "unchanged": 0,
        "erased": 0,  # people erased on request, not imported again
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("id,email,name,start_date\nU1,a@example.org,A,someday\n", encoding="utf-8")
    refused = _json(["roster", "import", str(bad), "--format", "json"], code=1)
    assert isinstance(refused, dict) and refused["imported"] is False
    assert len(refused["problems"]) == 1 and "someday" in refused["problems"][0]


def test_teams_sync_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime
    from typing import Any

    import rallybot.bot.adapters.base
    from rallybot.bot.adapters.memory import MemoryAdapter
    from rallybot.storage.database import create_database
    from rallybot.storage.repositories import upsert_member

    def create(name: str, **kwargs: Any) -> Any:
        platform = MemoryAdapter()
        platform.groups = {"m1": ["sales"], "m2": ["marketing"], "m3": ["sales"]}
        return platform

    async def seed() -> None:
        db = create_database(os.environ["DATABASE_URL"])
        try:
            now = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
            for user in ("m1", "m2"):
                await upsert_member(db, "memory", user, now)
            await upsert_member(db, "memory", "m3", now, team="Ventes")  # a roster team
        finally:
            await db.dispose()

    runner.invoke(app, ["db", "upgrade"])
    asyncio.run(seed())
    monkeypatch.setattr(rallybot.bot.adapters.base, "create_adapter", create)
    monkeypatch.setenv("RALLYBOT_TEAM_GROUPS", "sales,marketing")
    assert _json(["teams", "sync", "--platform", "memory", "--format", "json"]) == {
        "platform": "memory",
        "teamed": 2,
        "changed": 2,
        "cleared": 0,
        "kept": 1,
    }


def test_report_json_summary(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from rallybot.handlers.reporting.indicators import Scope
    from rallybot.handlers.reporting.report import compute
    from rallybot.storage.database import create_database
    from tests.report.seed import seed

    async def seeded() -> object:
        db = create_database(db_url)
        try:
            await seed(db)
            start, end = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)
            return await compute(db, Scope(start=start, end=end), datetime.now(UTC))
        finally:
            await db.dispose()

    data = asyncio.run(seeded())
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("RALLYBOT_TIMEZONE", "UTC")
    summary = _json(["report", "--from", "2026-11-02", "--to", "2026-11-22", "--format", "json"])
    assert isinstance(summary, dict)
    assert summary["scope"] == {
        "campaign": None,
        "cohort": None,
        "team": None,
        "from": "2026-11-02T00:00:00+00:00",
        "to": "2026-11-23T00:00:00+00:00",
    }
    # the same figures as the other formats compute
    assert [(s["stage"], s["count"]) for s in summary["funnel"]] == [
        (s.name, s.count)
        for s in data.funnel.stages  # type: ignore[attr-defined]
    ]
    assert summary["active_members"] == data.active_members  # type: ignore[attr-defined]
    assert summary["help"]["median_resolution_seconds"] == 13.5 * 3600  # as the table shows
    assert summary["quiz"]["participants"] == data.quiz.participants  # type: ignore[attr-defined]
    assert {"satisfaction", "points", "kudos", "challenges", "reach"} <= set(summary)


def test_db_current_on_an_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://rallybot:pw-s3cret@127.0.0.1:{port}/x")
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Database unreachable: ConnectionRefusedError: [Errno 111] Connect call failed "
        f"('127.0.0.1', {port})"
    ]


def test_examples_copy_speaks_the_locale_with_real_plurals(tmp_path: Path) -> None:
    copied = runner.invoke(app, ["--locale", "fr", "examples", "copy", str(tmp_path / "mine")])
    assert copied.exit_code == 0, copied.output
    assert "fichiers copiés dans" in copied.output and "(s)" not in copied.output
    # The next step names the examples in the reader's language, where there are some.
    assert copied.output.rstrip().endswith(f"rallybot validate {tmp_path / 'mine' / 'fr'}")
    again = runner.invoke(app, ["--locale", "de", "examples", "copy", str(tmp_path / "mine")])
    assert again.exit_code == 1
    assert "Dateien liegen schon in" in again.output and "--force" in again.output
    english = runner.invoke(
        app, ["--locale", "en", "examples", "copy", "--force", str(tmp_path / "mine")]
    )
    assert english.exit_code == 0 and "files into" in english.output
    assert english.output.rstrip().endswith(str(tmp_path / "mine" / "en"))
    german = runner.invoke(
        app, ["--locale", "de", "examples", "copy", "--force", str(tmp_path / "mine")]
    )
    assert german.output.rstrip().endswith(str(tmp_path / "mine" / "en"))  # none in German


def test_the_french_example_copied_as_the_tutorial_says_lets_its_manager_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rallybot.bot.config import Settings
    from rallybot.bot.runner import run_bot

    copied = runner.invoke(app, ["--locale", "fr", "examples", "copy", str(tmp_path / "mine")])
    assert copied.exit_code == 0, copied.output
    folder = tmp_path / "mine" / "fr"
    # The points rules moved beside the campaigns are told apart as rules, not campaigns.
    (folder / "regles" / "points.yaml").rename(folder / "points.yaml")
    monkeypatch.setenv("RALLYBOT_CAMPAIGNS_DIR", str(folder))
    checked = runner.invoke(app, ["--locale", "fr", "validate", str(folder)])
    assert checked.exit_code == 0, checked.output
    assert "community manager" not in checked.output and "inconnue" not in checked.output
    code = asyncio.run(
        run_bot(
            Settings(),
            platform="console",
            campaign_paths=[folder],
            watch=False,
            interactive=False,
            stop_after=0.5,
        )
    )
    assert code == 0
    link = runner.invoke(
        app, ["--locale", "fr", "console", "link", "--manager", "console:animation"]
    )
    assert link.exit_code == 0, link.output
    assert "Lien de connexion à usage unique" in link.output
