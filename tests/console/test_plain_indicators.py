"""The indicators page in words a manager can show to management: a challenge's participants are
everyone who sent evidence (approved, waiting or rejected beside them), the funnel's "first post"
is defined beside it, no setting's name and no statistics jargon."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.models import Member
from rallybot.storage.repositories import upsert_member
from tests.console.conftest import ConsoleClient, ConsoleEnv


async def _evidence(console: ConsoleEnv) -> None:
    """Three members sent evidence for connect-launch/proof: approved, waiting, rejected."""
    now = console.clock.now()
    sent = []
    for user_id, state in (("amelie", "approved"), ("bastien", "pending"), ("chloe", "rejected")):
        member = await upsert_member(console.db, "console", user_id, now - timedelta(days=30))
        sent.append(
            ChallengeSubmission(
                challenge="connect-launch/proof",
                member_id=member.id,
                text=f"proof of {user_id}",
                state=state,
                submitted_at=now - timedelta(days=1),
                evidence_key=f"text:{user_id}",
            )
        )
    async with console.db.session() as session:
        session.add_all(sent)


async def test_a_challenges_participants_are_everyone_who_sent_evidence(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _evidence(console)
    api = (await as_manager.get("/api/indicators")).json()
    proof = next(c for c in api["challenges"] if c["challenge"] == "connect-launch/proof")
    assert (proof["participants"], proof["approved"], proof["waiting"], proof["rejected"]) == (
        3,
        1,
        1,
        1,
    )
    page = (await as_manager.get("/indicators")).text
    # connect-launch's file has no "proof" challenge (any more): its words, its campaign's
    # title, not the key
    assert "connect-launch/proof" not in page
    row = page.split('<th scope="row">proof · Connect launch</th>', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num" data-label="Participants">3</td>' in row
    for label in ("Evidence approved", "Evidence waiting", "Evidence rejected"):
        assert f'<td class="num" data-label="{label}">1</td>' in row
    assert "Participants: the members who made progress in a challenge or sent evidence" in page


async def test_the_page_speaks_plainly_in_french(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    await _evidence(console)
    async with console.db.session() as session:
        await session.execute(sa.update(Member).values(locale="fr"))
    page = (await as_manager.get("/indicators")).text
    assert "RALLYBOT_COUNT_MANAGERS" not in page and "p90" not in page
    # the manager left out, in plain words (Morgan Manager is of RALLYBOT_ADMINS)
    assert (
        "1 community manager n'est pas compté dans ces chiffres : les managers en sont exclus "
        "pour que les chiffres décrivent la communauté. Votre administrateur peut les inclure."
    ) in page
    assert "Premier message : un message ou une réponse dans un fil, écrits dans un canal" in page
    assert "Médiane : la moitié des questions ont reçu une première réponse" in page
    assert "NPS (Net Promoter Score), de -100 à +100" in page
    assert '<th scope="col">Preuve en attente</th>' in page
    help_desk = (await as_manager.get("/helpdesk")).text
    assert "Médiane : la moitié des questions ont reçu une première réponse" in help_desk
