"""The help channel: every question becomes a ticket that someone answers.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.helpdesk.feature import HelpdeskFeature

__all__ = ["HelpdeskFeature"]
