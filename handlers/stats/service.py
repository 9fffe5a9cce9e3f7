"""What other features use of stats: the ``/rallybot stats`` answer (routed by admin).

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.stats.feature import stats_command

__all__ = ["stats_command"]
