"""The invite link: exactly the permissions and scopes Rallybot needs, and its CLI command."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
from typer.testing import CliRunner

from rallybot.bot.adapters.discord.invite import (
    INTENTS_HELP,
    PERMISSIONS,
    SCOPES,
    invite_url,
    required_intents,
)
from rallybot.bot.cli import app

runner = CliRunner()


def _query(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "discord.com", "/oauth2/authorize")
    return parse_qs(parts.query)


def test_the_permissions_are_exactly_what_the_bot_uses() -> None:
    granted = {name for name, value in PERMISSIONS if value}
    assert granted == {
        "read_messages",  # view_channel is its alias
        "send_messages",
        "send_messages_in_threads",
        "embed_links",
        "read_message_history",
        "add_reactions",
        "pin_messages",
        "manage_webhooks",
        "use_application_commands",
    }
    assert not PERMISSIONS.administrator
    assert not PERMISSIONS.manage_messages
    assert PERMISSIONS.value & (1 << 51)  # Pin Messages


def test_the_invite_url_carries_client_id_permissions_and_scopes() -> None:
    query = _query(invite_url("1234567890"))
    assert query["client_id"] == ["1234567890"]
    assert int(query["permissions"][0]) == PERMISSIONS.value
    assert query["scope"][0].split() == list(SCOPES) == ["bot", "applications.commands"]
    assert "guild_id" not in query


def test_a_guild_id_preselects_the_server() -> None:
    query = _query(invite_url("42", guild_id=987654321))
    assert query["guild_id"] == ["987654321"]
    assert query["disable_guild_select"] == ["true"]


def test_a_non_numeric_application_id_is_refused() -> None:
    with pytest.raises(ValueError, match="is a number"):
        invite_url("my-bot")


def test_intents_name_the_privileged_ones() -> None:
    assert "Server Members Intent — required" in INTENTS_HELP
    assert "Message Content Intent" in INTENTS_HELP
    intents = required_intents()
    assert intents.members and intents.guilds and intents.guild_reactions
    assert intents.message_content and not intents.presences
    assert not required_intents(message_content=False).message_content
    assert isinstance(intents, discord.Intents)


@pytest.fixture
def _no_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env around
    monkeypatch.delenv("DISCORD_APPLICATION_ID", raising=False)


@pytest.mark.usefixtures("_no_env")
def test_cli_prints_the_link_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_APPLICATION_ID", "555")
    result = runner.invoke(app, ["discord", "invite-url"])
    assert result.exit_code == 0, result.output
    url = result.stdout.strip().splitlines()[0]
    query = _query(url)
    assert query["client_id"] == ["555"]
    assert int(query["permissions"][0]) == PERMISSIONS.value
    assert "Server Members Intent" in result.stderr


@pytest.mark.usefixtures("_no_env")
def test_cli_options_override_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_APPLICATION_ID", "555")
    result = runner.invoke(
        app, ["discord", "invite-url", "--application-id", "777", "--guild-id", "31"]
    )
    assert result.exit_code == 0, result.output
    query = _query(result.stdout.strip())
    assert query["client_id"] == ["777"]
    assert query["guild_id"] == ["31"]


@pytest.mark.usefixtures("_no_env")
def test_cli_without_an_application_id_exits_2() -> None:
    result = runner.invoke(app, ["discord", "invite-url"])
    assert result.exit_code == 2
    assert "DISCORD_APPLICATION_ID" in result.stderr
    assert result.stdout == ""


@pytest.mark.usefixtures("_no_env")
def test_cli_with_a_bad_application_id_exits_2() -> None:
    result = runner.invoke(app, ["discord", "invite-url", "--application-id", "abc"])
    assert result.exit_code == 2
    assert "is a number" in result.stderr


def test_the_discord_group_is_listed() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "discord" in result.output
