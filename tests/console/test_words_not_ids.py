"""What a French community manager reads instead of ids and bare figures: a send made now,
a preview and a step by their words, a campaign by its title, counts with their plural, the
file fields in the page's language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.models import CampaignState, Member
from rallybot.storage.onboarding_models import JourneyState, JourneyTask
from rallybot.storage.outbox import insert_deliveries
from tests.console.conftest import ConsoleClient, ConsoleEnv

NOW_ID = "now-0123456789abcdef01234567"


def _post(step: str, occurrence: str, at: Any, **more: Any) -> dict[str, Any]:
    return {
        "campaign_id": "connect-launch",
        "step_id": step,
        "recipient": "channel:announcements",
        "occurrence": occurrence,
        "due_at": at,
        "grace_until": at,
        "status": "sent",
        "reason": None,
        "payload": {"message": {"text": f"The words of {step}"}},
        "content_hash": "",
        "attempts": 1,
        "created_at": at,
        "updated_at": at,
        "sent_at": at,
        "platform_message_id": f"M-{occurrence}",
        "platform_channel_id": "C1",
        **more,
    }


async def add_sends(session: Any, at: Any) -> None:
    """Four posts of teaser-1 sent, teaser-2 sent now, then previewed to the manager (all
    before ``at``)."""
    manager = (
        await session.execute(sa.select(Member.id).where(Member.platform_user_id == "UMANAGER"))
    ).scalar_one()
    rows = [_post("teaser-1", f"2026-08-2{n}", at - timedelta(days=n)) for n in range(4)]
    rows.append(_post("teaser-2", NOW_ID, at))
    rows.append(
        _post(
            "teaser-2",
            "preview-0123456789abcdef01234567",
            at,
            campaign_id="connect-launch.preview",
            recipient=f"member:{manager}",
            platform_message_id=None,
            platform_channel_id=None,
        )
    )
    await insert_deliveries(session, rows)


@pytest.fixture
async def french(console: ConsoleEnv) -> None:
    """Everyone reads French; the sends of :func:`add_sends`."""
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
        session.add(CampaignState(id="connect-launch", title="Connect launch", source="x.yaml"))
        await add_sends(session, console.clock.now() - timedelta(hours=2))


@pytest.mark.usefixtures("french")
async def test_sends_and_steps_by_their_words(as_manager: ConsoleClient) -> None:
    timeline = (await as_manager.get("/timeline", params={"to": "2026-09-01"})).text
    assert "connect-launch.preview" not in timeline and NOW_ID not in timeline
    assert "aperçu pour Morgan Manager" in timeline
    assert "Connect launch · envoyé maintenant" in timeline
    # the step by its words, its id small below
    assert '">The words of teaser-2</a>' in timeline
    assert '<code class="muted step-id">teaser-2</code>' in timeline
    assert "connect-launch / teaser-2" not in timeline

    reach = (await as_manager.get("/indicators")).text
    assert NOW_ID not in reach and "connect-launch / " not in reach
    assert "Connect launch · envoyé maintenant" in reach
    assert "Connect launch · 21 août 2026" in reach  # a send of several, by its day
    assert "Trouver" not in reach  # the English campaign's words, not another's
    # a post by the words it went out with (its stored message), not its step filled in today
    assert "The words of teaser-2" in reach and "Find an expert in two minutes" not in reach

    campaigns = (await as_manager.get("/campaigns")).text
    assert "Mettre en pause « Connect launch »" in campaigns
    assert "Mettre en pause connect-launch" not in campaigns


@pytest.mark.usefixtures("french")
async def test_counts_read_as_words(as_manager: ConsoleClient) -> None:
    campaigns = (await as_manager.get("/campaigns")).text
    assert '<span class="badge badge-sent">5 envoyés</span>' in campaigns
    assert "envoyé 5" not in campaigns
    helpdesk = (await as_manager.get("/helpdesk")).text
    assert "0 posée ·" in helpdesk and "Posées 0" not in helpdesk


@pytest.mark.usefixtures("french")
async def test_file_fields_speak_the_pages_language(as_manager: ConsoleClient) -> None:
    for page, field in (("/members", "roster-file"), ("/drafts", "draft-file")):
        text = (await as_manager.get(page)).text
        button = f'<label for="{field}" class="button secondary file-button" aria-hidden="true">'
        assert f"{button}Choisir un fichier…</label>" in text
        name = f'<span id="{field}-name" class="muted file-name" data-none="Aucun fichier choisi">'
        assert f"{name}Aucun fichier choisi</span>" in text
        # the input itself stays, named by the field's own label
        assert f'aria-labelledby="{field}-label"' in text


@pytest.mark.usefixtures("french")
async def test_filters_and_evidence_by_their_names(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    option = '<option value="connect-launch">Connect launch</option>'
    assert option in (await as_manager.get("/timeline")).text
    assert option in (await as_manager.get("/indicators")).text
    async with console.db.session() as session:
        member = (
            await session.execute(sa.select(Member.id).where(Member.platform_user_id == "UMEMBER"))
        ).scalar_one()
        evidence = ChallengeSubmission(
            challenge="connect-launch/photo",
            member_id=member,
            text="my desk https://files.example.com/desk.png",
            submitted_at=console.clock.now(),
        )
        session.add(evidence)
        await session.flush()
        number = evidence.id
    approvals = (await as_manager.get("/approvals")).text
    assert "1 preuve en attente." in approvals
    assert f"#{number}" not in approvals
    assert 'aria-label="Approuver : Mel Member, ' in approvals
    assert "Fichiers et liens :" in approvals  # the colon as French writes it


async def test_the_bots_own_messages_are_named_by_what_they_belong_to(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    """A buddy's message of the journey, a challenge's evidence and a help desk reply are
    named by the part of the campaign (or the feature) that sent them, and a mention reads as
    @name, not as chat markup."""
    at = console.clock.now() - timedelta(hours=3)
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
        await insert_deliveries(
            session,
            [
                _post(
                    "journey-buddy",
                    "once",
                    at,
                    campaign_id="connect-launch.onboarding",
                    payload={"message": {"text": "<@parrain1> vous accompagne sur Connect"}},
                    platform_message_id="M-buddy",
                ),
                _post(
                    "ticket-1-welcome",
                    "thread",
                    at,
                    campaign_id=".helpdesk",
                    platform_message_id="M-desk",
                ),
            ],
        )
    page = (await as_manager.get("/timeline", params={"to": "2026-09-01"})).text
    assert "connect-launch.onboarding" not in page and ".helpdesk" not in page
    assert "Accueil · " in page and "Entraide" in page
    assert "@parrain1 vous accompagne" in page and "&lt;@parrain1&gt;" not in page


@pytest.mark.usefixtures("french")
async def test_onboarding_progress_by_the_campaigns_title(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    """The members page names a journey's campaign by its title, a campaign no longer loaded
    by its id (the only name left)."""
    now = console.clock.now()
    async with console.db.session() as session:
        member = (
            await session.execute(sa.select(Member.id).where(Member.platform_user_id == "UMEMBER"))
        ).scalar_one()
        session.add(JourneyState(member_id=member, campaign_id="connect-launch", started_at=now))
        session.add(
            JourneyTask(
                member_id=member, campaign_id="connect-launch", task_id="profile", done_at=now
            )
        )
        session.add(
            JourneyState(member_id=member, campaign_id="gone", started_at=now, completed_at=now)
        )
    page = (await as_manager.get("/members")).text
    assert "Connect launch : 1 sur 4 tâches" in page
    assert "connect-launch :" not in page
    assert "gone : terminé" in page
