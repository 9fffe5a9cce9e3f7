"""Quizzes: live in a channel, self-paced in direct messages, and a question of the day.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.quiz.feature import QuizFeature

__all__ = ["QuizFeature"]
