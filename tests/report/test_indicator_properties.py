"""Indicators that are right by construction, checked against a plain-Python oracle over
random small communities (hypothesis), on SQLite and PostgreSQL: the funnel is monotone and
equals the oracle's; reach is at most 100 % and equals the oracle's; community managers and
bots are not "invited". Plus the two contradictions of issue 14 as regression tests.

(A quick check of the funnel and reach; ``test_indicator_oracle.py`` compares every figure of
the report with an oracle over a whole random community history.)"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from rallybot.handlers.reporting import indicators as ind
from rallybot.storage.database import Database, create_database
from rallybot.storage.models import ChannelMember, Delivery, Member, table_of
from rallybot.storage.outbox import keep_audience
from rallybot.storage.report_models import Activity, week_of

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
END = T0 + timedelta(days=21)
POST_ID = "P1"
CHANNEL = "C1"


@dataclass(frozen=True)
class Person:
    bot: bool
    joined: bool
    profile: bool
    in_channel: bool  # known to the bot as a member of C1
    manager: bool


@dataclass(frozen=True)
class Act:
    who: int
    kind: str  # message, reply, reaction, button
    day: int  # days after T0


people = st.lists(
    st.builds(Person, st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    min_size=1,
    max_size=8,
)


def acts(n: int) -> st.SearchStrategy[list[Act]]:
    return st.lists(
        st.builds(
            Act,
            st.integers(0, n - 1),
            st.sampled_from(["message", "reply", "reaction", "button"]),
            st.integers(0, 25),
        ),
        max_size=20,
    )


community = people.flatmap(lambda p: st.tuples(st.just(p), acts(len(p))))


async def _load(db: Database, persons: list[Person], history: list[Act]) -> None:
    async with db.session() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name in {
                "member",
                "activity",
                "channel_member",
                "delivery",
                "audience",
                "audience_member",
            }:
                await session.execute(sa.delete(table))
    rows: list[dict[str, Any]] = [
        {
            "id": i + 1,
            "platform": "memory",
            "platform_user_id": f"U{i}" if not p.manager else f"M{i}",
            "joined_at": T0 - timedelta(days=1) if p.joined else None,
            "profile_complete": p.profile,
            "is_bot": p.bot,
            "groups": [],
            "created_at": T0 - timedelta(days=2),
            "updated_at": T0 - timedelta(days=2),
        }
        for i, p in enumerate(persons)
    ]
    async with db.session() as session:
        await session.execute(sa.insert(table_of(Member)), rows)
        members = [
            {"platform": "memory", "channel_id": CHANNEL, "member_id": i + 1}
            for i, p in enumerate(persons)
            if p.in_channel
        ]
        if members:
            await session.execute(sa.insert(table_of(ChannelMember)), members)
        await session.execute(
            sa.insert(table_of(Delivery)).values(
                id=1,
                campaign_id="c",
                step_id="post",
                recipient="channel:news",
                occurrence="once",
                due_at=T0,
                grace_until=T0 + timedelta(hours=1),
                status="sent",
                payload={},
                content_hash="",
                attempts=1,
                sent_at=T0,
                platform_channel_id=CHANNEL,
                platform_message_id=POST_ID,
                created_at=T0,
                updated_at=T0,
            )
        )
        # Sent now: who could see it is the channel's members now (the outbox keeps them).
        await keep_audience(session, 1, "memory", CHANNEL, T0)
        activity = [
            {
                "member_id": a.who + 1,
                "kind": a.kind,
                "channel_id": CHANNEL,
                "target_message_id": POST_ID if a.kind in {"reaction", "reply"} else None,
                "occurred_at": T0 + timedelta(days=a.day, hours=1),
                "week": week_of(T0 + timedelta(days=a.day, hours=1)),
            }
            for a in history
        ]
        if activity:
            await session.execute(sa.insert(table_of(Activity)), activity)


def _oracle(persons: list[Person], history: list[Act]) -> tuple[list[int], int, int]:
    """(funnel counts, reached, audience) from the list of events, in plain Python."""
    before_end = [a for a in history if T0 + timedelta(days=a.day, hours=1) < END]
    invited = [i for i, p in enumerate(persons) if not p.bot and not p.manager]
    seen = {a.who for a in before_end}
    posted = {a.who for a in before_end if a.kind in {"message", "reply"}}
    joined = [i for i in invited if persons[i].joined or i in seen]
    profiled = [i for i in joined if persons[i].profile]
    first_post = [i for i in profiled if i in posted]
    funnel = [len(invited), len(joined), len(profiled), len(first_post), 0]
    # Reach: people (not bots) who reacted or replied, of the channel's known people and them.
    people = {i for i, p in enumerate(persons) if not p.bot}  # managers are people here
    reacted = {a.who for a in before_end if a.kind in {"reaction", "reply"}} & people
    listed = {i for i, p in enumerate(persons) if p.in_channel} & people
    # The channel's members known when the post was sent (bots included: a channel of bots
    # only has an audience of nobody in scope); unknown: everyone.
    known = any(p.in_channel for p in persons)
    audience = len(listed | reacted) if known else max(len(people), len(reacted))
    return funnel, len(reacted), audience


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(community)
def test_funnel_and_reach_match_the_oracle(
    db_url: str, sample: tuple[list[Person], list[Act]]
) -> None:
    persons, history = sample
    managers = frozenset(f"M{i}" for i, p in enumerate(persons) if p.manager)

    async def run() -> None:
        db = create_database(db_url)
        try:
            await check(db)
        finally:
            await db.dispose()

    async def check(db: Database) -> None:
        await _load(db, persons, history)
        funnel, reached, audience = _oracle(persons, history)
        measured = await ind.funnel(db, ind.Scope(end=END, exclude=managers))
        counts = [s.count for s in measured.stages]
        assert counts[:4] == funnel[:4]
        assert all(a >= b for a, b in itertools.pairwise(counts)), counts
        (post,) = await ind.reach(db, ind.Scope(end=END))
        assert (post.reached, post.audience) == (reached, audience)
        assert post.rate is None or post.rate <= 1.0

    _run(run())


def _run(coro: Any) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()


async def test_the_issue_14_contradictions(db: Database) -> None:
    # Three members who never had a join date post and react to a post whose channel the
    # bot knows two members of; a community manager is among the members.
    persons = [
        Person(bot=False, joined=False, profile=True, in_channel=i < 2, manager=False)
        for i in range(3)
    ] + [Person(bot=False, joined=True, profile=True, in_channel=True, manager=True)]
    history = [Act(i, kind, 1) for i in range(3) for kind in ("message", "reaction")]
    await _load(db, persons, history)
    funnel = await ind.funnel(db, ind.Scope(end=END, exclude=frozenset({"M3"})))
    # Was: joined 0, first post 3; the manager was "invited".
    assert [s.count for s in funnel.stages][:4] == [3, 3, 3, 3]
    (post,) = await ind.reach(db, ind.Scope(end=END))
    # Was: 3 reached of an audience of 2 (150 %).
    assert post.reached == 3 and post.audience == 4 and post.rate == 0.75
