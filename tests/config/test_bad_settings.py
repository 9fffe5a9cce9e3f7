"""Every bad setting: one line naming the variable, the value (never a secret) and what is
expected; exit code 2; no traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app

runner = CliRunner()

CASES = [
    ("RALLYBOT_LOG_LEVEL", "verbose", 'RALLYBOT_LOG_LEVEL="verbose": expected one of DEBUG, INFO'),
    ("RALLYBOT_LOG_LEVEL", "", None),  # empty: the default
    (
        "RALLYBOT_LOG_FORMAT",
        "jsn",
        'RALLYBOT_LOG_FORMAT="jsn": expected text or json (did you mean "json"?)',
    ),
    ("DATABASE_URL", "notaurl", 'DATABASE_URL="notaurl": expected sqlite:///PATH or postgresql://'),
    ("DATABASE_URL", "mysql://db/x", 'DATABASE_URL="mysql://db/x": expected sqlite:///PATH'),
    ("DATABASE_URL", "sqlite:relative.db", 'DATABASE_URL="sqlite:relative.db": expected'),
    ("DATABASE_URL", "postgresql://db:99999/x", "the port must be a number from 1 to 65535"),
    (
        "RALLYBOT_TIMEZON",
        "UTC",
        "Unknown setting RALLYBOT_TIMEZON: did you mean RALLYBOT_TIMEZONE?",
    ),
    ("RALLYBOT_LOCALE", "klingon", 'RALLYBOT_LOCALE="klingon": expected a language code'),
    ("RALLYBOT_HTTP_PORT", "70000", 'RALLYBOT_HTTP_PORT="70000": expected a TCP port number'),
    ("RALLYBOT_HTTP_PORT", "http", 'RALLYBOT_HTTP_PORT="http": expected a whole number.'),
    ("RALLYBOT_SECRETS_DIR", "nowhere", 'RALLYBOT_SECRETS_DIR="nowhere": expected a folder'),
    ("RALLYBOT_GRACE_MINUTES", "-5", 'RALLYBOT_GRACE_MINUTES="-5": expected 0 or more.'),
    ("RALLYBOT_DB_WAIT_SECONDS", "soon", 'RALLYBOT_DB_WAIT_SECONDS="soon": expected a number.'),
    ("SLACK_API_URL", "slack.com/api", 'SLACK_API_URL="slack.com/api": expected an http://'),
    ("RALLYBOT_UNKNOWN_VARIABLES", "maybe", "expected 'error', 'warn' or 'ignore'"),
    ("RALLYBOT_TIMEZONE", "Mars/Olympus", 'RALLYBOT_TIMEZONE="Mars/Olympus": unknown time zone'),
]


@pytest.mark.parametrize(("name", "value", "line"), CASES, ids=[f"{c[0]}={c[1]}" for c in CASES])
def test_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str | None
) -> None:
    monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    if line is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert line in lines[0]
    assert lines[0].startswith(("Invalid setting ", "Unknown setting "))


@pytest.mark.parametrize(
    "command",
    [
        ["campaign", "list"],
        ["report"],
        ["health"],
        ["reload"],
        ["db", "upgrade"],
        ["teams", "sync"],
        ["roster", "import", "x.csv"],
        ["plan", "x.yaml"],
        ["run"],
        ["demo"],
        ["try", "."],
        ["config", "check"],
    ],
)
def test_every_command_that_reads_settings_reports_them(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("RALLYBOT_LOG_LEVEL", "verbose")
    result = runner.invoke(app, ["--locale", "en", *command])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        'Invalid setting RALLYBOT_LOG_LEVEL="verbose": expected one of DEBUG, INFO, WARNING, '
        "ERROR, CRITICAL (DEBUG is the most detailed)"
    ]


def test_several_problems_give_one_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RALLYBOT_LOG_FORMAT", "xml")
    monkeypatch.setenv("RALLYBOT_LOCALE", "??")
    monkeypatch.setenv("RALLYBOT_QUIET_HOUR", "22:00-07:00")
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert lines[-1].startswith(
        "Unknown setting RALLYBOT_QUIET_HOUR: did you mean RALLYBOT_QUIET_HOURS?"
    )


def test_secret_values_never_appear_in_error_lines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://rallybot:pw-s3cret-db@db:70000/rallybot")
    token = tmp_path / "token"
    token.write_text("")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(token))
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f'Invalid setting SLACK_BOT_TOKEN_FILE="{token}": the file is empty; expected it to '
        "hold SLACK_BOT_TOKEN."
    ]
    token.write_text("xoxb-s3cret-token\n")
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        'Invalid setting DATABASE_URL="postgresql://rallybot:***@db:70000/rallybot": the port '
        "must be a number from 1 to 65535; expected sqlite:///PATH or "
        "postgresql://USER:PASSWORD@HOST:PORT/NAME."
    ]
    assert "s3cret" not in result.output


def test_a_value_read_from_a_file_is_not_shown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "grace").write_text("minus-five\n")
    monkeypatch.setenv("RALLYBOT_GRACE_MINUTES_FILE", str(tmp_path / "grace"))
    result = runner.invoke(app, ["--locale", "en", "db", "current"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Invalid setting RALLYBOT_GRACE_MINUTES (read from RALLYBOT_GRACE_MINUTES_FILE, value "
        "hidden): expected a whole number."
    ]


@pytest.mark.parametrize("name", ["RALLYBOT_RULES", "RALLYBOT_FAQ", "RALLYBOT_ROSTER"])
def test_run_checks_the_files_the_settings_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    monkeypatch.setenv(name, "missing.yaml")
    result = runner.invoke(app, ["--locale", "en", "run", "--campaigns", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f'Invalid setting {name}="missing.yaml": expected a file (no such file: '
        f"{tmp_path / 'missing.yaml'})."
    ]
    monkeypatch.setenv(name, str(tmp_path))
    result = runner.invoke(app, ["--locale", "en", "run", "--campaigns", str(tmp_path)])
    assert result.exit_code == 2
    assert "expected a file (it is a folder)." in result.stderr


def _rallybot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RALLYBOT_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-m", "rallybot.bot", "--locale", "en", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_rallybot_run_fails_fast_in_a_real_process(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "RALLYBOT_LOG_FORMAT": "jsn"}
    proc = _rallybot(["run", "--campaigns", str(tmp_path)], env, tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        'Invalid setting RALLYBOT_LOG_FORMAT="jsn": expected text or json (did you mean "json"?)'
    ]
    assert proc.stdout == ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_postgresql_at_start_is_retried_then_one_line(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": "postgresql://rallybot:pw-s3cret@127.0.0.1:1/rallybot",
        "RALLYBOT_DB_WAIT_SECONDS": "1.2",
        "RALLYBOT_LOG_FORMAT": "json",
        "RALLYBOT_HTTP_PORT": str(_free_port()),
    }
    proc = _rallybot(["run", "--campaigns", str(tmp_path), "--no-interactive"], env, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "s3cret" not in proc.stderr
    records = [json.loads(line) for line in proc.stderr.splitlines()]
    retries = [r for r in records if "not reachable yet" in r["message"]]
    assert len(retries) >= 2  # 0.5 s, then what is left of the 1.2 s
    assert {r["level"] for r in retries} == {"warning"}
    errors = [r["message"] for r in records if r["level"] == "error"]
    assert len(errors) == 1
    assert errors[0].startswith(
        "Cannot reach the database postgresql://rallybot:***@127.0.0.1:1/rallybot after 1.2 s and "
    )
    assert "Connect call failed" in errors[0]


def test_run_refuses_an_in_memory_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Programs that build their settings (tests, embedding) may use sqlite://; a bot that
    # runs must not: everything would be lost at each restart.
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    result = runner.invoke(app, ["--locale", "en", "run", "--campaigns", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        'Invalid setting DATABASE_URL="sqlite://": expected sqlite:///PATH, a file (an '
        "in-memory database would lose everything at each restart)."
    ]
