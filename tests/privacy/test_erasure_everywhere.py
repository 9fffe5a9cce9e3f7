"""Erasure end to end: people take part in everything a member can do (posts, reactions, kudos
given and received, badges, challenge evidence, buddies, onboarding escalations, help
questions and answers, anonymous and named surveys), then one is erased by "forget me" in
chat, one by ``rallybot member forget`` and one by ``roster import --remove-missing`` after
the retention period. Afterwards EVERY table is scanned, every column, JSON payloads included,
for each person's member id, platform user id, DM channel id, names and e-mail: nothing may
remain. The logs at INFO of the survey answers name no one. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel
from typer.testing import CliRunner

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.cli import app as cli
from rallybot.bot.events import ButtonClicked, ChannelRef, CommandInvoked, UserRef
from rallybot.handlers.privacy.personal_data import (
    deactivate_missing,
    erase_departed,
    member_like_columns,
)
from rallybot.storage.database import Database
from rallybot.storage.models import Member, table_of
from rallybot.storage.repositories import upsert_member

runner = CliRunner()

PEOPLE = ("anikaq", "borisq", "cydneq")
"""Platform user ids of the three people erased (distinct words: any trace is theirs)."""
WAYS = ("forget me", "member forget", "remove-missing")
"""How each of PEOPLE is erased, in order."""


@dataclass(frozen=True)
class Trace:
    """What names one person, read from their member row before the erasure."""

    member_id: int
    needles: tuple[str, ...]


async def _person(db: Database, uid: str) -> Trace:
    table = table_of(Member)
    async with db.session() as session:
        row = (
            (await session.execute(sa.select(table).where(table.c.platform_user_id == uid)))
            .mappings()
            .one()
        )
    needles = {
        v
        for v in (
            row["platform_user_id"],
            row["dm_channel_id"],
            row["email"],
            row["display_name"],
            row["first_name"],
        )
        if v
    }
    return Trace(int(row["id"]), tuple(sorted(needles)))


async def scan(db: Database, trace: Trace) -> list[str]:
    """Every cell of every table that still names the person: their member id in a column
    that refers to a member (or as ``member:<id>`` in any text), their platform id, DM channel,
    e-mail or names anywhere, JSON included (whole words, any case)."""
    words = re.compile(
        "|".join(rf"(?<![^\W_]){re.escape(n)}(?![^\W_])" for n in trace.needles)
        + rf"|member:{trace.member_id}(?!\d)",
        re.IGNORECASE,
    )
    found: list[str] = []
    async with db.session() as session:
        for name, table in SQLModel.metadata.tables.items():
            id_columns = member_like_columns(table) | ({"id"} if name == "member" else set())
            rows = (await session.execute(sa.select(table))).mappings()
            for row in rows:
                for column, value in row.items():
                    if column in id_columns and value == trace.member_id:
                        found.append(f"{name}.{column} = {value}")
                        continue
                    if value is None or isinstance(value, bool | int | float | datetime):
                        continue
                    text = (
                        value
                        if isinstance(value, str)
                        else json.dumps(value, default=str, ensure_ascii=False)
                    )
                    if words.search(text):
                        found.append(f"{name}.{column}: {text[:160]}")
    return found


async def add_people(db: Database, now: datetime, **fields: object) -> None:
    """PEOPLE as members with names, e-mail, a DM channel, and ``fields``."""
    for uid in PEOPLE:
        name = uid.capitalize()
        await upsert_member(
            db,
            "memory",
            uid,
            now,
            display_name=f"{name} Quorvin",
            first_name=name,
            email=f"{uid}.quorvin@example.test",
            dm_channel_id=f"dm-{uid}",
            locale="en",
            timezone="Europe/Paris",
            **{"joined_at": now - timedelta(days=1), **fields},
        )


# ---------------------------------------------------------------------------- the erasures


async def forget_me(bot: Rallybot, adapter: MemoryAdapter, uid: str) -> None:
    """The member asks in chat, then confirms with the button."""
    now = bot.clock.now()
    await bot.handle(
        CommandInvoked(
            event_id=f"forget-{uid}",
            platform="memory",
            user=UserRef("memory", uid),
            occurred_at=now,
            name="forget",
        )
    )
    confirm = next(d for d in reversed(adapter.directs) if d.target == uid and d.message.buttons)
    erase = confirm.message.buttons[0]
    await bot.handle(
        ButtonClicked(
            # A Slack click's id ends with the user id: it is no less personal here.
            event_id=f"1790000000.000100:1790000001.000200:{uid}",
            platform="memory",
            user=UserRef("memory", uid),
            occurred_at=now,
            channel=ChannelRef("memory", f"dm-{uid}", is_direct=True),
            message_id=confirm.sent.message_id,
            action_id=erase.action_id or "",
            value=erase.value,
        )
    )
    assert "no longer holds" in adapter.directs[-1].message.text


async def member_forget(db: Database, uid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``rallybot member forget --yes UID`` in its own process's way (its own connections)."""
    monkeypatch.setenv("DATABASE_URL", db.url)
    result = await asyncio.to_thread(runner.invoke, cli, ["member", "forget", "--yes", uid])
    assert result.exit_code == 0, result.output
    assert "1 membre effacé." in result.output  # RALLYBOT_LOCALE: French by default


async def remove_missing(db: Database, uid: str, now: datetime) -> None:
    """A roster import without the person (``--remove-missing``), then the retention."""
    table = table_of(Member)
    async with db.session() as session:
        everyone = set((await session.execute(sa.select(table.c.platform_user_id))).scalars().all())
    gone, _back = await deactivate_missing(db, "memory", everyone - {uid}, now)
    assert gone == 1
    assert await erase_departed(db, now + timedelta(days=31), 30) == 1


async def erase_all_and_scan(
    db: Database,
    bot: Rallybot,
    adapter: MemoryAdapter,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Erase PEOPLE the three ways, then scan every table for each of them."""
    await bot.dispatch_tick(drain=True)  # what is due goes out first
    traces = [await _person(db, uid) for uid in PEOPLE]
    monkeypatch.chdir(tmp_path)
    await forget_me(bot, adapter, PEOPLE[0])
    await member_forget(db, PEOPLE[1], monkeypatch)
    await remove_missing(db, PEOPLE[2], bot.clock.now())
    left = {way: await scan(db, trace) for way, trace in zip(WAYS, traces, strict=True)}
    assert left == {way: [] for way in WAYS}


World = Callable[[Database, Path], Awaitable[tuple[Rallybot, MemoryAdapter]]]


# ---------------------------------------------------------------------------- the activities


async def points_world(db: Database, tmp_path: Path) -> tuple[Rallybot, MemoryAdapter]:
    """Posts, reactions to announcements, kudos given and received (emoji and command, with a
    reason naming the receiver), badges announced."""
    from tests.engagement.test_points_scenarios import make_world, user

    world = await make_world(db, tmp_path)
    await add_people(db, world.clock.now())
    for i, uid in enumerate(PEOPLE):
        other = PEOPLE[(i + 1) % len(PEOPLE)]
        who = user(uid)
        await world.post(who)
        await world.react(who, "One")
        await world.react(who, f"m{i}", "clap", author=user(other))
        await world.command(who, "kudos", f"<@{other}>", "thanks", other.capitalize(), "Quorvin")
        await world.react(user("reader"), f"m{i}-2", "clap", author=who)
        # Kudos to someone who stays: their notice names the giver.
        await world.react(who, f"r{i}", "clap", author=user("reader"))
    return world.bot, world.adapter


async def challenge_world(db: Database, tmp_path: Path) -> tuple[Rallybot, MemoryAdapter]:
    """Posts for a challenge, evidence naming its author approved by a manager, the winners
    announced with their names ("Done by: ...")."""
    from tests.engagement.test_challenges import END, POSTS, PROOF, make_world

    world = await make_world(db, tmp_path, POSTS, PROOF)
    await add_people(db, world.clock.now(), team="sales")
    for uid in PEOPLE:
        await world.post(uid)
        await world.post(uid)
        await world.react(uid, "m-hello", author="bob")
        await world.command(uid, "challenge", "submit", "proof", f"{uid.capitalize()} did it")
    for review in [m for m in world.directs_to("cm") if m.buttons]:
        await world.click("cm", "challenge-approve", review.buttons[0].value)
    await world.bot.advance_to(END + timedelta(minutes=1))
    assert any("Anikaq" in r for r in world.results())  # the names were announced
    return world.bot, world.adapter


async def onboarding_world(db: Database, tmp_path: Path) -> tuple[Rallybot, MemoryAdapter]:
    """Newcomers who join, post and react; each is another one's buddy ("<@id> is your buddy"
    sent to someone else); stuck ones escalated to the community managers by name."""
    from tests.onboarding.support import join, local, make_bot, newcomer, post, write_campaign

    clock_start = local(0, 9, 30)
    from rallybot.bot.clock import SimulatedClock

    bot, adapter = make_bot(
        db,
        write_campaign(tmp_path / "c.yaml"),
        SimulatedClock(clock_start),
        onboarding_buddies=list(PEOPLE),
        onboarding_escalate_after_days=2,
        locale="en",
    )
    await bot.reload()
    await add_people(db, clock_start, cohort="new", joined_at=clock_start)
    for uid in ("newbie1", "newbie2"):
        await newcomer(db, uid, clock_start)
    for uid in (*PEOPLE, "newbie1", "newbie2"):
        await join(bot, uid)
        await join(bot, uid, "C-COM")
    await bot.advance_to(local(0, 11))
    for uid in PEOPLE:
        await post(bot, uid, "C-COM", f"Hello, I am {uid.capitalize()}")
    await bot.advance_to(local(4, 9))
    return bot, adapter


async def helpdesk_world(db: Database, tmp_path: Path) -> tuple[Rallybot, MemoryAdapter]:
    """Each person asks a question answered by the next one and solved; another question of
    theirs goes unanswered long enough to be escalated."""
    from rallybot.bot.clock import SimulatedClock
    from tests.helpdesk.helpers import T0, make_bot, post, react

    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    await add_people(db, T0)
    for i, uid in enumerate(PEOPLE):
        other = PEOPLE[(i + 1) % len(PEOPLE)]
        question = post(uid, f"{uid.capitalize()} here: how do I reset my password?", clock)
        await adapter.push(question)
        answer = post(other, f"@{uid} use the portal", clock, thread=question.message_id)
        await adapter.push(answer)
        clock.advance(timedelta(minutes=5))
        await adapter.push(react(uid, question.message_id, clock))
        await adapter.push(post(uid, "Which browser should I use for the intranet?", clock))
    await bot.advance_to(clock.now() + timedelta(hours=3))  # reminders and escalations
    return bot, adapter


async def survey_world(db: Database, tmp_path: Path) -> tuple[Rallybot, MemoryAdapter]:
    """An anonymous survey answered in full (free text included) and a named one (a rating
    and a reason) answered from the channel post."""
    from rallybot.bot.events import FormSubmitted
    from rallybot.handlers.survey.feature import close_round
    from tests.surveys.test_surveys import (
        LAUNCH,
        add_pilots,
        answer_all,
        button,
        click,
        last_question,
        make_bot,
    )

    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    await add_pilots(db, 3)
    await add_people(db, LAUNCH - timedelta(days=2), cohort="pilote", team="ops")
    await bot.advance_to(LAUNCH + timedelta(days=2, hours=2))
    for n, uid in enumerate(PEOPLE):
        await answer_all(bot, adapter, uid, "4", "9", "fine")
        post = next(p for p in adapter.posts if p.message.metadata.get("step") == "named")
        await click(bot, uid, button(post, "Répondre au sondage"), channel="general")
        await click(bot, uid, button(last_question(adapter, uid), "5"))
        await click(bot, uid, button(last_question(adapter, uid), "Write my answer"))
        await bot.handle(
            FormSubmitted(
                event_id=f"named-form-{n}",
                platform="memory",
                user=UserRef("memory", uid, name=uid),
                occurred_at=bot.clock.now(),
                form_id=adapter.forms[-1].form.id,
                values={"answer": f"{uid.capitalize()} Quorvin likes it"},
            )
        )
    for pilot in ("u0", "u1"):
        await answer_all(bot, adapter, pilot, "3", "7", "ok")
    await close_round(db, "pulse/week1", bot.clock.now())
    return bot, adapter


async def quiz_world(db: Database, tmp_path: Path) -> tuple[Rallybot, MemoryAdapter]:
    """A live quiz in a channel: answers by button, then a free-text answer typed in the
    channel naming its author; results and the leaderboard name the winners."""
    from rallybot.bot.clock import SimulatedClock
    from tests.engagement.quiz_helpers import T0, click, make_bot, quiz_posts, say, write_files
    from tests.engagement.test_quiz_live import LIVE

    folder = write_files(tmp_path / "c", LIVE.replace("questions: 2", "questions: 3"))
    clock = SimulatedClock(T0 - timedelta(minutes=1))
    bot, adapter = await make_bot(db, folder, clock)
    await add_people(db, T0 - timedelta(days=30))
    await bot.advance_to(T0 + timedelta(seconds=1))
    run_id = int(quiz_posts(adapter, "general")[-1].metadata["quiz_run"])
    for uid in PEOPLE:
        await adapter.push(click(uid.capitalize(), f"quiz:{run_id}:0:0"))
    await bot.advance_to(T0 + timedelta(seconds=31))
    for uid in PEOPLE:
        await adapter.push(click(uid.capitalize(), f"quiz:{run_id}:1:0"))
        await adapter.push(click(uid.capitalize(), f"quiz:{run_id}:1:ok"))
    await bot.advance_to(T0 + timedelta(seconds=61))
    for uid in PEOPLE:
        name = uid.capitalize()
        await adapter.push(say(name, f"my profile, from {name} Quorvin", channel="general"))
    await bot.advance_to(T0 + timedelta(minutes=10))
    return bot, adapter


WORLDS: dict[str, World] = {
    "quiz": quiz_world,
    "points and kudos": points_world,
    "challenges and evidence": challenge_world,
    "onboarding, buddies, escalations": onboarding_world,
    "help desk": helpdesk_world,
    "surveys": survey_world,
}


@pytest.mark.parametrize("world", sorted(WORLDS))
async def test_nothing_names_an_erased_person(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    world: str,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="rallybot")
    bot, adapter = await WORLDS[world](db, tmp_path)
    traces = [await _person(db, uid) for uid in PEOPLE]
    # The scan sees the people before: it is not blind.
    seen = [await scan(db, trace) for trace in traces]
    assert all(seen), seen
    if world == "surveys":  # the logs of the answers name no one
        logged = "\n".join(r.getMessage() for r in caplog.records)
        for trace in traces:
            for needle in (*trace.needles, f"member:{trace.member_id}"):
                assert needle.lower() not in logged.lower(), needle
    await erase_all_and_scan(db, bot, adapter, monkeypatch, tmp_path)
