"""``/rallybot me``: a member's own space in one answer, in the member's language."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rallybot.bot.events import UserRef
from rallybot.storage.database import Database
from rallybot.storage.repositories import upsert_member

from .test_steering import LAUNCH, MEMBER, make_world


async def test_me_gathers_points_challenges_and_what_comes_next(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    await w.bot.advance_to(LAUNCH - timedelta(days=2))
    answer = await w.command(MEMBER, "me")
    sections = answer.split("\n\n")
    assert [s.splitlines()[0] for s in sections] == [  # m1 is French: all of it speaks French
        "🧭 Intégration",
        "⭐ Points",
        "🏁 Aucun défi en ce moment.",
        "📅 À venir",
    ]
    assert "Vous avez 0 point." in answer
    # The pilot invitation is m1's own message, in three days: shown in their zone.
    assert "À venir : invite, mer. 3 mars, 10:00." in answer
    assert "teaser" not in answer  # channel posts are everyone's, not "mine"
    english = await w.command(UserRef("memory", "m2", name="M2"), "me")
    assert [s.splitlines()[0] for s in english.split("\n\n")] == [
        "🧭 Onboarding",
        "⭐ Points",
        "🏁 No challenges right now.",
        "📅 Next",
    ]
    assert "Coming up: invite, Wed, Mar 3, 10:00." in english


async def test_a_german_member_reads_their_space_in_german(db: Database, tmp_path: Path) -> None:
    w = await make_world(db, tmp_path)
    await upsert_member(db, "memory", "m9", w.bot.clock.now(), first_name="Erika", locale="de")
    answer = await w.command(UserRef("memory", "m9", name="Erika"), "me")
    sections = answer.split("\n\n")
    assert [s.splitlines()[0] for s in sections] == [
        "🧭 Onboarding",
        "⭐ Punkte",
        "🏁 Gerade laufen keine Challenges.",
        "📅 Demnächst",
    ]
    assert "Du hast 0 Punkte." in answer
    assert sections[-1].splitlines()[1] == "In den nächsten 30 Tagen ist nichts für dich geplant."
