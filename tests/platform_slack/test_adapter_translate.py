"""The pure translation of Slack payloads into neutral events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from rallybot.bot.adapters.slack.adapter import (
    clicks_from_block_actions,
    command_from_slash,
    event_from_callback,
)
from rallybot.bot.adapters.slack.render import LINK_ACTION_PREFIX
from rallybot.bot.events import (
    FileRef,
    MemberProfile,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ProfileChanged,
    ReactionAdded,
)
from tests.platform_slack import payloads as p

T0 = 1_790_000_000
NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
PAYLOADS = Path(__file__).parent / "payloads"


def wrap(event: dict[str, object], event_id: str = "Ev1") -> dict[str, object]:
    return p.event_callback(event, event_id=event_id, event_time=T0)


def test_people_messages_pass_and_the_rest_is_ignored() -> None:
    base = p.message_event(user="U1", channel="C1", text="hi", ts=p.ts_at(T0))
    broadcast = event_from_callback(wrap({**base, "subtype": "thread_broadcast"}))
    assert isinstance(broadcast, MessagePosted) and broadcast.text == "hi"
    assert event_from_callback(wrap({**base, "subtype": "file_share"})) is not None
    for subtype in ("channel_join", "bot_message", "channel_topic"):
        assert event_from_callback(wrap({**base, "subtype": subtype})) is None
    assert event_from_callback(wrap({**base, "bot_id": "B1"})) is None
    assert event_from_callback(wrap({"type": "emoji_changed"})) is None


def test_a_mention_and_its_message_share_one_id() -> None:
    ts = p.ts_at(T0, 3)
    message = event_from_callback(
        wrap(p.message_event(user="U1", channel="C1", text="<@UBOT> hi", ts=ts), "EvA")
    )
    mention = event_from_callback(
        wrap(p.app_mention_event(user="U1", channel="C1", text="hi", ts=ts), "EvB")
    )
    assert message is not None and mention is not None
    assert message.event_id == mention.event_id == f"message:C1:{ts}"
    assert message.occurred_at.replace(microsecond=0) == datetime.fromtimestamp(T0, UTC)


def test_reactions_on_files_are_ignored() -> None:
    on_file = p.reaction_added_event(
        user="U1", reaction="+1", channel="C1", ts=p.ts_at(T0), event_ts=p.ts_at(T0, 1)
    )
    on_file["item"] = {"type": "file", "file": "F1"}
    assert event_from_callback(wrap(on_file)) is None
    on_message = p.reaction_added_event(
        user="U1", reaction="+1", channel="D1", ts=p.ts_at(T0), event_ts=p.ts_at(T0, 1)
    )
    event = event_from_callback(wrap(on_message))
    assert isinstance(event, ReactionAdded) and event.channel.is_direct


def test_block_actions_skip_links_and_strip_duplicate_suffixes() -> None:
    body = p.block_actions(
        user_id="U1", channel_id="D7", message_ts=p.ts_at(T0), action_id="quiz::dup2", value="c"
    )
    link = dict(body["actions"][0], action_id=f"{LINK_ACTION_PREFIX}1")
    body["actions"] = [*body["actions"], link, dict(body["actions"][0], action_id="other")]
    clicks = clicks_from_block_actions(body, now=NOW)
    assert [c.action_id for c in clicks] == ["quiz", "other"]
    assert len({c.event_id for c in clicks}) == 2
    assert clicks[0].channel.is_direct and clicks[0].value == "c"
    assert clicks_from_block_actions({**body, "user": {}}, now=NOW) == []


def test_slash_command_words() -> None:
    fields = p.slash_command("  Pause   connect-launch ", "U1", "D1", channel_name="directmessage")
    command = command_from_slash(fields, now=NOW)
    assert (command.name, command.args) == ("pause", ("connect-launch",))
    assert command.channel is not None and command.channel.is_direct
    assert command.event_id == fields["trigger_id"] and command.occurred_at == NOW
    assert command_from_slash(p.slash_command("", "U1", "C1"), now=NOW).name == "help"


def test_slash_command_text_is_unescaped_but_mentions_are_kept() -> None:
    fields = p.slash_command("kudos <@U2|ana> R&amp;D &lt;3", "U1", "C1")
    command = command_from_slash(fields, now=NOW)
    assert (command.name, command.args) == ("kudos", ("<@U2|ana>", "R&D", "<3"))


def test_an_edit_becomes_message_edited_with_one_id_per_edit() -> None:
    ts = p.ts_at(T0)
    first, second = (
        event_from_callback(
            wrap(
                p.message_changed_event(
                    user="U1",
                    channel="C1",
                    ts=ts,
                    text=text,
                    previous_text="Where is the wifi",
                    edited_ts=p.ts_at(T0 + n),
                    thread_ts=p.ts_at(T0 - 60),
                ),
                f"Ev{n}",
            )
        )
        for n, text in ((10, "Where is the wifi?"), (20, "Where is the guest wifi?"))
    )
    assert isinstance(first, MessageEdited) and isinstance(second, MessageEdited)
    assert first.event_id == f"edit:C1:{ts}:{p.ts_at(T0 + 10)}"
    assert first.event_id != second.event_id
    assert (first.message_id, first.text, first.user.id) == (ts, "Where is the wifi?", "U1")
    assert first.channel.id == "C1" and first.thread_id == p.ts_at(T0 - 60)
    assert second.text == "Where is the guest wifi?"
    assert first.occurred_at == datetime.fromtimestamp(float(p.ts_at(T0 + 10)), UTC)


def test_a_change_without_an_edit_is_not_an_edit() -> None:
    changed = p.message_changed_event(
        user="U1", channel="C1", ts=p.ts_at(T0), text="hi", previous_text="hi", edited_ts=None
    )
    assert event_from_callback(wrap(changed)) is None
    edited_bot = p.message_changed_event(
        user="UBOT",
        channel="C1",
        ts=p.ts_at(T0),
        text="a",
        previous_text="b",
        edited_ts=p.ts_at(T0, 1),
    )
    edited_bot["message"]["bot_id"] = "B1"
    assert event_from_callback(wrap(edited_bot)) is None


def test_a_deletion_becomes_message_deleted() -> None:
    ts = p.ts_at(T0)
    body = p.message_deleted_event(
        user="U1", channel="C1", deleted_ts=ts, text="oops", event_ts=p.ts_at(T0 + 5)
    )
    event = event_from_callback(wrap(body))
    assert isinstance(event, MessageDeleted)
    assert event.event_id == f"delete:C1:{ts}"
    assert (event.message_id, event.user.id, event.channel.id) == (ts, "U1", "C1")
    assert event.thread_id is None
    del body["previous_message"]
    anonymous = event_from_callback(wrap(body))
    assert isinstance(anonymous, MessageDeleted) and anonymous.user.id == ""


def test_a_user_change_becomes_profile_changed_with_the_new_profile() -> None:
    recorded = json.loads((PAYLOADS / "event_user_change.json").read_text(encoding="utf-8"))
    event = event_from_callback(recorded)
    assert isinstance(event, ProfileChanged)
    assert event.event_id == "Ev07USRCHG01" and event.user.key == "slack:U05DAVIDT"
    assert event.occurred_at == datetime.fromtimestamp(1757925300, UTC)
    assert event.profile == MemberProfile(
        user_id="U05DAVIDT",
        display_name="david",
        first_name="David",
        locale="en-US",
        timezone="America/Montreal",
        is_bot=False,
        profile_complete=True,  # a real name, a title and a photo of his own
    )
    # The same member before: no title, Slack's default avatar.
    before = p.user_object("U05DAVIDT", "david", "David", tz="America/Montreal")
    earlier = event_from_callback(wrap(p.user_change_event(before, event_ts=p.ts_at(T0))))
    assert isinstance(earlier, ProfileChanged) and not earlier.profile.profile_complete
    # user_profile_changed (sent alongside when subscribed) carries the same user object.
    twin = {**recorded["event"], "type": "user_profile_changed"}
    same = event_from_callback(wrap(twin, "Ev2"))
    assert isinstance(same, ProfileChanged) and same.profile == event.profile


def test_user_changes_of_deactivated_accounts_and_bots_are_ignored() -> None:
    gone = p.user_object("U1", "ana", "Ana", deleted=True)
    robot = p.user_object("B1", "helper", "Helper", is_bot=True)
    for user in (gone, robot, {"id": ""}):
        assert event_from_callback(wrap(p.user_change_event(user, event_ts=p.ts_at(T0)))) is None
    no_id = p.event_callback(
        p.user_change_event(p.user_object("U1", "ana", "Ana"), event_ts=p.ts_at(T0)),
        event_id="",
        event_time=T0,
    )
    assert event_from_callback(no_id) is None


def test_a_file_share_message_carries_its_files_as_links() -> None:
    recorded = json.loads((PAYLOADS / "event_im_file_share.json").read_text(encoding="utf-8"))
    event = event_from_callback(recorded)
    assert isinstance(event, MessagePosted)
    assert event.channel.is_direct and event.text == "proof my new profile"
    assert event.event_id == "message:D0ANADM01:1757925600.000500"
    # The Slack Connect file Slack does not describe is left out; the other is kept as a link.
    assert event.files == (
        FileRef(
            name="profile.png",
            url="https://rallybot-demo.slack.com/files/U04ANAL1MA/F07PROOF01/profile.png",
            mimetype="image/png",
            size=48213,
        ),
    )
    # Without a permalink, the private URL; a plain message has no files.
    bare = dict(recorded["event"]["files"][0])
    del bare["permalink"]
    only_private = event_from_callback(wrap({**recorded["event"], "files": [bare]}))
    assert isinstance(only_private, MessagePosted)
    assert [f.url for f in only_private.files] == [bare["url_private"]]
    plain = event_from_callback(
        wrap(p.message_event(user="U1", channel="C1", text="hi", ts=p.ts_at(T0)))
    )
    assert isinstance(plain, MessagePosted) and plain.files == ()
