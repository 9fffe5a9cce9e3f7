"""What the CLI uses of the console: ``rallybot console`` (the application, standalone)
and ``rallybot console link`` (a one-time sign-in link).

The one door into this feature: other features and the CLI import these names from here,
never from its other modules (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.console.app import PREFIX, create_app, standalone_app
from rallybot.handlers.console.serve import (
    LinkRefused,
    load_campaigns,
    make_link,
    roster_state,
    standalone_state,
)

__all__ = [
    "PREFIX",
    "LinkRefused",
    "create_app",
    "load_campaigns",
    "make_link",
    "roster_state",
    "standalone_app",
    "standalone_state",
]
