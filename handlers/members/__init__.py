"""Members: newcomers joining the workspace or a channel are recorded, with their profile,
and the profile is kept up to date when the member changes it.

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.members.feature import MembersFeature

__all__ = ["MembersFeature"]
