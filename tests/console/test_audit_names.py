"""The audit log names what a community manager reads elsewhere in the console: a campaign
by its title, a step by its words (as the timeline's heading), a person by their display
name; never a ``platform:id`` in the visible text. Older rows still read; the JSON API keeps
the stored values. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import sqlalchemy as sa

from rallybot.storage.audit_models import AuditEntry
from rallybot.storage.challenge_models import ChallengeSubmission
from rallybot.storage.models import Member
from tests.console.conftest import MANAGER, ConsoleClient, ConsoleEnv

TEASER = "Will you be part of how we win our next customers? Save the date: 15 …"


def _visible(page: str) -> str:
    """The page's text as a reader sees it (no tags, no attributes)."""
    main = page.split("<main", 1)[1]
    return html.unescape(re.sub(r"<[^>]+>", " ", main))


async def test_the_audit_log_reads_names_not_ids(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    at = console.clock.now()
    rows = [
        ("console:animation", "send", "connect-launch/teaser-1 members=3 had=1"),
        ("console:animation", "pause", "campaign:connect-launch"),
        ("console:animation", "preview", "connect-launch/pilot-invitation fr"),
        (MANAGER, "skip", "connect-launch/teaser-1"),
        # written by an older version, or about a campaign removed since: still read
        (MANAGER, "send", "connect-launch/teaser-1 to 2 member(s), 2 had it"),
        (MANAGER, "retry", "old-campaign/step-9"),
        ("discord:42", "resume", "campaign:old-campaign"),
        ("forgotten", "erase", "a member"),
    ]
    async with console.db.session() as session:
        await session.execute(
            sa.update(Member).where(Member.platform_user_id == "UMANAGER").values(locale="fr")
        )
        session.add(Member(platform="console", platform_user_id="animation", display_name="Amélie"))
        mel = (
            await session.execute(sa.select(Member).where(Member.platform_user_id == "UMEMBER"))
        ).scalar_one()
        evidence = ChallengeSubmission(
            challenge="connect-launch/photo", member_id=mel.id, text="my desk", submitted_at=at
        )
        session.add(evidence)
        await session.flush()
        rows.append((MANAGER, "approved", f"submission #{evidence.id}"))
        rows.append((MANAGER, "rejected", "submission #999"))  # erased with its member since
        for n, (actor, action, target) in enumerate(rows):
            session.add(
                AuditEntry(at=at + timedelta(minutes=n), actor=actor, action=action, target=target)
            )
    page = (await as_manager.get("/audit")).text
    shown = " ".join(_visible(page).split())
    step = f"{TEASER} · Connect launch"
    assert f"{step}, à 3 personnes ; 1 personne l'avait déjà" in shown
    assert "campagne Connect launch" in shown
    assert "Bonjour [prénom], vous faites partie des 150 pionniers du pilote Conn… · " in shown
    assert f"Étape sautée {step} 1er sept." in shown
    assert f"{step}, à 2 personnes ; 2 personnes l'avaient déjà" in shown
    assert "old-campaign/step-9" in shown and "campagne old-campaign" in shown
    # a judged submission by who sent it and for which challenge (gone from its file: its
    # words and its campaign)
    assert "preuve envoyée par Mel Member pour « photo · Connect launch »" in shown
    assert "preuve n° 999" in shown
    # people by their names; the erased manager and an unknown person in words
    assert "Amélie" in shown and "Morgan Manager" in shown
    assert "membre effacé" in shown and "quelqu'un sur Discord" in shown
    for key in ("console:animation", "slack:UMANAGER", "discord:42", "teaser-1", "forgotten"):
        assert key not in shown, key
    assert 'title="console:animation"' in page  # the key, for who needs it, in a tooltip
    # the JSON API keeps what is stored
    api = (await as_manager.get("/api/audit")).json()["entries"]
    assert api[-1]["actor"] == "console:animation" and api[-1]["actor_name"] == "Amélie"
    assert api[-1]["target"] == "connect-launch/teaser-1 members=3 had=1"
