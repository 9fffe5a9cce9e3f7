"""Indicators in chat: activity recording, ``/rallybot stats`` and the weekly digest step.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.stats.feature import StatsFeature

__all__ = ["StatsFeature"]
