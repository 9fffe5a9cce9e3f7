"""The inbound journal: an acknowledged event survives a crash and is handled exactly once.

The real-process tests start ``rallybot run --platform slack --http`` against the local fake
Slack, post a burst of 1,000 signed ``reaction_added`` events (a thousand members react to the
CEO's announcement), kill the process with SIGKILL as soon as the last one is acknowledged,
start it again and count the points.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    Event,
    FileRef,
    FormSubmitted,
    MemberJoined,
    MemberProfile,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ProfileChanged,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from rallybot.bot.journal import JournalCodecError, decode_event, encode_event
from rallybot.bot.messages import Message
from rallybot.bot.router import Router
from rallybot.campaigns.rules import DEFAULT_RULES
from rallybot.storage import journal as journal_store
from rallybot.storage.database import Database, create_database
from rallybot.storage.journal_models import InboundJournal
from rallybot.storage.models import BadgeAward, Member, PointEntry, PointTotal, table_of
from rallybot.storage.outbox import insert_deliveries
from tests.helpdesk.helpers import T0 as HELP_T0
from tests.helpdesk.helpers import helpdesk_rows
from tests.helpdesk.helpers import make_bot as make_help_bot
from tests.helpdesk.helpers import post as help_post
from tests.helpdesk.helpers import tickets as help_tickets
from tests.platform_slack import payloads as p
from tests.platform_slack.fake_slack import FakeSlack
from tests.platform_slack.harness import SIGNING_SECRET, slack_adapter
from tests.platform_slack.payloads import SlackEventPoster
from tests.platform_slack.signing import sign

NOW = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
SECRET = "journal-test-signing-secret"
ANNOUNCEMENT_TS = "1789459200.000100"
J = table_of(InboundJournal).c
BA = table_of(BadgeAward).c
PE = table_of(PointEntry).c
POINTS = DEFAULT_RULES.amount("reaction_on_announcement")
KUDOS = DEFAULT_RULES.amount("kudos_received")

_USER = UserRef(platform="slack", id="U1", name="a member")
_CHANNEL = ChannelRef(platform="slack", id="C1", name="general")
EVERY_KIND: list[Event] = [
    MessagePosted(
        event_id="m1",
        platform="slack",
        user=_USER,
        occurred_at=NOW,
        channel=_CHANNEL,
        message_id="1.2",
        text="héllo <@U2> {\"$t\": \"UserRef\"}",
        thread_id="1.1",
        files=(FileRef(name="a.png", url="https://files.example/a.png", size=3),),
    ),
    ReactionAdded(
        event_id="r1",
        platform="slack",
        user=_USER,
        occurred_at=NOW,
        channel=_CHANNEL,
        message_id="1.2",
        emoji="tada",
        author=UserRef(platform="slack", id="U2", is_bot=True),
    ),
    ReactionRemoved(
        event_id="r2", platform="slack", user=_USER, occurred_at=NOW, channel=_CHANNEL,
        message_id="1.2", emoji="tada",
    ),
    ButtonClicked(
        event_id="b1", platform="slack", user=_USER, occurred_at=NOW, channel=_CHANNEL,
        message_id="1.2", action_id="quiz:q1", value="2",
    ),
    MemberJoined(event_id="j1", platform="slack", user=_USER, occurred_at=NOW),
    CommandInvoked(
        event_id="c1", platform="slack", user=_USER, occurred_at=NOW, name="points",
        args=("top", "7d"), channel=ChannelRef(platform="slack", id="D1", is_direct=True),
    ),
    MessageEdited(
        event_id="e1", platform="slack", user=_USER, occurred_at=NOW, channel=_CHANNEL,
        message_id="1.2", text="edited",
    ),
    MessageDeleted(
        event_id="d1", platform="slack", user=_USER, occurred_at=NOW, channel=_CHANNEL,
        message_id="1.2",
    ),
    FormSubmitted(
        event_id="f1", platform="slack", user=_USER, occurred_at=NOW, form_id="survey:s1",
        values={"q1": "yes", "$t": "not a tag", "$d": "nor this"},
    ),
    ProfileChanged(
        event_id="p1", platform="slack", user=_USER, occurred_at=NOW,
        profile=MemberProfile(user_id="U1", display_name="a member", timezone="Europe/Paris",
                              profile_complete=True),
    ),
]  # fmt: skip


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: type(e).__name__)
def test_every_event_kind_comes_back_from_the_journal_equal(event: Event) -> None:
    text = encode_event(event)
    back = decode_event(text)
    assert back == event
    assert type(back) is type(event)
    assert back.occurred_at.tzinfo is not None


def test_a_journal_payload_cannot_name_another_class() -> None:
    forged = json.dumps({"$t": "Settings", "database_url": "sqlite:///x.db"})
    with pytest.raises(JournalCodecError):
        decode_event(forged)
    with pytest.raises(JournalCodecError):
        decode_event("not json")


# ---- in-process ------------------------------------------------------------------------------


def _bot(db: Database, worker_id: str = "worker-a", **settings: object) -> Rallybot:
    return Rallybot(
        Settings(database_url=db.url, **{"heartbeat_seconds": 0.2, **settings}),  # type: ignore[arg-type]
        db,
        MemoryAdapter(),
        SimulatedClock(NOW),
        campaign_paths=[],
        worker_id=worker_id,
    )


async def _seed(db: Database, members: int) -> None:
    """The members and the sent announcement they react to (a reaction earns points)."""
    async with db.session() as session:
        await session.execute(
            sa.insert(Member),
            [
                {
                    "platform": "slack",
                    "platform_user_id": f"UM{i:05d}",
                    "display_name": f"Member {i}",
                    "groups": [],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(members)
            ],
        )
        await insert_deliveries(
            session,
            [
                {
                    "campaign_id": "launch",
                    "step_id": "announcement",
                    "recipient": "channel:C1",
                    "occurrence": "once",
                    "due_at": NOW,
                    "grace_until": NOW + timedelta(days=1),
                    "status": "sent",
                    "payload": {"message": Message(text="Connect is open!").to_dict()},
                    "content_hash": "x",
                    "attempts": 1,
                    "platform_channel_id": "C1",
                    "platform_message_id": ANNOUNCEMENT_TS,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )


def _reaction(i: int) -> ReactionAdded:
    return ReactionAdded(
        event_id=f"Ev{i:07d}",
        platform="slack",
        user=UserRef(platform="slack", id=f"UM{i:05d}"),
        occurred_at=NOW,
        channel=ChannelRef(platform="slack", id="C1"),
        message_id=ANNOUNCEMENT_TS,
        emoji="tada",
    )


async def _points(db: Database) -> tuple[int, int, int]:
    """Reaction awards, their distinct keys, and the members' all-time point totals."""
    async with db.read() as session:
        entries = (
            await session.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(PE.idempotency_key))).where(
                    PE.source == "reaction"
                )
            )
        ).one()
        total = (
            await session.execute(
                sa.select(sa.func.coalesce(sa.func.sum(table_of(PointTotal).c.total), 0)).where(
                    table_of(PointTotal).c.season == "*"
                )
            )
        ).scalar_one()
    return int(entries[0]), int(entries[1]), int(total)


async def _journal(db: Database) -> list[tuple[int, str, bool]]:
    async with db.read() as session:
        rows = await session.execute(
            sa.select(J.id, J.worker_id, J.handled_at.is_not(None)).order_by(J.id)
        )
        return [(int(r[0]), str(r[1]), bool(r[2])) for r in rows]


async def test_accepted_events_are_journaled_then_closed_once_handled(db: Database) -> None:
    await _seed(db, 50)
    bot = _bot(db)
    await asyncio.gather(*(bot.accept(_reaction(i)) for i in range(50)))
    await asyncio.gather(*(bot.accept(_reaction(i)) for i in range(0, 50, 5)))  # retries
    rows = await _journal(db)
    assert len(rows) == 50  # recorded before accept returned; retries recorded nothing
    await bot.idle()
    assert all(handled for _, _, handled in await _journal(db))
    assert await _points(db) == (50, 50, 50 * POINTS)


async def test_events_no_feature_writes_for_are_closed_and_the_others_keep_their_effects(
    db: Database,
) -> None:
    """Groups with no transactional handler close their rows without a shared transaction;
    a group where one event has effects still writes them with the closing of every row."""
    await _seed(db, 20)
    quiet = _bot(db)
    quiet.router = Router()  # nothing handles a reaction
    await asyncio.gather(*(quiet.accept(_reaction(i)) for i in range(10)))
    await quiet.idle()
    rows = await _journal(db)
    assert len(rows) == 10 and all(handled for _, _, handled in rows)
    async with db.read() as session:
        emptied = (
            await session.execute(sa.select(sa.func.count()).where(J.payload == "", J.kind == ""))
        ).scalar_one()
    assert emptied == 10  # closed rows keep nothing of their event
    assert await _points(db) == (0, 0, 0)

    busy = _bot(db, worker_id="worker-b")
    await asyncio.gather(*(busy.accept(_reaction(i)) for i in range(10, 20)))
    await busy.idle()
    assert all(handled for _, _, handled in await _journal(db))
    assert await _points(db) == (10, 10, 10 * POINTS)


async def test_a_restarted_worker_handles_what_its_earlier_life_recorded(db: Database) -> None:
    await _seed(db, 40)
    crashed = _bot(db)
    for i in range(40):  # recorded and acknowledged, then the process died before handling
        assert await crashed._record(_reaction(i)) is not None
    assert await _points(db) == (0, 0, 0)
    again = _bot(db)  # the same worker id
    await again.start_replica()
    try:
        await again.idle()
        assert await _points(db) == (40, 40, 40 * POINTS)
        assert all(handled for _, _, handled in await _journal(db))
        assert await again.recover_journal(own=True) == 0  # nothing is handled twice
    finally:
        await again.stop_replica()


async def test_a_live_replica_adopts_a_dead_replicas_events_once_its_heartbeat_is_stale(
    db: Database,
) -> None:
    await _seed(db, 30)
    dead = _bot(db, "worker-dead")
    await dead.budget.start()  # registered with a heartbeat, then killed
    # One burst (one transaction): its heartbeat is still fresh when the other looks.
    recorded = await asyncio.gather(*(dead._record(_reaction(i)) for i in range(30)))
    assert None not in recorded
    alive = _bot(db, "worker-alive")
    assert await alive.recover_journal(own=False) == 0  # its heartbeat is still fresh
    await alive.start_replica()
    try:
        for _ in range(100):
            if await _points(db) == (30, 30, 30 * POINTS):
                break
            await asyncio.sleep(0.1)
        assert await _points(db) == (30, 30, 30 * POINTS)
        assert {worker for _, worker, _ in await _journal(db)} == {"worker-alive"}
    finally:
        await alive.stop_replica()


async def test_a_crash_as_the_rows_are_closed_undoes_the_effects_and_a_restart_gives_them_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal rows are closed in the transaction of their events' effects: a process
    killed after the features' writes and the closing statement, before the commit, leaves
    neither (on the previous design the points stayed, their rows open)."""
    members = 200
    await _seed(db, members)
    real_close, real_mark = journal_store.close_in, journal_store.mark_handled

    async def close_then_die(session: object, ids: object, now: object) -> None:
        await real_close(session, ids, now)  # type: ignore[arg-type]
        raise asyncio.CancelledError  # the process stops here: the commit never comes

    async def mark_then_die(db_: Database, ids: object, now: object) -> None:
        await real_mark(db_, ids, now)  # type: ignore[arg-type]
        raise asyncio.CancelledError

    monkeypatch.setattr(journal_store, "close_in", close_then_die)
    monkeypatch.setattr(journal_store, "mark_handled", mark_then_die)
    crashed = _bot(db)
    for i in range(members):
        journal_id = await crashed._record(_reaction(i))
        assert journal_id is not None
        crashed.inbox.put(_reaction(i), journal_id)
    await asyncio.wait_for(crashed.idle(), timeout=60)
    assert await _points(db) == (0, 0, 0)  # the effects went with the closing
    assert not any(handled for _, _, handled in await _journal(db))
    monkeypatch.undo()
    again = _bot(db)  # the same worker id, restarted
    await again.start_replica()
    try:
        await again.idle()
    finally:
        await again.stop_replica()
    assert await _points(db) == (members, members, members * POINTS)
    assert all(handled for _, _, handled in await _journal(db))


async def test_an_event_that_keeps_killing_its_handler_is_given_up(db: Database) -> None:
    bot = _bot(db)
    journal_id = await bot._record(_reaction(1))
    assert journal_id is not None
    async with db.session() as session:
        await session.execute(
            sa.update(table_of(InboundJournal)).values(attempts=5, worker_id="gone")
        )
    assert await bot.recover_journal(own=False) == 0
    assert await _journal(db) == [(journal_id, "worker-a", True)]


async def test_handled_events_are_purged_after_the_keep_setting(db: Database) -> None:
    await _seed(db, 3)
    bot = _bot(db, journal_keep_hours=2)
    for i in range(3):
        await bot.handle(_reaction(i))
    unhandled = await bot._record(replace(_reaction(0), event_id="late"))
    assert unhandled is not None
    assert await bot.purge_journal() == 0  # handled just now
    assert isinstance(bot.clock, SimulatedClock)
    bot.clock.set(NOW + timedelta(hours=3))
    assert await bot.purge_journal() == 3
    assert [row[0] for row in await _journal(db)] == [unhandled]  # never an unhandled one


async def test_the_heartbeat_purges_handled_rows_after_the_keep_setting(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rallybot.bot.app as app_module

    monkeypatch.setattr(app_module, "JOURNAL_PURGE_BEATS", 1)  # every heartbeat
    await _seed(db, 2)
    bot = _bot(db, journal_keep_hours=1, heartbeat_seconds=0.1)
    for i in range(2):
        await bot.handle(_reaction(i))
    assert len(await _journal(db)) == 2
    assert isinstance(bot.clock, SimulatedClock)
    bot.clock.set(NOW + timedelta(hours=2))
    await bot.start_replica()
    try:
        for _ in range(100):
            if not await _journal(db):
                break
            await asyncio.sleep(0.05)
    finally:
        await bot.stop_replica()
    assert await _journal(db) == []


async def _retry_dropped(bot: Rallybot, event: Event) -> bool:
    """Whether ``event`` delivered again is dropped as a retry (its deduplication row is
    there); a retry not dropped is recorded, and closed here so that it waits for nobody."""
    journal_id = await bot._record(event)
    if journal_id is None:
        return True
    await journal_store.mark_handled(bot.db, [journal_id], bot.clock.now())
    return False


async def test_deduplication_rows_of_handled_events_go_after_the_keep_days(db: Database) -> None:
    """``inbound_event`` rows (a keyed hash of each event id) are kept to drop platform retries
    and while their events wait in the journal: once handled, RALLYBOT_DEDUP_KEEP_DAYS (7 by
    default), never while the event waits, with or without RALLYBOT_RETENTION_DAYS."""
    await _seed(db, 4)
    bot = _bot(db)
    assert bot.settings.retention_days is None and bot.settings.dedup_keep_days == 7
    assert isinstance(bot.clock, SimulatedClock)
    await bot.handle(_reaction(0))  # handled, at NOW
    bot.clock.set(NOW + timedelta(hours=1))
    waiting = await bot._record(_reaction(1))  # recorded, not handled yet (a crash)
    assert waiting is not None
    bot.clock.set(NOW + timedelta(hours=2))
    await bot.handle(_reaction(2))  # handled, after the waiting one
    bot.clock.set(NOW + timedelta(days=8))
    await bot.handle(_reaction(3))  # handled, recent

    assert await bot.retention_tick() == 1  # only the handled old one
    assert not await _retry_dropped(bot, _reaction(0))  # gone: a retry 8 days late is new
    # The waiting event keeps its row (a retry is still dropped), and so do the rows
    # recorded after it; the recent one stays.
    for kept in (1, 2, 3):
        assert await _retry_dropped(bot, _reaction(kept)), kept
    assert await bot.retention_tick() == 0

    # Handled at last (a replica took it up): its row and the one after it go too.
    assert await bot.recover_journal(own=True) == 1
    await bot.idle()
    assert [row[0] for row in await _journal(db) if not row[2]] == []
    assert waiting in [row[0] for row in await _journal(db)]
    assert await bot.retention_tick() == 2
    assert not await _retry_dropped(bot, _reaction(1))
    assert not await _retry_dropped(bot, _reaction(2))
    assert await _retry_dropped(bot, _reaction(3))


# ---- real processes, kill -9 ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bodies(n: int) -> list[bytes]:
    t0 = int(time.time())
    return [
        json.dumps(
            p.event_callback(
                p.reaction_added_event(
                    user=f"UM{i:05d}",
                    reaction="tada",
                    channel="C1",
                    ts=ANNOUNCEMENT_TS,
                    event_ts=p.ts_at(t0, i),
                ),
                event_id=f"Ev{i:07d}",
                event_time=t0,
            )
        ).encode()
        for i in range(n)
    ]


@contextmanager
def _bot_process(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [
        sys.executable, "-m", "rallybot.bot", "run", "--platform", "slack", "--http",
        "--port", str(port), "--no-watch",
    ]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


async def _wait_serving(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                async with session.post(url, data=b"{}") as response:
                    if response.status in (200, 401, 403):
                        return  # the endpoint answers (an unsigned body is refused)
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    tail = await asyncio.to_thread(log.read_text)
    raise AssertionError("the bot never served /slack/events:\n" + tail[-3000:])


async def _blast(url: str, bodies: list[bytes], concurrency: int = 32) -> None:
    queue = list(reversed(bodies))
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                headers = {
                    "Content-Type": "application/json",
                    **sign(SECRET, body, int(time.time())),
                }
                async with session.post(url, data=body, headers=headers) as response:
                    assert response.status == 200, response.status
                    await response.read()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


@asynccontextmanager
async def _database(db_url: str) -> AsyncIterator[Database]:
    db = create_database(db_url)
    try:
        yield db
    finally:
        await db.dispose()


async def test_kill_9_right_after_acknowledging_a_burst_loses_no_point(
    db_url: str, tmp_path: Path
) -> None:
    members = 1000
    async with _database(db_url) as db:
        await _seed(db, members)
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    log = tmp_path / "bot.log"
    async with FakeSlack(scale=1000) as fake:
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "RALLYBOT_CAMPAIGNS_DIR": str(campaigns),
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "RALLYBOT_HEARTBEAT_SECONDS": "0.5",
            "RALLYBOT_LOG_LEVEL": "WARNING",
        }
        port = _free_port()
        url = f"http://127.0.0.1:{port}/slack/events"
        with _bot_process(env, port, log) as first:
            await _wait_serving(url, first, log)
            await _blast(url, _bodies(members))
            first.send_signal(signal.SIGKILL)  # the moment the last one was acknowledged
            first.wait(timeout=30)
        async with _database(db_url) as db:
            awarded_before_restart = (await _points(db))[0]
            assert len(await _journal(db)) == members  # every acknowledged event is recorded
        # A new process (another worker id): it takes the dead one's journal once its
        # heartbeat is stale.
        with _bot_process(env, port, log) as second:
            await _wait_serving(url, second, log)
            async with _database(db_url) as db:
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline and (await _points(db))[0] < members:  # noqa: ASYNC110
                    await asyncio.sleep(0.3)
                await asyncio.sleep(1.0)  # anything awarded twice would show by now
                entries, keys, total = await _points(db)
                journal = await _journal(db)
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=60)
    assert awarded_before_restart < members, "the kill came too late to test anything"
    assert (entries, keys, total) == (members, members, members * POINTS), log.read_text()[-3000:]
    assert all(handled for _, _, handled in journal)


async def test_slack_hears_an_error_when_the_event_cannot_be_recorded(db: Database) -> None:
    """Slack sends an event again only when it was not acknowledged: an event the bot could not
    record (the database is down) is answered with an error, never with 200."""
    attempts: list[str] = []

    async def failing_recorder(event: Event) -> None:
        attempts.append(event.event_id)
        raise ConnectionError("the database is unreachable")

    async with FakeSlack(scale=50) as fake, slack_adapter(fake, db, http_port=0) as adapter:
        await adapter.start(failing_recorder)
        url = f"http://127.0.0.1:{adapter.port}/slack/events"
        event = p.reaction_added_event(
            user="U1", reaction="tada", channel="C1", ts=ANNOUNCEMENT_TS, event_ts=p.ts_at(1)
        )
        body = p.event_callback(event, event_id="EvDown1", event_time=int(time.time()))
        async with SlackEventPoster(SIGNING_SECRET) as poster:
            response = await poster.post_event(url, body)
    assert attempts == ["EvDown1"]
    assert response.status_code == 503  # not acknowledged: Slack sends it again


async def test_a_click_is_acknowledged_once_recorded_and_refused_when_it_cannot_be(
    db: Database,
) -> None:
    """Slack never sends a click twice: it is answered 200 only once the bot says it is
    recorded (before it is handled), and with an error when it could not be recorded."""
    from rallybot.bot.adapters.base import event_recorded

    recorded = asyncio.Event()
    handling = asyncio.Event()
    release = asyncio.Event()
    down = True

    async def recorder(event: Event) -> None:
        if down:
            raise ConnectionError("the database is unreachable")
        await recorded.wait()  # recording takes a while
        await event_recorded()
        handling.set()
        await release.wait()  # handling takes longer than Slack's three seconds would allow

    async with FakeSlack(scale=50) as fake, slack_adapter(fake, db, http_port=0) as adapter:
        await adapter.start(recorder)
        url = f"http://127.0.0.1:{adapter.port}/slack/events"

        def payload(n: int) -> dict[str, object]:
            return p.block_actions(
                user_id="U1",
                channel_id="C1",
                message_ts=ANNOUNCEMENT_TS,
                action_id="rsvp",
                action_ts=p.ts_at(n, n),
            )

        async with SlackEventPoster(SIGNING_SECRET) as poster:
            refused = await poster.post_action(url, payload(1))
            down = False
            answer = asyncio.create_task(poster.post_action(url, payload(2)))
            await asyncio.sleep(0.3)
            assert not answer.done()  # not acknowledged before it is recorded
            recorded.set()
            await asyncio.wait_for(handling.wait(), timeout=5)
            response = await asyncio.wait_for(answer, timeout=5)  # while it is being handled
            release.set()
        await adapter.idle()
    assert refused.status_code == 503  # the member sees that the click did not go through
    assert response.status_code == 200


async def test_a_crash_before_a_questions_row_is_closed_leaves_no_ticket_and_no_answer(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question in the help channel (an event handled alone) opens its ticket and queues the
    bot's answer in the transaction that closes its journal row: a process stopped after
    those writes, before the commit, leaves neither, and the restart gives both once (on the
    previous design the ticket stayed, its row open, and the answer was sent directly)."""
    clock = SimulatedClock(HELP_T0)
    crashed, _ = await make_help_bot(db, tmp_path / "files", clock)
    real_close = journal_store.close_in

    async def close_then_die(session: object, ids: object, now: object) -> None:
        await real_close(session, ids, now)  # type: ignore[arg-type]
        raise asyncio.CancelledError  # the process stops here: the commit never comes

    monkeypatch.setattr(journal_store, "close_in", close_then_die)
    question = help_post("asker", "How do I reset my password?", clock)
    journal_id = await crashed._record(question)
    assert journal_id is not None
    crashed.inbox.put(question, journal_id)
    await asyncio.wait_for(crashed.idle(), timeout=60)
    assert await help_tickets(db) == []
    assert await helpdesk_rows(db) == []
    assert await _journal(db) == [(journal_id, crashed.worker_id, False)]
    monkeypatch.undo()
    await _restart_and_answer_once(db, tmp_path / "files", crashed.worker_id, question.message_id)


async def _restart_and_answer_once(
    db: Database, folder: Path, worker_id: str, message_id: str
) -> None:
    """Start the crashed worker again: it opens the question's ticket and answers it, once."""
    again, adapter = await make_help_bot(db, folder, SimulatedClock(HELP_T0), worker_id=worker_id)
    await again.start_replica()
    try:
        await again.idle()
        await again.dispatch_tick(drain=True)
    finally:
        await again.stop_replica()
    [ticket] = await help_tickets(db)
    assert ticket.message_id == message_id
    rows = await helpdesk_rows(db)
    assert [(r.step_id, r.status) for r in rows] == [(f"ticket-{ticket.id}-welcome", "sent")]
    [answer] = [r for r in adapter.replies if r.thread_id == message_id]
    assert "IT support portal" in answer.message.text
    assert all(handled for _, _, handled in await _journal(db))


async def test_a_groups_waiting_awards_land_once_and_earn_their_badges(
    db: Database, tmp_path: Path
) -> None:
    """The reactions' awards written at their group's end: a member reacting again (a later
    group, the same key) earns nothing more, and each award that landed is followed by its
    badge check (a badge for a first reaction, earned once by every member)."""
    members = 150
    await _seed(db, members)
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "badges:\n  - id: first-cheer\n    name: First cheer\n    when: {reactions: 1}\n",
        encoding="utf-8",
    )
    bot = _bot(db, rules_file=rules)
    await bot.reload()  # reads the rules file
    again = [replace(_reaction(i), event_id=f"Again{i}", emoji="heart") for i in range(0, 150, 3)]
    burst = [*map(_reaction, range(members)), *again]
    recorded = await asyncio.gather(*(bot._record(item) for item in burst))
    for item, journal_id in zip(burst, recorded, strict=True):
        assert journal_id is not None
        bot.inbox.put(item, journal_id)
    await asyncio.wait_for(bot.idle(), timeout=60)
    assert await _points(db) == (members, members, members * POINTS)
    async with db.read() as session:
        badges = (
            await session.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(BA.member_id))).where(
                    BA.badge_id == "first-cheer"
                )
            )
        ).one()
        unhandled = await journal_store.unhandled_count(db)
    assert tuple(badges) == (members, members)
    assert unhandled == 0
    await bot.shutdown()


async def test_a_groups_awards_add_to_the_totals_in_one_statement_each(db: Database) -> None:
    """A burst of reactions handled a group at a time writes the awards' ledger entries, and
    the members' totals and day roll-ups, once per group (not once per award): the kudos
    forty members give one author in the same groups add up to the sum of the entries."""
    members = 200
    await _seed(db, members)
    statements: Counter[str] = Counter()

    def count(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        words = statement.split()
        if words[0].upper() == "INSERT":
            statements[words[2]] += 1

    event = sa.event
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    bot = _bot(db)
    author = UserRef(platform="slack", id="UM00000")
    kudos = [
        replace(_reaction(i), event_id=f"K{i}", emoji="clap", message_id="9.9", author=author)
        for i in range(1, 41)
    ]
    burst = [*map(_reaction, range(members)), *kudos]
    recorded = await asyncio.gather(*(bot._record(item) for item in burst))
    for item, journal_id in zip(burst, recorded, strict=True):  # queued at once, as a burst
        assert journal_id is not None
        bot.inbox.put(item, journal_id)
    await asyncio.wait_for(bot.idle(), timeout=60)
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert await _points(db) == (members, members, members * POINTS + 40 * KUDOS)
    # The reactions' entries: one statement a group; the kudos (each told to its receiver with
    # its award, and limited) one by one.
    assert 40 < statements["point_entry"] <= 10 + 40, statements
    # A handful of groups (up to 64 members' events each), one statement each: not 240.
    assert statements["point_total"] <= 10, statements
    assert statements["point_day"] <= 10, statements
    async with db.read() as session:
        author_total = (
            await session.execute(
                sa.select(table_of(PointTotal).c.total)
                .join(Member, table_of(Member).c.id == table_of(PointTotal).c.member_id)
                .where(table_of(Member).c.platform_user_id == "UM00000")
                .where(table_of(PointTotal).c.season == "*")
            )
        ).scalar_one()
        entries = (
            await session.execute(
                sa.select(sa.func.sum(PE.amount))
                .join(Member, table_of(Member).c.id == PE.member_id)
                .where(table_of(Member).c.platform_user_id == "UM00000")
            )
        ).scalar_one()
    assert author_total == entries == POINTS + 40 * KUDOS


async def test_kill_9_between_a_questions_effects_and_its_close_gives_them_once(
    db_url: str, tmp_path: Path
) -> None:
    """A real process killed by SIGKILL after the help question's ticket, its queued answer
    and the closing of its journal row were written, before the commit: nothing of it stays,
    and the next start gives the ticket and the answer once."""
    folder = tmp_path / "files"
    command = [
        sys.executable, "-m", "tests.reliability.die_mid_close", db_url, str(folder), "worker-k",
    ]  # fmt: skip
    killed = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, timeout=120, check=False
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert killed.stdout.decode().strip() == "recorded"
    async with _database(db_url) as db:
        assert await help_tickets(db) == []
        assert await helpdesk_rows(db) == []
        [(_, worker, handled)] = await _journal(db)
        assert (worker, handled) == ("worker-k", False)
        await _restart_and_answer_once(db, folder, "worker-k", "q-killed")
