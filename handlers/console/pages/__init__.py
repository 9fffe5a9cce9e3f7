"""The console's pages, in the navigation's order.

Each module of this package builds one :class:`~rallybot.handlers.console.kit.Page` (its HTML
routes, its JSON API under ``/api``, its title and the role that sees it); adding a page is
one module and one line below.
"""

from __future__ import annotations

from rallybot.handlers.console.kit import Page
from rallybot.handlers.console.pages import (
    act,
    approvals,
    audit,
    campaigns,
    drafts,
    helpdesk,
    indicators,
    members,
    timeline,
)

__all__ = ["PAGES"]

PAGES: list[Page] = [
    campaigns.page,
    timeline.page,
    drafts.page,
    act.page,
    approvals.page,
    helpdesk.page,
    indicators.page,
    members.page,
    audit.page,
]
