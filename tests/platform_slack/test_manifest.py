"""The Slack app manifest: exactly the scopes and events the adapter needs, both modes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from rallybot.bot.adapters.slack.manifest import (
    BOT_EVENTS,
    SCOPES,
    build_manifest,
    events_url,
    manifest_yaml,
)

# Slack's documented scope requirement of each event the adapter subscribes to
EVENT_SCOPES = {
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.im": {"im:history"},
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
    "member_joined_channel": {"channels:read", "groups:read"},
    "team_join": {"users:read"},
    "user_change": {"users:read"},
    "app_mention": {"app_mentions:read"},
    "app_home_opened": set(),  # Slack's event types: no scope for the App Home tab
}
# and of each Web API method it calls
METHOD_SCOPES = {
    "chat.postMessage": {"chat:write"},
    "chat.postMessage with username/icon_url": {"chat:write.customize"},
    "chat.update": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "pins.add": {"pins:write"},
    "reactions.add": {"reactions:write"},
    "conversations.open": {"im:write"},
    "conversations.history": {"channels:history", "groups:history", "im:history"},
    "conversations.replies": {"channels:history", "groups:history", "im:history"},
    "conversations.members": {"channels:read", "groups:read"},
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "users.lookupByEmail": {"users:read", "users:read.email"},
    "usergroups.list": {"usergroups:read"},
    "views.open": set(),  # needs no scope (a trigger_id from an interaction)
    "views.publish": set(),  # the App Home tab: no scope
    "files.getUploadURLExternal": {"files:write"},  # the charts of /rallybot stats
    "files.completeUploadExternal": {"files:write"},
    "/rallybot": {"commands"},
}


def test_the_scopes_are_exactly_those_needed() -> None:
    needed = set().union(*EVENT_SCOPES.values(), *METHOD_SCOPES.values())
    assert set(SCOPES) == needed
    assert len(SCOPES) == len(set(SCOPES))


def test_the_events_are_those_the_adapter_handles() -> None:
    assert set(BOT_EVENTS) == set(EVENT_SCOPES)


def test_socket_mode_manifest() -> None:
    manifest = build_manifest(mode="socket")
    assert list(manifest) == [
        "_metadata",
        "display_information",
        "features",
        "oauth_config",
        "settings",
    ]
    assert manifest["display_information"]["name"] == "Rallybot"
    assert manifest["features"]["bot_user"] == {"display_name": "Rallybot", "always_online": True}
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/rallybot"
    assert "url" not in command  # Socket Mode: commands come over the socket
    assert command["description"] and command["usage_hint"]
    assert command["should_escape"] is True  # "@ana" arrives as "<@U123|ana>" for kudos
    assert manifest["oauth_config"] == {"scopes": {"bot": list(SCOPES)}}
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["event_subscriptions"] == {"bot_events": list(BOT_EVENTS)}
    assert settings["interactivity"] == {"is_enabled": True}


def test_http_mode_manifest_points_everything_at_the_events_url() -> None:
    manifest = build_manifest(mode="http", request_url="https://bot.example.com")
    url = "https://bot.example.com/slack/events"
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["event_subscriptions"]["bot_events"] == list(BOT_EVENTS)
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert manifest["features"]["slash_commands"][0]["url"] == url


def test_http_mode_without_a_url_is_refused() -> None:
    with pytest.raises(ValueError, match="HTTP mode needs"):
        build_manifest(mode="http")
    with pytest.raises(ValueError, match="https://"):
        build_manifest(mode="http", request_url="http://bot.example.com")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://bot.example.com", "https://bot.example.com/slack/events"),
        ("https://bot.example.com/", "https://bot.example.com/slack/events"),
        ("https://bot.example.com/slack/events", "https://bot.example.com/slack/events"),
        ("https://example.com/rallybot/", "https://example.com/rallybot/slack/events"),
        ("https://example.com:8443/slack/events/", "https://example.com:8443/slack/events"),
    ],
)
def test_events_url(given: str, expected: str) -> None:
    assert events_url(given) == expected


@pytest.mark.parametrize("bad", ["", "bot.example.com", "ftp://x", "https://"])
def test_events_url_refuses_non_https(bad: str) -> None:
    with pytest.raises(ValueError):
        events_url(bad)


def test_name_and_command_are_checked_and_used() -> None:
    manifest = build_manifest(mode="socket", name="Connect Buddy", command="/connect")
    assert manifest["display_information"]["name"] == "Connect Buddy"
    assert manifest["features"]["bot_user"]["display_name"] == "Connect Buddy"
    assert manifest["features"]["slash_commands"][0]["command"] == "/connect"
    with pytest.raises(ValueError):
        build_manifest(mode="socket", name="x" * 36)
    with pytest.raises(ValueError):
        build_manifest(mode="socket", command="rallybot")
    with pytest.raises(ValueError):
        build_manifest(mode="socket", command="/Rally Bot")


def test_yaml_round_trips_in_slacks_key_order() -> None:
    text = manifest_yaml(mode="http", request_url="https://bot.example.com")
    loaded: dict[str, Any] = yaml.safe_load(text)
    assert loaded == build_manifest(mode="http", request_url="https://bot.example.com")
    assert text.startswith("_metadata:\n")
    assert text.index("display_information:") < text.index("oauth_config:")
    assert "- chat:write.customize\n" in text
    assert "- files:write\n" in text
    assert "- usergroups:read\n" in text
