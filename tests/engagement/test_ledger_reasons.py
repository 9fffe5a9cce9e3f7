"""A ledger entry's reason as a member reads it: the reasons the code writes (old rows too,
stored as English text) in the member's language; a manager's own words untouched."""

from __future__ import annotations

from rallybot.bot.messages import member
from rallybot.handlers.points.feature import reason_text


def test_the_codes_reasons_are_translated() -> None:
    assert reason_text("fr", "first post") == "premier message"
    assert reason_text("de", "onboarding checklist complete") == "Onboarding-Checkliste erledigt"
    assert reason_text("es", "challenge done: Two posts") == (
        f"reto cumplido: {member('Two posts')}"
    )
    assert reason_text("fr", "kudos: great demo") == f"remerciement : {member('great demo')}"
    assert reason_text("de", "reacted :tada: to an announcement") == (
        f"mit :{member('tada')}: auf eine Ankündigung reagiert"
    )
    assert reason_text("fr", "kudos by :clap: reaction (taken back)") == (
        f"remerciement par la réaction :{member('clap')}: (retiré)"
    )


def test_english_and_a_managers_words_stay_as_written() -> None:
    assert reason_text("en", "first post") == "first post"
    assert reason_text("fr", "help at the fair") == member("help at the fair")
    assert reason_text("fr", "kudos:") == member("kudos:")  # not the shape the code writes
