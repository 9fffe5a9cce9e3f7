"""Files attached to Discord messages become the ``files`` of MessagePosted (links only)."""

from __future__ import annotations

from datetime import UTC, datetime

from rallybot.bot.adapters.discord.adapter import DiscordAdapter
from rallybot.bot.events import FileRef, MessagePosted

from . import payloads
from .adapter_support import (
    ALICE,
    GUILD,
    HELP_CHANNEL,
    PEOPLE,
    Recorder,
)

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
DM = 555_000_000_000_000_002


async def test_attachments_become_files_in_channels_and_dms(
    running: tuple[DiscordAdapter, Recorder],
) -> None:
    adapter, sink = running
    shot = payloads.attachment(
        attachment_id=payloads.snowflake(T0),
        channel_id=DM,
        filename="profile.png",
        size=48213,
        content_type="image/png",
    )
    notes = payloads.attachment(
        attachment_id=payloads.snowflake(T0),
        channel_id=HELP_CHANNEL,
        filename="notes.txt",
        size=12,
        content_type=None,
    )
    for channel_id, guild_id, content, attached in (
        (DM, None, "proof my new profile", [shot]),
        (HELP_CHANNEL, GUILD, "", [notes]),
        (HELP_CHANNEL, GUILD, "no file here", None),
    ):
        payloads.dispatch(
            adapter.client,
            "MESSAGE_CREATE",
            payloads.message_create(
                message_id=payloads.snowflake(T0),
                channel_id=channel_id,
                author_id=ALICE,
                author_name=PEOPLE[ALICE],
                content=content,
                timestamp=T0,
                **({"guild_id": guild_id} if guild_id else {}),
                **({"attachments": attached} if attached else {}),
            ),
        )
    direct, in_channel, plain = await sink.wait_for(3)
    assert isinstance(direct, MessagePosted) and direct.channel.is_direct
    assert direct.files == (
        FileRef(name="profile.png", url=shot["url"], mimetype="image/png", size=48213),
    )
    assert direct.files[0].url.startswith(f"https://cdn.discordapp.com/attachments/{DM}/")
    assert isinstance(in_channel, MessagePosted) and not in_channel.channel.is_direct
    assert in_channel.files == (FileRef(name="notes.txt", url=notes["url"], size=12),)
    assert isinstance(plain, MessagePosted) and plain.files == ()
