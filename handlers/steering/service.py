"""What other features use of steering: the console's actions reuse the chat commands'.

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.steering.feature import (
    Steering,
    find_step,
    occurrence_for,
    preview_message,
    recipients,
    retry_failed,
    send_now,
    skip_step,
)

__all__ = [
    "Steering",
    "find_step",
    "occurrence_for",
    "preview_message",
    "recipients",
    "retry_failed",
    "send_now",
    "skip_step",
]
