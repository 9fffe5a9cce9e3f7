"""Anonymous polls on SQLite and PostgreSQL: one final ballot per member, written in shuffled
batches of at least MIN_GROUP, counts held back below it, and the re-identification attack
the survey's anonymity is tested with (row order, rowid, xmin, ctid, activity, drafts, logs)."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.storage.database import Database
from rallybot.storage.poll_models import MIN_GROUP, PollBallot, PollDraft, PollVote, PollVoter
from rallybot.storage.report_models import Activity
from tests.polls.helpers import (
    CLOSED,
    POSTED,
    add_members,
    button,
    click,
    command,
    last_dm,
    make_bot,
    post_of,
    rows,
)

IN = (
    "Your anonymous vote is in. Nothing links it to you, so it cannot be changed. It is "
    "counted in a batch of at least 5 votes; if fewer than 5 are still waiting for a batch "
    "when the poll closes, they are deleted without being counted."
)
ALREADY = (
    "You have already voted in this anonymous poll: nothing links your vote to you, so it "
    "cannot be changed."
)


def _ballots(found: list[dict[str, Any]], poll_id: str) -> list[dict[str, Any]]:
    return [r for r in found if r["poll_id"] == poll_id]


async def test_anonymous_single_choice_batches_and_close(db: Database, tmp_path: Path) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    members = await add_members(db, 6)
    await bot.advance_to(POSTED)
    post = post_of(adapter, "mood")
    assert "Anonymous poll: one choice, final." in (post.message.context or "")
    picks = ["Great", "Great", "Fine", "Rough", "Great", "Fine"]
    for i in range(4):
        await click(bot, f"u{i}", button(post, picks[i]))
        assert last_dm(adapter, f"u{i}") == IN
    # Four ballots wait for their batch: none written, no count shown.
    assert _ballots(await rows(db, PollBallot), "launch/mood") == []
    await command(bot, "cm", "results", "mood")
    live = last_dm(adapter, "cm")
    assert "0 people voted." in live
    assert "4 anonymous ballots wait for their batch (counted from 5 on)." in live

    # A second vote, even for another choice, is refused and changes nothing.
    await click(bot, "u0", button(post, "Rough"))
    assert last_dm(adapter, "u0") == ALREADY
    assert len(await rows(db, PollVoter)) == 4

    await click(bot, "u4", button(post, picks[4]))  # the fifth: the batch is written
    first = _ballots(await rows(db, PollBallot), "launch/mood")
    assert sorted(r["choices"] for r in first) == [[0], [0], [0], [1], [2]]
    assert await rows(db, PollDraft) == []
    assert set(first[0]) == {"id", "poll_id", "choices"}  # no member, no time
    await command(bot, "cm", "results", "mood")
    assert "Great: 3 votes (60%)" in last_dm(adapter, "cm")

    await click(bot, "u5", button(post, picks[5]))  # alone in its batch until the close
    assert len(_ballots(await rows(db, PollBallot), "launch/mood")) == 5
    await command(bot, "cm", "results", "mood")
    before = last_dm(adapter, "cm")
    await bot.advance_to(CLOSED)
    # The last ballot, alone, is deleted without being counted: written, it would be told
    # apart by its transaction, by a diff of two backups, or by the counts before and after.
    final = _ballots(await rows(db, PollBallot), "launch/mood")
    assert final == first
    assert await rows(db, PollDraft) == []
    assert {r["member_id"] for r in await rows(db, PollVoter)} == {m.id for m in members}
    assert await rows(db, PollVote) == []
    (results,) = [
        p
        for p in adapter.posts
        if p.message.metadata.get("poll") == "launch/mood" and p.message.metadata.get("results")
    ]
    assert "Great: 3 votes (60%)" in results.message.text and "Great: 3 votes (60%)" in before
    assert "5 people voted." in results.message.text
    assert (
        "1 ballot could not be counted: fewer than 5 were still waiting when the poll closed, "
        "too few to stay anonymous." in results.message.text
    )


async def test_a_small_anonymous_poll_shows_no_counts(db: Database, tmp_path: Path) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    await add_members(db, 2)
    await bot.advance_to(POSTED)
    post = post_of(adapter, "mood")
    await click(bot, "u0", button(post, "Great"))
    await click(bot, "u1", button(post, "Rough"))
    await bot.advance_to(CLOSED)
    (results,) = [
        p
        for p in adapter.posts
        if p.message.metadata.get("poll") == "launch/mood" and p.message.metadata.get("results")
    ]
    assert results.message.text == (
        "2 ballots could not be counted: fewer than 5 were still waiting when the poll closed, "
        "too few to stay anonymous."
    )
    assert await rows(db, PollBallot) == [] and await rows(db, PollDraft) == []
    assert "Great" not in results.message.text and "Rough" not in results.message.text


async def test_anonymous_multiple_choice_is_cast_once(db: Database, tmp_path: Path) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    (member,) = await add_members(db, 1)
    await bot.advance_to(POSTED)
    post = post_of(adapter, "wishes")
    labels = [b.label for b in post.message.buttons]
    assert labels == [*"ABCDEFGHIJ", "Cast my vote"]
    await click(bot, "u0", button(post, "Cast my vote"))
    assert last_dm(adapter, "u0") == "Pick at least one choice before you cast your vote."
    await click(bot, "u0", button(post, "A"))
    await click(bot, "u0", button(post, "C"))
    await click(bot, "u0", button(post, "A"))
    assert last_dm(adapter, "u0") == "Your choice: C. Cast your vote when you are done."
    await click(bot, "u0", button(post, "D"))
    (draft,) = await rows(db, PollDraft)
    assert draft["choices"] == [2, 3] and not draft["cast"]
    await click(bot, "u0", button(post, "Cast my vote"))
    assert last_dm(adapter, "u0") == IN
    await click(bot, "u0", button(post, "E"))
    assert last_dm(adapter, "u0") == ALREADY
    await click(bot, "u0", button(post, "Cast my vote"))
    assert last_dm(adapter, "u0") == ALREADY
    assert [r["member_id"] for r in await rows(db, PollVoter)] == [member.id]
    (cast,) = await rows(db, PollDraft)
    assert cast["choices"] == [2, 3] and cast["cast"]  # waiting for its batch
    await bot.advance_to(CLOSED)
    # Alone at the close: deleted without being counted (one ballot would be its voter's).
    assert await rows(db, PollBallot) == []
    assert await rows(db, PollDraft) == []


# ---------------------------------------------------------------------------- the attack

VOTERS = 20
CHANCE_CEILING = 10
"""Most ballots a guess may tie to the right voter: with batches of 5, a random guess inside
the batch is right with p = 1/5, and 11 or more right out of 20 has a probability below
0.001."""


def _subset(i: int) -> list[int]:
    """Voter ``i``'s choices: the bits of i + 1 (a set no one else picks)."""
    return [bit for bit in range(10) if (i + 1) >> bit & 1]


async def _fetch(db: Database, sql: str) -> list[Any]:
    async with db.session() as session:
        return list((await session.execute(sa.text(sql))).all())


def _rank_pairing(voters: list[tuple[Any, int]], ballots: list[tuple[Any, str]]) -> dict[str, int]:
    who = [m for _, m in sorted(voters, key=lambda r: r[0])]
    what = [b for _, b in sorted(ballots, key=lambda r: r[0])]
    return dict(zip(what, who, strict=False))


def _ctid(value: Any) -> tuple[int, int]:
    page, row = str(value).strip("()").split(",")
    return int(page), int(row)


async def test_no_join_ties_an_anonymous_ballot_to_its_voter(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    members = await add_members(db, VOTERS)
    await bot.advance_to(POSTED)
    post = post_of(adapter, "wishes")
    rng = random.Random(11)
    order = list(range(VOTERS))
    rng.shuffle(order)
    with caplog.at_level(logging.INFO):
        for i in order:
            uid = f"u{i}"
            for choice in _subset(i):
                await click(bot, uid, button(post, "ABCDEFGHIJ"[choice]))
                bot.clock.advance(timedelta(seconds=rng.randint(2, 90)))
            await click(bot, uid, button(post, "Cast my vote"))
            assert last_dm(adapter, uid) == IN
            bot.clock.advance(timedelta(minutes=rng.choice([1, 7, 45, 200])))
    await bot.advance_to(CLOSED)

    # What the test knows: each ballot's choices name its voter.
    ballots = await _fetch(db, "SELECT id, choices FROM poll_ballot")
    by_choices = {str(_subset(i)): members[i].id for i in range(VOTERS)}
    truth = {
        str(b[0]): by_choices[str(b[1] if isinstance(b[1], list) else _json(b[1]))] for b in ballots
    }
    assert sorted(truth.values()) == sorted(m.id for m in members)  # every ballot is there

    def correct(guess: dict[str, int]) -> int:
        return sum(1 for ballot, member in guess.items() if truth.get(ballot) == member)

    found: dict[str, int] = {}
    voters = await _fetch(db, "SELECT member_id FROM poll_voter")
    found["physical order"] = correct(
        _rank_pairing(
            [(n, int(r[0])) for n, r in enumerate(voters)],
            [(n, str(r[0])) for n, r in enumerate(ballots)],
        )
    )
    if db.engine.dialect.name == "sqlite":
        with pytest.raises(sa.exc.OperationalError):  # WITHOUT ROWID: nothing to read
            await _fetch(db, "SELECT rowid FROM poll_ballot")
    else:
        for system in ("xmin", "ctid"):
            cast = "xmin::text::bigint" if system == "xmin" else "ctid"
            who = await _fetch(db, f"SELECT {cast}, member_id FROM poll_voter")
            what = await _fetch(db, f"SELECT {cast}, id FROM poll_ballot")
            if system == "ctid":
                who = [(_ctid(c), m) for c, m in who]
                what = [(_ctid(c), b) for c, b in what]
            found[system] = correct(
                _rank_pairing([(k, int(m)) for k, m in who], [(k, str(b)) for k, b in what])
            )
            if system == "xmin":
                nearest: dict[str, int] = {}
                for key, ballot in what:
                    before = [(k, int(m)) for k, m in who if k <= key]
                    if before:
                        nearest[str(ballot)] = max(before)[1]
                found["xmin, nearest before"] = correct(nearest)
    # Clicks leave no activity rows (their number would tell the size of the ballot).
    found["activity"] = len(
        [r for r in await rows(db, Activity) if r["member_id"] in {m.id for m in members}]
    )
    found["drafts"] = len(await rows(db, PollDraft))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    found["logs"] = sum(1 for i in range(VOTERS) if f"u{i}" in logged.split())

    limits = {name: CHANCE_CEILING for name in found}
    limits["activity"] = limits["drafts"] = limits["logs"] = 0
    assert {n: v for n, v in found.items() if v > limits[n]} == {}, found
    assert MIN_GROUP == 5


def _json(value: Any) -> Any:
    import json

    return json.loads(value)
