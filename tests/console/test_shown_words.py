"""What the console shows a person, beyond its catalogs (issue 17): no private-use character
(the member-text marks of :func:`rallybot.bot.messages.member`) on a page or in the JSON API,
and the error pages, figures, punctuation and names of a French manager's console in French."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from rallybot.bot.messages import Message, member
from rallybot.storage.models import Member
from rallybot.storage.outbox import insert_deliveries
from tests.console.conftest import EXAMPLES, ConsoleClient, ConsoleEnv
from tests.console.test_dates_words import _speak
from tests.console.test_every_route import ROUTES
from tests.console.test_pseudo_locale import _delivery, _pages

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


async def _api(http: ConsoleClient) -> dict[str, httpx.Response]:
    """Every GET route of the JSON API, each entry of the timeline, and an unknown member."""
    got = {path: await http.get(path) for method, path, _ in ROUTES if method == "GET"}
    entries = (await http.get("/api/timeline", params={"limit": 200})).json()["entries"]
    for entry in entries:
        got[entry["id"]] = await http.get(f"/api/timeline/{entry['id']}")
    reach = {"campaign": "connect-launch", "step": "welcome", "target": "@nobody"}
    got["reach nobody"] = await http.get("/api/act/reach", params=reach)
    return got


async def test_no_private_use_character_reaches_a_page_or_the_api(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    # a pilot member, greeted by name in the plan, and a message to David in the outbox:
    # their names are member text, between the marks
    async with console.db.session() as session:
        pilot = {"cohort": "pilot", "locale": "fr", "timezone": "Europe/Paris"}
        session.add(
            Member(platform="slack", platform_user_id="UPILOT", first_name="Amélie", **pilot)
        )
        at = console.clock.now()
        hello = Message(text=f"Hello {member('David')}, welcome!", title=member("David"))
        sent = {**_delivery("sent", at), "recipient": "member:1", "step_id": "welcome"}
        sent["payload"] = {"message": hello.to_dict()}
        await insert_deliveries(session, [sent])
    listed = (await as_manager.get("/api/timeline", params={"limit": 200})).json()["entries"]
    previews = [e["preview"] for e in listed]
    assert any("Amélie" in p for p in previews) and any("David" in p for p in previews)
    got = {**(await _api(as_manager)), **(await _pages(console, as_manager))}
    # a draft's timeline shows its extracts too
    draft = {"csrf_token": as_manager.csrf, "text": (EXAMPLES / "connect-launch.yaml").read_text()}
    got["draft timeline"] = await as_manager.post("/drafts", data=draft)
    assert "Amélie" in got["draft timeline"].text
    assert got["reach nobody"].json()["problem"] == "I don't know @nobody."
    assert sum(r.status_code == 200 for r in got.values()) >= 20
    shown = {name: PRIVATE_USE.findall(r.text) for name, r in got.items()}
    assert {name: found for name, found in shown.items() if found} == {}


@pytest.fixture
async def french(console: ConsoleEnv) -> None:
    """Everyone speaks French; a post of the campaign went out once, in the channel."""
    await _speak(console, "fr")
    at = console.clock.now() - timedelta(hours=1)
    post = {**_delivery("sent", at), "occurrence": "once", "step_id": "teaser-4"}
    post.update(sent_at=at, platform_message_id="M1", platform_channel_id="C1")
    async with console.db.session() as session:
        await insert_deliveries(session, [post])


@pytest.mark.usefixtures("french")
async def test_a_french_manager_reads_french_everywhere(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    got = await _pages(console, as_manager)
    # a page that does not exist, and an address edited by hand: pages in French
    missing = got["/no-such-page"]
    assert missing.status_code == 404 and "<h1>Page introuvable</h1>" in missing.text
    assert "Not Found" not in missing.text
    month = got["/timeline?view=calendar&month=2026-13"]
    assert month.status_code == 422 and month.headers["content-type"].startswith("text/html")
    assert "ne peut pas utiliser : <code>month</code>" in month.text
    assert "String should" not in month.text and "<h1>422</h1>" not in month.text
    day = got["/timeline?from=not-a-day"]  # said by its field, the page kept
    assert day.status_code == 200 and "<h1>Calendrier</h1>" in day.text
    assert '<span id="f-from-error" class="error field-error">« not-a-day » n&#39;est pas' in (
        day.text
    )
    # the JSON API keeps its shape
    api = await as_manager.get("/api/timeline/calendar", params={"month": "2026-13"})
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["query", "month"]
    # an unknown member, in French and without the member-text marks
    assert '<p class="error">Je ne connais pas @nobody.</p>' in got["confirm nobody"].text
    # a language by its name, in the timeline and in the preview's confirmation
    assert '">anglais</td>' in got["/timeline"].text and '">en</td>' not in got["/timeline"].text
    # the preview's language by its name
    preview = got["preview sent"].text
    assert "(français) est en route vers vous" in preview and "(fr)" not in preview
    # the paused state said once
    state = got["campaigns paused"].text
    assert state.count("en pause") == 1 and "· depuis le <time" in state
    # figures and colons the French way
    indicators = got["/indicators"].text
    assert "<span>Téléchargements :</span>" in indicators
    assert "La moitié des membres ont au plus 0 ·" in indicators  # as the HTML report
    # a one-off post: by its words and its campaign's title, no id, no occurrence beside it
    row = re.search(
        r'<th scope="row">([^<]*) <span class="muted reach-of">(.*?)</span></th>', indicators
    )
    assert row is not None and row.group(2) == "Connect launch", row
    assert "A question about Connect?" in row.group(1) and "teaser-4" not in row.group(1)
    assert "ligne 4, colonne 5 :</a> <strong>Erreur</strong>" in got["draft checked"].text
    # the downloaded report: French headings, its time in the console's zone, named
    report = got["/indicators/report.html"].text
    assert "<h2>Graphiques</h2>" in report and "<h2>Chiffres</h2>" in report
    zone = console.state.settings.timezone
    assert f"généré le 1er sept. 2026, 09:00 ({zone})" in report and zone == "Europe/London"
