"""The console's dates and audit log in the reader's language: days and times written by
Babel for the signed-in person's locale (``5 oct. 2026, 09:30``), each in a ``<time>`` whose
``datetime`` keeps the exact ISO value; no page in French shows an ISO date anywhere else; the
audit log's actions and targets translated where shown, stored as ids."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from rallybot.handlers.console.kit import templates
from rallybot.handlers.console.pages.audit import describe
from rallybot.handlers.console.words import when
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.models import Member
from tests.console.conftest import MANAGER, ConsoleClient, ConsoleEnv, console_settings
from tests.console.test_pseudo_locale import AUDITED, _pages

AT = datetime(2026, 10, 5, 8, 30, tzinfo=UTC)  # 09:30 in London (BST), 10:30 in Paris

ISO = re.compile(r"\d{4}-\d{2}(?:-\d{2})?(?:[T ]\d{2}:\d{2})?")
"""An ISO day, month or time (``2026-10-05``, ``2026-10``, ``2026-10-05T09:30``)."""
_READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}
# The person's own words (a draft's lines, a message's text in the recipients' language).
_SKIPPED = {"script", "style", "code", "pre", "textarea"}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("fr", "5 oct. 2026, 09:30"),
        ("de", "5. Okt. 2026, 09:30"),
        ("es", "5 oct 2026, 9:30"),
        ("en", "Oct 5, 2026, 9:30\u202fAM"),
        ("xx", "Oct 5, 2026, 9:30\u202fAM"),  # a locale Babel does not know: English
    ],
)
def test_a_time_is_written_for_the_locale_in_the_zone_given(locale: str, expected: str) -> None:
    assert when(AT, locale, "Europe/London") == expected


def test_days_months_and_hours() -> None:
    assert when(date(2026, 9, 7), "fr", form="date") == "7 sept. 2026"
    assert when(date(2026, 9, 1), "de", form="month") == "September 2026"
    assert when(AT, "de", "Europe/Paris", form="time") == "10:30"
    assert when(AT, "fr", "Europe/Paris", form="date") == "5 oct. 2026"


def test_french_writes_a_months_first_day_1er() -> None:
    assert when(date(2026, 12, 1), "fr", form="date") == "1er déc. 2026"
    # the day of the zone shown: 23:30 UTC on the 30th is the 1st in Paris
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert when(late, "fr", "Europe/Paris") == "1er déc. 2026, 00:30"
    assert when(late, "fr", "UTC") == "30 nov. 2026, 23:30"
    assert when(date(2026, 12, 1), "en", form="date") == "Dec 1, 2026"
    assert when(date(2026, 12, 1), "fr", form="month") == "décembre 2026"


def test_the_filter_keeps_the_exact_value_in_a_time_element() -> None:
    page = templates.env.from_string(
        "{{ at | when(zone) }}|{{ at | when }}|{{ day | when(form='date', tag=False) }}|"
        "{{ day | when(form='month') }}|{{ none | when(zone) }}"
    )
    shown = page.render(at=AT, zone="Europe/Paris", day=date(2026, 9, 7), none=None, locale="fr")
    assert shown.split("|") == [
        '<time datetime="2026-10-05T10:30:00+02:00">5 oct. 2026, 10:30</time>',
        '<time datetime="2026-10-05T08:30:00+00:00">5 oct. 2026, 08:30</time>',
        "7 sept. 2026",
        '<time datetime="2026-09">septembre 2026</time>',
        "",
    ]


class _Shown(HTMLParser):
    """What a person reads on a page: text nodes (dates included) and read attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.extend(v for k, v in attrs if k in _READ_ATTRIBUTES and v and not self._skip)
        classes = (dict(attrs).get("class") or "").split()
        skipped = self._skip or tag in _SKIPPED or "previews" in classes
        if skipped and tag not in {"br", "img", "input", "meta", "link", "hr", "source"}:
            self._skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.found.append(data.strip())


def iso_shown(html: str) -> list[str]:
    """The texts of ``html`` a person reads that hold an ISO date or time."""
    parser = _Shown()
    parser.feed(html)
    return [text for text in parser.found if ISO.search(text)]


def test_the_check_catches_an_iso_date_but_not_a_datetime_attribute() -> None:
    fine = '<p>Le <time datetime="2026-10-05T09:30:00+00:00">5 oct. 2026, 09:30</time></p>'
    assert iso_shown(fine) == []
    assert iso_shown('<p><time datetime="2026-10-05">2026-10-05 09:30</time></p>') == [
        "2026-10-05 09:30"
    ]
    assert iso_shown('<a aria-label="3 messages le 2026-09-07">3</a>') == [
        "3 messages le 2026-09-07"
    ]


async def _speak(console: ConsoleEnv, locale: str) -> None:
    console.state.settings_ = console_settings(locale=locale)
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale=locale))
        at = console.clock.now()
        session.add_all(AuditEntry(at=at, actor=MANAGER, action=a, target=t) for a, t in AUDITED)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_no_page_in_french_shows_an_iso_date(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _speak(console, "fr")
    got = await _pages(console, as_manager)
    assert got["/timeline"].status_code == 200 and got["audit"].status_code == 200
    # A day typed wrong: the error shows how the page's date fields write a day, in French.
    refused = got.pop("/timeline?from=not-a-day")
    assert refused.status_code == 200 and "15/09/2026" in refused.text  # by its field
    problems = {name: found for name, page in got.items() if (found := iso_shown(page.text))}
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    # the dates are there, in French, with their exact values kept
    assert "1er sept. 2026" in got["audit"].text  # the simulated clock's day (French: "1er")
    assert 'datetime="2026-09-01T09:00:00+01:00"' in got["audit"].text  # London, BST
    assert "septembre 2026" in got["/timeline?view=calendar&month=2026-09"].text
    listed = r"<time datetime=\"2026-09-\d\dT[^\"]+\">\d+ sept\. 2026, \d\d:\d\d</time>"
    assert re.search(listed, got["/timeline"].text)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_audit_log_and_the_preview_in_german(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _speak(console, "de")
    async with console.db.session() as session:
        pilot = {"cohort": "pilot", "locale": "de", "timezone": "America/Toronto"}
        session.add(Member(platform="slack", platform_user_id="UPILOT", **pilot))
    audit = (await as_manager.get("/audit")).text
    for words in (
        "Kampagne pausiert",
        "Kampagne Connect launch",  # a campaign by its title
        "an der Konsole, mit einem Einmal-Link",
        # a step by its words, then its campaign's title
        "Onboarding: Willkommensnachricht · Connect launch, an 3 Personen",
        "Onboarding: Willkommensnachricht · Connect launch, an 1 Person",  # "1 member(s)"
        "team.csv: 2 Mitglieder angelegt, 1 aktualisiert",
        "Kampagne: draft.yaml",
        "Kampagne: der eingefügte Text",  # a text pasted on the page, not "draft.yaml"
        "Nachweis Nr. 3",
        "1. Sept. 2026, 09:00",
    ):
        assert words in audit, words
    assert "campaign:connect-launch" not in audit and ">pause<" not in audit
    assert "connect-launch/welcome" not in audit
    pilot = await as_manager.get("/api/timeline", params={"audience": "pilot"})
    dm = pilot.json()["entries"][0]  # a direct message, at 10:00 in Toronto
    preview = (await as_manager.get(f"/timeline/{dm['id']}")).text
    # the recipients' local time, in German, in their zone (named beside it)
    local = datetime.fromisoformat(dm["recipient_local"])
    assert when(local, "de") == "8. Sept. 2026, 10:00" and when(local, "de") in preview
    assert "America/Toronto" in preview
    assert f'<time datetime="{local.isoformat()}">' in preview
    # the JSON API keeps the stored ids
    api = (await as_manager.get("/api/audit")).json()["entries"]
    assert {"action": "pause", "target": "campaign:connect-launch"} in [
        {"action": e["action"], "target": e["target"]} for e in api
    ]


def test_an_audit_entry_the_page_has_no_words_for_is_shown_as_stored() -> None:
    unknown = describe("campaign.archive", "campaign:x", "fr")
    assert (unknown.action, unknown.raw_action, unknown.raw_detail) == (
        "campaign.archive",
        True,
        True,
    )
    odd = describe("pause", "something else", "fr")
    assert (odd.action, odd.detail, odd.raw_action, odd.raw_detail) == (
        "Campagne mise en pause",
        "something else",
        False,
        True,
    )
    known = describe("sign-out", "console", "es")
    assert (known.action, known.detail) == ("Cerró sesión", "de la consola")


@pytest.mark.parametrize(
    ("target", "french", "german"),
    [
        # what the chat's send writes now: counts and names, no words
        (
            "c/w members=3 had=1",
            "c/w, à 3 personnes ; 1 personne l'avait déjà",
            "c/w, an 3 Personen; 1 Person hatte ihn schon",
        ),
        ("c/w members=1 had=0", "c/w, à 1 personne", "c/w, an 1 Person"),
        ("c/w channel=#news had=0", "c/w, dans #news", "c/w, in #news"),
        (
            "c/w channel=#news had=1",
            "c/w, dans #news : déjà publié là",
            "c/w, in #news: dort schon gepostet",
        ),
        # what it wrote before, and what the console writes
        (
            "c/w to 2 member(s), 2 had it",
            "c/w, à 2 personnes ; 2 personnes l'avaient déjà",
            "c/w, an 2 Personen; 2 Personen hatten ihn schon",
        ),
        (
            "c/w to #news (posted already)",
            "c/w, dans #news : déjà publié là",
            "c/w, in #news: dort schon gepostet",
        ),
        ("c/w to 1 of 1 people, 0 had it", "c/w, à 1 personne", "c/w, an 1 Person"),
    ],
)
def test_a_step_sent_now_is_told_in_the_readers_language(
    target: str, french: str, german: str
) -> None:
    for locale, expected in (("fr", french), ("de", german)):
        told = describe("send", target, locale)
        assert (told.detail, told.raw_detail) == (expected, False), locale


DM_DRAFT = """\
id: zones
title: Zones
timezone: Europe/Paris
steps:
  - id: hello
    at: 2026-10-01 16:00
    for: everyone
    dm: "Hello"
"""


async def test_a_drafts_direct_messages_show_the_recipients_own_time_apart(
    as_manager: ConsoleClient,
) -> None:
    """16:00 in the campaign's zone (Paris) is 15:00 for members in London: the row says both,
    each in its own column, never 16:00 next to London's name."""
    page = await as_manager.post(
        "/drafts", data={"csrf_token": as_manager.csrf, "text": DM_DRAFT, "kind": "auto"}
    )
    assert page.status_code == 200
    row = re.search(
        r'<table class="draft-timeline stack">.*?<tbody>\s*<tr>(.*?)</tr>', page.text, re.S
    )
    assert row is not None, page.text
    when_cell, their_cell = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)[:2]
    assert 'datetime="2026-10-01T16:00:00+02:00"' in when_cell and "London" not in when_cell
    assert 'datetime="2026-10-01T15:00:00+01:00"' in their_cell and "Europe/London" in their_cell
