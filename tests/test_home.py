"""``/rallybot me``: a member's own space in one answer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rallybot.storage.database import Database

from .test_steering import LAUNCH, MEMBER, make_world


async def test_me_gathers_points_challenges_and_what_comes_next(
    db: Database, tmp_path: Path
) -> None:
    w = await make_world(db, tmp_path)
    await w.bot.advance_to(LAUNCH - timedelta(days=2))
    answer = await w.command(MEMBER, "me")
    sections = answer.split("\n\n")
    assert [s.splitlines()[0] for s in sections] == [
        "🧭 Onboarding",
        "⭐ Points",
        "🏁 No challenges right now.",
        "📅 Next",
    ]
    assert "Vous avez 0 point." in answer  # m1 is French: the points section speaks French
    # The pilot invitation is m1's own message, in three days: shown in their zone.
    assert "Coming up: invite, Wed 03 Mar 10:00." in answer
    assert "teaser" not in answer  # channel posts are everyone's, not "mine"
