"""``rallybot slack manifest``: output and exit codes."""

from __future__ import annotations

from typing import Any

import yaml
from typer.testing import CliRunner

from rallybot.bot.adapters.slack.manifest import BOT_EVENTS, SCOPES
from rallybot.bot.cli import app

runner = CliRunner()


def test_slack_is_a_command_group() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "slack" in result.output
    result = runner.invoke(app, ["slack", "--help"])
    assert result.exit_code == 0
    assert "manifest" in result.output


def test_socket_mode_is_the_default() -> None:
    result = runner.invoke(app, ["slack", "manifest"])
    assert result.exit_code == 0, result.output
    manifest: dict[str, Any] = yaml.safe_load(result.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["oauth_config"]["scopes"]["bot"] == list(SCOPES)
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == list(BOT_EVENTS)
    assert "request_url" not in manifest["settings"]["event_subscriptions"]


def test_http_mode_appends_the_events_path() -> None:
    result = runner.invoke(
        app,
        [
            "slack",
            "manifest",
            "--mode",
            "http",
            "--request-url",
            "https://rallybot.example.com",
            "--name",
            "Connect",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(result.stdout)
    url = "https://rallybot.example.com/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["features"]["slash_commands"][0]["url"] == url
    assert manifest["display_information"]["name"] == "Connect"
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_http_mode_without_url_exits_2_with_a_clear_message() -> None:
    result = runner.invoke(app, ["slack", "manifest", "--mode", "http"])
    assert result.exit_code == 2
    assert "--request-url" in result.output
    assert result.stdout == "" or "_metadata" not in result.stdout


def test_a_plain_http_url_exits_2() -> None:
    result = runner.invoke(
        app, ["slack", "manifest", "--mode", "http", "--request-url", "http://insecure.example"]
    )
    assert result.exit_code == 2
    assert "https://" in result.output


def test_an_unknown_mode_is_a_usage_error() -> None:
    result = runner.invoke(app, ["slack", "manifest", "--mode", "webhook"])
    assert result.exit_code == 2
