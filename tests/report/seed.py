"""A small database whose indicators are worked out by hand (see test_indicators.py).

Weeks (Monday, UTC) of the range used by the tests: 2026-11-02, 11-09, 11-16
(start 2026-11-02 00:00, end 2026-11-23 00:00).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rallybot.storage.challenge_models import ChallengeDone, ChallengeProgress
from rallybot.storage.database import Database
from rallybot.storage.helpdesk_models import HelpTicket
from rallybot.storage.models import (
    ALL_TIME,
    ChannelMember,
    Delivery,
    Member,
    PointEntry,
    PointTotal,
    table_of,
)
from rallybot.storage.outbox import keep_audience
from rallybot.storage.quiz_models import QuizAnswer, QuizRun
from rallybot.storage.report_models import Activity, week_of
from rallybot.storage.survey_models import Survey, SurveyAnswer

START = datetime(2026, 11, 2, tzinfo=UTC)
END = datetime(2026, 11, 23, tzinfo=UTC)
WEEKS = [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]


def at(month: int, day: int, hour: int = 10) -> datetime:
    """A UTC time in 2026."""
    return datetime(2026, month, day, hour, tzinfo=UTC)


CREATED = at(10, 1)

# id: (name, cohort, team, joined_at, profile_complete, is_bot, created_at)
MEMBERS: dict[int, tuple[str, str | None, str | None, datetime | None, bool, bool, datetime]] = {
    1: ("alice", "pilot", "sales", at(10, 5), True, False, CREATED),
    2: ("bob", "pilot", "sales", at(10, 6), False, False, CREATED),
    3: ("carol", "pilot", "tech", at(10, 7), True, False, CREATED),
    4: ("dan", "wave2", "tech", None, False, False, CREATED),
    5: ("eve", "wave2", "sales", at(11, 10), True, False, CREATED),
    6: ("frank", "wave2", None, None, False, False, at(12, 1)),  # known after the range
    7: ("botty", "pilot", None, at(10, 1), True, True, CREATED),  # a bot: never counted
}

# (member, kind, channel, target message, when)
ACTIVITY: list[tuple[int, str, str | None, str | None, datetime]] = [
    (1, "message", "C1", None, at(10, 25)),  # before the range: funnel only
    (1, "message", "C1", None, at(11, 3)),
    (1, "reaction", "C1", "P1", at(11, 4)),
    (1, "reaction", "C1", "P1", at(11, 4, 11)),  # a second emoji: still one reactor
    (1, "reaction", "C1", "P2", at(11, 10)),
    (2, "reaction", "C1", "P1", at(11, 3)),
    (2, "reply", "C1", "P1", at(11, 12)),
    (2, "message", "C1", None, at(11, 25)),  # after the range
    (3, "command", None, None, at(11, 17)),
    (5, "message", "C1", None, at(11, 11)),
    (5, "reply", "C1", "P2", at(11, 18)),
]

CHANNEL_MEMBERS = [("C1", 1), ("C1", 2), ("C1", 3), ("C1", 5), ("C1", 7)]

# (id, campaign, step, recipient, status, sent_at, channel, message)
DELIVERIES: list[tuple[int, str, str, str, str, datetime | None, str | None, str | None]] = [
    (1, "launch", "teaser", "channel:annonces", "sent", at(11, 3, 9), "C1", "P1"),
    (2, "launch", "announce", "channel:annonces", "sent", at(11, 10, 9), "C1", "P2"),
    (3, "launch", "welcome", "member:1", "sent", at(11, 3, 9), "D1", "P9"),  # a DM
    (4, "launch", "later", "channel:annonces", "cancelled", None, None, None),
    (5, "other", "hello", "channel:autre", "sent", at(11, 5, 9), "C2", "P3"),
]

# (run id, campaign)
RUNS = [(1, "launch"), (2, "other")]
# (run, question, member, correct, final, when, points)
ANSWERS: list[tuple[int, str, int, bool, bool, datetime, int]] = [
    (1, "q1", 1, True, True, at(11, 4), 10),
    (1, "q2", 1, False, True, at(11, 4, 11), 0),
    (1, "q1", 3, True, True, at(11, 17), 10),
    (2, "q1", 3, True, True, at(11, 18), 5),
    (1, "q1", 5, False, False, at(11, 11), 0),  # still choosing: not an answer yet
    (1, "q2", 2, False, True, at(10, 20), 0),  # before the range: funnel only
]

SURVEYS = [("launch/pulse", "k1", "launch", "pulse"), ("other/pulse", "k2", "other", "pulse")]
# (response, survey, cohort, team, day, kind, value, skipped)
SURVEY_ANSWERS: list[tuple[str, str, str, str, date, str, int | None, bool]] = [
    ("r1", "launch/pulse", "pilot", "sales", date(2026, 11, 4), "rating", 4, False),
    ("r1", "launch/pulse", "pilot", "sales", date(2026, 11, 4), "nps", 10, False),
    ("r1", "launch/pulse", "pilot", "sales", date(2026, 11, 4), "text", None, False),
    ("r2", "launch/pulse", "pilot", "tech", date(2026, 11, 5), "rating", 5, False),
    ("r2", "launch/pulse", "pilot", "tech", date(2026, 11, 5), "nps", 9, False),
    ("r3", "launch/pulse", "wave2", "sales", date(2026, 11, 11), "rating", 2, False),
    ("r3", "launch/pulse", "wave2", "sales", date(2026, 11, 11), "nps", 3, False),
    ("r4", "launch/pulse", "pilot", "sales", date(2026, 11, 12), "rating", 3, False),
    ("r4", "launch/pulse", "pilot", "sales", date(2026, 11, 12), "nps", 7, False),
    ("r5", "launch/pulse", "wave2", "tech", date(2026, 11, 19), "rating", None, True),
    ("r5", "launch/pulse", "wave2", "tech", date(2026, 11, 19), "nps", 6, False),
    ("r6", "launch/pulse", "pilot", "sales", date(2026, 10, 20), "rating", 1, False),  # before
    ("r7", "other/pulse", "pilot", "sales", date(2026, 11, 6), "rating", 1, False),
]

# member -> all-time total
TOTALS = {1: 120, 2: 15, 5: 55, 6: 7, 7: 500}
# (member, amount, campaign, when)
ENTRIES: list[tuple[int, int, str | None, datetime]] = [
    (1, 100, "launch", at(11, 3)),
    (1, 20, None, at(10, 20)),  # before the range
    (2, 15, "launch", at(11, 12)),
    (5, 60, "other", at(11, 11)),
    (5, -5, None, at(11, 12)),
    (6, 7, "other", at(11, 5)),  # frank: known after the range
    (7, 500, "launch", at(11, 5)),  # a bot
]

# (asker, opened, first response, solved)
TICKETS: list[tuple[int | None, datetime, datetime | None, datetime | None]] = [
    (1, at(11, 3, 9), at(11, 3, 10), at(11, 3, 12)),  # 1 h, 3 h
    (2, at(11, 4, 9), at(11, 4, 9) + timedelta(minutes=30), None),  # 0.5 h, open
    (5, at(11, 10, 8), at(11, 10, 12), at(11, 11, 8)),  # 4 h, 24 h
    (None, at(11, 17, 9), None, None),  # asker forgotten, unanswered
    (5, at(10, 20, 9), at(10, 20, 9) + timedelta(hours=9), None),  # before the range
]

# (challenge, subject, member, when)
PROGRESS: list[tuple[str, str, int, datetime]] = [
    ("launch/post3", "member:1", 1, at(11, 3)),
    ("launch/post3", "member:1", 1, at(11, 4)),
    ("launch/post3", "member:1", 1, at(11, 5)),
    ("launch/post3", "member:2", 2, at(11, 12)),
    ("launch/post3", "member:5", 5, at(10, 25)),  # before the range
    ("launch/post3", "member:7", 7, at(11, 5)),  # a bot
    ("other/react", "team:tech", 3, at(11, 17)),
    ("other/react", "team:sales", 5, at(11, 18)),
]
# (challenge, subject, when)
DONE: list[tuple[str, str, datetime]] = [
    ("launch/post3", "member:1", at(11, 5)),
    ("launch/post3", "member:7", at(11, 5)),  # a bot
    ("other/react", "team:sales", at(11, 18)),
    ("launch/post3", "member:2", at(11, 25)),  # after the range
]


async def _insert(db: Database, model: type[Any], rows: list[dict[str, Any]]) -> None:
    if rows:
        async with db.session() as session:
            await session.execute(sa.insert(table_of(model)), rows)


async def seed(db: Database) -> None:
    """Fill ``db`` with the rows above."""
    await _insert(
        db,
        Member,
        [
            {
                "id": i,
                "platform": "memory",
                "platform_user_id": f"U{i}",
                "display_name": name,
                "cohort": cohort,
                "team": team,
                "joined_at": joined,
                "profile_complete": profile,
                "is_bot": bot,
                "groups": [],
                "opted_out": name == "bob",  # opted out of messages: still in the audience
                "created_at": created,
                "updated_at": created,
            }
            for i, (name, cohort, team, joined, profile, bot, created) in MEMBERS.items()
        ],
    )
    await _insert(
        db,
        Activity,
        [
            {
                "member_id": m,
                "kind": kind,
                "channel_id": ch,
                "target_message_id": target,
                "occurred_at": when,
                "week": week_of(when),
            }
            for m, kind, ch, target, when in ACTIVITY
        ],
    )
    await _insert(
        db,
        ChannelMember,
        [{"platform": "memory", "channel_id": c, "member_id": m} for c, m in CHANNEL_MEMBERS],
    )
    await _insert(
        db,
        Delivery,
        [
            {
                "id": i,
                "campaign_id": campaign,
                "step_id": step,
                "recipient": recipient,
                "occurrence": "once",
                "due_at": at(11, 1),
                "grace_until": at(11, 30),
                "status": status,
                "payload": {},
                "content_hash": "",
                "attempts": 1,
                "sent_at": sent_at,
                "platform_channel_id": channel,
                "platform_message_id": message,
                "created_at": at(10, 1),
                "updated_at": at(10, 1),
            }
            for i, campaign, step, recipient, status, sent_at, channel, message in DELIVERIES
        ],
    )
    async with db.session() as session:  # the outbox keeps who could see each channel post
        for i, _, _, recipient, status, sent_at, channel, _ in DELIVERIES:
            if status == "sent" and recipient.startswith("channel:") and channel and sent_at:
                await keep_audience(session, i, "memory", channel, sent_at)
    await _insert(
        db,
        QuizRun,
        [
            {
                "id": run,
                "key": f"{campaign}/quiz/once",
                "series": f"{campaign}/quiz",
                "bank_id": "bank",
                "mode": "live",
                "platform": "memory",
                "campaign_id": campaign,
                "locale": "en",
                "questions": ["q1", "q2"],
                "current": 0,
                "state": "finished",
                "window_seconds": 30,
                "messages": {},
                "started_at": at(11, 1),
            }
            for run, campaign in RUNS
        ],
    )
    await _insert(
        db,
        QuizAnswer,
        [
            {
                "run_id": run,
                "question_id": q,
                "member_id": m,
                "answer": "0",
                "correct": correct,
                "final": final,
                "answered_at": when,
                "points": points,
            }
            for run, q, m, correct, final, when, points in ANSWERS
        ],
    )
    await _insert(
        db,
        Survey,
        [
            {
                "id": sid,
                "key": key,
                "campaign_id": campaign,
                "step_id": step,
                "title": "Pulse",
                "anonymous": campaign == "launch",  # other/pulse is named (alice's answer)
                "locale": "en",
                "questions": [],
                "created_at": at(10, 1),
                "updated_at": at(10, 1),
            }
            for sid, key, campaign, step in SURVEYS
        ],
    )
    await _insert(
        db,
        SurveyAnswer,
        [
            {
                "id": f"a{n}",
                "survey_id": survey,
                "response_id": response,
                "question_id": kind,
                "kind": kind,
                "value": value,
                "choices": None,
                "text": "fine" if kind == "text" else None,
                "skipped": skipped,
                "cohort": cohort,
                "team": team,
                "answered_on": day,
                # Named answers carry their member: an anonymous survey's single response
                # would be in no figure (fewer than MIN_GROUP).
                "member_id": 1 if survey == "other/pulse" else None,
            }
            for n, (response, survey, cohort, team, day, kind, value, skipped) in enumerate(
                SURVEY_ANSWERS
            )
        ],
    )
    await _insert(
        db,
        PointTotal,
        [
            {"member_id": m, "season": ALL_TIME, "total": total, "reached_at": at(11, 20)}
            for m, total in TOTALS.items()
        ],
    )
    await _insert(
        db,
        PointEntry,
        [
            {
                "member_id": m,
                "amount": amount,
                "source": "admin",
                "reason": "",
                "campaign_id": campaign,
                "idempotency_key": f"seed:{n}",
                "created_at": when,
            }
            for n, (m, amount, campaign, when) in enumerate(ENTRIES)
        ],
    )
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
                "asker_id": asker,
                "opened_at": opened,
                "last_activity_at": opened,
                "first_response_at": responded,
                "solved_at": solved,
                "state": "solved" if solved else "open",
                "suggestions": [],
            }
            for n, (asker, opened, responded, solved) in enumerate(TICKETS)
        ],
    )
    await _insert(
        db,
        ChallengeProgress,
        [
            {"challenge": c, "subject": subject, "member_id": m, "ref": f"ref{n}", "at": when}
            for n, (c, subject, m, when) in enumerate(PROGRESS)
        ],
    )
    await _insert(
        db,
        ChallengeDone,
        [{"challenge": c, "subject": subject, "completed_at": when} for c, subject, when in DONE],
    )
    if db.dialect == "postgresql":  # explicit ids: move the sequences past them
        async with db.session() as session:
            for table in ("member", "delivery", "quiz_run"):
                await session.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT MAX(id) FROM {table}))"
                    )
                )
