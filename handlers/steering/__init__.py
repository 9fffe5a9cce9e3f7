"""Steering from chat, for community managers: preview a step, send it now, skip it, see what
waits and what goes out next.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.steering.feature import SteeringFeature

__all__ = ["SteeringFeature"]
