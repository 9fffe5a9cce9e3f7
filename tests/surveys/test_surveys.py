"""Survey steps end to end on the memory adapter and a simulated clock, on SQLite and PostgreSQL:
asking, answering with buttons, a form or typed text, anonymity, one answer per member,
results with the response rate, opt-outs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import Delivered, MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    FormSubmitted,
    MessagePosted,
    UserRef,
)
from rallybot.bot.messages import Button
from rallybot.handlers.survey.feature import close_round, survey_results
from rallybot.storage.database import Database
from rallybot.storage.models import Member, table_of
from rallybot.storage.repositories import upsert_member
from rallybot.storage.survey_models import Survey, SurveyAnswer, SurveyDraft, SurveyResponder

LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)

CAMPAIGN = """\
id: pulse
title: Pulse
timezone: Europe/Paris
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
audiences:
  pilote: { cohort: pilote }
steps:
  - id: week1
    for: pilote
    at: launch + 1d at 10:00
    dm: {fr: "Deux minutes ?", en: "Two minutes?"}
    survey:
      anonymous: true
      title: Week 1
      questions:
        - {id: overall, kind: rating, text: {fr: "Ça vous plaît ?", en: "Do you like it?"}}
        - {id: nps, kind: nps, text: "Would you recommend it?"}
        - {id: best, kind: single, text: "Best part?", choices: [News, Groups]}
        - {id: uses, kind: multiple, text: "What do you use?", choices: [News, Groups, Docs]}
        - {id: comment, kind: text, text: "Anything else?", optional: true}
  - id: named
    at: launch + 2d at 10:00
    post: annonces
    text: "A quick poll"
    survey:
      questions:
        - {id: mood, kind: rating, text: "Your mood?"}
        - {id: why, kind: text, text: "Why?"}
"""

_ids = itertools.count(1)


def make_bot(
    db: Database, tmp_path: Path, adapter: MemoryAdapter | None = None
) -> tuple[Rallybot, MemoryAdapter, SimulatedClock]:
    path = tmp_path / "pulse.yaml"
    path.write_text(CAMPAIGN)
    adapter = adapter or MemoryAdapter()
    clock = SimulatedClock(LAUNCH - timedelta(days=1))
    settings = Settings(
        database_url=db.url, quiet_hours="21:00-08:00", admins=["memory:cm"], locale="en"
    )
    bot = Rallybot(settings, db, adapter, clock, campaign_paths=[path])
    return bot, adapter, clock


async def add_pilots(db: Database, count: int, **fields: object) -> list[Member]:
    members = []
    for i in range(count):
        members.append(
            await upsert_member(
                db,
                "memory",
                f"u{i}",
                LAUNCH - timedelta(days=2),
                display_name=f"User {i}",
                cohort="pilote",
                team="sales" if i % 2 else "ops",
                joined_at=LAUNCH - timedelta(days=2),
                timezone="Europe/Paris",
                locale="en",
                **fields,
            )
        )
    return members


def user(uid: str) -> UserRef:
    return UserRef("memory", uid, name=uid)


async def click(bot: Rallybot, uid: str, button: Button, channel: str | None = None) -> None:
    assert button.action_id is not None
    await bot.handle(
        ButtonClicked(
            event_id=f"click-{next(_ids)}",
            platform="memory",
            user=user(uid),
            occurred_at=bot.clock.now(),
            channel=ChannelRef("memory", channel or f"dm-{uid}", is_direct=channel is None),
            message_id="m",
            action_id=button.action_id,
            value=button.value,
        )
    )


def last_dm(adapter: MemoryAdapter, uid: str) -> Delivered:
    return [d for d in adapter.directs if d.target == uid][-1]


def last_question(adapter: MemoryAdapter, uid: str) -> Delivered:
    return [d for d in adapter.directs if d.target == uid and "survey" in d.message.metadata][-1]


def button(delivered: Delivered, label: str) -> Button:
    return next(b for b in delivered.message.buttons if b.label == label)


async def answer_all(
    bot: Rallybot, adapter: MemoryAdapter, uid: str, rating: str, nps: str, comment: str
) -> None:
    """Answer the anonymous week-1 survey from its invitation to the end, with the form."""
    invitation = next(
        d for d in adapter.directs if d.target == uid and d.message.metadata.get("step") == "week1"
    )
    await click(bot, uid, button(invitation, "Answer the survey"))
    assert "Do you like it?" in last_dm(adapter, uid).message.text
    await click(bot, uid, button(last_dm(adapter, uid), rating))
    assert "recommend" in last_dm(adapter, uid).message.text
    await click(bot, uid, button(last_dm(adapter, uid), nps))
    await click(bot, uid, button(last_dm(adapter, uid), "Groups"))
    question = last_dm(adapter, uid)
    assert "What do you use?" in question.message.text
    await click(bot, uid, button(question, "News"))
    await click(bot, uid, button(question, "Docs"))
    await click(bot, uid, button(question, "Done"))
    text_question = last_dm(adapter, uid)
    assert "Anything else?" in text_question.message.text
    write = button(text_question, "Write my answer")
    assert write.opens_form
    await click(bot, uid, write)
    opened = adapter.forms[-1]
    assert opened.event.user.id == uid
    await bot.handle(
        FormSubmitted(
            event_id=f"form-{next(_ids)}",
            platform="memory",
            user=user(uid),
            occurred_at=bot.clock.now(),
            form_id=opened.form.id,
            values={"answer": comment},
        )
    )


async def rows(db: Database, model: type) -> list[dict[str, object]]:
    table = table_of(model)
    async with db.session() as session:
        return [dict(r) for r in (await session.execute(sa.select(table))).mappings()]


async def test_anonymous_survey_end_to_end(db: Database, tmp_path: Path) -> None:
    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    pilots = await add_pilots(db, 5)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    invited = sorted(d.target for d in adapter.directs if d.message.metadata.get("step") == "week1")
    assert invited == ["u0", "u1", "u2", "u3", "u4"]

    await answer_all(bot, adapter, "u0", "4", "9", "Great, thanks <!channel>")
    assert "anonymously" in last_dm(adapter, "u0").message.text
    # One response waits for its batch (at least 5): no answer row yet.
    assert await rows(db, SurveyAnswer) == []
    (waiting,) = await rows(db, SurveyDraft)
    assert waiting["finished"] and waiting["member_id"] == pilots[0].id
    for i in range(1, 5):
        await answer_all(bot, adapter, f"u{i}", "2", "3", f"other {i}")

    answers = await rows(db, SurveyAnswer)
    assert len(answers) == 25
    # u0's response, found by its text (the only way: nothing else ties it to anyone).
    (response,) = {a["response_id"] for a in answers if a["text"] == "Great, thanks <!channel>"}
    by_question = {a["question_id"]: a for a in answers if a["response_id"] == response}
    assert by_question["overall"]["value"] == 4
    assert by_question["nps"]["value"] == 9
    assert by_question["best"]["value"] == 1
    assert by_question["uses"]["choices"] == [0, 2]
    # No identity in the answers: no member id, random response ids, a day and no time.
    assert all(a["member_id"] is None for a in answers)
    assert len({a["response_id"] for a in answers}) == 5
    member_ids = {p.id for p in pilots}
    for answer in answers:
        for key, value in answer.items():
            assert value not in ("u0", "User 0")
            if key not in {"value", "choices", "skipped"}:  # the answers themselves
                assert value not in member_ids and value not in {str(i) for i in member_ids}
    responders = await rows(db, SurveyResponder)
    assert {r["member_id"] for r in responders} == member_ids
    assert await rows(db, SurveyDraft) == []
    member_id = pilots[0].id

    # A second answer from the same member is refused, from the invitation or an old button.
    adapter.clear()
    survey = next(s for s in await rows(db, Survey) if s["id"] == "pulse/week1")
    invitation_button = Button(label="x", action_id="survey-start", value=str(survey["key"]))
    await click(bot, "u0", invitation_button)
    assert "already answered" in last_dm(adapter, "u0").message.text
    await click(bot, "u0", Button(label="4", action_id="survey", value=f"{survey['key']}:0:4"))
    assert "already answered" in last_dm(adapter, "u0").message.text
    assert len(await rows(db, SurveyAnswer)) == 25
    assert len(await rows(db, SurveyResponder)) == 5
    assert member_id in {r["member_id"] for r in await rows(db, SurveyResponder)}


async def test_no_table_links_an_anonymous_answer_to_a_member(db: Database, tmp_path: Path) -> None:
    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    pilots = await add_pilots(db, 5)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    await answer_all(bot, adapter, "u0", "5", "10", "first")
    await answer_all(bot, adapter, "u1", "2", "3", "second")
    for i in range(2, 5):
        await answer_all(bot, adapter, f"u{i}", "3", "7", f"more {i}")

    # The schema: the responder record holds the pair and nothing else; the answers hold no
    # column that could point at the responder record or at a time finer than a day.
    responder = table_of(SurveyResponder)
    assert set(responder.c.keys()) == {"survey_id", "member_id"}
    answer = table_of(SurveyAnswer)
    assert isinstance(answer.c.answered_on.type, sa.Date)
    assert not isinstance(answer.c.answered_on.type, sa.DateTime)
    assert {fk.column.table.name for fk in answer.foreign_keys} == {"survey", "member"}
    assert not [c for c in answer.c if isinstance(c.type, sa.DateTime)]

    # The rows: answers carry no member, random non-sequential ids, no value shared with
    # the responder rows beyond the survey id.
    answers = await rows(db, SurveyAnswer)
    assert len(answers) == 25 and all(a["member_id"] is None for a in answers)
    assert all(len(str(a["id"])) == 32 for a in answers)
    member_ids = {p.id for p in pilots}
    for a in answers:
        for key, value in a.items():
            if key not in {"survey_id", "value", "choices", "skipped"}:
                assert value not in member_ids and value not in {str(i) for i in member_ids}
    assert {r["member_id"] for r in await rows(db, SurveyResponder)} == member_ids
    # Every response is there, each complete, none tied to its author.
    responses: dict[object, set[object]] = {}
    for a in answers:
        responses.setdefault(a["response_id"], set()).add(a["question_id"])
    assert len(responses) == 5 and all(len(q) == 5 for q in responses.values())


async def test_typed_answer_where_the_platform_has_no_forms(db: Database, tmp_path: Path) -> None:
    bot, adapter, _clock = make_bot(db, tmp_path, MemoryAdapter(shows_forms=False))
    await bot.reload()
    await add_pilots(db, 1)
    await bot.advance_to(LAUNCH + timedelta(days=2, hours=2))  # the named poll in the channel
    post = next(p for p in adapter.posts if p.message.metadata.get("step") == "named")
    assert post.target == "general"
    await click(bot, "u0", button(post, "Répondre au sondage"), channel="general")
    await click(bot, "u0", button(last_dm(adapter, "u0"), "3"))
    await click(bot, "u0", button(last_dm(adapter, "u0"), "Write my answer"))
    assert adapter.forms == []
    assert "Type your answer here" in last_dm(adapter, "u0").message.text
    await bot.handle(
        MessagePosted(
            event_id="typed-1",
            platform="memory",
            user=user("u0"),
            occurred_at=bot.clock.now(),
            channel=ChannelRef("memory", "dm-u0", is_direct=True),
            message_id="t1",
            text="Because\x00 it works",
        )
    )
    assert "Thank you" in last_dm(adapter, "u0").message.text
    answers = {a["question_id"]: a for a in await rows(db, SurveyAnswer)}
    member = (await rows(db, Member))[0]
    # Not anonymous: the answers name the member.
    assert answers["mood"]["value"] == 3 and answers["mood"]["member_id"] == member["id"]
    assert answers["why"]["text"] == "Because it works"


async def test_results_and_response_rate(db: Database, tmp_path: Path) -> None:
    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    await add_pilots(db, 6)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    await answer_all(bot, adapter, "u0", "4", "9", "good")
    await answer_all(bot, adapter, "u1", "2", "6", "meh")
    await answer_all(bot, adapter, "u2", "3", "10", "ok")
    assert (await survey_results(db, "pulse/week1")).questions[0].answered == 0  # waiting
    await answer_all(bot, adapter, "u3", "3", "8", "fine")
    await answer_all(bot, adapter, "u4", "3", "7", "great")
    await close_round(db, "pulse/week1", bot.clock.now())

    results = await survey_results(db, "pulse/week1")
    assert results.audience == 6 and results.responses == 5 and not results.too_few
    assert results.response_rate == pytest.approx(5 / 6)
    overall = results.questions[0]
    assert overall.mean == pytest.approx(3.0) and overall.counts == {4: 1, 2: 1, 3: 3}
    assert results.mean_rating == pytest.approx(3.0)
    nps = results.questions[1]
    assert nps.nps == pytest.approx(100 * (2 - 1) / 5)  # 9, 10 promoters; 6 a detractor
    assert results.questions[2].counts == {1: 5}
    assert results.questions[3].counts == {0: 5, 2: 5}
    assert results.questions[4].texts == ["fine", "good", "great", "meh", "ok"]
    # By step id or key too.
    assert (await survey_results(db, "week1")).responses == 5

    command = CommandInvoked(
        event_id="cmd-1",
        platform="memory",
        user=UserRef("memory", "cm"),
        occurred_at=bot.clock.now(),
        name="survey",
        args=("results", "pulse/week1"),
    )
    await bot.handle(command)
    text = last_dm(adapter, "cm").message.text
    assert "Responses: 5 of 6 (83%)" in text and "mean 3.00" in text and "NPS +20" in text

    await bot.handle(
        CommandInvoked(
            event_id="cmd-2",
            platform="memory",
            user=UserRef("memory", "u3"),
            occurred_at=bot.clock.now(),
            name="survey",
            args=("results", "pulse/week1"),
        )
    )
    assert "community managers only" in last_dm(adapter, "u3").message.text


async def test_opted_out_members_get_no_survey(db: Database, tmp_path: Path) -> None:
    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    await add_pilots(db, 2)
    await upsert_member(db, "memory", "out", LAUNCH, cohort="pilote", opted_out=True)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    invited = {d.target for d in adapter.directs if d.message.metadata.get("step") == "week1"}
    assert invited == {"u0", "u1"}
    assert (await survey_results(db, "pulse/week1")).audience == 2


async def test_stale_and_double_clicks_count_once(db: Database, tmp_path: Path) -> None:
    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    await add_pilots(db, 1)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    invitation = last_dm(adapter, "u0")
    await click(bot, "u0", button(invitation, "Answer the survey"))
    first = last_dm(adapter, "u0")
    await click(bot, "u0", button(first, "5"))
    await click(bot, "u0", button(first, "1"))  # the same question again: refused
    assert "behind you" in last_dm(adapter, "u0").message.text
    async with db.session() as session:
        draft = (await session.execute(sa.select(SurveyDraft))).scalar_one()
    assert draft.current == 1 and draft.answers == {"overall": {"value": 5}}
    # "Done" with nothing selected is refused; an unfinished draft is no answer.
    await click(bot, "u0", button(last_question(adapter, "u0"), "7"))
    await click(bot, "u0", button(last_question(adapter, "u0"), "News"))
    multiple = last_question(adapter, "u0")
    assert "What do you use?" in multiple.message.text
    await click(bot, "u0", button(multiple, "Done"))
    assert "at least one" in last_dm(adapter, "u0").message.text
    assert await rows(db, SurveyAnswer) == []
    assert (await survey_results(db, "pulse/week1")).responses == 0


async def test_forget_keeps_the_survey_results(db: Database, tmp_path: Path) -> None:
    from rallybot.handlers.privacy.personal_data import forget_member

    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    pilots = await add_pilots(db, 5)
    await bot.advance_to(LAUNCH + timedelta(days=2, hours=2))
    await answer_all(bot, adapter, "u0", "4", "9", "mine")
    await answer_all(bot, adapter, "u1", "2", "6", "theirs")
    for uid, text in (("u2", "ours"), ("u3", "yes"), ("u4", "fine")):  # 5: enough to show
        await answer_all(bot, adapter, uid, "3", "8", text)
    post = next(p for p in adapter.posts if p.message.metadata.get("step") == "named")
    await click(bot, "u0", button(post, "Répondre au sondage"), channel="general")
    await click(bot, "u0", button(last_question(adapter, "u0"), "5"))
    await click(bot, "u0", button(last_question(adapter, "u0"), "Write my answer"))
    await bot.handle(
        FormSubmitted(
            event_id="named-form",
            platform="memory",
            user=user("u0"),
            occurred_at=bot.clock.now(),
            form_id=adapter.forms[-1].form.id,
            values={"answer": "my reasons"},
        )
    )
    await close_round(db, "pulse/week1", bot.clock.now())
    before = [await survey_results(db, ref) for ref in ("pulse/week1", "pulse/named")]
    assert before[1].responses == 1 and before[1].questions[0].mean == 5

    assert pilots[0].id is not None
    await forget_member(db, pilots[0].id, bot.clock.now())
    after = [await survey_results(db, ref) for ref in ("pulse/week1", "pulse/named")]
    for old, new in zip(before, after, strict=True):
        assert (new.responses, new.audience) == (old.responses, old.audience)
        for q_old, q_new in zip(old.questions, new.questions, strict=True):
            assert (q_new.answered, q_new.counts, q_new.mean, q_new.nps) == (
                q_old.answered,
                q_old.counts,
                q_old.mean,
                q_old.nps,
            )
    # The named free text was the member's own words: erased. Anonymous texts cannot be told
    # apart, so they stay (they carry no identity).
    assert after[1].questions[1].texts == [] and before[1].questions[1].texts == ["my reasons"]
    assert after[0].questions[4].texts == ["fine", "mine", "ours", "theirs", "yes"]


async def test_anonymous_cannot_change_once_someone_has_answered(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter, _clock = make_bot(db, tmp_path)
    await bot.reload()
    await add_pilots(db, 5)
    await bot.advance_to(LAUNCH + timedelta(days=1, hours=2))
    await answer_all(bot, adapter, "u0", "4", "9", "first")

    # The campaign file is edited: week1 (answered) no longer anonymous, the named survey (not
    # answered yet) anonymous.
    edited = CAMPAIGN.replace("anonymous: true", "anonymous: false").replace(
        "    survey:\n      questions:\n        - {id: mood",
        "    survey:\n      anonymous: true\n      questions:\n        - {id: mood",
    )
    assert edited.count("anonymous: true") == 1 and "anonymous: false" in edited
    (tmp_path / "pulse.yaml").write_text(edited)
    await bot.reload()
    anonymous = {str(s["id"]): s["anonymous"] for s in await rows(db, Survey)}
    assert anonymous == {"pulse/week1": True, "pulse/named": True}

    # The next answers to week1 are still stored with no member.
    for i in range(1, 5):
        await answer_all(bot, adapter, f"u{i}", "2", "3", f"later {i}")
    answers = await rows(db, SurveyAnswer)
    assert len(answers) == 25 and all(a["member_id"] is None for a in answers)
