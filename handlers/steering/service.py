"""What other features use of steering: the console's actions reuse the chat commands'.

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.steering.feature import (
    REPLACED_BY,
    SKIPPED_BY,
    SentNow,
    Steering,
    find_step,
    occurrence_for,
    preview_message,
    recipients,
    retry_failed,
    send_now,
    send_now_outlook,
    skip_outlook,
    skip_step,
)

__all__ = [
    "REPLACED_BY",
    "SKIPPED_BY",
    "SentNow",
    "Steering",
    "find_step",
    "occurrence_for",
    "preview_message",
    "recipients",
    "retry_failed",
    "send_now",
    "send_now_outlook",
    "skip_outlook",
    "skip_step",
]
