"""Platform adapters: each translates native payloads to neutral events and renders messages."""

from rallybot.bot.adapters.base import (
    ADAPTERS,
    Adapter,
    AdapterError,
    Capabilities,
    EventSink,
    FileSender,
    MemberProfile,
    SentMessage,
    TransientSendError,
    create_adapter,
    file_sender,
    register_adapter,
)

__all__ = [
    "ADAPTERS",
    "Adapter",
    "AdapterError",
    "Capabilities",
    "EventSink",
    "FileSender",
    "MemberProfile",
    "SentMessage",
    "TransientSendError",
    "create_adapter",
    "file_sender",
    "register_adapter",
]
