"""The console in the pseudo-locale: every page, htmx fragment, form answer, error page and
the sign-in pages rendered for people (and a bot) whose language is the pseudo-locale of
:mod:`tests.pseudo_locale`, whose catalogs wrap every message in ``⟦…⟧``. Every visible text
node and every attribute a person reads (``aria-label``, ``title``, ``placeholder``, ``alt``)
must then lie inside a wrap, but for the data the pages show: the campaign file's texts, names,
ids, dates and figures. A word written into a template or a page module without the catalogs
fails the test.

Spanish and German renders of two pages check that real catalogs are read too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from rallybot.handlers.console.kit import COOKIE
from rallybot.handlers.console.words import language_name, weekday_names
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.models import CampaignState, Member
from rallybot.storage.outbox import insert_deliveries
from rallybot.storage.repositories import get_member_by_platform_id
from tests.console.conftest import (
    EXAMPLES,
    HELPER,
    MANAGER,
    MEMBER,
    ConsoleClient,
    ConsoleEnv,
    console_settings,
)
from tests.pseudo_locale import CLOSE, OPEN, PSEUDO, file_texts, pseudo_locale

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

BROKEN_DRAFT = "id: broken\ntitle: A broken draft\nsteps:\n  - id: one\n    at: not a date\n"
BAD_ROSTER = b"id,email,name\nu1,u1@example.com,Una\nu2,not-an-email,Ugo\n"
_READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}
_WORD = re.compile(r"[^\W\d_]{2,}")  # a word (a lone letter is a unit or a mark, not a text)
_SKIPPED = {"script", "style", "code", "pre", "time"}  # code, dates: not words to translate


class _Texts(HTMLParser):
    """The texts a person reads on a page: text nodes and read attributes, outside the
    previews of a message (shown in the recipients' language, not the viewer's) and code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip: list[str] = []  # the open elements whose content is not checked
        # A date (a <time>) inside a sentence: the words after it belong to the same text.
        self._after_time = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._after_time = False
        for name, value in attrs:
            if name in _READ_ATTRIBUTES and value and not self._skip:
                self.found.append(value)
        classes = (dict(attrs).get("class") or "").split()
        skipped = self._skip or tag in _SKIPPED or "previews" in classes
        if skipped and tag not in {"br", "img", "input", "meta", "link", "hr", "source"}:
            self._skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
        # a field's name (a <code>) inside a sentence too
        self._after_time = tag in {"time", "code"} and not self._skip and bool(self.found)

    def handle_data(self, data: str) -> None:
        if self._skip or not data.strip():
            return
        if self._after_time:
            self.found[-1] += f" … {data.strip()}"
        else:
            self.found.append(data.strip())


def _outside_wraps(text: str) -> str:
    """``text`` with every wrapped part blanked out."""
    depth, kept = 0, []
    for char in text:
        if char == OPEN:
            depth += 1
        elif char == CLOSE:
            depth -= 1
        kept.append(char if depth == 0 and char != CLOSE else " ")
    return "".join(kept)


def bare(html: str, data: list[str]) -> list[str]:
    """The texts of ``html`` with words outside every wrap that are not ``data`` (exact
    strings, longest first)."""
    parser = _Texts()
    parser.feed(html)
    found: list[str] = []
    for text in parser.found:
        rest = _outside_wraps(text)
        for known in data:  # whole words only: "en" is data, the "en" of "opens" is not
            rest = re.sub(rf"(?<!\w){re.escape(known)}(?!\w)", " ", rest)
        words = _WORD.findall(rest)
        if words:
            found.append(f"{words} in {text!r}")
    return found


# What a roster problem names as it is written in the roster: its column. The problem itself
# is in the viewer's language (as a draft's errors and warnings are), so it is not here.
LOADER_TEXTS = [
    "email",
]


# One entry of each action the console and the chat record, with its target as they write it.
AUDITED = [
    ("sign-in", "console (link)"),
    ("sign-in", "console (slack)"),
    ("sign-out", "console"),
    ("pause", "campaign:connect-launch"),
    ("resume", "campaign:connect-launch"),
    ("preview", "connect-launch/welcome fr"),
    ("send", "connect-launch/welcome to 3 people"),
    ("send", "connect-launch/welcome to 1 member(s)"),
    ("skip", "connect-launch/welcome"),
    ("retry", "connect-launch/welcome"),
    ("approved", "submission #3"),
    ("rejected", "submission #4"),
    ("erase", "a member"),
    ("roster import", "team.csv: 2 created, 1 updated"),
    ("check draft", "campaign draft.yaml"),
    ("check draft", "campaign"),  # a text pasted on the page
]


DELIVERED = ["sent", "failed", "skipped", "cancelled", "pending"]


def _delivery(status: str, at: datetime) -> dict[str, Any]:
    """An outbox row of the example campaign's teaser in ``status``."""
    return {
        "campaign_id": "connect-launch",
        "step_id": "teaser-1",
        "recipient": "channel:announcements",
        "occurrence": status,
        "due_at": at,
        "grace_until": at,
        "status": status,
        "reason": None,
        "payload": {},
        "content_hash": "",
        "attempts": 1,
        "created_at": at,
        "updated_at": at,
    }


@pytest.fixture
async def pseudo(console: ConsoleEnv) -> AsyncIterator[list[str]]:
    """The console's people and bot in the pseudo-locale; yields the data the pages may show
    unwrapped (names, ids, what the loaders say), longest first."""
    console.state.settings_ = console_settings(locale=PSEUDO)
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale=PSEUDO))
    campaign = console.state.campaigns()["connect-launch"]
    data = {
        "Morgan Manager",
        "Harper Helper",
        "Mel Member",
        "Morgan",
        "Harper",
        "Mel",
        "Una",
        "Ugo",
        MANAGER,
        HELPER,
        MEMBER,
        "UMANAGER",
        "UHELPER",
        "UMEMBER",
        "Europe/London",
        "Europe",
        "London",
        *file_texts(EXAMPLES),  # the campaign's title and texts: the community's words
        *campaign.spec.audiences,
        "connect-launch",
        "#announcements",
        *BROKEN_DRAFT.strip().splitlines(),
        *LOADER_TEXTS,
        *weekday_names(PSEUDO),  # Babel's (CLDR) names of the days, not the catalogs'
        *(language_name(code, PSEUDO) for code in ("en", "fr", PSEUDO)),  # Babel's too
        "slack",
        "console",
        "fr",
        "en",
        PSEUDO,
        "team.csv",
        "draft.yaml",
        "rallybot",  # the CLI's name in "rallybot validate" and the like
        "Slack",
        "Discord",
        "RALLYBOT_ADMINS",
        "not-an-email",
        "u1@example.com",
        "https://files.example.com/desk.png",
        "my desk",
        *(step.id for step in campaign.steps),
    }
    with pseudo_locale():
        yield sorted((d for d in data if d), key=len, reverse=True)


async def _pages(console: ConsoleEnv, http: ConsoleClient) -> dict[str, httpx.Response]:
    """Every page and fragment of a manager, after the actions that fill them."""
    member = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert member is not None and member.id is not None
    async with console.db.session() as session:
        session.add(
            ChallengeSubmission(
                challenge="connect-launch/photo",
                member_id=member.id,
                text="my desk https://files.example.com/desk.png",
                submitted_at=console.clock.now(),
            )
        )
    entries = (await http.get("/api/timeline", params={"limit": 5})).json()["entries"]
    entry = entries[0]["id"]
    act = {"campaign": "connect-launch", "step": entries[0]["step"]}
    form = {"csrf_token": http.csrf}
    got: dict[str, httpx.Response] = {}
    for path in (
        "/campaigns",
        "/timeline",
        "/timeline?view=calendar&month=2026-09",
        f"/timeline/{entry}",
        "/drafts",
        "/act",
        "/approvals",
        "/helpdesk",
        "/indicators",
        "/members",
        "/members?q=Mel",
        f"/members/{member.id}/erase",
        "/timeline/no-such-entry",
        "/timeline?from=not-a-day",
        "/timeline?view=calendar&month=2026-13",  # an address edited by hand
        "/no-such-page",
        "/indicators/report.html",
    ):
        got[path] = await http.get(path)
    got["htmx fragment"] = await http.get(f"/timeline/{entry}", headers={"HX-Request": "true"})
    for action in ("send", "skip", "retry"):
        got[f"confirm {action}"] = await http.get("/act/confirm", params={**act, "action": action})
    nobody = {"campaign": "connect-launch", "step": "welcome", "target": "@nobody"}
    got["confirm nobody"] = await http.get("/act/confirm", params={**nobody, "action": "send"})
    got["preview sent"] = await http.post(
        "/act/preview", data={**form, **act, "key": "preview-key-1"}
    )
    got["draft checked"] = await http.post("/drafts", data={**form, "text": BROKEN_DRAFT})
    got["roster refused"] = await http.post(
        "/members/roster",
        data={**form, "platform": "console"},
        files={"file": ("team.csv", BAD_ROSTER, "text/csv")},
    )
    got["erase unconfirmed"] = await http.post(f"/members/{member.id}/erase", data=form)
    async with console.db.session() as session:  # the database knows the campaign: it pauses
        session.add(CampaignState(id="connect-launch", title="Connect", source="x.yaml"))
    got["paused"] = await http.post("/campaigns/connect-launch/pause", data=form)
    got["campaigns paused"] = await http.get("/campaigns")
    got["csrf refused"] = await http.post("/campaigns/connect-launch/resume", data={})
    got["audit"] = await http.get("/audit")
    return got


async def test_every_console_page_is_in_the_catalogs(
    console: ConsoleEnv,
    pseudo: list[str],
    as_manager: ConsoleClient,
    as_helper: ConsoleClient,
    as_member: ConsoleClient,
    client: httpx.AsyncClient,
) -> None:
    async with console.db.session() as session:
        at = console.clock.now()
        session.add_all(AuditEntry(at=at, actor=MANAGER, action=a, target=t) for a, t in AUDITED)
        # deliveries already made, in each state: the campaigns page counts them by state
        await insert_deliveries(session, [_delivery(status, at) for status in DELIVERED])
    # the messages' previews (the recipients' words, in their language), as the API gives
    # them before the pages' actions pause the campaign
    listed = await as_manager.get("/api/timeline", params={"limit": 200})
    previews = {entry["preview"] for entry in listed.json()["entries"] if entry["preview"]}
    # the first words of each step's message on the Act page (the campaign's words, cut)
    steps = (await as_manager.get("/api/act/steps")).json()
    # (a member's fields in them are the console's markers, its words: wrapped, left out)
    previews |= {_outside_wraps(step["extract"]) for step in steps if step["extract"]}
    got = await _pages(console, as_manager)
    follow = {"follow_redirects": True}
    got["helper refused"] = await as_helper.get("/campaigns")
    got["helper desk"] = await as_helper.get("/helpdesk")
    got["member refused"] = await as_member.get("/", **follow)
    got["sign-in"] = await client.get("/signin")
    got["sign-in link"] = await client.get("/signin/link/some-token")
    got["sign-in link refused"] = await client.post(
        "/signin/link", data={"token": "no-such-token"}, **follow
    )
    got["no such sign-in"] = await client.get("/signin/nowhere")
    statuses = {name: response.status_code for name, response in got.items()}
    assert statuses["/campaigns"] == 200 and statuses["htmx fragment"] == 200, statuses
    assert {statuses["helper refused"], statuses["member refused"]} == {403}, statuses
    assert statuses["/timeline/no-such-entry"] == 404, statuses
    assert statuses["/no-such-page"] == 404, statuses
    assert statuses["/timeline?view=calendar&month=2026-13"] == 422, statuses
    assert statuses["/indicators/report.html"] == 200, statuses
    assert statuses["campaigns paused"] == 200 and statuses["confirm nobody"] == 200, statuses
    assert statuses["csrf refused"] == 403, statuses
    async with console.db.read() as session:
        recorded = (await session.execute(sa.select(AuditEntry))).scalars().all()
    # the audit log's actions are translated where shown (its targets' ids are data above)
    assert {e.action for e in recorded} >= {action for action, _ in AUDITED}
    data = sorted({*pseudo, *previews}, key=len, reverse=True)
    problems = {
        name: found for name, response in got.items() if (found := bare(response.text, data))
    }
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert 'lang="eo"' in got["/campaigns"].text
    assert f"{OPEN}Campaigns{CLOSE}" in got["/campaigns"].text
    assert f"{OPEN}Sign in{CLOSE}" in got["sign-in"].text


async def test_the_check_catches_a_literal_put_back(pseudo: list[str]) -> None:
    page = f"<html><body><h1>{OPEN}Campaigns{CLOSE}</h1><p>Mel Member</p></body></html>"
    assert bare(page, pseudo) == []
    assert bare(page.replace("</h1>", "</h1><p>Next sends</p>"), pseudo) == [
        "['Next', 'sends'] in 'Next sends'"
    ]
    labelled = '<nav aria-label="Console pages"></nav>'
    assert bare(labelled, pseudo) == ["['Console', 'pages'] in 'Console pages'"]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("es", ["Campañas", "Cerrar sesión", "Próximos envíos", 'lang="es"']),
        ("de", ["Kampagnen", "Abmelden", "Nächste Sendungen", 'lang="de"']),
    ],
)
async def test_the_campaigns_and_timeline_pages_in_spanish_and_german(
    console: ConsoleEnv, as_manager: ConsoleClient, locale: str, expected: list[str]
) -> None:
    async with console.db.session() as session:
        await session.execute(
            sa.update(Member).where(Member.platform_user_id == "UMANAGER").values(locale=locale)
        )
    campaigns = await as_manager.get("/campaigns")
    assert all(word in campaigns.text for word in expected), campaigns.text
    timeline = await as_manager.get("/timeline", params={"view": "calendar", "month": "2026-09"})
    words = {"es": ("Cronología", "Mes anterior"), "de": ("Zeitleiste", "Voriger Monat")}
    assert all(word in timeline.text for word in words[locale])
    assert "Next sends" not in campaigns.text and "Previous month" not in timeline.text
    assert COOKIE in as_manager.cookies
