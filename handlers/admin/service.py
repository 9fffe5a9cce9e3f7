"""What the CLI and other features use of admin: a campaign's state as a word.

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.admin.feature import state_word

__all__ = ["state_word"]
