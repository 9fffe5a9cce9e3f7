"""What other features use of surveys: whether a click is an anonymous answer (stats
records none) and the signed invitation link (the console).

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.survey.feature import is_anonymous_click, sign_invitation

__all__ = ["is_anonymous_click", "sign_invitation"]
