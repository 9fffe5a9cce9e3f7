"""Onboarding journeys: the checklist, task detection, nudges that stop, buddies, escalation.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.onboarding.feature import OnboardingFeature

__all__ = ["OnboardingFeature"]
