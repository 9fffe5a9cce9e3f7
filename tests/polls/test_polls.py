"""Poll steps and /rallybot poll end to end on the memory adapter and a simulated clock, on
SQLite and PostgreSQL: votes, a changed vote, multiple choice, the close and its results,
refused clicks (forged, replayed, stale, from outside the audience) and the managers' command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rallybot.bot.messages import Button
from rallybot.storage.database import Database
from rallybot.storage.poll_models import Poll, PollBallot, PollDraft, PollVote, PollVoter
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


async def _votes(db: Database, poll_id: str) -> list[tuple[int, int]]:
    return sorted(
        (r["member_id"], r["choice"]) for r in await rows(db, PollVote) if r["poll_id"] == poll_id
    )


async def test_single_choice_poll_vote_change_close_and_results(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    members = await add_members(db, 3)
    await bot.advance_to(POSTED)
    post = post_of(adapter, "lunch")
    assert post.target == "general"
    assert post.message.text == "Where shall we have lunch?"
    assert [b.label for b in post.message.buttons] == ["Pizza", "Sushi", "Salad bar"]
    assert all(b.action_id == "poll" for b in post.message.buttons)
    assert "One choice" in (post.message.context or "")
    assert "Closes" in (post.message.context or "")

    await click(bot, "u0", button(post, "Pizza"))
    assert last_dm(adapter, "u0") == "Your choice: Pizza."
    await click(bot, "u0", button(post, "Sushi"))  # a single choice: the new one replaces it
    assert last_dm(adapter, "u0") == "Your choice: Sushi."
    await click(bot, "u1", button(post, "Sushi"))
    await click(bot, "u2", button(post, "Salad bar"))
    ids = [m.id for m in members]
    assert await _votes(db, "launch/lunch") == sorted([(ids[0], 1), (ids[1], 1), (ids[2], 2)])

    # Live counts for a manager; a member is refused and nothing is shown.
    await command(bot, "cm", "results", "lunch")
    live = last_dm(adapter, "cm")
    assert "Where shall we have lunch? (launch/lunch, open)" in live
    assert "Sushi: 2 votes (67%)" in live and "Pizza: 0 votes (0%)" in live
    assert "3 people voted." in live
    await command(bot, "u0", "results", "lunch")
    assert last_dm(adapter, "u0") == "Only community managers can run polls."

    # The close: the results go to the channel, once.
    await bot.advance_to(CLOSED)
    results = [p for p in adapter.posts if p.message.metadata.get("results")]
    lunch = [p for p in results if p.message.metadata.get("poll") == "launch/lunch"]
    assert len(lunch) == 1 and lunch[0].target == "general"
    assert lunch[0].message.title == "Poll closed: Where shall we have lunch?"
    assert "██████▋" not in lunch[0].message.text
    assert "███████░░░ Sushi: 2 votes (67%)" in lunch[0].message.text
    assert "███░░░░░░░ Salad bar: 1 vote (33%)" in lunch[0].message.text
    await bot.advance_to(CLOSED + timedelta(hours=2))
    assert len([p for p in adapter.posts if p.message.metadata.get("results")]) == len(results)
    (poll,) = [r for r in await rows(db, Poll) if r["id"] == "launch/lunch"]
    assert poll["closed_at"] is not None

    # A click on the closed poll: refused, nothing stored.
    await click(bot, "u0", button(post, "Pizza"))
    assert last_dm(adapter, "u0") == "This poll is closed; your click was not counted."
    assert await _votes(db, "launch/lunch") == sorted([(ids[0], 1), (ids[1], 1), (ids[2], 2)])


async def test_multiple_choice_toggles(db: Database, tmp_path: Path) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    (member,) = await add_members(db, 1)
    await bot.advance_to(POSTED)
    post = post_of(adapter, "tools")
    assert "Pick any number" in (post.message.context or "")
    await click(bot, "u0", button(post, "Docs"))
    await click(bot, "u0", button(post, "Wiki"))
    assert last_dm(adapter, "u0") == "Your choice: Docs, Wiki."
    await click(bot, "u0", button(post, "Docs"))  # a second click takes it back
    assert last_dm(adapter, "u0") == "Your choice: Wiki."
    assert await _votes(db, "launch/tools") == [(member.id, 2)]
    await click(bot, "u0", button(post, "Wiki"))
    assert last_dm(adapter, "u0") == "You have no choice selected in this poll."
    assert await _votes(db, "launch/tools") == []


async def test_forged_replayed_and_outside_clicks_store_nothing(
    db: Database, tmp_path: Path
) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    members = await add_members(db, 2)
    await add_members_outside(db)
    await bot.advance_to(POSTED)
    post = post_of(adapter, "lunch")
    pizza = button(post, "Pizza")
    key = pizza.value.partition(":")[0]
    assert len(key) == 16 and key not in ("launch/lunch", "lunch")

    # A forged key (the survey's public short hash, a guess, a key with its last digit
    # changed), and a real key with a choice that does not exist.
    for value in (
        "0123456789abcdef:0",
        f"{key[:-1]}{'0' if key[-1] != '0' else '1'}:0",
        f"{key}:7",
        f"{key}:x",
        "garbage",
    ):
        await click(bot, "u0", pizza, value=value)
        assert last_dm(adapter, "u0") == "This button is not a poll of ours; nothing was recorded."
    assert await _votes(db, "launch/lunch") == []

    # A member who is not in the poll's channel.
    await click(bot, "outsider", pizza)
    assert last_dm(adapter, "outsider") == "This poll is not for you; nothing was recorded."
    assert await _votes(db, "launch/lunch") == []

    # A replayed click: the same event again is dropped; the same vote again changes nothing.
    await click(bot, "u1", pizza, event_id="click-replayed")
    await click(bot, "u1", pizza, event_id="click-replayed")
    await click(bot, "u1", pizza)
    assert await _votes(db, "launch/lunch") == [(members[1].id, 0)]
    assert [d.message.text for d in adapter.directs if d.target == "u1"] == [
        "Your choice: Pizza."
    ] * 2


async def add_members_outside(db: Database) -> None:
    from rallybot.storage.repositories import add_channel_member, upsert_member
    from tests.polls.helpers import LAUNCH

    outsider = await upsert_member(
        db, "memory", "outsider", LAUNCH, display_name="Outsider", locale="en"
    )
    assert outsider.id is not None
    await add_channel_member(db, "memory", "elsewhere", outsider.id)


async def test_a_poll_before_its_post_takes_no_vote(db: Database, tmp_path: Path) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    await add_members(db, 1)
    # The key is right (made with the server secret) but the post has not gone out yet.
    (poll,) = [r for r in await rows(db, Poll) if r["id"] == "launch/lunch"]
    await click(bot, "u0", Button(label="x", action_id="poll", value=f"{poll['key']}:0"))
    assert last_dm(adapter, "u0") == "This poll is not for you; nothing was recorded."
    assert await _votes(db, "launch/lunch") == []


async def test_managers_start_a_poll_here_and_members_cannot(db: Database, tmp_path: Path) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    members = await add_members(db, 2)
    await bot.advance_to(POSTED)
    adapter.clear()

    await command(bot, "u0", '"Pizza', "or", 'sushi?"', "Pizza", "Sushi")
    assert last_dm(adapter, "u0") == "Only community managers can run polls."
    assert adapter.posts == []

    await command(bot, "cm", '"Only', 'one?"', "Yes")
    assert "a question and 2 to 10 choices" in last_dm(adapter, "cm")
    await command(bot, "cm", '"Too', 'many?"', *[f"c{i}" for i in range(11)])
    assert "a question and 2 to 10 choices" in last_dm(adapter, "cm")
    await command(bot, "cm", '"Here?"', "A", "B", channel="dm-cm")
    assert "in the channel where the poll should go" in last_dm(adapter, "cm")
    assert adapter.posts == []

    await command(bot, "cm", "“Friday", "drinks?”", '"Yes please"', "No", "--multiple", "closes=2h")
    (post,) = adapter.posts
    assert post.target == "general" and post.message.text == "Friday drinks?"
    assert [b.label for b in post.message.buttons] == ["Yes please", "No"]
    name = str(post.message.metadata["poll"]).partition("/")[2]
    assert f"Poll {name} posted" in last_dm(adapter, "cm")
    await click(bot, "u0", button(post, "Yes please"))
    await click(bot, "u1", button(post, "No"))
    await click(bot, "u1", button(post, "Yes please"))
    assert last_dm(adapter, "u1") == "Your choice: Yes please, No."
    await command(bot, "cm", "results", name)
    assert "Yes please: 2 votes (67%)" in last_dm(adapter, "cm")
    await command(bot, "cm", "list")
    assert f"now/{name} — Friday drinks? (open)" in last_dm(adapter, "cm")

    await bot.advance_to(POSTED + timedelta(hours=3))
    (results,) = [p for p in adapter.posts if p.message.metadata.get("results")]
    assert results.target == "general"
    assert "Yes please: 2 votes (67%)" in results.message.text
    assert "2 people voted." in results.message.text
    assert {m.id for m in members} == {r["member_id"] for r in await rows(db, PollVote)}


async def test_nothing_of_an_anonymous_poll_in_the_vote_table(db: Database, tmp_path: Path) -> None:
    bot, adapter = make_bot(db, tmp_path)
    await bot.reload()
    await add_members(db, 1)
    await bot.advance_to(POSTED)
    post = post_of(adapter, "mood")
    assert all(b.action_id == "private-poll" for b in post.message.buttons)
    await click(bot, "u0", button(post, "Fine"))
    assert await rows(db, PollVote) == []
    assert len(await rows(db, PollVoter)) == 1
    assert [r["cast"] for r in await rows(db, PollDraft)] == [True]
    assert await rows(db, PollBallot) == []  # waits for a batch of 5 (or the close)
