"""Points, kudos, badges and leaderboards: events that earn points and the commands around them.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.points.feature import PointsFeature

__all__ = ["PointsFeature"]
