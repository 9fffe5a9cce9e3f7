"""A platform whose sends survive the process: each accepted message is a line in a file.

Used by tests that kill real processes: the file plays the platform's own record, so a
second process can ask it whether a message already went out (``find_sent``), and the test
can count every message that reached "the platform" across processes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rallybot.bot.adapters.base import Capabilities, SentMessage
from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.messages import Message


class FileAdapter(MemoryAdapter):
    """A memory adapter that appends every accepted send to ``path`` (one JSON line each)."""

    platform = "memory"

    def __init__(self, path: Path, *, remembers_keys: bool = True, worker: str = "") -> None:
        super().__init__(
            remembers_keys=remembers_keys, capabilities=Capabilities(confirms_sends=remembers_keys)
        )
        self.path = path
        self.worker = worker

    def _append(self, kind: str, target: str, key: str | None, sent: SentMessage) -> None:
        line = (
            json.dumps(
                {
                    "kind": kind,
                    "target": target,
                    "key": key,
                    "worker": self.worker,
                    "channel": sent.channel_id,
                    "id": sent.message_id,
                }
            )
            + "\n"
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    async def post(
        self, channel_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        if self.before_send is not None:
            await self.before_send(idempotency_key)
        sent = SentMessage(channel_id, f"{self.worker}-{os.urandom(4).hex()}")
        self._append("post", channel_id, idempotency_key, sent)
        if self.after_send is not None:
            await self.after_send(idempotency_key)
        return sent

    async def send_direct(
        self, user_id: str, message: Message, *, idempotency_key: str | None = None
    ) -> SentMessage:
        if self.before_send is not None:
            await self.before_send(idempotency_key)
        sent = SentMessage(f"D-{user_id}", f"{self.worker}-{os.urandom(4).hex()}")
        self._append("dm", user_id, idempotency_key, sent)
        if self.after_send is not None:
            await self.after_send(idempotency_key)
        return sent

    async def find_sent(self, channel_or_user_id: str, idempotency_key: str) -> SentMessage | None:
        if not self.remembers_keys:
            return None
        for entry in read_sends(self.path):
            if entry["key"] == idempotency_key:
                return SentMessage(entry["channel"], entry["id"])
        return None


def read_sends(path: Path) -> list[dict[str, str]]:
    """Every send recorded in ``path``."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
