"""A missing extra is named in one line: which feature needs it, what to install."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from rallybot.bot import extras
from rallybot.bot.adapters.base import create_adapter
from rallybot.bot.cli import main
from rallybot.bot.extras import MissingExtraError, missing_extra, require
from rallybot.storage.database import make_engine


def _without(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``modules`` look uninstalled to find_spec."""
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.partition(".")[0] in modules:
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_the_message_names_the_extra() -> None:
    error = MissingExtraError("Slack", "slack")
    assert str(error) == "Slack needs the slack extra: pip install 'rallybot[slack]'"
    assert str(missing_extra(ModuleNotFoundError("x", name="slack_bolt.app"))) == str(error)
    assert missing_extra(error) is error
    assert missing_extra(ModuleNotFoundError("x", name="yaml")) is None
    assert missing_extra(ValueError("x")) is None


def test_require_raises_only_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    require("matplotlib")  # installed in the dev environment
    _without(monkeypatch, "matplotlib")
    with pytest.raises(MissingExtraError, match=r"rallybot\[charts\]"):
        require("matplotlib")


def test_every_extra_module_is_known() -> None:
    assert {extra for _, extra in extras.EXTRA_OF_MODULE.values()} == {
        "slack",
        "discord",
        "postgres",
        "charts",
    }


def test_an_adapter_without_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(name: str) -> Any:
        raise ModuleNotFoundError("No module named 'slack_bolt'", name="slack_bolt")

    monkeypatch.setattr("importlib.import_module", fail)
    with pytest.raises(MissingExtraError, match=r"pip install 'rallybot\[slack\]'"):
        create_adapter("slack")


def test_the_command_line_prints_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom() -> None:
        raise ModuleNotFoundError("No module named 'discord'", name="discord")

    monkeypatch.setattr("rallybot.bot.cli.app", boom)
    monkeypatch.setenv("RALLYBOT_LOCALE", "en")  # no --locale: the app is replaced
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.strip() == "Discord needs the discord extra: pip install 'rallybot[discord]'"


def test_other_import_errors_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> None:
        raise ModuleNotFoundError("No module named 'yaml'", name="yaml")

    monkeypatch.setattr("rallybot.bot.cli.app", boom)
    with pytest.raises(ModuleNotFoundError):
        main()


def test_a_platform_names_its_own_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiohttp is needed by both platforms: without it, Discord asks for the discord extra."""

    def fail(name: str) -> Any:
        raise ModuleNotFoundError("No module named 'aiohttp'", name="aiohttp")

    monkeypatch.setattr("importlib.import_module", fail)
    with pytest.raises(MissingExtraError, match=r"^Discord needs .*rallybot\[discord\]"):
        create_adapter("discord")
    with pytest.raises(MissingExtraError, match=r"^Slack needs .*rallybot\[slack\]"):
        create_adapter("slack")


def test_postgresql_without_asyncpg(monkeypatch: pytest.MonkeyPatch) -> None:
    _without(monkeypatch, "asyncpg")
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'rallybot\[postgres\]'"):
        make_engine("postgresql://nobody@127.0.0.1:9/none")
