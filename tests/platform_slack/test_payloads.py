"""The payload builders produce the shapes of the recorded Slack payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.platform_slack import payloads as p

RECORDED = Path(__file__).parent / "payloads"


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def shape(value: Any) -> Any:
    """The structure of a JSON value: its keys, recursively, and the types of its leaves."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def test_a_channel_message_in_its_envelope() -> None:
    example = recorded("event_callback_message.json")
    event = p.message_event(
        user="U04ANAL1MA",
        channel="C0GENERAL",
        text="Hello everyone, glad to be here!",
        ts="1757925000.000200",
    )
    built = p.event_callback(event, event_id="Ev07MSG00001", event_time=1757925000)
    assert shape(built) == shape(example)
    for key in ("type", "team_id", "api_app_id", "event_id", "event_time", "authorizations"):
        assert built[key] == example[key]
    for key in ("type", "user", "text", "ts", "channel", "channel_type", "event_ts", "team"):
        assert built["event"][key] == example["event"][key]
    assert built["event"]["blocks"][0]["elements"] == example["event"]["blocks"][0]["elements"]


def test_a_thread_reply() -> None:
    example = recorded("event_thread_reply.json")
    built = p.thread_reply_event(
        user="U04ANAL1MA",
        channel="C0GENERAL",
        text="Count me in",
        ts="1757925300.000300",
        thread_ts="1757925000.000100",
    )
    assert shape(built) == shape(example)
    assert {k: v for k, v in built.items() if k not in ("client_msg_id", "blocks")} == {
        k: v for k, v in example.items() if k not in ("client_msg_id", "blocks")
    }


def test_a_direct_message() -> None:
    example = recorded("event_im_message.json")
    built = p.im_message_event(
        user="U04ANAL1MA", channel="D0ANADM01", text="help", ts="1757925400.000400"
    )
    assert shape(built) == shape(example)
    assert built["channel_type"] == "im" and "thread_ts" not in built


def test_reactions() -> None:
    example = recorded("event_reaction_added.json")
    added = p.reaction_added_event(
        user="U04ANAL1MA",
        reaction="tada",
        channel="C0GENERAL",
        ts="1757925000.000100",
        event_ts="1757925060.000500",
    )
    assert added == example
    removed = p.reaction_removed_event(
        user="U04ANAL1MA",
        reaction="tada",
        channel="C0GENERAL",
        ts="1757925000.000100",
        event_ts="1757925060.000500",
    )
    assert removed == {**example, "type": "reaction_removed"}


def test_member_joined_channel() -> None:
    example = recorded("event_member_joined_channel.json")
    built = p.member_joined_channel_event(
        user="U05DAVIDT", channel="C0GENERAL", inviter="U04ANAL1MA", event_ts="1757925100.000600"
    )
    assert built == example
    assert "inviter" not in p.member_joined_channel_event(user="U1", channel="C1", event_ts="1.0")


def test_app_mention() -> None:
    example = recorded("event_app_mention.json")
    built = p.app_mention_event(
        user="U04ANAL1MA", channel="C0GENERAL", text="what is Connect?", ts="1757925200.000700"
    )
    assert shape(built) == shape(example)
    assert built["text"] == example["text"]
    assert built["blocks"][0]["elements"] == example["blocks"][0]["elements"]


def test_team_join_carries_a_real_user_object() -> None:
    example = recorded("users_info_complete.json")["user"]
    user = p.user_object(
        "U04ANAL1MA",
        "ana",
        "Ana",
        title="Product Designer",
        custom_image=True,
        locale="fr-FR",
    )
    assert shape(user) == shape(example)
    event = p.team_join_event(user, event_ts="1757925100.000800")
    assert event["type"] == "team_join" and event["user"] is user
    plain = p.user_object("U05DAVIDT", "david", "David")
    assert shape(plain) == shape(recorded("users_info_default_avatar.json")["user"])


def test_block_actions() -> None:
    example = recorded("block_actions_button.json")
    built = p.block_actions(
        user_id="U04ANAL1MA",
        user_name="ana",
        channel_id="D0ANADM01",
        message_ts="1757925000.000100",
        action_id="pilot-rsvp",
        value="connect-launch/pilot-invitation",
        label="Count me in",
        block_id="hV5nS",
        action_ts="1757925031.412233",
        message=example["message"],
    )
    action = dict(built["actions"][0], style="primary")  # the style comes with the button
    assert action == example["actions"][0]
    assert shape({**built, "actions": [action]}) == shape(example)
    for key in ("type", "user", "container", "channel", "team", "api_app_id", "message"):
        assert built[key] == example[key]
    no_value = p.block_actions(
        user_id="U1", channel_id="C1", message_ts="1.0", action_id="a", action_ts="2.0"
    )
    assert "value" not in no_value["actions"][0]
    assert no_value["channel"]["name"] == "general"
    assert no_value["message"]["ts"] == "1.0"


def test_slash_command() -> None:
    example = recorded("slash_command.json")
    built = p.slash_command("points", "U04ANAL1MA", "C0GENERAL", user_name="ana")
    assert built.keys() == example.keys()
    varying = ("response_url", "trigger_id")
    assert {k: v for k, v in built.items() if k not in varying} == {
        k: v for k, v in example.items() if k not in varying
    }
    assert built["response_url"].startswith("https://hooks.slack.com/commands/")
    assert all(isinstance(v, str) for v in built.values())


def test_url_verification() -> None:
    example = recorded("url_verification.json")
    assert p.url_verification(example["challenge"]) == example


@pytest.mark.parametrize(("seconds", "sequence", "ts"), [(1757925000, 0, "1757925000.000000")])
def test_ts_at(seconds: int, sequence: int, ts: str) -> None:
    assert p.ts_at(seconds, sequence) == ts
    assert p.ts_at(1757925000.9, 12) == "1757925000.000012"


def test_user_change_carries_the_whole_user_object() -> None:
    example = recorded("event_user_change.json")
    user = p.user_object(
        "U05DAVIDT",
        "david",
        "David",
        tz="America/Montreal",
        title="Support Engineer",
        custom_image=True,
        locale="en-US",
    )
    event = p.user_change_event(user, event_ts="1757925300.001200")
    built = p.event_callback(event, event_id="Ev07USRCHG01", event_time=1757925300)
    assert shape(built) == shape(example)
    assert {k: v for k, v in event.items() if k != "user"} == {
        k: v for k, v in example["event"].items() if k != "user"
    }
