"""What other features use of the help channel: the ticket buttons' action ids and the
ticket states the console counts.

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.helpdesk.feature import ACTION_SOLVED, ACTION_TAKE, LIVE, reminder_due

__all__ = ["ACTION_SOLVED", "ACTION_TAKE", "LIVE", "reminder_due"]
