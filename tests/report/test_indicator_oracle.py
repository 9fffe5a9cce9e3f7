"""An independent oracle for every indicator of ``rallybot report`` (hypothesis).

A random community history (members in cohorts, teams and time zones; channel joins and leaves;
campaign posts; posts, replies, messages to the bot, buttons, commands; reactions and their
removals; quiz answers; help questions and their answers; named and anonymous survey answers
over rounds; points awarded, taken back and adjusted; kudos given and taken back; challenge
progress and completions; and finally some members forgotten) is written to the database the
way the bot writes it, then every figure of :func:`report.compute` is compared with the same
figure computed here, in plain Python, from the list of events and the definitions of
``docs/reference/indicators.md``, never from the SQL. On SQLite and PostgreSQL, for a random
scope (cohort, team, campaign, date range). Properties checked on top: reach is at most 100 %,
the funnel is monotone, and the report is identical before and after the forgets.

Budget: a modest number of examples in the normal suite; ``make fuzz`` (hypothesis profile
``fuzz``) runs many more.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from rallybot.handlers.privacy import personal_data as privacy
from rallybot.handlers.reporting import indicators as ind
from rallybot.handlers.reporting import report
from rallybot.handlers.survey import feature as survey_handler
from rallybot.storage import ledger, outbox
from rallybot.storage.challenge_models import (
    ChallengeDone,
    ChallengeProgress,
    ChallengeSubmission,
)
from rallybot.storage.database import Database, create_database
from rallybot.storage.helpdesk_models import HelpTicket
from rallybot.storage.models import ChannelMember, Delivery, Member, table_of
from rallybot.storage.quiz_models import QuizAnswer, QuizRun
from rallybot.storage.report_models import Activity
from rallybot.storage.survey_models import Survey, SurveyAnswer, SurveyDraft, SurveyResponder
from tests.security.budget import FUZZ

# A Monday, 00:00 UTC: event times are quarter hours around it, so weeks and days start and end
# inside the history (and the time zones of the members must not matter).
T0 = datetime(2026, 11, 2, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
HORIZON = 24 * 4 * 24  # quarter hours: the history spans 24 days from T0
NOW = T0 + timedelta(days=40)
K = 5  # the minimum group of anonymous answers, from the definitions (not from the code)

COHORTS = (None, "pilot", "wave2")
TEAMS = (None, "sales", "tech")
ZONES = (None, "Europe/Paris", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati")
CHANNELS = ("C1", "C2")
CAMPAIGNS = ("launch", "other")
CHALLENGES = ("launch/post3", "other/react")
QUESTIONS = [
    {"id": "rate", "kind": "rating", "text": {"en": "Rate"}, "choices": [], "optional": True},
    {"id": "nps", "kind": "nps", "text": {"en": "Recommend?"}, "choices": [], "optional": True},
    {"id": "why", "kind": "text", "text": {"en": "Why?"}, "choices": [], "optional": True},
]
# (survey id, campaign, step, round, anonymous, closes at (quarter hours; None: still open))
SURVEYS: tuple[tuple[str, str, str, str, bool, int | None], ...] = (
    ("launch/feedback", "launch", "feedback", "", False, None),
    ("other/pulse@2026-11-03", "other", "pulse", "2026-11-03", True, 9 * 96),
    ("other/pulse@2026-11-10", "other", "pulse", "2026-11-10", True, 16 * 96),
    ("other/pulse@2026-11-17", "other", "pulse", "2026-11-17", True, None),
    ("launch/check@2026-11-04", "launch", "check", "2026-11-04", False, None),
)


def at(quarters: int) -> datetime:
    """The time ``quarters`` quarter hours after T0."""
    return T0 + QUARTER * quarters


# ---------------------------------------------------------------------------- the history


@dataclass(frozen=True)
class Person:
    cohort: str | None
    team: str | None
    zone: str | None
    bot: bool
    manager: bool
    known: int  # when the bot first knew them (capped by their first event)
    joined: int | None  # their join date, None: known from the roster only
    profile: bool


@dataclass(frozen=True)
class Post:
    """A campaign message the bot sent: to a channel, or to a member's DMs (``channel`` None)."""

    campaign: int
    channel: str | None
    sent: bool  # False: cancelled before it went out
    t: int


@dataclass(frozen=True)
class Act:
    """A member's action: ``message``, ``reply`` (to post ``post``), ``direct``, ``button``,
    ``command`` or ``reaction`` (to post ``post``, taken back at ``removed`` when set)."""

    who: int
    kind: str
    channel: str
    post: int
    t: int
    removed: int | None


@dataclass(frozen=True)
class ChannelMove:
    who: int
    channel: str
    joined: bool  # False: left
    t: int


@dataclass(frozen=True)
class QuizAnswered:
    who: int
    run: int  # 0: the launch campaign's quiz, 1: the other's
    question: int
    correct: bool
    final: bool  # False: still choosing when the question closed
    t: int


@dataclass(frozen=True)
class Ticket:
    asker: int | None  # None: asked by someone the bot does not know
    t: int
    responded: int | None  # quarter hours after the question
    solved: int | None  # quarter hours after the question


@dataclass(frozen=True)
class SurveyAnswered:
    who: int
    survey: int
    rating: int | None  # None: skipped
    nps: int | None
    t: int


@dataclass(frozen=True)
class Points:
    who: int
    amount: int  # negative: an adjustment by a manager
    campaign: int | None
    t: int
    revoked: int | None  # quarter hours after


@dataclass(frozen=True)
class Kudos:
    giver: int
    receiver: int
    t: int
    revoked: int | None  # quarter hours after (the reaction taken back)


@dataclass(frozen=True)
class Progress:
    who: int
    challenge: int
    as_team: bool  # a team challenge: the subject is the member's team
    t: int


@dataclass(frozen=True)
class Evidence:
    """Evidence sent for a challenge, in the state a manager left it."""

    who: int
    challenge: int
    state: str  # pending, approved, rejected
    t: int


@dataclass(frozen=True)
class Done:
    who: int
    challenge: int
    as_team: bool
    t: int


@dataclass(frozen=True)
class History:
    people: list[Person]
    posts: list[Post]
    moves: list[ChannelMove]
    acts: list[Act]
    quiz: list[QuizAnswered]
    tickets: list[Ticket]
    answers: list[SurveyAnswered]
    points: list[Points]
    kudos: list[Kudos]
    progress: list[Progress]
    done: list[Done]
    forgotten: list[int]
    evidence: list[Evidence] = field(default_factory=list)

    def first_event(self) -> dict[int, int]:
        """Each member's earliest event (the bot knows people at the latest then)."""
        first: dict[int, int] = {}

        def seen(who: int | None, t: int) -> None:
            if who is not None:
                first[who] = min(first.get(who, t), t)

        for m in self.moves:
            seen(m.who, m.t)
        for a in self.acts:
            seen(a.who, a.t)
        for q in self.quiz:
            seen(q.who, q.t)
        for ticket in self.tickets:
            seen(ticket.asker, ticket.t)
        for s in self.answers:
            seen(s.who, s.t)
        for p in self.points:
            seen(p.who, p.t)
        for k in self.kudos:
            seen(k.giver, k.t)
            seen(k.receiver, k.t)
        for g in self.progress:
            seen(g.who, g.t)
        for d in self.done:
            seen(d.who, d.t)
        for e in self.evidence:
            seen(e.who, e.t)
        return first

    def known_at(self, who: int) -> int:
        """When the bot first knew member ``who``."""
        return min(self.people[who].known, self.first_event().get(who, HORIZON))


@dataclass(frozen=True)
class Window:
    """A scope, as drawn: indexes and quarter hours."""

    cohort: str | None
    team: str | None
    start: int | None
    end: int | None
    campaign: int | None

    def scope(self, managers: frozenset[str]) -> ind.Scope:
        return ind.Scope(
            cohort=self.cohort,
            team=self.team,
            start=None if self.start is None else at(self.start),
            end=None if self.end is None else at(self.end),
            campaign_id=None if self.campaign is None else CAMPAIGNS[self.campaign],
            exclude=managers,
        )


quarter = st.integers(0, HORIZON)
person = st.builds(
    Person,
    st.sampled_from(COHORTS),
    st.sampled_from(TEAMS),
    st.sampled_from(ZONES),
    st.sampled_from([False, False, False, True]),
    st.sampled_from([False, False, False, True]),
    st.integers(-96 * 10, HORIZON),
    st.none() | st.integers(-96 * 10, HORIZON),
    st.booleans(),
)


@st.composite
def histories(draw: Callable[..., Any]) -> History:
    """A random history of a small community."""
    people = draw(st.lists(person, min_size=1, max_size=8))
    n = len(people)
    who = st.integers(0, n - 1)
    posts = draw(
        st.lists(
            st.builds(
                Post,
                st.integers(0, 1),
                st.sampled_from([*CHANNELS, None]),
                st.sampled_from([True, True, True, False]),
                quarter,
            ),
            max_size=4,
        )
    )
    moves = draw(
        st.lists(st.builds(ChannelMove, who, st.sampled_from(CHANNELS), st.booleans(), quarter))
    )
    kinds = ["message", "reply", "direct", "button", "command", "reaction", "reaction"]
    acts = draw(
        st.lists(
            st.builds(
                Act,
                who,
                st.sampled_from(kinds),
                st.sampled_from(CHANNELS),
                st.integers(0, max(len(posts) - 1, 0)),
                quarter,
                st.none() | st.integers(1, 96 * 3),
            ),
            max_size=25,
        )
    )
    quiz = draw(
        st.lists(
            st.builds(
                QuizAnswered,
                who,
                st.integers(0, 1),
                st.integers(0, 2),
                st.booleans(),
                st.sampled_from([True, True, True, False]),
                quarter,
            ),
            max_size=10,
            unique_by=lambda q: (q.who, q.run, q.question),
        )
    )
    tickets = draw(
        st.lists(
            st.builds(
                Ticket,
                st.none() | who,
                quarter,
                st.none() | st.integers(0, 96 * 2),
                st.none() | st.integers(0, 96 * 4),
            ),
            max_size=5,
        )
    )
    answers = draw(
        st.lists(
            st.builds(
                SurveyAnswered,
                who,
                st.integers(0, len(SURVEYS) - 1),
                st.none() | st.integers(1, 5),
                st.none() | st.integers(0, 10),
                st.integers(0, 8 * 96),
            ),
            max_size=20,
            unique_by=lambda s: (s.who, s.survey),
        )
    )
    points = draw(
        st.lists(
            st.builds(
                Points,
                who,
                st.integers(-20, 120).filter(lambda v: v != 0),
                st.none() | st.integers(0, 1),
                quarter,
                st.none() | st.integers(1, 96 * 5),
            ),
            max_size=8,
        )
    )
    kudos = draw(
        st.lists(
            st.builds(Kudos, who, who, quarter, st.none() | st.integers(1, 96 * 3)).filter(
                lambda k: k.giver != k.receiver
            ),
            max_size=6,
        )
    )
    progress = draw(
        st.lists(st.builds(Progress, who, st.integers(0, 1), st.booleans(), quarter), max_size=6)
    )
    done = draw(
        st.lists(
            st.builds(Done, who, st.integers(0, 1), st.booleans(), quarter),
            max_size=4,
        )
    )
    forgotten = draw(st.lists(who, unique=True, max_size=3))
    states = st.sampled_from(("pending", "approved", "rejected"))
    evidence = draw(
        st.lists(st.builds(Evidence, who, st.integers(0, 1), states, quarter), max_size=5)
    )
    return History(
        people,
        posts,
        moves,
        acts,
        quiz,
        tickets,
        answers,
        points,
        kudos,
        progress,
        done,
        forgotten,
        evidence,
    )


windows = st.builds(
    Window,
    st.sampled_from(COHORTS) | st.none(),
    st.sampled_from(TEAMS) | st.none(),
    st.none() | st.integers(0, HORIZON // 96).map(lambda d: d * 96),
    st.none() | st.integers(1, HORIZON // 96 + 2).map(lambda d: d * 96),
    st.none() | st.integers(0, 1),
).filter(lambda w: w.start is None or w.end is None or w.start < w.end)


# ---------------------------------------------------------------------------- the bot's rows


def _team_subject(p: Person, who: int) -> str:
    return f"team:{p.team}" if p.team else f"member:{who + 1}"


def _subject(h: History, who: int, as_team: bool) -> str:
    return _team_subject(h.people[who], who) if as_team else f"member:{who + 1}"


def _reach_acts(h: History) -> list[Act]:
    """The reactions and replies that target a campaign post (others are plain messages)."""
    return [a for a in h.acts if a.kind in {"reaction", "reply"} and a.post < len(h.posts)]


def _activity_rows(h: History) -> list[dict[str, Any]]:
    """What ``handlers.stats`` records for each action (anonymous survey answers: nothing)."""
    rows: list[tuple[int, str, str | None, str | None, int]] = []
    for a in h.acts:
        if a.kind in {"reaction", "reply"} and a.post < len(h.posts):
            channel = h.posts[a.post].channel or f"D{a.who}"
            rows.append((a.who, a.kind, channel, f"P{a.post}", a.t))
        elif a.kind in {"reaction", "reply"}:  # no campaign post to target: someone's message
            rows.append((a.who, a.kind, a.channel, f"X{a.t}", a.t))
        elif a.kind in {"direct", "command"}:
            rows.append((a.who, a.kind, None, None, a.t))
        else:
            rows.append((a.who, a.kind, a.channel, None, a.t))
    rows += [(q.who, "button", "QUIZ", f"Q{q.run}", q.t) for q in h.quiz]
    rows += [(t.asker, "message", "HELP", None, t.t) for t in h.tickets if t.asker is not None]
    rows += [(s.who, "button", None, None, s.t) for s in h.answers if not SURVEYS[s.survey][4]]
    rows += [(k.giver, "reaction", "C1", f"K{k.receiver}", k.t) for k in h.kudos]
    return [
        {
            "member_id": who + 1,
            "kind": kind,
            "channel_id": channel,
            "target_message_id": target,
            "occurred_at": at(t),
            "week": (at(t) - datetime(1970, 1, 5, tzinfo=UTC)).days // 7,
        }
        for who, kind, channel, target, t in rows
        if not h.people[who].bot  # the bot never records a bot
    ]


async def _clear(db: Database) -> None:
    async with db.session() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await session.execute(sa.delete(table))


async def _insert(db: Database, model: type[Any], rows: list[dict[str, Any]]) -> None:
    if rows:
        async with db.session() as session:
            await session.execute(sa.insert(table_of(model)), rows)


async def load(db: Database, h: History) -> None:
    """Write the history as the bot would have written it."""
    await _clear(db)
    await _insert(
        db,
        Member,
        [
            {
                "id": i + 1,
                "platform": "memory",
                "platform_user_id": f"M{i}" if p.manager else f"U{i}",
                "display_name": f"person {i}",
                "email": f"person{i}@example.com",
                "timezone": p.zone,
                "cohort": p.cohort,
                "team": p.team,
                "joined_at": None if p.joined is None else at(p.joined),
                "profile_complete": p.profile,
                "is_bot": p.bot,
                "groups": [],
                "created_at": at(h.known_at(i)),
                "updated_at": at(h.known_at(i)),
            }
            for i, p in enumerate(h.people)
        ],
    )
    if db.dialect == "postgresql":  # explicit ids: move the sequences past them
        async with db.session() as session:
            await session.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('member', 'id'), "
                    "(SELECT MAX(id) FROM member))"
                )
            )
    await _insert(
        db,
        Delivery,
        [
            {
                "id": i + 1,
                "campaign_id": CAMPAIGNS[p.campaign],
                "step_id": f"post{i}",
                "recipient": f"channel:{p.channel}" if p.channel else "member:1",
                "occurrence": "once",
                "due_at": at(p.t),
                "grace_until": at(p.t) + timedelta(hours=1),
                "status": "cancelled" if not p.sent else "pending",
                "payload": {},
                "content_hash": "",
                "attempts": 0,
                "created_at": at(p.t),
                "updated_at": at(p.t),
            }
            for i, p in enumerate(h.posts)
        ],
    )
    if db.dialect == "postgresql":
        async with db.session() as session:
            await session.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('delivery', 'id'), "
                    "GREATEST((SELECT MAX(id) FROM delivery), 1))"
                )
            )
    # Channel joins and leaves, and the posts going out, in the order they happened (a join
    # and a post at the same time: the join first): a channel post keeps its audience as the
    # outbox does when it is sent.
    timeline: list[tuple[int, int, Any]] = [(m.t, 0, m) for m in h.moves]
    timeline += [(p.t, 1, (i, p)) for i, p in enumerate(h.posts) if p.sent]
    cm = table_of(ChannelMember)
    for _, _, event in sorted(timeline, key=lambda e: (e[0], e[1])):
        async with db.session() as session:
            if isinstance(event, ChannelMove):
                where = sa.and_(cm.c.channel_id == event.channel, cm.c.member_id == event.who + 1)
                await session.execute(sa.delete(cm).where(where))
                if event.joined:
                    await session.execute(
                        sa.insert(cm).values(
                            platform="memory", channel_id=event.channel, member_id=event.who + 1
                        )
                    )
                continue
            i, post = event
            d = table_of(Delivery)
            await session.execute(
                sa.update(d)
                .where(d.c.id == i + 1)
                .values(
                    status="sent",
                    attempts=1,
                    sent_at=at(post.t),
                    platform_channel_id=post.channel or "D0",
                    platform_message_id=f"P{i}",
                )
            )
            if post.channel is not None:
                await outbox.keep_audience(session, i + 1, "memory", post.channel, at(post.t))
    await _insert(db, Activity, _activity_rows(h))
    await _load_quiz(db, h)
    await _load_tickets(db, h)
    await _load_surveys(db, h)
    await _load_points(db, h)
    await _load_challenges(db, h)


async def _load_quiz(db: Database, h: History) -> None:
    await _insert(
        db,
        QuizRun,
        [
            {
                "key": f"{campaign}/quiz/once",
                "series": f"{campaign}/quiz",
                "bank_id": "bank",
                "mode": "live",
                "platform": "memory",
                "campaign_id": campaign,
                "locale": "en",
                "questions": ["q0", "q1", "q2"],
                "current": 0,
                "state": "finished",
                "window_seconds": 30,
                "messages": {},
                "started_at": T0,
            }
            for campaign in CAMPAIGNS
        ],
    )
    async with db.session() as session:
        runs = dict(
            (
                await session.execute(
                    sa.select(table_of(QuizRun).c.campaign_id, table_of(QuizRun).c.id)
                )
            ).all()
        )
    await _insert(
        db,
        QuizAnswer,
        [
            {
                "run_id": runs[CAMPAIGNS[q.run]],
                "question_id": f"q{q.question}",
                "member_id": q.who + 1,
                "answer": "0",
                "correct": q.correct,
                "final": q.final,
                "answered_at": at(q.t),
                "points": 10 if q.correct and q.final else 0,
            }
            for q in h.quiz
        ],
    )


async def _load_tickets(db: Database, h: History) -> None:
    await _insert(
        db,
        HelpTicket,
        [
            {
                "platform": "memory",
                "channel_id": "HELP",
                "message_id": f"T{n}",
                "private": False,
                "excerpt": "",
                "asker_id": None if t.asker is None else t.asker + 1,
                "opened_at": at(t.t),
                "last_activity_at": at(t.t),
                "first_response_at": None if t.responded is None else at(t.t + t.responded),
                "solved_at": None if t.solved is None else at(t.t + t.solved),
                "state": "solved" if t.solved is not None else "open",
                "suggestions": [],
            }
            for n, t in enumerate(h.tickets)
        ],
    )


async def _load_surveys(db: Database, h: History) -> None:
    definitions = {("other", "pulse"), ("launch", "check")}
    await _insert(
        db,
        Survey,
        [
            {
                "id": f"{campaign}/{step}",
                "key": f"def{n:013d}",
                "campaign_id": campaign,
                "step_id": step,
                "anonymous": (campaign, step) == ("other", "pulse"),
                "locale": "en",
                "questions": QUESTIONS,
                "round": "",
                "created_at": T0,
                "updated_at": T0,
            }
            for n, (campaign, step) in enumerate(sorted(definitions))
        ]
        + [
            {
                "id": sid,
                "key": f"key{n:013d}",
                "campaign_id": campaign,
                "step_id": step,
                "anonymous": anonymous,
                "locale": "en",
                "questions": QUESTIONS,
                "round": round_,
                "created_at": T0,
                "updated_at": T0,
            }
            for n, (sid, campaign, step, round_, anonymous, _) in enumerate(SURVEYS)
        ],
    )
    for s in sorted(h.answers, key=lambda s: s.t):
        sid, _, _, _, anonymous, _ = SURVEYS[s.survey]
        p = h.people[s.who]
        given: dict[str, Any] = {
            "rate": {"skipped": True} if s.rating is None else {"value": s.rating},
            "nps": {"skipped": True} if s.nps is None else {"value": s.nps},
            "why": {"text": f"because {s.who}"},
        }
        await _insert(db, SurveyResponder, [{"survey_id": sid, "member_id": s.who + 1}])
        if anonymous:  # waits for its batch, as handlers.survey leaves it
            await _insert(
                db,
                SurveyDraft,
                [
                    {
                        "survey_id": sid,
                        "member_id": s.who + 1,
                        "current": len(QUESTIONS),
                        "answers": given,
                        "selection": [],
                        "locale": "en",
                        "updated_at": at(s.t),
                        "finished": True,
                    }
                ],
            )
            continue
        response = f"r{s.who}-{s.survey}"
        await _insert(
            db,
            SurveyAnswer,
            [
                {
                    "id": f"{response}-{q['id']}",
                    "survey_id": sid,
                    "response_id": response,
                    "question_id": q["id"],
                    "kind": q["kind"],
                    "value": given[q["id"]].get("value"),
                    "text": given[q["id"]].get("text"),
                    "skipped": bool(given[q["id"]].get("skipped")),
                    "cohort": p.cohort,
                    "team": p.team,
                    "answered_on": at(s.t).date(),
                    "member_id": s.who + 1,
                }
                for q in QUESTIONS
            ],
        )
    for sid, _, _, _, anonymous, closes in SURVEYS:
        if anonymous and closes is not None:  # the round closes: its answers are written
            await survey_handler.close_round(db, sid, at(closes))


async def _load_points(db: Database, h: History) -> None:
    events: list[tuple[int, int, Callable[[], Any]]] = []
    for n, p in enumerate(h.points):
        key = f"points:{n}"
        if p.amount > 0:
            campaign = None if p.campaign is None else CAMPAIGNS[p.campaign]

            def give(p: Points = p, key: str = key, campaign: str | None = campaign) -> Any:
                return ledger.award(
                    db,
                    member_id=p.who + 1,
                    amount=p.amount,
                    source="admin",
                    reason="oracle",
                    key=key,
                    at=at(p.t),
                    campaign_id=campaign,
                )

            events.append((p.t, 0, give))
        else:

            def adjust(p: Points = p, key: str = key) -> Any:
                return ledger.adjust(
                    db,
                    member_id=p.who + 1,
                    amount=p.amount,
                    reason="oracle",
                    actor_id=None,
                    key=key,
                    at=at(p.t),
                )

            events.append((p.t, 0, adjust))
        if p.revoked is not None:

            def revoke(p: Points = p, key: str = key) -> Any:
                return ledger.revoke(db, key=key, at=at(p.t + (p.revoked or 0)), reason="undo")

            events.append((p.t + p.revoked, 1, revoke))
    for a in h.acts:  # a reaction to a campaign post earns a point; taking it back revokes it
        if a.kind != "reaction" or a.post >= len(h.posts) or h.people[a.who].bot:
            continue
        post = h.posts[a.post]
        if not post.sent or post.channel is None:
            continue
        key = f"reaction:{a.who}:{a.post}:{a.t}"

        def react(a: Act = a, key: str = key, campaign: str = CAMPAIGNS[post.campaign]) -> Any:
            return ledger.award(
                db,
                member_id=a.who + 1,
                amount=1,
                source="reaction",
                reason="reacted",
                key=key,
                at=at(a.t),
                campaign_id=campaign,
                action="reaction_on_announcement",
            )

        events.append((a.t, 0, react))
        if a.removed is not None:

            def unreact(a: Act = a, key: str = key) -> Any:
                return ledger.revoke(db, key=key, at=at(a.t + (a.removed or 0)), reason="undo")

            events.append((a.t + a.removed, 1, unreact))
    for n, k in enumerate(h.kudos):
        if h.people[k.giver].bot or h.people[k.receiver].bot:
            continue
        key = f"kudos:{n}"

        def kudos(k: Kudos = k, key: str = key) -> Any:
            return ledger.award(
                db,
                member_id=k.receiver + 1,
                amount=5,
                source="kudos",
                reason="kudos",
                key=key,
                at=at(k.t),
                actor_id=k.giver + 1,
                action="kudos_received",
            )

        events.append((k.t, 0, kudos))
        if k.revoked is not None:

            def unkudos(k: Kudos = k, key: str = key) -> Any:
                return ledger.revoke(db, key=key, at=at(k.t + (k.revoked or 0)), reason="undo")

            events.append((k.t + k.revoked, 1, unkudos))
    for _, _, write in sorted(events, key=lambda e: (e[0], e[1])):
        await write()


async def _load_challenges(db: Database, h: History) -> None:
    await _insert(
        db,
        ChallengeProgress,
        [
            {
                "challenge": CHALLENGES[g.challenge],
                "subject": _subject(h, g.who, g.as_team),
                "member_id": g.who + 1,
                "ref": f"ref{n}",
                "at": at(g.t),
            }
            for n, g in enumerate(h.progress)
        ],
    )
    await _insert(
        db,
        ChallengeSubmission,
        [
            {
                "challenge": CHALLENGES[e.challenge],
                "member_id": e.who + 1,
                "text": f"evidence {n}",
                "state": e.state,
                "submitted_at": at(e.t),
                "evidence_key": f"text:{n}",
            }
            for n, e in enumerate(h.evidence)
        ],
    )
    first: dict[tuple[str, str], Done] = {}
    for d in sorted(h.done, key=lambda d: d.t):  # a subject completes a challenge once
        first.setdefault((CHALLENGES[d.challenge], _subject(h, d.who, d.as_team)), d)
    await _insert(
        db,
        ChallengeDone,
        [
            {
                "challenge": challenge,
                "subject": subject,
                "member_id": d.who + 1 if subject.startswith("member:") else None,
                "completed_at": at(d.t),
            }
            for (challenge, subject), d in sorted(first.items())
        ],
    )


# ---------------------------------------------------------------------------- the oracle
# Plain Python over the events, from docs/reference/indicators.md. Results are put in the
# report's own result classes (plain containers) so that they compare field by field.

NEVER = 10**9
BUCKETS = (("0", None, 0), ("1-9", 1, 9), ("10-49", 10, 49), ("50-99", 50, 99))
BUCKETS += (("100-249", 100, 249), ("250+", 250, None))


def monday(moment: datetime | date) -> date:
    """The Monday (UTC) of ``moment``'s week."""
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


def weeks_between(first: date | None, last: date | None) -> list[date]:
    if first is None or last is None:
        return []
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def filled(values: dict[date, int], w: Window) -> list[ind.WeekCount]:
    """Every week of the range, or of the data when the range is open, zeros included."""
    first = monday(at(w.start)) if w.start is not None else min(values, default=None)
    last = monday(at(w.end) - timedelta(microseconds=1)) if w.end is not None else None
    if w.end is None:
        last = max(values, default=None)
    return [ind.WeekCount(d, values.get(d, 0)) for d in weeks_between(first, last)]


def median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def quantile(values: list[int], q: float) -> float | None:
    """Linear interpolation between the closest ranks."""
    if not values:
        return None
    s = sorted(values)
    pos = q * (len(s) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(s) - 1)
    return s[low] + (s[high] - s[low]) * (pos - low) if pos != low else float(s[low])


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class Oracle:
    """Every indicator of the report for one window, from the history."""

    def __init__(self, h: History, w: Window) -> None:
        self.h, self.w = h, w
        self.start = -NEVER if w.start is None else w.start
        self.end = NEVER if w.end is None else w.end
        self.campaign = None if w.campaign is None else CAMPAIGNS[w.campaign]

    # -- who and when
    def in_range(self, t: int) -> bool:
        return self.start <= t < self.end

    def before_end(self, t: int) -> bool:
        return t < self.end

    def in_scope(self, who: int) -> bool:
        """Members in scope: people (not bots, not managers) of the cohort and team, known
        before the end of the range."""
        p = self.h.people[who]
        return (
            not p.bot
            and not p.manager
            and (self.w.cohort is None or p.cohort == self.w.cohort)
            and (self.w.team is None or p.team == self.w.team)
            and self.h.known_at(who) < self.end
        )

    def members(self) -> list[int]:
        return [i for i in range(len(self.h.people)) if self.in_scope(i)]

    def doings(self) -> list[tuple[int, str, int]]:
        """(who, kind, when) of every action the platform shows: what makes a member active.
        A help question is a post in the help channel; a quiz or named survey answer is a
        button; a kudos is a reaction; an anonymous survey answer leaves no trace."""
        h = self.h
        found = [(a.who, a.kind, a.t) for a in h.acts]
        found += [(q.who, "button", q.t) for q in h.quiz]
        found += [(t.asker, "message", t.t) for t in h.tickets if t.asker is not None]
        found += [(s.who, "button", s.t) for s in h.answers if not SURVEYS[s.survey][4]]
        found += [(k.giver, "reaction", k.t) for k in h.kudos]
        return [(who, kind, t) for who, kind, t in found if not h.people[who].bot]

    # -- funnel
    def funnel_counts(self, members: Iterable[int]) -> list[int]:
        counts = [0] * 5
        doings = self.doings()
        for who in members:
            p = self.h.people[who]
            did = [(kind, t) for w_, kind, t in doings if w_ == who and self.before_end(t)]
            stages = [
                True,
                (p.joined is not None and self.before_end(p.joined)) or bool(did),
                p.profile,
                any(kind in {"message", "reply"} for kind, _ in did),
                any(q.who == who and q.final and self.before_end(q.t) for q in self.h.quiz),
            ]
            reached = list(itertools.accumulate(stages, lambda a, b: a and b))
            counts = [c + int(r) for c, r in zip(counts, reached, strict=True)]
        return counts

    def funnel_of(self, counts: list[int]) -> ind.Funnel:
        names = ("invited", "joined", "profile complete", "first post", "first quiz answer")
        return ind.Funnel(
            [
                ind.FunnelStage(
                    name, c, ratio(c, counts[0]), None if i == 0 else ratio(c, counts[i - 1])
                )
                for i, (name, c) in enumerate(zip(names, counts, strict=True))
            ]
        )

    def by_cohort(self) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for who in self.members():
            groups.setdefault(self.h.people[who].cohort or "(none)", []).append(who)
        return dict(sorted(groups.items()))

    # -- activity
    def weekly_by_cohort(self) -> dict[str, list[ind.WeekCount]]:
        pairs: dict[str, set[tuple[date, int]]] = {}
        for who, _, t in self.doings():
            if self.in_scope(who) and self.in_range(t):
                cohort = self.h.people[who].cohort or "(none)"
                pairs.setdefault(cohort, set()).add((monday(at(t)), who))
        every = {week for found in pairs.values() for week, _ in found}
        window = Window(
            None,
            None,
            self.w.start if self.w.start is not None else self._quarters(min(every, default=None)),
            self.w.end
            if self.w.end is not None
            else self._quarters(None if not every else max(every) + timedelta(weeks=1)),
            None,
        )
        result = {}
        for cohort, found in sorted(pairs.items()):
            counts: dict[date, int] = {}
            for week, _ in found:
                counts[week] = counts.get(week, 0) + 1
            result[cohort] = filled(counts, window)
        return result

    @staticmethod
    def _quarters(day: date | None) -> int | None:
        if day is None:
            return None
        return int((datetime(day.year, day.month, day.day, tzinfo=UTC) - T0) / QUARTER)

    def active(self) -> int:
        return len({who for who, _, t in self.doings() if self.in_scope(who) and self.in_range(t)})

    # -- reach
    def reach(self) -> list[tuple[Any, ...]]:
        h = self.h
        result = []
        for i, post in enumerate(h.posts):
            if not post.sent or post.channel is None or not self.in_range(post.t):
                continue
            if self.campaign is not None and CAMPAIGNS[post.campaign] != self.campaign:
                continue
            acts = [
                a
                for a in _reach_acts(h)
                if a.post == i and self.in_scope(a.who) and self.before_end(a.t)
            ]
            reactors = {a.who for a in acts if a.kind == "reaction"}
            repliers = {a.who for a in acts if a.kind == "reply"}
            reached = reactors | repliers
            # Who was in the channel when the post went out (joins and leaves up to then).
            channel: dict[int, bool] = {}
            for move in sorted(h.moves, key=lambda m: m.t):
                if move.channel == post.channel and move.t <= post.t:
                    channel[move.who] = move.joined
            there = {who for who, inside in channel.items() if inside}
            listed = {who for who in there if self.in_scope(who)}
            everyone = len(self.members())
            audience = len(listed | reached) if there else max(everyone, len(reached))
            result.append(
                (
                    CAMPAIGNS[post.campaign],
                    f"post{i}",
                    at(post.t),
                    post.channel,
                    len(reactors),
                    len(repliers),
                    len(reached),
                    audience,
                    bool(there),
                )
            )
        return sorted(result, key=lambda r: (r[2], r[1]))

    # -- quizzes
    def quiz(self) -> ind.QuizStats:
        mine = [
            q
            for q in self.h.quiz
            if q.final
            and self.in_scope(q.who)
            and self.in_range(q.t)
            and (self.campaign is None or CAMPAIGNS[q.run] == self.campaign)
        ]
        per: dict[int, list[QuizAnswered]] = {}
        for q in mine:
            per.setdefault(q.who, []).append(q)
        weekly: dict[date, set[int]] = {}
        for q in mine:
            weekly.setdefault(monday(at(q.t)), set()).add(q.who)
        scores = [sum(q.correct for q in qs) / len(qs) for qs in per.values()]
        return ind.QuizStats(
            members=len(self.members()),
            participants=len(per),
            answers=len(mine),
            correct=sum(q.correct for q in mine),
            points=sum(10 for q in mine if q.correct),
            mean_score=sum(scores) / len(scores) if scores else None,
            weekly=filled({d: len(s) for d, s in weekly.items()}, self.w),
        )

    # -- surveys
    def written(self) -> list[tuple[int, int, date, str | None, str | None, SurveyAnswered]]:
        """The survey responses written: (survey, response, day, cohort, team, answer). A named
        answer is written when given, with its member's cohort and team; the anonymous answers
        of a round are written when it closes, in one batch, and keep a cohort or team only
        when every group of the batch has at least K responses (both, else the cohort, else
        the team, else neither)."""
        found = []
        for n, s in enumerate(self.h.answers):
            if not SURVEYS[s.survey][4]:
                p = self.h.people[s.who]
                found.append((s.survey, n, at(s.t).date(), p.cohort, p.team, s))
        for index, (_, _, _, _, anonymous, closes) in enumerate(SURVEYS):
            if not anonymous or closes is None:
                continue
            batch = [(n, s) for n, s in enumerate(self.h.answers) if s.survey == index]
            groups = [(self.h.people[s.who].cohort, self.h.people[s.who].team) for _, s in batch]

            def fine(keys: list[Any]) -> bool:
                return all(keys.count(k) >= K for k in keys)

            if fine(groups):
                keep = (True, True)
            else:
                keep = (fine([c for c, _ in groups]), False)
                if not keep[0]:
                    keep = (False, fine([t for _, t in groups]))
            for (n, s), (cohort, team) in zip(batch, groups, strict=True):
                found.append(
                    (
                        index,
                        n,
                        at(closes).date(),
                        cohort if keep[0] else None,
                        team if keep[1] else None,
                        s,
                    )
                )
        return found

    def shown(self) -> list[tuple[int, int, date, str | None, str | None, SurveyAnswered]]:
        """The written responses a figure may show: not the anonymous ones of a survey round
        with fewer than K responses written (their mean would be too close to each one)."""
        written = self.written()
        anonymous: dict[int, int] = {}
        for r in written:
            if SURVEYS[r[0]][4]:
                anonymous[r[0]] = anonymous.get(r[0], 0) + 1
        return [r for r in written if anonymous.get(r[0], K) >= K]

    def satisfaction(self) -> ind.Satisfaction:
        first_day = None if self.w.start is None else at(self.w.start).date()
        last_day = None if self.w.end is None else (at(self.w.end) - timedelta(microseconds=1))
        rows = [
            r
            for r in self.shown()
            if (first_day is None or r[2] >= first_day)
            and (last_day is None or r[2] <= last_day.date())
            and (self.w.cohort is None or r[3] == self.w.cohort)
            and (self.w.team is None or r[4] == self.w.team)
            and (self.campaign is None or SURVEYS[r[0]][1] == self.campaign)
        ]
        ratings = [(r[2], r[5].rating) for r in rows if r[5].rating is not None]
        scores = [(r[2], r[5].nps) for r in rows if r[5].nps is not None]
        responses = len({r[1] for r in rows if r[5].rating is not None or r[5].nps is not None})
        if (self.w.cohort is not None or self.w.team is not None) and 0 < responses < K:
            return ind.Satisfaction(0, None, 0, 0, 0, 0, responses, hidden=True)
        weeks = sorted({monday(d) for d, _ in ratings + scores})
        weekly_rating, weekly_nps = [], []
        for week in weeks:
            r = [v for d, v in ratings if monday(d) == week]
            n = [
                100.0 if v >= 9 else -100.0 if v <= 6 else 0.0
                for d, v in scores
                if monday(d) == week
            ]
            weekly_rating.append(ind.WeekValue(week, sum(r) / len(r) if r else None, len(r)))
            weekly_nps.append(ind.WeekValue(week, sum(n) / len(n) if n else None, len(n)))
        values = [v for _, v in scores]
        return ind.Satisfaction(
            ratings=len(ratings),
            mean_rating=sum(v for _, v in ratings) / len(ratings) if ratings else None,
            nps_answers=len(values),
            promoters=sum(v >= 9 for v in values),
            passives=sum(7 <= v <= 8 for v in values),
            detractors=sum(v <= 6 for v in values),
            responses=responses,
            weekly_rating=weekly_rating,
            weekly_nps=weekly_nps,
        )

    def rounds(self) -> list[ind.SurveyRound]:
        """Each round of a recurring survey: its responses (members who answered it), and the
        mean rating and NPS of its written answers."""
        if self.w.cohort is not None or self.w.team is not None:
            return []
        written = self.shown()
        result = []
        for index, (_, campaign, step, round_, _, _) in enumerate(SURVEYS):
            if not round_ or (self.campaign is not None and campaign != self.campaign):
                continue
            mine = [r[5] for r in written if r[0] == index]
            ratings = [s.rating for s in mine if s.rating is not None]
            nps = [s.nps for s in mine if s.nps is not None]
            result.append(
                ind.SurveyRound(
                    survey=f"{campaign}/{step}",
                    round=round_,
                    responses=sum(s.survey == index for s in self.h.answers),
                    mean_rating=sum(ratings) / len(ratings) if ratings else None,
                    nps=100.0 * (sum(v >= 9 for v in nps) - sum(v <= 6 for v in nps)) / len(nps)
                    if nps
                    else None,
                )
            )
        return sorted(result, key=lambda r: (r.survey, r.round))

    # -- points
    def ledger(self) -> list[tuple[int, int, str | None, int, str]]:
        """Every ledger line: (member, amount, campaign, when, source); a revocation is a line
        of the opposite amount at the time of the revocation."""
        h = self.h
        lines: list[tuple[int, int, str | None, int, str]] = []
        for p in h.points:
            campaign = None if p.campaign is None or p.amount < 0 else CAMPAIGNS[p.campaign]
            lines.append((p.who, p.amount, campaign, p.t, "admin"))
            if p.revoked is not None:
                lines.append((p.who, -p.amount, campaign, p.t + p.revoked, "admin"))
        for a in h.acts:
            if a.kind != "reaction" or a.post >= len(h.posts) or h.people[a.who].bot:
                continue
            post = h.posts[a.post]
            if not post.sent or post.channel is None:
                continue
            lines.append((a.who, 1, CAMPAIGNS[post.campaign], a.t, "reaction"))
            if a.removed is not None:
                lines.append((a.who, -1, CAMPAIGNS[post.campaign], a.t + a.removed, "reaction"))
        for k in self.live_kudos(everything=True):
            lines.append((k.receiver, 5, None, k.t, "kudos"))
            if k.revoked is not None:
                lines.append((k.receiver, -5, None, k.t + k.revoked, "kudos"))
        return lines

    def points(self) -> ind.PointsDistribution:
        members = self.members()
        totals = dict.fromkeys(members, 0)
        ranged = self.w.start is not None or self.w.end is not None or self.campaign is not None
        for who, amount, campaign, t, _ in self.ledger():
            if who not in totals:
                continue
            if ranged and not (
                self.in_range(t) and (self.campaign is None or campaign == self.campaign)
            ):
                continue
            totals[who] += amount
        values = sorted(totals.values())
        total = sum(values)
        buckets = [
            ind.PointsBucket(
                label,
                low,
                high,
                sum(1 for v in values if (low is None or v >= low) and (high is None or v <= high)),
            )
            for label, low, high in BUCKETS
        ]
        return ind.PointsDistribution(
            members=len(members),
            with_points=sum(v > 0 for v in values),
            total=total,
            mean=total / len(members) if members else None,
            median=quantile(values, 0.5),
            p90=quantile(values, 0.9),
            max=max(values) if values else None,
            buckets=buckets,
        )

    # -- help desk
    def help(self) -> ind.HelpTimes:
        narrowed = self.w.cohort is not None or self.w.team is not None
        tickets = [
            t
            for t in self.h.tickets
            if self.in_range(t.t)
            and (not narrowed or (t.asker is not None and self.in_scope(t.asker)))
        ]
        first = [t.responded * 900.0 for t in tickets if t.responded is not None]
        solved = [t.solved * 900.0 for t in tickets if t.solved is not None]
        weekly: dict[date, list[float]] = {}
        for t in tickets:
            if t.responded is not None:
                weekly.setdefault(monday(at(t.t)), []).append(t.responded / 4)
        first_median, solved_median = median(first), median(solved)
        return ind.HelpTimes(
            tickets=len(tickets),
            answered=len(first),
            solved=len(solved),
            median_first_response=None if first_median is None else timedelta(seconds=first_median),
            median_resolution=None if solved_median is None else timedelta(seconds=solved_median),
            weekly_first_response=[
                ind.WeekValue(d, median(v), len(v)) for d, v in sorted(weekly.items())
            ],
        )

    # -- challenges
    def challenges(self) -> list[ind.ChallengeStats]:
        h = self.h
        found: dict[str, list[int]] = {}
        for name in CHALLENGES:
            if self.campaign is not None and not name.startswith(f"{self.campaign}/"):
                continue
            # participants: progress, or evidence sent whatever its state
            sent = [
                e
                for e in h.evidence
                if CHALLENGES[e.challenge] == name and self.in_scope(e.who) and self.in_range(e.t)
            ]
            takers = {
                g.who
                for g in h.progress
                if CHALLENGES[g.challenge] == name and self.in_scope(g.who) and self.in_range(g.t)
            } | {e.who for e in sent}
            # each sender once, by their furthest evidence: approved, else waiting, else rejected
            states: dict[int, set[str]] = {}
            for e in sent:
                states.setdefault(e.who, set()).add(e.state)
            approved = sum("approved" in s for s in states.values())
            waiting = sum("approved" not in s and "pending" in s for s in states.values())
            rejected = sum(s == {"rejected"} for s in states.values())
            first: dict[str, int] = {}
            for d in sorted(h.done, key=lambda d: d.t):
                if CHALLENGES[d.challenge] == name:
                    first.setdefault(_subject(h, d.who, d.as_team), d.t)
            members = {
                s
                for s, t in first.items()
                if s.startswith("member:") and self.in_range(t) and self.in_scope(int(s[7:]) - 1)
            }
            teams = {
                s
                for s, t in first.items()
                if s.startswith("team:")
                and self.in_range(t)
                and self.w.cohort is None
                and (self.w.team is None or s == f"team:{self.w.team}")
            }
            values = [len(takers), len(members), len(teams), approved, waiting, rejected]
            if any(values):
                found[name] = values
        return [ind.ChallengeStats(name, *v) for name, v in sorted(found.items())]

    # -- kudos
    def live_kudos(self, *, everything: bool = False) -> list[Kudos]:
        """Kudos given (bots give and get none); with ``everything``, taken back ones too."""
        return [
            k
            for k in self.h.kudos
            if not self.h.people[k.giver].bot
            and not self.h.people[k.receiver].bot
            and (everything or k.revoked is None)
        ]

    def kudos(self) -> tuple[ind.KudosStats, dict[str, ind.KudosStats]]:
        live = [k for k in self.live_kudos() if self.in_range(k.t)]
        given = [k for k in live if self.in_scope(k.giver)]
        received = [k for k in live if self.in_scope(k.receiver)]
        weeks = {monday(at(k.t)) for k in given + received}
        weekly = []
        for week in [w.week for w in filled(dict.fromkeys(weeks, 0), self.w)]:
            g = [k for k in given if monday(at(k.t)) == week]
            r = [k for k in received if monday(at(k.t)) == week]
            weekly.append(
                ind.KudosWeek(
                    week, len(g), len({k.giver for k in g}), len(r), len({k.receiver for k in r})
                )
            )
        total = ind.KudosStats(
            len(given),
            len({k.giver for k in given}),
            len(received),
            len({k.receiver for k in received}),
            weekly,
        )
        groups: dict[str, list[list[Kudos]]] = {}
        for k in given:
            groups.setdefault(self.h.people[k.giver].cohort or "(none)", [[], []])[0].append(k)
        for k in received:
            groups.setdefault(self.h.people[k.receiver].cohort or "(none)", [[], []])[1].append(k)
        by = {
            name: ind.KudosStats(
                len(g), len({k.giver for k in g}), len(r), len({k.receiver for k in r})
            )
            for name, (g, r) in sorted(groups.items())
        }
        return total, by

    # -- the whole report
    def report(self) -> dict[str, Any]:
        if self.w.cohort is None:
            by_cohort = {
                name: self.funnel_of(self.funnel_counts(members))
                for name, members in self.by_cohort().items()
            }
        else:
            by_cohort = {}
        weekly_by = self.weekly_by_cohort()
        weekly: dict[date, int] = {}
        for series in weekly_by.values():
            for week in series:
                weekly[week.week] = weekly.get(week.week, 0) + week.count
        kudos, kudos_by = self.kudos()
        return {
            "funnel": self.funnel_of(self.funnel_counts(self.members())),
            "funnel_by_cohort": by_cohort,
            "weekly_active": [ind.WeekCount(d, n) for d, n in sorted(weekly.items())],
            "weekly_active_by_cohort": weekly_by if len(weekly_by) > 1 else {},
            "active_members": self.active(),
            "reach": self.reach(),
            "quiz": self.quiz(),
            "challenges": self.challenges(),
            "satisfaction": self.satisfaction(),
            "help": self.help(),
            "points": self.points(),
            "kudos": kudos,
            "kudos_by_cohort": kudos_by if len(kudos_by) > 1 and self.w.cohort is None else {},
            "survey_rounds": self.rounds(),
        }


# ---------------------------------------------------------------------------- comparison


def plain(value: Any) -> Any:
    """Dataclasses as dicts, floats rounded (SQL and Python add in different orders)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    return value


def measured(data: report.ReportData) -> dict[str, Any]:
    """The report's figures, in the oracle's shape."""
    result = {
        name: getattr(data, name)
        for name in (
            "funnel",
            "funnel_by_cohort",
            "weekly_active",
            "weekly_active_by_cohort",
            "active_members",
            "quiz",
            "challenges",
            "satisfaction",
            "help",
            "points",
            "kudos",
            "kudos_by_cohort",
            "survey_rounds",
        )
    }
    result["reach"] = [
        (
            p.campaign_id,
            p.step_id,
            p.sent_at,
            p.channel_id,
            p.reactors,
            p.repliers,
            p.reached,
            p.audience,
            p.audience_from_channel,
        )
        for p in data.reach
    ]
    return result


def managers(h: History) -> frozenset[str]:
    return frozenset(f"M{i}" for i, p in enumerate(h.people) if p.manager)


async def check(db: Database, h: History, w: Window) -> None:
    """Load the history, compare the report with the oracle, forget, compare again."""
    await load(db, h)
    scope = w.scope(managers(h))
    data = await report.compute(db, scope, NOW)
    expected = plain(Oracle(h, w).report())
    found = plain(measured(data))
    for name in expected:
        assert found[name] == expected[name], name
    counts = [s.count for s in data.funnel.stages]
    assert all(a >= b for a, b in itertools.pairwise(counts)), counts
    assert all(p.rate is None or p.rate <= 1.0 for p in data.reach)
    left_out = managers(h)
    for who in h.forgotten:  # as "forget me" does, told who the community managers are
        forgotten = await privacy.forget_member(
            db, who + 1, NOW, is_manager=lambda key: key.partition(":")[2] in left_out
        )
        assert forgotten is not None
    after = plain(measured(await report.compute(db, scope, NOW)))
    for name in expected:
        assert after[name] == found[name], f"{name} changed after forgetting {h.forgotten}"


def run(db_url: str, h: History, w: Window) -> None:
    async def go() -> None:
        db = create_database(db_url)
        try:
            await check(db, h, w)
        finally:
            await db.dispose()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(go())
    finally:
        loop.close()


ORACLE = settings(
    FUZZ,
    max_examples=max(FUZZ.max_examples // 3, 10),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@ORACLE
@given(histories(), windows)
def test_every_indicator_matches_the_oracle(db_url: str, h: History, w: Window) -> None:
    run(db_url, h, w)


# ---------------------------------------------------------------------------- shrunk examples


def _history(people: list[Person], **events: Any) -> History:
    lists = {f.name: [] for f in fields(History) if f.name != "people"}
    return History(people=people, **{**lists, **events})


def _person(*, manager: bool = False, cohort: str | None = None) -> Person:
    return Person(cohort, None, None, False, manager, 0, None, True)


def test_forgetting_a_manager_changes_no_figure(db_url: str) -> None:
    # Found by the oracle: the row that replaced a forgotten community manager had a new
    # platform id that RALLYBOT_ADMINS no longer named, so the manager became "invited".
    h = _history([_person(), _person(manager=True)], forgotten=[1])
    run(db_url, h, Window(None, None, None, 192, None))


def test_evidence_waiting_or_rejected_counts_its_sender(db_url: str) -> None:
    # Three members sent evidence: one approved, one waiting, one rejected. All three took
    # part, as a manager counts participants; only the approved one made progress.
    h = _history(
        [_person(), _person(), _person()],
        progress=[Progress(0, 0, False, 10)],
        evidence=[
            Evidence(0, 0, "approved", 9),
            Evidence(1, 0, "pending", 11),
            Evidence(2, 0, "rejected", 12),
            Evidence(2, 0, "pending", 13),
        ],
    )
    run(db_url, h, Window(None, None, None, None, None))
