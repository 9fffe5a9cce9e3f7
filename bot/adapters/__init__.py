"""Platform adapters: each translates native payloads to neutral events and renders messages."""

from bot.adapters.base import (
    ADAPTERS,
    Adapter,
    AdapterError,
    Capabilities,
    EventSink,
    MemberProfile,
    SentMessage,
    TransientSendError,
    create_adapter,
    register_adapter,
)

__all__ = [
    "ADAPTERS",
    "Adapter",
    "AdapterError",
    "Capabilities",
    "EventSink",
    "MemberProfile",
    "SentMessage",
    "TransientSendError",
    "create_adapter",
    "register_adapter",
]
