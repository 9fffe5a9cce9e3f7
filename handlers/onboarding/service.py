"""What other features and the CLI use of onboarding: a member's checklist for ``/rallybot me``,
and the matching of roster rows to platform accounts (``rallybot roster import``).

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.onboarding.feature import checklist, match_roster

__all__ = ["checklist", "match_roster"]
