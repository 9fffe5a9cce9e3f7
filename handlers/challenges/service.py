"""What other features use of challenges: the approval buttons' action ids and
decisions (steering, the console), the evidence of a submission, and a member's summary.

The one door into this feature: other features import these names from here, never from
:mod:`.feature` (an import-linter contract in ``pyproject.toml`` checks it).
"""

from __future__ import annotations

from rallybot.handlers.challenges.feature import (
    APPROVE_ACTION,
    REJECT_ACTION,
    decide_submission,
    decide_submission_alone,
    evidence_links,
    summary,
    title_of,
)

__all__ = [
    "APPROVE_ACTION",
    "REJECT_ACTION",
    "decide_submission",
    "decide_submission_alone",
    "evidence_links",
    "summary",
    "title_of",
]
