"""Challenges end to end: a real bot on the memory adapter and a simulated clock, on SQLite and
PostgreSQL (the router's deduplication applies): every goal kind, members and teams, points
exactly once, evidence judged by managers only, winners announced once, restarts."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.adapters.slack.render import render_message as render_slack
from rallybot.bot.assembly import Rallybot
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.config import Settings
from rallybot.bot.events import (
    ButtonClicked,
    ChannelRef,
    CommandInvoked,
    Event,
    FileRef,
    MemberJoined,
    MessagePosted,
    ReactionAdded,
    UserRef,
)
from rallybot.bot.messages import Message
from rallybot.campaigns.loader import CampaignLoadError, load_campaign_text
from rallybot.storage.database import Database
from rallybot.storage.models import PointEntry, table_of
from rallybot.storage.repositories import get_member_by_platform_id, upsert_member

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # 09:30 in Paris
END = LAUNCH + timedelta(days=2)
GENERAL = ChannelRef("memory", "general")
RANDOM = ChannelRef("memory", "random")
E = table_of(PointEntry).c
_ids = itertools.count()

CAMPAIGN = """\
id: ch
title: Challenges
timezone: Europe/Paris
locale: en
milestones:
  launch: 2026-11-03 09:30
channels:
  annonces: general
  random: random
steps:
  - id: hello
    at: launch
    post: annonces
    text: Hello
journey:
  welcome: {{at: join + 0d at 10:00, dm: "Welcome"}}
  tasks:
    - id: app
      done_when: self_declared
      label: Install the app
      nudges:
        - {{at: join + 1d at 12:00, dm: "app 1"}}
challenges:
{challenges}"""

POSTS = """\
  - id: posts
    title: {en: Two posts, fr: Deux messages}
    goal: {kind: post_in_channel, count: 2, channel: annonces}
    start: launch
    end: launch + 2d
    points: 20
    announce: annonces
"""
REACTS = """\
  - id: reacts
    title: Two reactions
    goal: {kind: react, count: 2}
    start: launch
    end: launch + 2d
    points: 10
"""
TEAM = """\
  - id: team-posts
    title: Team posts
    goal: {kind: post_in_channel, count: 3}
    by: team
    start: launch
    end: launch + 2d
    points: 5
    announce: annonces
"""
ONBOARD = """\
  - id: onboard
    title: Onboarded
    goal: {kind: complete_onboarding}
    start: launch
    end: launch + 2d
    points: 15
"""
QUIZ = """\
  - id: quizzer
    title: Quizzer
    goal: {kind: answer_quiz, count: 1, quiz: connect-quiz}
    start: launch
    end: launch + 2d
    points: 7
"""
INVITE = """\
  - id: inviter
    title: Inviter
    goal: {kind: invite, count: 1}
    start: launch
    end: launch + 2d
    points: 12
"""
PROOF = """\
  - id: proof
    title: Show us
    goal: {kind: submit_evidence, count: 1}
    start: launch
    end: launch + 2d
    points: 30
    announce: annonces
"""


def user(name: str, *, bot: bool = False) -> UserRef:
    return UserRef("memory", name, name=name.capitalize(), is_bot=bot)


def eid() -> str:
    return f"c{next(_ids)}"


class World:
    """A bot with some challenges loaded, and helpers to push events at it."""

    def __init__(self, db: Database, folder: Path, clock: SimulatedClock) -> None:
        self.db, self.folder, self.clock = db, folder, clock
        self.adapter = MemoryAdapter()
        self.bot = self.new_bot()

    def new_bot(self) -> Rallybot:
        settings = Settings(
            database_url="sqlite://",
            admins=["memory:cm"],
            quiet_hours="off",
            locale="en",
        )
        return Rallybot(settings, self.db, self.adapter, self.clock, campaign_paths=[self.folder])

    async def restart(self) -> None:
        """A new process on the same database (what was counted stays counted)."""
        await self.bot.shutdown()
        self.bot = self.new_bot()
        assert not (await self.bot.reload()).errors

    async def handle(self, event: Event) -> None:
        await self.bot.handle(event)
        await self.bot.dispatcher.run_once()  # evidence goes through the outbox: send it

    async def post(
        self, who: str, channel: ChannelRef = GENERAL, message_id: str | None = None
    ) -> None:
        await self.handle(
            MessagePosted(
                event_id=eid(),
                platform="memory",
                user=user(who),
                occurred_at=self.clock.now(),
                channel=channel,
                message_id=message_id or eid(),
                text="hello",
            )
        )

    async def react(self, who: str, message_id: str, *, author: str | None = None) -> None:
        await self.handle(
            ReactionAdded(
                event_id=eid(),
                platform="memory",
                user=user(who, bot=who.startswith("bot")),
                occurred_at=self.clock.now(),
                channel=GENERAL,
                message_id=message_id,
                emoji="tada",
                author=user(author) if author else None,
            )
        )

    async def click(self, who: str, action_id: str, value: str) -> None:
        await self.handle(
            ButtonClicked(
                event_id=eid(),
                platform="memory",
                user=user(who),
                occurred_at=self.clock.now(),
                channel=ChannelRef("memory", f"dm-{who}", is_direct=True),
                message_id=eid(),
                action_id=action_id,
                value=value,
            )
        )

    async def join(self, who: str, channel: ChannelRef | None = None) -> None:
        await self.handle(
            MemberJoined(
                event_id=eid(),
                platform="memory",
                user=user(who),
                occurred_at=self.clock.now(),
                channel=channel,
            )
        )

    async def command(self, who: str, name: str, *args: str) -> str:
        before = len(self.adapter.directs)
        await self.bot.handle(  # the answer, then the notes it queued (sent right after it)
            CommandInvoked(
                event_id=eid(),
                platform="memory",
                user=user(who),
                occurred_at=self.clock.now(),
                name=name,
                args=args,
            )
        )
        answers = [d for d in self.adapter.directs[before:] if d.target == who]
        await self.bot.dispatcher.run_once()
        assert answers, f"no answer to /rallybot {name} {' '.join(args)}"
        return answers[0].message.text

    async def member_id(self, who: str) -> int:
        member = await get_member_by_platform_id(self.db, "memory", who)
        assert member is not None and member.id is not None
        return member.id

    async def challenge_points(self) -> dict[str, int]:
        """Idempotency key -> amount, for the challenge entries of the ledger."""
        async with self.db.session() as session:
            rows = await session.execute(
                sa.select(E.idempotency_key, E.amount).where(E.action == "challenge_done")
            )
            return {str(key): int(amount) for key, amount in rows.all()}

    def directs_to(self, who: str) -> list[Message]:
        return [d.message for d in self.adapter.directs if d.target == who]

    def results(self) -> list[str]:
        return [d.message.text for d in self.adapter.sent_to("general") if "🏁" in d.message.text]


async def make_world(db: Database, tmp_path: Path, *challenges: str, bank: bool = False) -> World:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "ch.yaml").write_text(CAMPAIGN.format(challenges="".join(challenges)))
    if bank:
        shutil.copyfile(
            ROOT / "campaigns" / "examples" / "en" / "quiz-connect.yaml", folder / "quiz.yaml"
        )
    clock = SimulatedClock(LAUNCH - timedelta(hours=1))
    world = World(db, folder, clock)
    report = await world.bot.reload()
    assert not report.errors, report.summary()
    for name, team in (("ana", "sales"), ("bob", "sales"), ("cyd", "support")):
        await upsert_member(
            db, "memory", name, clock.now(), display_name=name.capitalize(), team=team, locale="en"
        )
    await world.bot.advance_to(LAUNCH + timedelta(minutes=1))
    return world


async def test_posts_count_once_each_and_the_points_come_once(db: Database, tmp_path: Path) -> None:
    world = await make_world(db, tmp_path, POSTS)
    ana = await world.member_id("ana")
    await world.post("ana", message_id="m1")
    await world.post("ana", message_id="m1")  # the same message seen twice (another event id)
    await world.post("ana", RANDOM)  # not the challenge's channel
    assert await world.challenge_points() == {}
    assert "1/2" in await world.command("ana", "challenges")
    await world.post("ana", message_id="m2")
    assert await world.challenge_points() == {f"challenge:ch/posts:{ana}": 20}
    assert any("Challenge done: Two posts" in m.text for m in world.directs_to("ana"))
    await world.post("ana", message_id="m3")  # more after the goal: nothing more
    assert await world.challenge_points() == {f"challenge:ch/posts:{ana}": 20}
    assert "done ✅" in await world.command("ana", "challenges")


async def test_reactions_by_bots_or_on_ones_own_message_do_not_count(
    db: Database, tmp_path: Path
) -> None:
    world = await make_world(db, tmp_path, REACTS)
    bob = await world.member_id("bob")
    await world.react("bob", "x1", author="bob")  # own message
    await world.react("botty", "x1", author="ana")  # a bot
    await world.react("bob", "x1", author="ana")
    await world.react("bob", "x1", author="ana")  # again on the same message
    assert await world.challenge_points() == {}
    await world.react("bob", "x2", author="cyd")
    assert await world.challenge_points() == {f"challenge:ch/reacts:{bob}": 10}


async def test_a_team_challenge_rewards_every_member_of_the_team(
    db: Database, tmp_path: Path
) -> None:
    world = await make_world(db, tmp_path, TEAM)
    ana, bob = await world.member_id("ana"), await world.member_id("bob")
    await world.post("ana")
    await world.post("cyd")  # the other team
    await world.post("ana")
    assert await world.challenge_points() == {}
    assert "2/3" in await world.command("bob", "challenges")  # the team's progress
    assert "1/3" in await world.command("cyd", "challenges")
    await world.post("bob", RANDOM)  # any channel counts
    assert await world.challenge_points() == {
        f"challenge:ch/team-posts:team:sales:{ana}": 5,
        f"challenge:ch/team-posts:team:sales:{bob}": 5,
    }
    await world.bot.advance_to(END + timedelta(minutes=1))
    assert world.results() == [
        "🏁 The challenge “Team posts” is over. Done by: sales. Congratulations!"
    ]


async def test_onboarding_and_quiz_goals_are_read_from_their_features(
    db: Database, tmp_path: Path
) -> None:
    world = await make_world(db, tmp_path, ONBOARD, QUIZ, bank=True)
    # Onboarding: a newcomer joins, then says the only task is done (its nudge's button).
    await world.join("dan")
    dan = await world.member_id("dan")
    await world.click("dan", "onboarding-done", "ch/journey-app-1")
    await world.bot.advance_to(LAUNCH + timedelta(minutes=2))
    points = await world.challenge_points()
    assert points == {f"challenge:ch/onboard:{dan}": 15}
    # Quiz: Cyd takes the self-paced quiz and answers its first question.
    await world.command("cyd", "quiz")
    question = next(m for m in reversed(world.directs_to("cyd")) if m.buttons)
    answer = question.buttons[0]
    await world.click("cyd", answer.action_id or "", answer.value)
    cyd = await world.member_id("cyd")
    assert "Quizzer [quizzer]: answer 1 quiz question, 7 pts — done ✅" in await world.command(
        "cyd", "challenges"
    )
    await world.bot.advance_to(LAUNCH + timedelta(minutes=3))
    assert (await world.challenge_points())[f"challenge:ch/quizzer:{cyd}"] == 7


async def test_an_invitation_counts_when_the_colleague_joins(db: Database, tmp_path: Path) -> None:
    world = await make_world(db, tmp_path, INVITE)
    ana = await world.member_id("ana")
    assert "cannot invite yourself" in await world.command("ana", "invite", "<@ana>")
    assert "already joined" not in await world.command("ana", "invite", "<@newbie>")
    assert "already invited" in await world.command("bob", "invite", "@newbie")
    assert await world.challenge_points() == {}
    await world.join("newbie")
    await world.join("newbie", GENERAL)  # joining a channel later: no second count
    assert await world.challenge_points() == {f"challenge:ch/inviter:{ana}": 12}
    assert "already joined" in await world.command("bob", "invite", "@newbie")


async def test_evidence_is_judged_by_managers_only_and_counts_once(
    db: Database, tmp_path: Path
) -> None:
    world = await make_world(db, tmp_path, PROOF)
    ana = await world.member_id("ana")
    answer = await world.command("ana", "challenge", "submit", "proof", "https://x.test/<b>me</b>")
    assert "Submission #" in answer
    [review] = [m for m in world.directs_to("cm") if m.buttons]
    assert "https://x.test/<b>me</b>" in review.text  # member text: the renderers escape it
    approve, reject = review.buttons
    assert (approve.action_id, reject.action_id) == ("challenge-approve", "challenge-reject")
    await world.click("bob", approve.action_id or "", approve.value)  # not a manager
    assert await world.challenge_points() == {}
    assert any("Only community managers" in m.text for m in world.directs_to("bob"))
    # A second submission is rejected; the first approved (twice: it counts once).
    await world.command("ana", "challenge", "submit", "proof", "second try")
    second = [m for m in world.directs_to("cm") if m.buttons][-1]
    await world.click("cm", "challenge-reject", second.buttons[1].value)
    assert await world.challenge_points() == {}
    assert any("not accepted" in m.text for m in world.directs_to("ana"))
    await world.click("cm", "challenge-approve", approve.value)
    await world.click("cm", "challenge-approve", approve.value)  # the same click again: silent
    assert await world.challenge_points() == {f"challenge:ch/proof:{ana}": 30}
    said = [m.text for m in world.directs_to("cm") if "#1" in m.text]
    assert said == ["Submission #1 approved."]
    await world.click("cm", "challenge-reject", approve.value)  # another verdict: told why not
    assert world.directs_to("cm")[-1].text == "Submission #1 was already approved."
    assert "not running" not in await world.command("ana", "challenge", "submit", "proof", "x")
    await world.bot.advance_to(END + timedelta(minutes=1))
    assert "not running" in await world.command("ana", "challenge", "submit", "proof", "late")


async def test_winners_are_announced_once_at_the_end_even_after_a_restart(
    db: Database, tmp_path: Path
) -> None:
    world = await make_world(db, tmp_path, POSTS, TEAM)
    await world.post("bob")
    await world.restart()  # mid-challenge: progress is in the database
    await world.post("bob")
    await world.post("cyd")
    bob = await world.member_id("bob")
    assert f"challenge:ch/posts:{bob}" in await world.challenge_points()
    await world.bot.advance_to(END - timedelta(minutes=1))
    assert world.results() == []
    await world.post("ana")  # completes the sales team's goal just in time
    await world.bot.advance_to(END + timedelta(minutes=1))
    await world.restart()
    await world.bot.advance_to(END + timedelta(days=1))
    assert sorted(world.results()) == [
        "🏁 The challenge “Team posts” is over. Done by: sales. Congratulations!",
        "🏁 The challenge “Two posts” is over. Done by: Bob. Congratulations!",
    ]
    await world.post("ana")  # after the end: nothing counts any more
    await world.post("ana")
    assert f"challenge:ch/posts:{await world.member_id('ana')}" not in (
        await world.challenge_points()
    )


async def test_events_before_the_start_do_not_count(db: Database, tmp_path: Path) -> None:
    later = POSTS.replace("start: launch\n", "start: launch + 1d\n")
    world = await make_world(db, tmp_path, later)
    await world.post("ana")
    await world.post("ana")
    assert await world.challenge_points() == {}
    assert "starts Nov 4, 2026, 08:30 UTC" in await world.command("ana", "challenges")


def test_a_bad_challenge_is_reported_with_its_line() -> None:
    text = CAMPAIGN.format(
        challenges="""\
  - id: bad
    title: Bad
    goal: {kind: post_in_channel, count: 2, channel: nowhere}
    start: launch
    end: launch - 1d
  - id: worse
    title: Worse
    goal: {kind: react}
    start: lunch
    end: launch
"""
    )
    with pytest.raises(CampaignLoadError) as caught:
        load_campaign_text(text, "ch.yaml")
    shown = [str(e) for e in caught.value.errors]
    assert any(s.startswith("ch.yaml:26:") and 'unknown channel "nowhere"' in s for s in shown)
    assert any(s.startswith("ch.yaml:28:") and "ends before it starts" in s for s in shown)
    assert any(s.startswith("ch.yaml:32:") and 'unknown milestone "lunch"' in s for s in shown)
    bad_kind = text.replace("{kind: react}", "{kind: dance}")
    with pytest.raises(CampaignLoadError) as caught:
        load_campaign_text(bad_kind, "ch.yaml")
    shown = [str(e) for e in caught.value.errors]
    assert any(s.startswith("ch.yaml:31:18: challenges[1].goal.kind:") for s in shown)
    # One pass: the refused kind does not hide the other challenge's mistakes.
    assert any(s.startswith("ch.yaml:26:") and 'unknown channel "nowhere"' in s for s in shown)


async def test_evidence_sent_in_time_and_judged_after_the_end_still_counts(
    db: Database, tmp_path: Path
) -> None:
    world = await make_world(db, tmp_path, PROOF)
    ana = await world.member_id("ana")
    await world.command("ana", "challenge", "submit", "proof", "my tip")
    [review] = [m for m in world.directs_to("cm") if m.buttons]
    await world.bot.advance_to(END + timedelta(hours=1))
    assert world.results() == []  # a submission waits for its judgement
    await world.click("cm", "challenge-approve", review.buttons[0].value)
    assert await world.challenge_points() == {f"challenge:ch/proof:{ana}": 30}
    await world.bot.advance_to(END + timedelta(hours=2))
    assert world.results() == ["🏁 The challenge “Show us” is over. Done by: Ana. Congratulations!"]


PROOF_TWO = PROOF.replace("id: proof", "id: proof2").replace("title: Show us", "title: Again")


async def test_a_file_sent_to_the_bot_is_evidence_shown_with_its_link(
    db: Database, tmp_path: Path
) -> None:
    world = await make_world(db, tmp_path, PROOF)
    ana = await world.member_id("ana")
    shot = FileRef(
        name="my <b>screen</b>.png",
        url="https://files.example.test/F1/screen.png",
        mimetype="image/png",
        size=2048,
    )

    async def send(who: str, text: str, channel: ChannelRef, *files: FileRef) -> None:
        await world.handle(
            MessagePosted(
                event_id=eid(),
                platform="memory",
                user=user(who),
                occurred_at=world.clock.now(),
                channel=channel,
                message_id=eid(),
                text=text,
                files=files,
            )
        )

    dm = ChannelRef("memory", "dm-ana", is_direct=True)
    await send("ana", "here it is", dm)  # no file: not evidence
    await send("ana", "proof the usual", GENERAL)  # no file either
    assert [m for m in world.directs_to("cm") if m.buttons] == []
    await send("ana", "look", GENERAL, shot)  # a file in a channel without the id: not evidence
    assert [m for m in world.directs_to("cm") if m.buttons] == []
    await send("ana", "done <@bob>", dm, shot)
    [review] = [m for m in world.directs_to("cm") if m.buttons]
    assert "Ana submitted evidence for the challenge “Show us”" in review.text
    # The caption and the file name are member text: shown as typed, escaped by each renderer.
    assert "done <@bob>" in review.text
    assert "📎 my <b>screen</b>.png https://files.example.test/F1/screen.png" in review.text
    [raw] = [d.raw for d in world.adapter.directs if d.target == "cm" and d.message.buttons]
    assert raw is not None and "<@bob>" not in render_slack(raw)["blocks"][0]["text"]["text"]
    assert any(
        "Submission #" in m.text and "my <b>screen</b>.png" in m.text
        for m in world.directs_to("ana")
    )
    await world.click("cm", "challenge-approve", review.buttons[0].value)
    assert await world.challenge_points() == {f"challenge:ch/proof:{ana}": 30}
    # In a channel, a file whose message starts with the challenge id is evidence too.
    bad_link = FileRef(name="notes.txt", url="javascript:alert(1)")
    await send("bob", "proof notes", GENERAL, bad_link)
    second = [m for m in world.directs_to("cm") if m.buttons][-1]
    assert second is not review and "Bob submitted" in second.text
    assert "📎 notes.txt" in second.text and "javascript" not in second.text
    # After the end, a file is answered but not taken.
    await world.bot.advance_to(END + timedelta(minutes=1))
    await send("cyd", "proof late", dm, shot)
    assert any("not running" in m.text for m in world.directs_to("cyd"))
    assert len([m for m in world.directs_to("cm") if m.buttons]) == 2


async def test_a_file_with_two_evidence_challenges_running_needs_the_id(
    db: Database, tmp_path: Path
) -> None:
    world = await make_world(db, tmp_path, PROOF, PROOF_TWO)
    bob = await world.member_id("bob")
    dm = ChannelRef("memory", "dm-bob", is_direct=True)
    shot = FileRef(name="a.pdf", url="https://cdn.example.test/a.pdf?ex=1&hm=2")

    async def send(text: str) -> None:
        await world.handle(
            MessagePosted(
                event_id=eid(),
                platform="memory",
                user=user("bob"),
                occurred_at=world.clock.now(),
                channel=dm,
                message_id=eid(),
                text=text,
                files=(shot,),
            )
        )

    await send("my proof")
    assert any("proof, proof2" in m.text for m in world.directs_to("bob"))
    assert [m for m in world.directs_to("cm") if m.buttons] == []
    await send("proof2")
    [review] = [m for m in world.directs_to("cm") if m.buttons]
    assert "“Again”" in review.text and "https://cdn.example.test/a.pdf?ex=1&hm=2" in review.text
    await world.click("cm", "challenge-approve", review.buttons[0].value)
    assert await world.challenge_points() == {f"challenge:ch/proof2:{bob}": 30}


async def test_each_person_reads_the_challenges_in_their_own_language(
    db: Database, tmp_path: Path
) -> None:
    world = await make_world(db, tmp_path, POSTS, PROOF)
    now = world.clock.now()
    await upsert_member(db, "memory", "ana", now, locale="es")
    await upsert_member(db, "memory", "bob", now, locale="de")
    await upsert_member(db, "memory", "cm", now, display_name="Cm", locale="fr")
    await world.post("ana", message_id="m1")
    await world.post("ana", message_id="m2")
    assert "🏆 ¡Reto superado: Two posts! +20 puntos." in [m.text for m in world.directs_to("ana")]
    assert (await world.command("bob", "challenges")).splitlines() == [
        "Challenges:",
        "• Two posts [posts]: 2 Nachrichten in #annonces posten, 20 Pkt. — 0/2, "
        "bis 5. Nov. 2026, 08:30 UTC",
        "• Show us [proof]: 1 Nachweis angenommen bekommen (/rallybot challenge submit proof "
        "... oder schick dem Bot eine Datei), 30 Pkt. — 0/1, bis 5. Nov. 2026, 08:30 UTC",
    ]
    assert await world.command("ana", "challenge", "submit", "proof", "mira") == (
        "¡Gracias! La prueba n.º 1 se ha enviado a los community managers."
    )
    [review] = [m for m in world.directs_to("cm") if m.buttons]  # the manager's language
    assert review.text == "📎 Ana a soumis une preuve pour le défi « Show us » :\nmira"
    assert [b.label for b in review.buttons] == ["Accepter", "Refuser"]
    await world.click("bob", "challenge-approve", "1")
    assert world.directs_to("bob")[-1].text == (
        "Nur Community-Manager können Nachweise für Challenges bewerten."
    )
    await world.click("cm", "challenge-approve", "1")
    assert world.directs_to("cm")[-1].text == "Preuve n° 1 acceptée."
    assert [m.text for m in world.directs_to("ana")][-2:] == [
        "✅ Tu prueba para «Show us» ha sido aprobada.",
        "🏆 ¡Reto superado: Show us! +30 puntos.",
    ]
    assert await world.command("ana", "invite") == "Uso: /rallybot invite @compañero"
