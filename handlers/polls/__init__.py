"""Polls: a ``poll:`` campaign step or ``/rallybot poll``; one click to vote, results at close.

The whole feature lives in this package: the step block (:mod:`.spec`, registered with
:mod:`campaigns.sections`), the queries (:mod:`.store`), the messages (:mod:`.messages`)
and the feature with its handlers (:mod:`.feature`). Its tables are in
``storage/poll_models.py``, each declaring its privacy entry.
"""

from __future__ import annotations

from rallybot.handlers.polls.feature import PollsFeature

__all__ = ["PollsFeature"]
