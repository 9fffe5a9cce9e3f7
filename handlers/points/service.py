"""What other features use of points: the ledger, the member lookup, badges, the
leaderboard periods and rules, and a member's summary for ``/rallybot me``.

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.points.feature import (
    PERIODS,
    check_badges,
    find_member,
    grant,
    rules_of,
    summary,
)

__all__ = ["PERIODS", "check_badges", "find_member", "grant", "rules_of", "summary"]
