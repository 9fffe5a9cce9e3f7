"""A skipped message's preview says why, in the manager's language, for the reasons the bot
keeps (in English, for the logs)."""

from __future__ import annotations

import pytest

from rallybot.bot.outbox import MISSED, NOT_NEEDED, OPTED_OUT, REMOVED
from rallybot.handlers.console.pages.timeline import reason_words


@pytest.mark.parametrize(
    ("kept", "french"),
    [
        (
            f"{MISSED}due 2026-09-28 07:00 UTC, more than 1 hour before the bot could send it "
            "(it was stopped or the campaign paused)",
            "trop tard : le bot n'a pas pu l'envoyer dans son délai de grâce "
            "(il était arrêté ou la campagne en pause)",
        ),
        (
            f"{OPTED_OUT}the member asked for no messages",
            "le membre a demandé à ne plus recevoir de messages",
        ),
        (f"{REMOVED}no longer in the database", "le membre a été supprimé"),
        (
            f"{NOT_NEEDED}the onboarding checklist is complete",
            "inutile : le membre avait déjà fait ce qui était demandé",
        ),
    ],
)
def test_a_kept_skip_reason_is_worded_for_the_manager(kept: str, french: str) -> None:
    assert reason_words(kept, "fr") == french
    assert reason_words(kept, "en") not in {"", kept}


def test_a_workers_note_stays_out_of_the_page() -> None:
    assert reason_words("send failed: HTTP 500", "fr") == ""
