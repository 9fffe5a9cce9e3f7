"""Replies, edits and deletions on Discord, from injected MESSAGE_CREATE / UPDATE / DELETE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rallybot.bot.adapters.discord.adapter import DiscordAdapter
from rallybot.bot.events import MessageDeleted, MessageEdited, MessagePosted

from . import payloads
from .adapter_support import (
    ALICE,
    GUILD,
    HELP_CHANNEL,
    PEOPLE,
    Recorder,
)

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
THREAD = 444_000_000_000_000_001


def _post(adapter: DiscordAdapter, message_id: int, text: str, **extra: object) -> None:
    payloads.dispatch(
        adapter.client,
        "MESSAGE_CREATE",
        payloads.message_create(
            message_id=message_id,
            channel_id=int(str(extra.pop("channel_id", HELP_CHANNEL))),
            author_id=ALICE,
            author_name=PEOPLE[ALICE],
            content=text,
            guild_id=GUILD,
            timestamp=T0,
            **extra,  # type: ignore[arg-type]
        ),
    )


def _edit(
    adapter: DiscordAdapter,
    message_id: int,
    text: str,
    edited_at: datetime | None,
    *,
    channel_id: int = HELP_CHANNEL,
    author_id: int = ALICE,
    bot: bool = False,
) -> None:
    payloads.dispatch(
        adapter.client,
        "MESSAGE_UPDATE",
        payloads.message_update(
            message_id=message_id,
            channel_id=channel_id,
            author_id=author_id,
            author_name=PEOPLE.get(author_id, "Rallybot"),
            content=text,
            edited_at=edited_at,
            guild_id=GUILD,
            timestamp=T0,
            bot=bot,
        ),
    )


async def test_a_reply_is_in_the_thread_of_the_message_it_answers(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    question = payloads.snowflake(T0)
    answer = payloads.snowflake(T0)
    _post(adapter, question, "Where is the wifi?")
    _post(adapter, answer, "Ask Bob", reply_to=question)
    first, second = await sink.wait_for(2)
    assert isinstance(first, MessagePosted) and first.thread_id is None
    assert isinstance(second, MessagePosted)
    assert second.thread_id == str(question) and second.channel.id == str(HELP_CHANNEL)


async def test_edits_become_message_edited_one_event_per_edit(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    message_id = payloads.snowflake(T0)  # not in the client's cache: the raw event still fires
    _edit(adapter, message_id, "Where is the wifi?", T0 + timedelta(minutes=1))
    _edit(adapter, message_id, "Where is the guest wifi?", T0 + timedelta(minutes=2))
    first, second = await sink.wait_for(2)
    assert isinstance(first, MessageEdited) and isinstance(second, MessageEdited)
    assert first.event_id.startswith(f"edit:{message_id}:") and first.event_id != second.event_id
    assert (first.message_id, first.text, first.user.id) == (
        str(message_id),
        "Where is the wifi?",
        str(ALICE),
    )
    assert first.channel.id == str(HELP_CHANNEL) and first.thread_id is None
    assert first.occurred_at == T0 + timedelta(minutes=1)
    assert second.text == "Where is the guest wifi?"


async def test_updates_that_are_not_edits_and_bots_edits_are_skipped(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    _edit(adapter, payloads.snowflake(T0), "link https://example.org", None)  # an embed added
    _edit(adapter, payloads.snowflake(T0), "beep", T0, author_id=payloads.BOT_ID, bot=True)
    marker = payloads.snowflake(T0)
    _edit(adapter, marker, "a real edit", T0)
    (event,) = await sink.wait_for(1)  # events arrive in order: the two above were dropped
    assert isinstance(event, MessageEdited) and event.message_id == str(marker)


async def test_an_edit_in_a_thread_names_the_parent_channel_and_the_thread(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    payloads.dispatch(
        adapter.client,
        "THREAD_CREATE",
        payloads.thread_channel(THREAD, GUILD, HELP_CHANNEL, "wifi", owner_id=ALICE),
    )
    message_id = payloads.snowflake(T0)
    _edit(adapter, message_id, "still no wifi", T0, channel_id=THREAD)
    (event,) = await sink.wait_for(1)
    assert isinstance(event, MessageEdited)
    assert (event.channel.id, event.thread_id) == (str(HELP_CHANNEL), str(THREAD))


async def test_a_deletion_names_the_author_when_the_message_was_cached(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    cached = payloads.snowflake(T0)
    _post(adapter, cached, "oops")  # discord.py keeps it in its message cache
    unknown = payloads.snowflake(T0)
    for message_id in (cached, unknown):
        payloads.dispatch(
            adapter.client,
            "MESSAGE_DELETE",
            payloads.message_delete(message_id=message_id, channel_id=HELP_CHANNEL, guild_id=GUILD),
        )
    _, known_delete, unknown_delete = await sink.wait_for(3)
    assert isinstance(known_delete, MessageDeleted) and isinstance(unknown_delete, MessageDeleted)
    assert known_delete.event_id == f"delete:{cached}"
    assert (known_delete.message_id, known_delete.user.id) == (str(cached), str(ALICE))
    assert known_delete.channel.id == str(HELP_CHANNEL) and not known_delete.channel.is_direct
    assert (unknown_delete.message_id, unknown_delete.user.id) == (str(unknown), "")


async def test_a_deletion_in_a_dm_is_direct(running: tuple[DiscordAdapter, Recorder]) -> None:
    adapter, sink = running
    dm = 555_000_000_000_000_001
    payloads.dispatch(
        adapter.client,
        "MESSAGE_DELETE",
        payloads.message_delete(message_id=payloads.snowflake(T0), channel_id=dm),
    )
    (event,) = await sink.wait_for(1)
    assert isinstance(event, MessageDeleted) and event.channel.is_direct
    assert event.channel.id == str(dm)
