"""What other features use of onboarding: a member's checklist for ``/rallybot me``.

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.onboarding.feature import checklist

__all__ = ["checklist"]
