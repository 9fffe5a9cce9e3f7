"""What the CLI, the console and other features use of privacy: erasing a member who left (a
manager's request, or a roster import's), deactivating those gone from the roster, and the
record of processing.

The one door into this feature: other features import these names from here, never from
:mod:`.personal_data` or :mod:`.feature` (an import-linter contract in ``pyproject.toml``
checks it).
"""

from __future__ import annotations

from rallybot.handlers.privacy.personal_data import (
    FORGOTTEN,
    FORGOTTEN_PREFIX,
    deactivate_missing,
    erase_member,
    record_of_processing,
)

__all__ = [
    "FORGOTTEN",
    "FORGOTTEN_PREFIX",
    "deactivate_missing",
    "erase_member",
    "record_of_processing",
]
