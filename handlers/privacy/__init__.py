"""``/rallybot mydata`` (a JSON export of everything stored about me, in direct messages) and
``/rallybot forget`` (after a confirmation button, erase my personal data: see
:mod:`bot.privacy`). A community manager erases someone else, who left the company, with
``/rallybot forget @member`` (confirmed the same way, audited: who and when, not whom).

The feature and its handlers are in :mod:`.feature`.
"""

from __future__ import annotations

from rallybot.handlers.privacy.feature import PrivacyFeature

__all__ = ["PrivacyFeature"]
