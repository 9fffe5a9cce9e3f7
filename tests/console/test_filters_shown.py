"""What a French community manager found the pages left unsaid: the calendar hid the days
outside a date filter without saying a filter was on; a pasted draft was named
``draft.yaml``; "Skip…" looked like "Send now…"."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from rallybot.storage.models import CampaignState, Member
from tests.console.conftest import ConsoleClient, ConsoleEnv
from tests.console.test_act_pages import BROKEN

CALENDAR = {
    "view": "calendar",
    "month": "2026-09",
    "from": "2026-09-14",
    "to": "2026-09-20",
    "campaign": "connect-launch",
    "locale": "en",
}


@pytest.fixture
async def french(console: ConsoleEnv) -> None:
    """Everyone reads French; the example campaign has its title."""
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
        session.add(CampaignState(id="connect-launch", title="Connect launch", source="x.yaml"))


def _text(fragment: str) -> str:
    """The words of an HTML fragment, as read (tags dropped, spaces joined)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _notice(page: str) -> str:
    found = re.search(r'<div class="notice active-filters".*?</div>', page, re.S)
    assert found is not None, page
    return found.group(0)


def _day(page: str, day: int) -> tuple[set[str], str]:
    """The classes and words of the calendar's cell of ``day`` of the month shown (not of a
    neighbour month)."""
    cells = re.findall(
        r'<td class="([^"]*)">\s*<span class="day">(\d+)</span>(.*?)</td>', page, re.S
    )
    found = [
        (set(classes.split()), _text(rest))
        for classes, number, rest in cells
        if int(number) == day and "other" not in classes
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.usefixtures("french")
async def test_the_calendar_says_its_filters_and_greys_the_days_left_out(
    as_manager: ConsoleClient,
) -> None:
    page = (await as_manager.get("/timeline", params=CALENDAR)).text
    notice = _notice(page)
    said = _text(notice)
    assert said.startswith("Filtres actifs :"), said
    assert "Du 14 sept. 2026 au 20 sept. 2026 — afficher tous les jours" in said
    assert "Campagne : Connect launch" in said and "Langue : anglais" in said
    # "show every day" keeps the other filters and the calendar, drops the days
    every_day = re.search(r'href="([^"]+)">afficher tous les jours<', notice)
    assert every_day is not None
    link = html.unescape(every_day.group(1))
    assert "view=calendar" in link and "campaign=connect-launch" in link and "locale=en" in link
    assert "from=" not in link and "to=" not in link
    # the days left out greyed and said, not blank; the days kept as they were
    assert _day(page, 13) == ({"filtered"}, "hors filtre")
    assert _day(page, 21) == ({"filtered"}, "hors filtre")
    assert "filtered" not in _day(page, 14)[0] and "filtered" not in _day(page, 20)[0]
    assert _day(page, 15)[0] == {"busy"}  # the launch, inside the days
    # the days are in the calendar's form too, to change or empty them there
    assert 'name="from"' in page and 'value="14/09/2026"' in page


@pytest.mark.usefixtures("french")
async def test_one_sided_days_and_no_filter(as_manager: ConsoleClient) -> None:
    since = (await as_manager.get("/timeline", params={"from": "2026-09-14"})).text
    assert "À partir du 14 sept. 2026 — afficher tous les jours" in _text(_notice(since))
    until = (
        await as_manager.get("/timeline", params={"view": "calendar", "to": "2026-09-20"})
    ).text
    assert "Jusqu'au 20 sept. 2026" in _text(_notice(until))
    state = (await as_manager.get("/timeline", params={"view": "calendar", "status": "sent"})).text
    assert _text(_notice(state)).endswith("État : envoyé Effacer les filtres")
    plain = (await as_manager.get("/timeline", params={"view": "calendar"})).text
    assert "active-filters" not in plain and "hors filtre" not in plain


@pytest.mark.usefixtures("french")
async def test_the_calendar_opens_on_the_chosen_days_month(as_manager: ConsoleClient) -> None:
    # a day chosen in the calendar, then the calendar again: its month, not today's
    page = await as_manager.get(
        "/timeline", params={"view": "calendar", "from": "2026-10-02", "to": "2026-10-02"}
    )
    heading = re.search(r'<h2 id="month">(.*?)</h2>', page.text, re.S)
    assert heading is not None and "octobre 2026" in _text(heading.group(1))


@pytest.mark.usefixtures("french")
async def test_a_pasted_draft_is_the_pasted_text_a_file_keeps_its_name(
    as_manager: ConsoleClient,
) -> None:
    line = BROKEN.splitlines().index("    at: lunch - 2d at 09:00") + 1
    form = {"csrf_token": as_manager.csrf, "kind": "auto"}
    pasted = (await as_manager.post("/drafts", data={**form, "text": BROKEN})).text
    said = _text(pasted)
    assert "Résultat pour le texte collé (Campagne)" in said
    assert "Le texte, ligne à ligne" in said
    assert f"ligne {line}, colonne 9 :" in said
    assert "draft.yaml" not in pasted
    uploaded = await as_manager.post(
        "/drafts", data=form, files={"file": ("mine.yaml", BROKEN.encode(), "text/yaml")}
    )
    said = _text(uploaded.text)
    assert "Résultat pour mine.yaml (Campagne)" in said and "Le fichier, ligne à ligne" in said


async def test_skip_and_send_now_have_their_own_styles(as_manager: ConsoleClient) -> None:
    page = (await as_manager.get("/act")).text
    send = re.findall(r'<a class="([^"]+)"[^>]*>Send now…</a>', page)
    skip = re.findall(r'<a class="([^"]+)"[^>]*>Skip…</a>', page)
    assert send and set(send) == {"button"}
    assert skip and set(skip) == {"button danger-outline"}
    css = (await as_manager.get("/static/console.css")).text
    assert ".button.danger-outline" in css and ".button.secondary" in css
