"""The configuration guide shows what the commands really print."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rallybot.bot.cli import app

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "configuration.md"
runner = CliRunner()


def _sessions() -> list[tuple[dict[str, str], list[str], list[str]]]:
    """(environment, arguments, expected stderr lines) of each ``$ NAME=value rallybot ...``
    line in the guide's console blocks."""
    sessions: list[tuple[dict[str, str], list[str], list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S):
        for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
            first, *shown = command.rstrip("\n").split("\n")
            words = shlex.split(first)
            env = dict(word.split("=", 1) for word in words if "=" in word and word[0].isupper())
            args = [word for word in words if word not in {f"{k}={v}" for k, v in env.items()}]
            assert args[0] == "rallybot"
            sessions.append((env, args[1:], shown))
    return sessions


SESSIONS = _sessions()


def test_the_guide_has_examples() -> None:
    assert len(SESSIONS) >= 7


@pytest.mark.parametrize(("env", "args", "shown"), SESSIONS, ids=[str(s[0]) for s in SESSIONS])
def test_each_example(env: dict[str, str], args: list[str], shown: list[str]) -> None:
    result = runner.invoke(app, args, env=env)
    assert result.stderr.splitlines() == shown
    assert result.exit_code == (0 if shown[0].startswith("Warning") else 2)
