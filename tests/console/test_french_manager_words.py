"""What a French community manager still tripped on: an erased member named by a raw id,
"de {name}" before a vowel, filters whose words do not agree, zones the timeline's filter
left out, replaced sends read as cancelled, steps named by their ids."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.handlers.console.pages.audit import describe
from rallybot.handlers.steering.service import REPLACED_BY, SKIPPED_BY
from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.models import CampaignState, Delivery, Member
from rallybot.storage.outbox import insert_deliveries
from rallybot.storage.repositories import get_member_by_platform_id
from tests.console.conftest import ConsoleClient, ConsoleEnv
from tests.console.test_words_not_ids import _post


@pytest.fixture
async def french(console: ConsoleEnv) -> None:
    """Everyone reads French."""
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
        session.add(CampaignState(id="connect-launch", title="Connect launch", source="x.yaml"))


@pytest.mark.usefixtures("french")
async def test_an_erased_member_is_named_erased_member(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    mel = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert mel is not None
    at = console.clock.now() - timedelta(hours=2)
    async with console.db.session() as session:
        row: dict[str, Any] = _post("teaser-1", "once", at, recipient=f"member:{mel.id}")
        await insert_deliveries(session, [row])
    erased = await as_manager.post(f"/api/members/{mel.id}/erase", headers=as_manager.csrf_header())
    assert erased.json() == {"erased": True}
    timeline = (await as_manager.get("/timeline", params={"to": "2026-09-01"})).text
    assert "forgotten-" not in timeline
    assert "membre effacé" in timeline


def _french_console(domain: str = "console") -> list[Any]:
    """The entries of a French catalog (the console's by default)."""
    from babel.messages.pofile import read_po

    path = Path(__file__).parents[2] / f"bot/locale/fr/LC_MESSAGES/{domain}.po"
    with path.open("rb") as po:
        return [m for m in read_po(po) if m.id and m.string]


def _texts(message: Any) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def test_french_never_writes_de_before_a_name() -> None:
    """« de Amélie » must elide, and a name is not known ahead: no « de {name} »."""
    before_a_name = re.compile(r"\b(de|du|que|le|la) \{(member|name|person|key|manager|who)\}")
    found = [t for m in _french_console() for t in _texts(m) if before_a_name.search(t)]
    assert found == []


def test_french_uses_one_apostrophe_everywhere() -> None:
    """The console, the bot and the shipped French examples write the straight apostrophe a
    keyboard types (as campaign files do): one CLI line or one message never mixes two."""
    typographic = [
        t
        for domain in ("console", "rallybot")
        for m in _french_console(domain)
        for t in _texts(m)
        if "\u2019" in t
    ]
    assert typographic == []
    examples = Path(__file__).parents[2] / "campaigns/examples/fr"
    files = sorted(examples.rglob("*.yaml"))
    assert files and [f.name for f in files if "\u2019" in f.read_text("utf-8")] == []


def test_kudos_is_one_word_in_french() -> None:
    """The console says what the report and its CSV say."""
    [kudos] = [m for m in _french_console() if m.id == "Kudos"]
    assert kudos.string == "Kudos"


@pytest.mark.usefixtures("french")
async def test_each_filter_says_any_in_agreement(as_manager: ConsoleClient) -> None:
    page = (await as_manager.get("/timeline")).text
    firsts = dict(
        re.findall(r'<select id="f-(\w+)" name="\w+">\s*<option value="">([^<]*)</option>', page)
    )
    assert firsts == {
        "campaign": "toutes",
        "audience": "tous",
        "zone": "tous",
        "locale": "toutes",
        "status": "tous",
    }


@pytest.mark.usefixtures("french")
async def test_the_zone_filter_offers_the_members_zones_and_shows_the_chosen_one(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    async with console.db.session() as session:
        await session.execute(
            sa.update(Member)
            .where(Member.platform_user_id == "UMEMBER")
            .values(timezone="America/Montreal")
        )
    page = (await as_manager.get("/timeline")).text
    assert '<option value="America/Montreal">America/Montreal</option>' in page
    chosen = (await as_manager.get("/timeline", params={"zone": "America/Montreal"})).text
    assert '<option value="America/Montreal" selected>' in chosen
    odd = (await as_manager.get("/timeline", params={"zone": "Asia/Tokyo"})).text
    assert '<option value="Asia/Tokyo" selected>' in odd


@pytest.mark.usefixtures("french")
async def test_replaced_copies_are_not_cancelled_and_the_last_message_was_sent(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    mel = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert mel is not None
    now = console.clock.now()
    sent = now - timedelta(days=3)
    async with console.db.session() as session:
        await insert_deliveries(
            session,
            [
                _post("teaser-1", "2026-01-01", sent),
                _post(
                    "teaser-1",
                    "2026-01-02",
                    now + timedelta(days=5),
                    recipient=f"member:{mel.id}",
                    status="cancelled",
                    reason=REPLACED_BY + "slack:UMANAGER",
                    sent_at=None,
                    platform_message_id=None,
                ),
                _post(
                    "teaser-1",
                    "2026-01-03",
                    now + timedelta(days=9),
                    status="skipped",
                    reason=SKIPPED_BY,
                    sent_at=None,
                    platform_message_id=None,
                ),
            ],
        )
    steps = (await as_manager.get("/api/act/steps")).json()
    [teaser] = [s for s in steps if s["step"] == "teaser-1"]
    assert (teaser["cancelled"], teaser["replaced"], teaser["skipped"]) == (0, 1, 1)
    # The last message: the one sent, not the skipped one ahead.
    assert not teaser["due_next"] and teaser["due"][:10] == sent.date().isoformat()
    act = (await as_manager.get("/act")).text
    replaced = "1 prévu, non envoyé : remplacé par un envoi immédiat"
    assert replaced in act and "annulé" not in act
    campaigns = (await as_manager.get("/campaigns")).text
    assert replaced in campaigns and "1 annulé" not in campaigns


DRAFT = """\
id: draft
title: A draft
timezone: Europe/Paris
milestones:
  launch: 2030-03-04 09:30
channels:
  news: general
steps:
  - id: teaser-step
    title: Save the date
    at: launch - 2d at 09:00
    post: news
    text: "Soon."
"""


@pytest.mark.usefixtures("french")
async def test_the_draft_checker_names_steps_by_their_title(as_manager: ConsoleClient) -> None:
    page = await as_manager.post(
        "/drafts", data={"csrf_token": as_manager.csrf, "text": DRAFT, "kind": "campaign"}
    )
    table = page.text[page.text.index("<table", page.text.index("Save the date")) :]
    assert "Save the date" in table[: table.index("</table>")]
    assert "<code>teaser-step</code>" not in page.text


@pytest.mark.usefixtures("french")
async def test_a_journey_message_is_named_by_its_words(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    mel = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert mel is not None
    at = console.clock.now() - timedelta(hours=2)
    rows = [
        _post(
            "journey-buddy",
            "once",
            at,
            campaign_id="connect-launch.onboarding",
            recipient=f"member:{mel.id}",
        ),
        _post(
            "welcome",
            "once",
            at,
            campaign_id="connect-launch.onboarding",
            recipient=f"member:{mel.id}",
        ),
    ]
    async with console.db.session() as session:
        await insert_deliveries(session, rows)
        ids = (
            (
                await session.execute(
                    sa.select(Delivery.id)
                    .where(Delivery.campaign_id == "connect-launch.onboarding")
                    .order_by(Delivery.step_id)
                )
            )
            .scalars()
            .all()
        )
    pages = [(await as_manager.get(f"/timeline/d{n}")).text for n in ids]
    buddy, welcome = pages
    heading = re.compile(r"<h2>(.*?) <span")
    buddy, welcome = html.unescape(buddy), html.unescape(welcome)
    assert (
        heading.findall(buddy)[0]
        == "Parcours d'arrivée : présentation du parrain ou de la marraine"
    )
    assert heading.findall(welcome)[0] == "Parcours d'arrivée : message de bienvenue"


@pytest.mark.usefixtures("french")
async def test_a_task_acknowledgement_is_named_by_the_tasks_label(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    """The message a newcomer gets when they mark a task done (``task-<id>-done``) is named
    by the task's label, in the preview's heading and in the audit log."""
    mel = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert mel is not None
    at = console.clock.now() - timedelta(hours=2)
    rows = [
        _post(
            step, "once", at, campaign_id="connect-launch.onboarding", recipient=f"member:{mel.id}"
        )
        for step in ("task-mobile-app-done", "task-gone-done")
    ]
    async with console.db.session() as session:
        await insert_deliveries(session, rows)
        ids = (
            (
                await session.execute(
                    sa.select(Delivery.id)
                    .where(Delivery.campaign_id == "connect-launch.onboarding")
                    .order_by(Delivery.step_id)
                )
            )
            .scalars()
            .all()
        )
        session.add_all(
            [
                AuditEntry(
                    actor="slack:UMANAGER",
                    action="retry",
                    target=f"{row['campaign_id']}/{row['step_id']}",
                )
                for row in rows
            ]
        )
    heading = re.compile(r"<h2>(.*?) <span")
    gone, mobile = [html.unescape((await as_manager.get(f"/timeline/d{n}")).text) for n in ids]
    assert heading.findall(mobile)[0] == "Tâche « Installer l'application mobile » faite"
    # A task no longer in the campaign: what the message is, not its id.
    assert heading.findall(gone)[0] == "Parcours d'arrivée : une tâche faite"
    audit = html.unescape((await as_manager.get("/audit")).text)
    assert "Tâche « Installer l'application mobile » faite · Connect launch" in audit
    assert "task-mobile-app-done" not in audit
    english = describe("retry", "connect-launch.onboarding/task-mobile-app-done", "en")
    assert english.detail == "connect-launch.onboarding/task-mobile-app-done"  # no campaigns
