"""``/rallybot me``: my own space in one answer: my onboarding checklist, my points, level and
badges, my challenges, and what comes next for me (the next quiz, the next messages).

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.home.feature import HomeFeature

__all__ = ["HomeFeature"]
