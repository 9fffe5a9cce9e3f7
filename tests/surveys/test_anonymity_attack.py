"""The re-identification attack on an anonymous survey, on SQLite and PostgreSQL.

Twenty members answer an anonymous survey of three questions, each with an answer no one
else gives, in a random order and at random times (minutes to a day apart). The test then
reads the database as an attacker with full read access would, and tries every join it knows:
physical row order, ``rowid`` (SQLite), ``xmin`` and ``ctid`` (PostgreSQL), the day stored with
the answers, the times of the activity and inbound-event rows, the inbound journal, the
deduplication rows and the journal's closed rows (a click's keyed id worked out again names its
member, and the time to the next form gives the text's length), the team and cohort stored with
the answers (a team of one, a cohort of one), leftover drafts, the
outbox rows of the next questions and the thanks (their words, and the time each member spent
on a question, measured between two of their rows: a long text takes long to type), and the
bytes of the SQLite file and its write-ahead log (free pages). Each attack must do no better
than chance allows for batches of :data:`MIN_GROUP` answers (the guarantee documented in
``docs/explanation/privacy.md``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import Delivered, MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import ButtonClicked, ChannelRef, FormSubmitted, UserRef
from rallybot.bot.messages import Button
from rallybot.storage.database import Database
from rallybot.storage.repositories import upsert_member
from rallybot.storage.secret import server_secret
from rallybot.storage.survey_models import MIN_GROUP

LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
RESPONDENTS = 20
CHANCE_CEILING = 10
"""Most answers a guess may get right: with batches of 5, a random guess inside the batch is
right with p = 1/5, and 11 or more right out of 20 has a probability below 0.001."""

CAMPAIGN = """\
id: attack
title: Attack
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
steps:
  - id: pulse
    at: launch + 1d at 10:00
    dm: "Three questions?"
    survey:
      anonymous: true
      questions:
        - {id: mood, kind: nps, text: "How likely are you to recommend it?"}
        - {id: best, kind: single, text: "Best part?", choices: [News, Groups, Docs]}
        - {id: words, kind: text, text: "In your words?"}
"""


def _team(i: int) -> str:
    return "solo" if i == 0 else f"team-{i % 4}"


def _cohort(i: int) -> str:
    return "lonely" if i == 1 else "pilote"


_LENGTHS = random.Random(7).sample(range(RESPONDENTS), RESPONDENTS)
"""How long each respondent's text is (in tens of characters), in no order of theirs."""
TYPING = timedelta(seconds=1)
"""The time it takes to type ten characters: the time spent on the free-text question tells
how long the answer is."""


def _words(i: int) -> str:
    return f"secret-words-of-respondent-{i:02d}" + " and more." * _LENGTHS[i]


def _user(uid: str) -> UserRef:
    return UserRef("memory", uid, name=uid)


QUESTION_TS = "1762245000.000100"
"""The Slack ts of the message holding the survey's buttons (the bot sent it: an attacker
reading the outbox knows it)."""


SUB_SECOND = 2
"""The test's clock has whole seconds: a click's action ts gets its number modulo this as
microseconds, so that a member's two clicks in one second differ, as real ones do. A real
action ts has 10^6 microseconds a second: the attacker's search (:func:`_clicks_by_member`)
would cost 5 * 10^5 times more, affordable all the same (hashes are cheap)."""


def _click_id(moment: datetime, micros: int, uid: str) -> str:
    """A click's platform id, as Slack's are built (``<message ts>:<action ts>:<user id>``):
    the action ts is the click's time (see :func:`_clicks_by_member`)."""
    return f"{QUESTION_TS}:{int(moment.timestamp())}.{micros:06d}:{uid}"


class _Run:
    def __init__(self, bot: Rallybot, adapter: MemoryAdapter) -> None:
        self.bot, self.adapter, self.n = bot, adapter, 0

    def last(self, uid: str) -> Delivered:
        return [d for d in self.adapter.directs if d.target == uid][-1]

    async def click(self, uid: str, button: Button) -> None:
        assert button.action_id is not None
        self.n += 1
        await self.bot.handle(
            ButtonClicked(
                event_id=_click_id(self.bot.clock.now(), self.n % SUB_SECOND, uid),
                platform="memory",
                user=_user(uid),
                occurred_at=self.bot.clock.now(),
                channel=ChannelRef("memory", f"dm-{uid}", is_direct=True),
                message_id=f"msg-{self.n}",
                action_id=button.action_id,
                value=button.value,
            )
        )

    def button(self, uid: str, label: str) -> Button:
        return next(b for b in self.last(uid).message.buttons if b.label == label)

    async def answer(self, i: int, rng: random.Random) -> None:
        uid = f"u{i}"
        invitation = next(
            d
            for d in self.adapter.directs
            if d.target == uid and d.message.metadata.get("step") == "pulse"
        )
        start = next(b for b in invitation.message.buttons if b.action_id == "survey-start")
        await self.click(uid, start)
        await self.click(uid, self.button(uid, str(i % 11)))
        self.bot.clock.advance(timedelta(seconds=rng.randint(5, 120)))
        await self.click(uid, self.button(uid, ["News", "Groups", "Docs"][i % 3]))
        await self.click(uid, self.button(uid, "Write my answer"))
        self.bot.clock.advance(TYPING * (len(_words(i)) // 10))
        self.n += 1
        await self.bot.handle(
            FormSubmitted(
                event_id=f"form-{self.n}",
                platform="memory",
                user=_user(uid),
                occurred_at=self.bot.clock.now(),
                form_id=self.adapter.forms[-1].form.id,
                values={"answer": _words(i)},
            )
        )
        assert "Thank you" in self.last(uid).message.text


async def _fetch(db: Database, sql: str) -> list[Any]:
    async with db.session() as session:
        return list((await session.execute(sa.text(sql))).all())


def _rank_pairing(
    responders: Sequence[tuple[Any, int]], responses: Sequence[tuple[Any, str]]
) -> dict[str, int]:
    """Pair the i-th responder with the i-th response, both sorted by an order key."""
    who = [m for _, m in sorted(responders, key=lambda r: r[0])]
    what = [r for _, r in sorted(responses, key=lambda r: r[0])]
    return dict(zip(what, who, strict=False))


def _correct(guess: dict[str, int], truth: dict[str, int]) -> int:
    return sum(1 for response, member in guess.items() if truth.get(response) == member)


async def _truth(db: Database, members: dict[str, int]) -> dict[str, int]:
    """response_id -> member id, from the distinct free-text answers (the test's knowledge)."""
    rows = await _fetch(db, "SELECT response_id, text FROM survey_answer WHERE text IS NOT NULL")
    by_words = {_words(i): members[f"u{i}"] for i in range(RESPONDENTS)}
    _TEXTS.clear()
    _TEXTS.update({str(r[0]): str(r[1]) for r in rows})
    return {str(r[0]): by_words[str(r[1])] for r in rows}


async def _order_keys(db: Database) -> dict[str, tuple[list[Any], list[Any]]]:
    """Order keys an attacker can read: name -> (responder rows, answer rows)."""
    dialect = db.engine.dialect.name
    keys: dict[str, tuple[list[Any], list[Any]]] = {}
    keys["physical order"] = (
        [
            (n, r[0])
            for n, r in enumerate(await _fetch(db, "SELECT member_id FROM survey_responder"))
        ],
        [
            (n, r[0])
            for n, r in enumerate(await _fetch(db, "SELECT response_id FROM survey_answer"))
        ],
    )
    if dialect == "sqlite":
        for table, column in (("survey_responder", "member_id"), ("survey_answer", "response_id")):
            has_rowid = True
            try:
                await _fetch(db, f"SELECT rowid FROM {table} LIMIT 1")
            except sa.exc.OperationalError:
                has_rowid = False  # WITHOUT ROWID: nothing to read
            if not has_rowid:
                keys.pop("rowid", None)
                break
            rows = await _fetch(db, f"SELECT rowid, {column} FROM {table}")
            pair = keys.setdefault("rowid", ([], []))
            (pair[0] if table == "survey_responder" else pair[1]).extend((r[0], r[1]) for r in rows)
    else:
        for system in ("xmin", "ctid"):
            cast = "xmin::text::bigint" if system == "xmin" else "ctid"
            responders = await _fetch(db, f"SELECT {cast}, member_id FROM survey_responder")
            answers = await _fetch(db, f"SELECT {cast}, response_id FROM survey_answer")
            if system == "ctid":
                responders = [(_ctid(c), m) for c, m in responders]
                answers = [(_ctid(c), r) for c, r in answers]
            keys[system] = ([tuple(r) for r in responders], [tuple(a) for a in answers])
    # Times: the member's last activity (their last click) against the day stored with an
    # answer, and the inbound events' arrival order against the answers' physical order.
    last_activity = await _fetch(
        db, "SELECT member_id, MAX(occurred_at) FROM activity GROUP BY member_id"
    )
    days = await _fetch(db, "SELECT answered_on, response_id FROM survey_answer")
    keys["activity time vs day answered"] = (
        [(str(t), m) for m, t in last_activity],
        [(str(d), r) for d, r in days],
    )
    return keys


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _outbox_by_member(db: Database, members: dict[str, int]) -> dict[int, list[datetime]]:
    """member id -> the times of the outbox rows that followed their answers, as an attacker
    ties them: a member recipient, a member id in the payload, or the keyed hash of the code
    worked out again with the secret kept in the database (the most precise time each row
    holds: the second it was written or sent, if it kept one)."""
    secret = await server_secret(db)
    sids = [str(r[0]) for r in await _fetch(db, "SELECT id FROM survey")]
    hashed = {
        hmac.new(secret, f"{sid}\n{member}\n{part}".encode(), hashlib.sha256).hexdigest()[:40]: (
            member
        )
        for sid in sids
        for member in members.values()
        for part in ("q1", "q2", "q3", "thanks")
    }
    rows = await _fetch(
        db,
        "SELECT recipient, payload, created_at, updated_at, due_at, sent_at, attempted_at "
        "FROM delivery WHERE step_id != 'pulse'",
    )
    times: dict[int, list[datetime]] = {}
    for recipient, payload, *stamps in rows:
        data = json.loads(payload) if isinstance(payload, str) else dict(payload or {})
        member: int | None = None
        if str(recipient).startswith("member:"):
            member = int(str(recipient).split(":")[1])
        elif "member_id" in data:
            member = int(data["member_id"])
        else:
            member = hashed.get(str(recipient).rpartition(":")[2])
        if member is not None:
            times.setdefault(member, []).append(max(_as_utc(t) for t in stamps if t is not None))
    return times


def _time_on_last_question(
    times: dict[int, list[datetime]], truth: dict[str, int]
) -> dict[str, int]:
    """Guess: the longer a member took between their last two outbox rows (the last question,
    then the thanks), the longer their text; paired by rank. No guess when the rows tell no
    time apart."""
    spent = {m: sorted(t)[-1] - sorted(t)[-2] for m, t in times.items() if len(t) >= 2}
    if len(set(spent.values())) < 2:
        return {}
    lengths = [(len(str(t)), r) for r, t in _TEXTS.items()]
    return _rank_pairing([(d, m) for m, d in spent.items()], lengths)


async def _inbound_times(db: Database) -> tuple[dict[str, datetime], list[datetime]]:
    """The deduplication rows' keyed ids -> time received, and every time an inbound event is
    dated by: the deduplication rows, the journal's rows (received, handled, of any kind)."""
    rows = await _fetch(db, "SELECT event_id, received_at FROM inbound_event")
    ids = {str(event_id): _as_utc(at) for event_id, at in rows}
    journal = await _fetch(db, "SELECT received_at, handled_at FROM inbound_journal")
    times = {*ids.values(), *(_as_utc(t) for row in journal for t in row if t is not None)}
    return ids, sorted(times)


def _resolution(times: Sequence[datetime]) -> timedelta:
    """How finely ``times`` date an event, read from the values: an hour when they all fall
    on the hour, a second otherwise."""
    if all(t.minute == t.second == t.microsecond == 0 for t in times):
        return timedelta(hours=1)
    return timedelta(seconds=1)


async def _clicks_by_member(
    db: Database, members: dict[str, int], ids: dict[str, datetime]
) -> dict[int, list[datetime]]:
    """member id -> the times of their clicks: the attacker works out the keyed hash of every
    Slack-shaped id (the message, a member, a time) that each row's stored time allows, with
    the secret kept in the database, and keeps those found among the rows."""
    secret = await server_secret(db)
    window = int(_resolution(list(ids.values())).total_seconds())
    keyed = hmac.new(secret, digestmod=hashlib.sha256)
    buckets: dict[datetime, set[str]] = {}
    for key, at in ids.items():
        buckets.setdefault(at, set()).add(key)
    clicks: dict[int, list[datetime]] = {}
    for at, keys in buckets.items():
        for offset in range(window):
            moment = at + timedelta(seconds=offset)
            for micros in range(SUB_SECOND):
                for uid, member in members.items():
                    candidate = keyed.copy()
                    candidate.update(f"memory:{_click_id(moment, micros, uid)}".encode())
                    if candidate.hexdigest() in keys:
                        clicks.setdefault(member, []).append(moment)
    return clicks


def _time_to_next_form(
    clicks: dict[int, list[datetime]], times: Sequence[datetime]
) -> dict[str, int]:
    """Guess: the first event dated after a member's last click ("Write my answer") is their
    form; the longer the gap, the longer their text; paired by rank. No guess when the events
    are dated too coarsely to time a gap (to the hour: an answer takes seconds to minutes to
    type) or the times tell no gap apart."""
    if not times or _resolution(times) > timedelta(minutes=1):
        return {}
    spent: dict[int, timedelta] = {}
    for member, clicked in clicks.items():
        last = max(clicked)
        after = [t for t in times if t > last]
        if after:
            spent[member] = min(after) - last
    if len(set(spent.values())) < 2:
        return {}
    lengths = [(len(str(t)), r) for r, t in _TEXTS.items()]
    return _rank_pairing([(d, m) for m, d in spent.items()], lengths)


_TEXTS: dict[str, str] = {}
"""response id -> the free text of that response (filled by :func:`_truth`)."""


def _ctid(value: Any) -> tuple[int, int]:
    page, row = str(value).strip("()").split(",")
    return int(page), int(row)


def _first_per_response(rows: Sequence[tuple[Any, str]]) -> list[tuple[Any, str]]:
    first: dict[str, Any] = {}
    for key, response in rows:
        if response not in first or key < first[response]:
            first[response] = key
    return [(k, r) for r, k in first.items()]


def _group_score(
    answers: Sequence[Any],
    responders: dict[int, tuple[str | None, str | None]],
    truth: dict[str, int],
) -> float:
    """Expected right guesses when guessing among the responders whose cohort and team match
    what is stored with an answer (a missing attribute matches anyone)."""
    tags: dict[str, tuple[str | None, str | None]] = {}
    for response, cohort, team in answers:
        tags[str(response)] = (cohort, team)
    score = 0.0
    for response, (cohort, team) in tags.items():
        candidates = [
            m
            for m, (c, t) in responders.items()
            if (cohort is None or c == cohort) and (team is None or t == team)
        ]
        if truth.get(response) in candidates:
            score += 1 / len(candidates)
    return score


async def _play(db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> dict[str, int]:
    (tmp_path / "attack.yaml").write_text(CAMPAIGN)
    adapter = MemoryAdapter()
    clock = SimulatedClock(LAUNCH - timedelta(days=1))
    settings = Settings(database_url=db.url, quiet_hours="21:00-08:00", admins=["memory:cm"])
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[tmp_path / "attack.yaml"])
    await bot.reload()
    members: dict[str, int] = {}
    for i in range(RESPONDENTS):
        member = await upsert_member(
            db,
            "memory",
            f"u{i}",
            LAUNCH - timedelta(days=2),
            display_name=f"Member {i}",
            cohort=_cohort(i),
            team=_team(i),
            joined_at=LAUNCH - timedelta(days=2),
            timezone="Europe/Paris",
            locale="en",
        )
        assert member.id is not None
        members[f"u{i}"] = member.id
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    run = _Run(bot, adapter)
    rng = random.Random(14)
    order = list(range(RESPONDENTS))
    rng.shuffle(order)
    with caplog.at_level(logging.INFO):
        for i in order:
            await run.answer(i, rng)
            # Minutes to most of a day between two respondents: the days stored differ.
            bot.clock.advance(timedelta(minutes=rng.choice([3, 17, 45, 200, 700, 1300])))
    return members


async def test_no_join_ties_an_anonymous_answer_to_its_author(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    members = await _play(db, tmp_path, caplog)
    truth = await _truth(db, members)
    assert len(truth) == RESPONDENTS  # every response is stored (the survey is not lost)
    assert sorted(truth.values()) == sorted(members.values())
    found: dict[str, float] = {}

    # Order: physical, rowid, xmin, ctid, times; each paired by rank, first row per response.
    for name, (responders, answers) in (await _order_keys(db)).items():
        guess = _rank_pairing(responders, _first_per_response(answers))
        found[name] = _correct(guess, truth)
        # The closest preceding responder: the one written in the same or the last transaction.
        if name in {"xmin", "rowid"}:
            nearest: dict[str, int] = {}
            for key, response in _first_per_response(answers):
                before = [(k, m) for k, m in responders if k <= key]
                if before:
                    nearest[response] = max(before)[1]
            found[f"{name}, nearest before"] = _correct(nearest, truth)

    # Group attributes: a team of one, a cohort of one.
    profile = {members[f"u{i}"]: (_cohort(i), _team(i)) for i in range(RESPONDENTS)}
    tagged = await _fetch(db, "SELECT response_id, cohort, team FROM survey_answer")
    found["team and cohort"] = _group_score(tagged, profile, truth)

    # Drafts left behind (each names its member and holds the answers).
    drafts = await _fetch(db, "SELECT member_id, answers FROM survey_draft")
    found["drafts"] = sum(
        1
        for _member, answers in drafts
        if "secret-words" in (answers if isinstance(answers, str) else json.dumps(answers))
    )

    # The outbox rows that followed the answers (the next questions, the thanks): their words,
    # and the time each member spent on the free-text question, read between their rows.
    outbox = await _fetch(db, "SELECT * FROM delivery WHERE step_id != 'pulse'")
    assert outbox, "the next questions and the thanks went through the outbox"
    found["outbox words"] = sum(
        1 for i in range(RESPONDENTS) if any(_words(i) in str(row) for row in outbox)
    )
    timed = _time_on_last_question(await _outbox_by_member(db, members), truth)
    found["outbox, time on a question"] = _correct(timed, truth)

    # The deduplication rows and the journal's closed rows: a click's keyed id worked out
    # again with the secret names its member and its time (the id holds both); the time from
    # their "Write my answer" to the next event the rows date (their form) tells how long the
    # text is.
    ids, times = await _inbound_times(db)
    assert ids, "the clicks and forms went through the deduplication rows"
    clicks = await _clicks_by_member(db, members, ids)
    found["inbound times, click to form"] = _correct(_time_to_next_form(clicks, times), truth)

    # The inbound journal: each click and form is recorded before it is handled; a handled
    # row that kept its event would name the member next to their rating, choice and words.
    journal = await _fetch(db, "SELECT member_key, payload FROM inbound_journal")
    assert journal, "the answers went through the inbound journal"
    found["journal"] = sum(
        1
        for i in range(RESPONDENTS)
        if any(f"u{i}" in key or _words(i) in payload for key, payload in journal)
    )

    # Bytes of the SQLite file and its write-ahead log: a draft's JSON holds the free text
    # next to the member id; the answer table holds it as a plain column.
    if db.engine.dialect.name == "sqlite":
        path = Path(str(db.engine.url.database))
        blob = b"".join(
            p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )
        found["free pages"] = sum(
            1 for i in range(RESPONDENTS) if f'"text": "{_words(i)}"'.encode() in blob
        )

    # Logs at INFO while answering: no member's platform id or name.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    found["logs"] = sum(1 for i in range(RESPONDENTS) if f"u{i}" in logged.split())

    limits = {
        name: (RESPONDENTS / MIN_GROUP if name == "team and cohort" else CHANCE_CEILING)
        for name in found
    }
    limits["drafts"] = limits["free pages"] = limits["logs"] = limits["journal"] = 0
    limits["outbox words"] = 0
    limits["inbound times, click to form"] = 0
    beaten = {name: value for name, value in found.items() if value > limits[name]}
    assert not beaten, f"attacks that tie answers to people (right guesses out of 20): {beaten}"
