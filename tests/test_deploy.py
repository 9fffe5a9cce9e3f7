"""The deployment files: Dockerfile, compose.yaml and the systemd unit name only paths, commands
and settings that exist, and what they run works.

No container engine runs on the development machines or in CI, so the image is never built
here: instead the Dockerfile's COPY and RUN lines are replayed in a fresh virtual environment
(same files, same commands), then the image's start command and its HEALTHCHECK are run
against that install.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from rallybot.bot.cli import app
from rallybot.bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list), arguments
    return [str(v) for v in value]


def _variables() -> set[str]:
    """Every environment variable name the settings read."""
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias: Any = field.validation_alias
        choices = getattr(alias, "choices", None) or ([alias] if alias else [])
        names.update(str(choice) for choice in choices)
    return names


def _check_cli(arguments: list[str]) -> None:
    """``arguments`` parse as a ``rallybot`` command line (sub-commands and options exist)."""
    command: Any = typer.main.get_command(app)
    name, rest = "rallybot", list(arguments)
    while hasattr(command, "commands"):  # a group: the next word names a sub-command
        name, *rest = rest
        assert name in command.commands, f"no command {name!r} in {arguments}"
        command = command.commands[name]
    command.make_context(name, rest)  # raises a usage error for an unknown option


def test_check_cli_can_fail() -> None:
    with pytest.raises(Exception, match="no-such-option"):
        _check_cli(["run", "--no-such-option"])
    with pytest.raises(AssertionError):
        _check_cli(["db", "nothing"])
    _check_cli(["run", "--platform", "slack"])


def test_the_dockerfile_copies_files_that_exist_and_runs_rallybot() -> None:
    instructions = _instructions()
    stages = [args for word, args in instructions if word == "FROM"]
    assert len(stages) == 2, "multi-stage: build, then a runtime image"
    assert all("-slim" in stage for stage in stages)
    copied = []
    for word, args in instructions:
        if word == "COPY" and "--from=" not in args:
            *sources, _target = args.split()
            copied += sources
    for source in copied:
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    assert "requirements.lock" in copied
    users = [args for word, args in instructions if word == "USER"]
    assert users and users[-1] not in {"root", "0"}

    assert _exec_form(dict(instructions)["ENTRYPOINT"]) == ["rallybot"]
    command = _exec_form(dict(instructions)["CMD"])
    assert command[0] == "run"
    _check_cli(command)

    health = dict(instructions)["HEALTHCHECK"]
    assert "/readyz" in health
    code = _exec_form(health.split("CMD", 1)[1])
    assert code[:2] == ["python", "-c"]
    compile(code[2], "HEALTHCHECK", "exec")

    env = " ".join(args for word, args in instructions if word == "ENV")
    names = set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", env))
    ours = {n for n in names if n.startswith(("RALLYBOT_", "DATABASE_", "SLACK_", "DISCORD_"))}
    assert ours <= _variables(), f"unknown settings in the Dockerfile: {ours - _variables()}"
    assert {"RALLYBOT_HTTP_HOST", "RALLYBOT_HTTP_PORT"} <= ours


def test_the_compose_file_migrates_once_then_starts_two_replicas() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "bot"}
    migrate, bot = services["migrate"], services["bot"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert bot["deploy"]["replicas"] == 2
    for service in (migrate, bot):
        _check_cli(service["command"])
        assert service["build"] == "."
        for name in service["environment"]:
            assert name in _variables(), name
        for secret in service["secrets"]:  # read through RALLYBOT_SECRETS_DIR=/run/secrets
            assert secret in _variables(), secret
            assert secret in compose["secrets"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"].startswith("/run/")


def test_the_systemd_unit_runs_commands_that_exist() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "rallybot.service", encoding="utf-8")
    service = unit["Service"]
    assert service["EnvironmentFile"].startswith("/etc/rallybot/")
    assert service["User"] != "root"
    for key in ("ExecStartPre", "ExecStart"):
        program, *arguments = shlex.split(service[key])
        assert program == "/opt/rallybot/bin/rallybot", program
        _check_cli(arguments)
    assert shlex.split(service["ExecStartPre"])[1:] == ["db", "upgrade"]
    assert shlex.split(service["ExecStart"])[1] == "run"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
def test_the_image_install_and_start_commands_work_in_a_fresh_venv(tmp_path: Path) -> None:
    """Replay the Dockerfile: COPY into a folder, RUN with pip in a fresh venv (paths of the
    image mapped to tmp_path), then the entry point and the HEALTHCHECK."""
    instructions = _instructions()
    src, venv, wheels = tmp_path / "src", tmp_path / "opt", tmp_path / "wheels"
    src.mkdir()
    stages = [i for i, (word, _) in enumerate(instructions) if word == "FROM"]
    build_stage = instructions[stages[0] : stages[1]]
    for word, args in build_stage:
        if word == "COPY":
            *sources, _target = args.split()
            for source in sources:
                if (ROOT / source).is_dir():
                    shutil.copytree(
                        ROOT / source,
                        src / source,
                        ignore=shutil.ignore_patterns("__pycache__"),
                        symlinks=False,
                    )
                else:
                    shutil.copyfile(ROOT / source, src / source)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RALLYBOT_", "PIP_"))}
    env.pop("DATABASE_URL", None)
    env.pop("VIRTUAL_ENV", None)
    runs = [args for word, args in build_stage if word == "RUN"]
    assert runs[0] == "python -m venv /opt/rallybot"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for run in runs[1:]:
        mapped = run.replace("/opt/rallybot", str(venv)).replace("/wheels", str(wheels))
        done = subprocess.run(
            ["bash", "-c", mapped],
            cwd=src,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    # The image's settings, with its folders mapped under tmp_path; console instead of Slack
    # (no tokens here), and a free port.
    home = tmp_path / "srv"
    (home / "data").mkdir(parents=True)
    copied = subprocess.run(
        [str(venv / "bin" / "rallybot"), "examples", "copy", str(home / "examples")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert copied.returncode == 0, copied.stderr
    port = _free_port()
    env |= {
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "DATABASE_URL": f"sqlite:///{home / 'data' / 'rallybot.db'}",
        "RALLYBOT_CAMPAIGNS_DIR": str(home / "examples" / "en"),
        "RALLYBOT_HTTP_HOST": "127.0.0.1",
        "RALLYBOT_HTTP_PORT": str(port),
        "RALLYBOT_LOG_FORMAT": "json",
    }
    migrated = subprocess.run(
        ["rallybot", "db", "upgrade"],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    health = _exec_form(dict(instructions)["HEALTHCHECK"].split("CMD", 1)[1])
    entry = _exec_form(dict(instructions)["ENTRYPOINT"])
    command = _exec_form(dict(instructions)["CMD"])
    command[command.index("--platform") + 1] = "console"
    bot = subprocess.Popen(
        [*entry, *command, "--no-interactive"],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        ready = False
        while time.monotonic() < deadline and bot.poll() is None:
            probe = subprocess.run(health, cwd=home, env=env, capture_output=True, check=False)
            if probe.returncode == 0:
                ready = True
                break
            time.sleep(1)
        assert ready, "the HEALTHCHECK never passed"
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            output, _ = bot.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            bot.kill()
            output, _ = bot.communicate()
    assert bot.returncode == 0, output[-3000:]
