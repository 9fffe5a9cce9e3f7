"""Challenges: progress from the neutral events, points once, winners announced at the end.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.challenges.feature import ChallengesFeature

__all__ = ["ChallengesFeature"]
