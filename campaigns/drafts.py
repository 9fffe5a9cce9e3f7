"""Check a draft held in memory: a campaign, quiz bank, FAQ, rules or community file pasted or
uploaded in the console, read by the same hardened loaders as ``rallybot validate``.

Nothing is saved: the report gives the file's lines, its errors and warnings at their line and
column, and for a campaign the timeline it would produce for the members given (the current
roster). Files stay in git.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rallybot.campaigns.checks import campaign_warnings, text_warnings
from rallybot.campaigns.community import is_community_text, load_community_text
from rallybot.campaigns.faq import is_faq_text, load_faq_text
from rallybot.campaigns.loader import (
    MAX_FILE_BYTES,
    CampaignLoadError,
    LoadError,
    load_campaign_text,
    locate_text,
)
from rallybot.campaigns.planner import MemberView
from rallybot.campaigns.quiet_hours import QuietHours
from rallybot.campaigns.quiz import is_bank_text, load_bank_text
from rallybot.campaigns.rules import is_rules_text, load_rules_text
from rallybot.campaigns.schema import Campaign
from rallybot.campaigns.timeline import TimelineRow, default_window, timeline

__all__ = ["KINDS", "DraftIssue", "DraftKind", "DraftReport", "check_draft", "draft_kind"]

DraftKind = Literal["campaign", "quiz", "faq", "rules", "community"]
KINDS: tuple[DraftKind, ...] = ("campaign", "quiz", "faq", "rules", "community")
"""The kinds of file a draft can be, as the console's kind selector offers them."""
TIMELINE_LIMIT = 500
"""Rows of a draft's timeline kept (a draft is looked at, not exported)."""


@dataclass(frozen=True)
class DraftIssue:
    """An error or a warning at a 1-based line and column of the draft."""

    severity: Literal["error", "warning"]
    line: int
    column: int
    field: str
    message: str


@dataclass
class DraftReport:
    """What checking a draft found; ``timeline`` only for a campaign without errors."""

    kind: DraftKind
    source: str
    lines: list[str]
    errors: list[DraftIssue] = field(default_factory=list)
    warnings: list[DraftIssue] = field(default_factory=list)
    timeline: list[TimelineRow] = field(default_factory=list)
    timeline_total: int = 0
    campaign: Campaign | None = None

    @property
    def ok(self) -> bool:
        """Whether the draft would load (warnings allowed)."""
        return not self.errors

    def issues_on(self, line: int) -> list[DraftIssue]:
        """The errors then the warnings written on ``line``."""
        return [i for i in (*self.errors, *self.warnings) if i.line == line]


def draft_kind(text: str) -> DraftKind:
    """What a draft is, from its top-level keys (as ``validate`` tells files apart)."""
    if is_community_text(text):
        return "community"
    if is_bank_text(text):
        return "quiz"
    if is_faq_text(text):
        return "faq"
    if is_rules_text(text):
        return "rules"
    return "campaign"


def _text_of(raw: str | bytes) -> str:
    """The draft as text for showing its lines; the loader refuses what is not text."""
    if isinstance(raw, bytes):
        return raw[: MAX_FILE_BYTES + 1].decode("utf-8-sig", errors="replace")
    return raw.removeprefix("\ufeff")


def _error(error: LoadError) -> DraftIssue:
    return DraftIssue("error", error.line, error.column, error.field, error.message)


_LOADERS: dict[DraftKind, Callable[[str | bytes, str], object]] = {
    "quiz": load_bank_text,
    "faq": load_faq_text,
    "rules": load_rules_text,
    "community": load_community_text,
}


def check_draft(
    raw: str | bytes,
    source: str,
    *,
    kind: DraftKind | None = None,
    members: Sequence[MemberView] = (),
    default_timezone: str = "Europe/Paris",
    default_quiet_hours: QuietHours | None = None,
) -> DraftReport:
    """Check ``raw`` (named ``source`` in messages) as a file of ``kind`` (guessed from its
    keys when None): every error and warning, and for a campaign the timeline it would produce
    for ``members``."""
    text = _text_of(raw)
    kind = kind or draft_kind(text)
    report = DraftReport(kind=kind, source=source, lines=text.splitlines())
    loader = _LOADERS.get(kind)
    try:
        if loader is not None:
            loader(raw, source)
        else:
            report.campaign = load_campaign_text(
                raw, source, default_quiet_hours=default_quiet_hours
            )
    except CampaignLoadError as exc:
        report.errors = [_error(error) for error in exc.errors]
    report.warnings = [
        DraftIssue("warning", w.line, w.column, w.field, w.message)
        for w in text_warnings(text, source)
    ]
    campaign = report.campaign
    if campaign is None:
        return report
    where = locate_text(raw)
    for loc, message in campaign_warnings(
        campaign,
        members,
        roster_given=bool(members),
        default_timezone=default_timezone,
        default_quiet_hours=default_quiet_hours,
    ):
        line, column, name = where(loc)
        report.warnings.append(DraftIssue("warning", line, column, name, message))
    report.warnings.sort(key=lambda w: (w.line, w.column))
    start, end = default_window(campaign, members)
    rows = timeline(campaign, members, start, end, default_timezone=default_timezone)
    report.timeline_total = len(rows)
    report.timeline = rows[:TIMELINE_LIMIT]
    return report
