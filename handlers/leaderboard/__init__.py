"""Messages written when they are sent: the render hook of the outbox, and the leaderboard step.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.leaderboard.feature import LeaderboardFeature

__all__ = ["LeaderboardFeature"]
