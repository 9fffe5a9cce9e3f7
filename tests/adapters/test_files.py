"""Sending files: the optional ``send_file`` of the memory and console adapters, and how
handlers find it (:func:`~bot.adapters.base.file_sender`)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from rallybot.bot.adapters.base import AdapterError, Capabilities, SentMessage, file_sender
from rallybot.bot.adapters.console import ConsoleAdapter
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.messages import Message

PNG = b"\x89PNG\r\n\x1a\n" + bytes(12_000)


def test_file_sender_follows_the_capabilities() -> None:
    memory = MemoryAdapter()
    assert file_sender(memory) == memory.send_file
    assert file_sender(MemoryAdapter(capabilities=Capabilities(files=False))) is None
    assert file_sender(object()) is None  # an adapter without send_file


async def test_memory_records_files_to_members_and_channels() -> None:
    adapter = MemoryAdapter()
    dm = await adapter.send_file(
        "ana", "funnel.png", PNG, Message(text="Charts"), title="Funnel", alt_text="A funnel"
    )
    post = await adapter.send_file("C1", "help.png", PNG, in_channel=True)
    first, second = adapter.files
    assert (first.target, first.direct, first.filename, first.content) == (
        "ana",
        True,
        "funnel.png",
        PNG,
    )
    assert (first.title, first.alt_text, first.message) == ("Funnel", "A funnel", Message("Charts"))
    assert dm == first.sent and dm.channel_id == "dm-ana"
    assert (second.target, second.direct, post.channel_id) == ("C1", False, "C1")
    assert adapter.delivered == []  # files are not messages: sent_to() stays as it was
    adapter.fail_next_files()
    with pytest.raises(AdapterError, match="injected upload failure"):
        await adapter.send_file("ana", "funnel.png", PNG)
    assert len(adapter.files) == 2
    adapter.clear()
    assert adapter.files == []


async def test_console_saves_the_file_and_says_where(tmp_path: Path) -> None:
    out = io.StringIO()
    adapter = ConsoleAdapter(console=Console(file=out, width=200), files_dir=tmp_path / "out")
    sent = await adapter.send_file("you", "funnel.png", PNG, Message(text="📈 Charts"))
    saved = tmp_path / "out" / "funnel.png"
    assert saved.read_bytes() == PNG
    printed = out.getvalue()
    assert "📈 Charts" in printed  # the comment is shown as a direct message
    assert f"[file] funnel.png (12 kB) saved to {saved} (✉ to you)" in printed
    assert sent.channel_id == "dm-you"
    await adapter.send_file("general", "../help.png", b"x" * 400, in_channel=True)
    assert (tmp_path / "out" / "help.png").read_bytes() == b"x" * 400  # never outside the folder
    assert "[file] help.png (1 kB) saved to" in out.getvalue()
    assert "(#general)" in out.getvalue()


async def test_console_makes_a_folder_when_none_is_given() -> None:
    out = io.StringIO()
    adapter = ConsoleAdapter(console=Console(file=out, width=300))
    sent = await adapter.send_file("you", "points.png", PNG, title="Points distribution")
    assert adapter.files_dir is not None
    assert (adapter.files_dir / "points.png").read_bytes() == PNG
    assert "[file] points.png (12 kB) — Points distribution saved to" in out.getvalue()
    assert sent == SentMessage("dm-you", "console-file-points.png")


async def test_console_reports_a_folder_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    adapter = ConsoleAdapter(console=Console(file=io.StringIO()), files_dir=blocker)
    with pytest.raises(AdapterError, match=r"cannot save funnel\.png"):
        await adapter.send_file("you", "funnel.png", PNG)
