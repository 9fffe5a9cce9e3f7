"""Surveys: campaign steps whose questions are asked one by one in direct messages.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.survey.feature import SurveyFeature

__all__ = ["SurveyFeature"]
