"""The close of an anonymous survey gives away no late answer: two snapshots of the database
around the close, or the published figures before and after it, differ by no answer row and
by no figure when fewer than MIN_GROUP responses were still waiting (they are not counted,
and the results say so); on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.handlers.reporting.indicators import satisfaction
from rallybot.handlers.survey.feature import results_text, survey_results
from rallybot.storage.database import Database
from rallybot.storage.survey_models import MIN_GROUP, SurveyAnswer, SurveyDraft, SurveyResponder
from tests.surveys.test_surveys import LAUNCH, add_pilots, answer_all, make_bot, rows


async def _snapshot(db: Database) -> dict[str, Any]:
    """What a backup holds of the answers, and every figure published from them."""
    answers = sorted(await rows(db, SurveyAnswer), key=lambda r: str(r["id"]))
    results = await survey_results(db, "pulse/week1")
    figures = [
        (q.id, q.answered, q.skipped, q.counts, q.mean, q.nps, q.texts, q.by_cohort)
        for q in results.questions
    ]
    return {
        "answers": answers,
        "figures": figures,
        "too_few": results.too_few,
        "satisfaction": await satisfaction(db),
        "results": results,
    }


async def _answer(bot: Rallybot, adapter: MemoryAdapter, first: int, last: int) -> None:
    for i in range(first, last):
        await answer_all(bot, adapter, f"u{i}", "4", "9", f"text {i}")


@pytest.mark.parametrize(("respondents", "written"), [(6, 5), (10, 10), (13, 10), (3, 0)])
async def test_the_close_adds_no_answer_fewer_than_the_minimum(
    db: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    respondents: int,
    written: int,
) -> None:
    assert MIN_GROUP == 5
    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    await add_pilots(db, respondents)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    await _answer(bot, adapter, 0, written)
    before = await _snapshot(db)  # the nightly backup, and the figures read that day
    assert len({a["response_id"] for a in before["answers"]}) == written

    # The late ones answer alone, the last with a telling rating and text; then the close.
    late = respondents - written
    for i in range(written, respondents):
        await answer_all(bot, adapter, f"u{i}", "1", "0", f"LATE-{i}")
    caplog.set_level(logging.INFO)
    await bot.advance_to(LAUNCH + timedelta(days=16))
    await bot.advance_to(bot.clock.now() + timedelta(minutes=5))  # the tick closes the round
    after = await _snapshot(db)

    # (a) Not one row added, removed or rewritten (ids, days and groups kept): a diff of the
    # two backups isolates nothing.
    assert after["answers"] == before["answers"]
    assert not any("LATE" in str(a["text"]) for a in after["answers"])
    # (d) Every answer keeps the day of its batch.
    assert {a["answered_on"] for a in after["answers"]} <= {(LAUNCH + timedelta(days=1)).date()}
    # (b) Every published figure is the same as before the close.
    assert after["figures"] == before["figures"]
    assert after["satisfaction"] == before["satisfaction"]
    # The late drafts are gone; the results say how many responses were left out, and why.
    assert await rows(db, SurveyDraft) == []
    assert len(await rows(db, SurveyResponder)) == respondents
    assert after["results"].responses == respondents
    assert after["results"].not_counted == late
    text = results_text(after["results"], "en")
    if late == 1:
        assert "1 response could not be counted: fewer than 5" in text
    elif late:
        assert f"{late} responses could not be counted: fewer than 5" in text
    else:
        assert "could not be counted" not in text
    # (c) No log line counts the responses written or left out at the close.
    closing = [r.getMessage() for r in caplog.records if "closed" in r.getMessage()]
    assert closing == ["survey pulse/week1 closed"]


async def test_the_thanks_say_a_late_answer_may_not_be_counted(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    await add_pilots(db, 1)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    await answer_all(bot, adapter, "u0", "4", "9", "x")
    thanks = [d for d in adapter.directs if d.target == "u0"][-1].message.text
    assert "anonymously" in thanks and "deleted without being counted" in thanks
