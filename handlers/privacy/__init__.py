"""``/rallybot mydata`` (a JSON export of everything stored about me, in direct messages) and
``/rallybot forget`` (after a confirmation button, erase my personal data: see
:mod:`.personal_data`). A community manager erases someone else, who left the company, with
``/rallybot forget @member`` (confirmed the same way, audited: who and when, not whom).

The feature and its handlers are in :mod:`.feature`; what other features and the CLI use
of it, in :mod:`.service`.
"""

from __future__ import annotations

from rallybot.handlers.privacy.feature import PrivacyFeature

__all__ = ["PrivacyFeature"]
