"""``/rallybot`` commands: help for everyone; campaigns, pause, resume, reload for managers.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.admin.feature import AdminFeature

__all__ = ["AdminFeature"]
