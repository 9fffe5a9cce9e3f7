"""The help channel end to end: a real bot, the memory adapter, a simulated clock, SQLite and
PostgreSQL. Questions open tickets answered in their thread; answers, ✅, buttons, edits and
deletions move them; reminders, escalations and stale tickets follow the clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rallybot.bot.adapters.discord.render import render_message as render_discord
from rallybot.bot.assembly import commands
from rallybot.bot.clock import SimulatedClock
from rallybot.bot.events import ChannelRef, ReactionAdded
from rallybot.handlers.admin.feature import help_text
from rallybot.handlers.helpdesk.feature import ACTION_FAQ, ACTION_SOLVED, ACTION_TAKE, POSTED
from rallybot.storage.database import Database
from rallybot.storage.repositories import get_member_by_platform_id
from tests.helpdesk.helpers import (
    HELP,
    T0,
    click,
    command,
    delete,
    edit,
    helpdesk_rows,
    make_bot,
    points,
    post,
    react,
    thread_replies,
    ticket,
    tickets,
    user,
)


async def member_id(db: Database, name: str) -> int:
    member = await get_member_by_platform_id(db, "memory", name)
    assert member is not None and member.id is not None
    return member.id


async def test_a_question_opens_a_ticket_answered_in_its_thread(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "Hello, I FORGOT my pässword, how do I reset it?", clock)
    await adapter.push(question)

    found = await ticket(db)
    assert (found.state, found.channel_id, found.message_id) == ("open", HELP, question.message_id)
    assert found.suggestions[0] == "connect-faq-en/password"
    assert found.asker_id == await member_id(db, "alice")
    assert found.opened_at == T0 and found.first_response_at is None
    [reply] = adapter.replies
    assert (reply.target, reply.thread_id) == (HELP, question.message_id)
    assert "change it on the IT support portal" in reply.message.text
    assert "<@helper1>" in reply.message.text  # on duty on a Tuesday morning in Paris
    assert "<@weekend>" not in reply.message.text
    actions = [b.action_id for b in reply.message.buttons if b.action_id]
    assert actions == [ACTION_SOLVED, ACTION_FAQ]
    assert any(b.url == "https://support.example.com/password" for b in reply.message.buttons)
    # The reply went through the outbox, whose row keeps the message it became.
    [sent] = [r for r in await helpdesk_rows(db) if r.step_id.endswith("-welcome")]
    assert (sent.status, sent.platform_message_id) == ("sent", reply.sent.message_id)
    assert len(adapter.posts) == 0  # nothing in the channel itself


async def test_messages_elsewhere_and_replies_do_not_open_tickets(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    await adapter.push(post("alice", "How do I reset my password?", clock, channel="general"))
    await adapter.push(post("alice", "a reply somewhere", clock, thread="unknown-root"))
    assert await tickets(db) == []
    assert adapter.delivered == []


async def test_the_same_question_delivered_twice_is_one_ticket(
    db: Database, tmp_path: Path
) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "How do I join a group?", clock)
    await adapter.push(question)
    await adapter.push(question)  # a platform retry: the same event id
    again = post("alice", "How do I join a group?", clock, message_id=question.message_id)
    await adapter.push(again)  # another event id for the same message
    assert len(await tickets(db)) == 1
    assert len(adapter.replies) == 1


async def test_helpers_on_duty_follow_their_time_zone(db: Database, tmp_path: Path) -> None:
    # Saturday 10:30 in Paris: only the weekend helper.
    clock = SimulatedClock(T0 + timedelta(days=4, minutes=30))
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    await adapter.push(post("alice", "How do I join a group?", clock))
    text = adapter.replies[-1].message.text
    assert "<@weekend>" in text and "<@helper1>" not in text
    # Sunday: nobody on duty, and the message says so.
    clock.set(T0 + timedelta(days=5))
    sunday = post("bob", "How do I create a group?", clock)
    await adapter.push(sunday)  # alice's question is reminded meanwhile: the reply is in bob's
    text = thread_replies(adapter, sunday.message_id)[-1].message.text
    assert "<@" not in text and "No helper is on duty" in text


async def test_the_rota_is_read_in_the_helpers_time_zone(db: Database, tmp_path: Path) -> None:
    # 10:00 in Paris is 04:00 in New York: the New York rota has nobody on duty yet.
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(
        db, tmp_path / "files", clock, helpers_timezone="America/New_York"
    )
    await adapter.push(post("alice", "How do I join a group?", clock))
    assert "<@helper1>" not in adapter.replies[-1].message.text
    clock.set(T0 + timedelta(hours=5))  # 09:00 in New York
    await adapter.push(post("bob", "How do I create a group?", clock))
    assert "<@helper1>" in adapter.replies[-1].message.text


async def test_replies_by_the_asker_are_not_answers(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "My photo does not show up", clock)
    await adapter.push(question)
    clock.advance(timedelta(minutes=5))
    await adapter.push(
        post("alice", "It is a PNG, if that helps", clock, thread=question.message_id)
    )
    found = await ticket(db)
    assert (found.state, found.first_response_at, found.last_replier_id) == ("open", None, None)
    assert found.last_activity_at == T0 + timedelta(minutes=5)

    clock.advance(timedelta(minutes=3))
    await adapter.push(post("helper1", "Try a square JPEG", clock, thread=question.message_id))
    found = await ticket(db)
    assert found.state == "answered"
    assert found.first_response_at == T0 + timedelta(minutes=8)
    assert found.first_responder_id == await member_id(db, "helper1")
    clock.advance(timedelta(minutes=1))
    await adapter.push(post("bob", "Same for me", clock, thread=question.message_id))
    found = await ticket(db)
    assert found.first_response_at == T0 + timedelta(minutes=8)  # the first one stays
    assert found.first_responder_id == await member_id(db, "helper1")
    assert found.last_replier_id == await member_id(db, "bob")


async def test_solved_twice_credits_the_last_answer_once(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "Which browser should I use? The page does not load", clock)
    await adapter.push(question)
    await adapter.push(post("helper1", "Try Firefox", clock, thread=question.message_id))
    answer = post("bob", "Clear your cache, it worked for me", clock, thread=question.message_id)
    await adapter.push(answer)
    clock.advance(timedelta(minutes=20))
    await adapter.push(react("alice", question.message_id, clock))

    found = await ticket(db)
    bob = await member_id(db, "bob")
    assert (found.state, found.resolution) == ("solved", "solved")
    assert found.solved_at == T0 + timedelta(minutes=20)
    assert found.solved_by_id == await member_id(db, "alice")
    assert found.credited_id == bob
    assert found.excerpt == ""  # the question's text is not kept once solved
    assert await points(db) == [(bob, "help_answer_accepted", 10, f"helpdesk:{found.id}")]
    assert (
        "Thanks <@bob> (+10 points)"
        in thread_replies(adapter, question.message_id)[-1].message.text
    )
    closed = adapter.content_of(adapter.replies[0].sent)
    assert closed.text.startswith("✅ Solved.")
    assert "recent versions of Chrome" in closed.text  # the FAQ suggestions stay for readers
    assert all(b.action_id is None for b in closed.buttons)  # the Solved/FAQ buttons are gone

    # Solved again: by a reaction on the answer, by the helper's button, by the asker's ✅.
    sent_before = len(adapter.delivered)
    assert found.id is not None
    await adapter.push(react("helper1", answer.message_id, clock, emoji="✅"))
    await adapter.push(click("helper1", ACTION_SOLVED, found.id, clock))
    await adapter.push(react("alice", question.message_id, clock, emoji="heavy_check_mark"))
    assert await points(db) == [(bob, "help_answer_accepted", 10, f"helpdesk:{found.id}")]
    assert (await ticket(db)).solved_at == T0 + timedelta(minutes=20)
    later = adapter.delivered[sent_before:]
    assert [(d.kind, d.target) for d in later] == [("dm", "helper1")]  # "this ticket is closed"
    assert "closed" in later[0].message.text


async def test_a_reaction_by_someone_else_is_ignored(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "How do I mention a colleague?", clock)
    await adapter.push(question)
    await adapter.push(post("bob", "Type @ and the name", clock, thread=question.message_id))
    await adapter.push(react("carol", question.message_id, clock))
    await adapter.push(react("bob", question.message_id, clock))  # the answerer is no helper
    await adapter.push(react("alice", question.message_id, clock, emoji="thumbsup"))
    found = await ticket(db)
    assert found.state == "answered" and await points(db) == []
    assert found.id is not None
    await adapter.push(click("carol", ACTION_SOLVED, found.id, clock))
    assert (await ticket(db)).state == "answered"
    assert adapter.directs[-1].target == "carol"  # told why nothing happened

    await adapter.push(react("helper1", question.message_id, clock))  # a helper may close it
    found = await ticket(db)
    assert found.state == "solved" and found.solved_by_id == await member_id(db, "helper1")
    assert await points(db) == [
        (await member_id(db, "bob"), "help_answer_accepted", 10, f"helpdesk:{found.id}")
    ]


async def test_the_faq_answered_me_credits_nobody(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "How do I install the mobile app on my iPhone?", clock)
    await adapter.push(question)
    await adapter.push(post("bob", "Look in the store", clock, thread=question.message_id))
    found = await ticket(db)
    assert found.id is not None and found.suggestions[0] == "connect-faq-en/mobile-app"
    await adapter.push(click("bob", ACTION_FAQ, found.id, clock))  # only the asker may say so
    assert (await ticket(db)).state == "answered"
    await adapter.push(click("alice", ACTION_FAQ, found.id, clock))
    found = await ticket(db)
    assert (found.state, found.resolution, found.credited_id) == ("solved", "faq", None)
    assert await points(db) == []


async def test_an_edited_question_gets_new_suggestions(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "How do I install the mobile app?", clock)
    await adapter.push(question)
    assert (await ticket(db)).suggestions[0] == "connect-faq-en/mobile-app"
    bot_reply = adapter.replies[0].sent

    await adapter.push(edit("alice", question.message_id, "Actually: I forgot my password", clock))
    found = await ticket(db)
    assert found.suggestions[0] == "connect-faq-en/password"
    assert "forgot my password" in found.excerpt
    content = adapter.content_of(bot_reply)
    assert "IT support portal" in content.text and "App Store" not in content.text
    assert len(adapter.replies) == 1  # updated in place, not a new reply

    updates = len(adapter.updates)
    await adapter.push(edit("alice", "another-message", "How do I post?", clock))
    assert len(adapter.updates) == updates  # not a question: nothing happens


async def test_a_deleted_question_closes_its_ticket(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "Who can see my posts?", clock)
    await adapter.push(question)
    clock.advance(timedelta(minutes=2))
    await adapter.push(delete("alice", question.message_id, clock))
    found = await ticket(db)
    assert (found.state, found.resolution, found.excerpt) == ("closed", "deleted", "")
    assert found.closed_at == T0 + timedelta(minutes=2)
    assert "deleted" in adapter.content_of(adapter.replies[0].sent).text
    # Nothing follows: no answer recorded, no reminder.
    await adapter.push(
        post("helper1", "Public groups: everyone", clock, thread=question.message_id)
    )
    await bot.advance_to(T0 + timedelta(days=3))
    found = await ticket(db)
    assert found.state == "closed" and found.last_replier_id is None
    assert len(adapter.replies) == 1


async def test_reminder_escalation_and_stale_on_the_clock(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "The page does not load at all", clock)
    await adapter.push(question)
    answered = post("bob", "How do I create a group?", clock)
    await adapter.push(answered)
    await adapter.push(post("helper1", "Groups > Create", clock, thread=answered.message_id))

    await bot.advance_to(T0 + timedelta(minutes=29))
    assert len(thread_replies(adapter, question.message_id)) == 1  # the welcome only
    await bot.advance_to(T0 + timedelta(minutes=30))
    remind = thread_replies(adapter, question.message_id)[1].message.text
    assert "30 min" in remind and "<@helper1>" in remind
    first, second = await tickets(db)
    assert first.reminded_at == T0 + timedelta(minutes=30)
    assert second.reminded_at is None  # answered: no reminder

    await bot.advance_to(T0 + timedelta(minutes=119))
    assert [d.target for d in adapter.directs] == []
    await bot.advance_to(T0 + timedelta(hours=3))
    first, second = await tickets(db)
    assert first.escalated_at == T0 + timedelta(minutes=120)
    assert second.escalated_at is None
    [to_cm] = adapter.directs
    assert to_cm.target == "cm" and f"#{first.id}" in to_cm.message.text
    assert "The page does not load" in to_cm.message.text

    await bot.advance_to(T0 + timedelta(days=2))
    first, second = await tickets(db)
    assert (first.state, first.resolution, first.closed_at) == (
        "stale",
        "stale",
        T0 + timedelta(hours=24),
    )
    assert (second.state, second.closed_at) == ("stale", T0 + timedelta(hours=24))
    assert first.excerpt == "" and second.excerpt == ""
    # Each reminder, escalation and stale notice went once.
    texts = [r.message.text for r in thread_replies(adapter, question.message_id)]
    assert sum("⏰" in t for t in texts) == 1 and sum("💤" in t for t in texts) == 1
    assert sum("📣" in t for t in texts) == 1


async def test_activity_delays_the_stale_close(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "How do I join a group?", clock)
    await adapter.push(question)
    await bot.advance_to(T0 + timedelta(hours=20))
    await adapter.push(post("helper1", "Groups > Join", clock, thread=question.message_id))
    await bot.advance_to(T0 + timedelta(hours=30))
    assert (await ticket(db)).state == "answered"
    await bot.advance_to(T0 + timedelta(hours=48))
    found = await ticket(db)
    # The answer came at 06:00, out of the helpers' hours: the 24 hours count from 09:00.
    assert found.state == "stale" and found.closed_at == T0 + timedelta(hours=47)


async def test_help_command_from_anywhere(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    await adapter.push(command("alice", "How do I join a group? @everyone", clock))

    [posted] = adapter.posts
    assert posted.target == HELP
    assert posted.message.text.startswith("❓ <@alice>: How do I join a group?")
    # No mass mention through the bot: the question is member text, escaped by the renderers.
    assert posted.raw is not None
    shown = render_discord(posted.raw)
    assert "\\@everyone" in shown.content and shown.allowed_mentions.everyone is False
    found = await ticket(db)
    # The ticket opened before its question was posted (both written together, the post
    # through the outbox): events in the post's thread find it through the post's row.
    assert found.message_id.startswith(POSTED)
    assert found.asker_id == await member_id(db, "alice")
    [reply] = adapter.replies
    assert reply.thread_id == posted.sent.message_id
    assert found.suggestions[0] == "connect-faq-en/join-group"
    [told] = adapter.directs
    assert told.target == "alice" and f"<#{HELP}>" in told.message.text

    # An answer in the thread of the bot's post, then the asker's ✅ on it: credited.
    await adapter.push(post("bob", "Groups > Join", clock, thread=posted.sent.message_id))
    await adapter.push(react("alice", posted.sent.message_id, clock))
    assert (await ticket(db)).state == "solved"
    assert [p[0] for p in await points(db)] == [await member_id(db, "bob")]

    # Without a question, /rallybot help is still the list of commands.
    await adapter.push(command("alice", "", clock))
    # Every feature's commands, polls' included (each feature declares its own).
    assert adapter.directs[-1].message.text == help_text(commands())


async def test_private_help_goes_to_the_helpers(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    bot, adapter = await make_bot(db, tmp_path / "files", clock)
    await adapter.push(
        command("alice", "--private Can my manager read my private messages?", clock)
    )
    await bot.dispatch_tick()  # the question goes to the helpers through the outbox

    assert adapter.posts == [] and adapter.replies == []
    to_alice = [d for d in adapter.directs if d.target == "alice"]
    to_helper = [d for d in adapter.directs if d.target == "helper1"]
    assert len(to_alice) == 1 and "Nobody reads your private messages" in to_alice[0].message.text
    assert len(to_helper) == 1 and "Can my manager read" in to_helper[0].message.text
    assert not [d for d in adapter.directs if d.target == "weekend"]  # off duty
    found = await ticket(db)
    assert found.private and found.id is not None
    assert [b.action_id for b in to_helper[0].message.buttons] == [ACTION_TAKE, ACTION_SOLVED]

    clock.advance(timedelta(minutes=4))
    await adapter.push(click("helper1", ACTION_TAKE, found.id, clock))
    found = await ticket(db)
    assert found.state == "answered" and found.first_response_at == T0 + timedelta(minutes=4)
    await adapter.push(click("alice", ACTION_SOLVED, found.id, clock))
    found = await ticket(db)
    assert found.state == "solved" and found.credited_id == await member_id(db, "helper1")
    assert "Solved" in adapter.content_of(to_alice[0].sent).text


async def test_helpdesk_lists_open_tickets_for_helpers_only(db: Database, tmp_path: Path) -> None:
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    await adapter.push(post("alice", "How do I join a group?", clock))
    solved = post("bob", "How do I post?", clock)
    await adapter.push(solved)
    await adapter.push(react("bob", solved.message_id, clock))
    clock.advance(timedelta(minutes=42))

    await adapter.push(command("carol", "", clock, command="helpdesk"))
    assert "for helpers" in adapter.directs[-1].message.text
    await adapter.push(command("helper1", "", clock, command="helpdesk"))
    listing = adapter.directs[-1].message.text
    assert listing.startswith("Open help tickets (1):")
    assert "open · 42 min" in listing and "How do I join a group?" in listing
    assert "How do I post?" not in listing


async def test_a_reply_to_the_bot_reply_counts_as_an_answer(db: Database, tmp_path: Path) -> None:
    # Discord reports a reply to a message with that message as the thread: here the bot's.
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    question = post("alice", "How do I create a group?", clock)
    await adapter.push(question)
    bot_reply = adapter.replies[0].sent.message_id
    await adapter.push(post("bob", "Groups > Create", clock, thread=bot_reply))
    found = await ticket(db)
    assert found.state == "answered" and found.last_replier_id == await member_id(db, "bob")
    assert len(await tickets(db)) == 1


async def test_a_member_who_stopped_reminders_still_gets_the_answer_to_a_private_question(
    db: Database, tmp_path: Path
) -> None:
    """ "/rallybot stop" turns off campaign messages: the answer to the member's own question
    (an outbox service message) still reaches them, and a ✅ on it in the direct conversation
    solves the ticket."""
    clock = SimulatedClock(T0)
    _bot, adapter = await make_bot(db, tmp_path / "files", clock)
    await adapter.push(command("alice", "", clock, command="stop"))
    await adapter.push(command("alice", "--private How do I reset my password?", clock))
    [answer] = [
        d for d in adapter.directs if d.target == "alice" and "IT support portal" in d.message.text
    ]
    found = await ticket(db)
    assert found.private and found.state == "open"
    reaction = ReactionAdded(
        event_id="ev-dm-check",
        platform="memory",
        user=user("alice"),
        occurred_at=clock.now(),
        channel=ChannelRef("memory", answer.sent.channel_id, is_direct=True),
        message_id=answer.sent.message_id,
        emoji="white_check_mark",
    )
    await adapter.push(reaction)
    assert (await ticket(db)).state == "solved"
    assert "Solved" in adapter.content_of(answer.sent).text
