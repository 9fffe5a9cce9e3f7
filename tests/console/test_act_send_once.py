"""Send now from the Act page never sends a step twice: it takes the place of the same step
still waiting for a member, leaves out whoever has it already, and waits for the end of
quiet hours; the confirmation says so. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from rallybot.bot.adapters.memory import MemoryAdapter
from rallybot.bot.assembly import Rallybot
from rallybot.bot.views import member_view
from rallybot.campaigns.planner import PlannedDelivery, zone_of
from rallybot.storage.models import Delivery
from rallybot.storage.outbox import insert_deliveries
from rallybot.storage.repositories import get_member_by_platform_id, upsert_member
from tests.console.conftest import NOW, ConsoleClient, ConsoleEnv

STEP = {"campaign": "connect-launch", "step": "pilot-invitation"}
# The step as the confirmation names it: the first words of its message (a member's name as a
# marker), the campaign's title.
NAMED = "“Hello [first name], you are one of the 150 pioneers of the Connect pi…”"
ASKED = f"Send {NAMED} (Connect launch) now to 1 member?"


@pytest.fixture
async def bot(console: ConsoleEnv) -> AsyncIterator[Rallybot]:
    """The console served by a bot (memory adapter) with the example campaign."""
    running = Rallybot(console.settings, console.db, MemoryAdapter(), console.clock)
    running.campaigns = console.state.campaigns()
    console.state.bot = running
    yield running
    console.state.bot = None


def _directs(bot: Rallybot) -> list[str]:
    adapter = bot.adapter
    assert isinstance(adapter, MemoryAdapter)
    return [d.target for d in adapter.directs]


async def _plan_for_member(console: ConsoleEnv, bot: Rallybot, hours: int) -> None:
    """The planner's row of the step for the member, due in ``hours``, still waiting."""
    member = await get_member_by_platform_id(console.db, "slack", "UMEMBER")
    assert member is not None
    campaign = bot.campaigns["connect-launch"]
    step = next(s for s in campaign.steps if s.id == "pilot-invitation")
    now = console.clock.now()
    planned = PlannedDelivery(
        campaign,
        step,
        f"member:{member.id}",
        "once",
        now + timedelta(hours=hours),
        member_view(member),
        zone_of(member.timezone, console.settings.timezone),
    )
    async with console.db.session() as session:
        assert await insert_deliveries(session, [bot.delivery_row(planned, now)]) == 1


async def _question(http: ConsoleClient) -> str:
    page = await http.get("/act/confirm", params={**STEP, "target": "@UMEMBER"})
    found = re.search(r'<p class="question" id="act-question">([^<]*)</p>', page.text)
    assert found is not None
    return found.group(1).replace("&#34;", '"')


async def _send(http: ConsoleClient, key: str) -> dict[str, object]:
    answer = await http.post(
        "/api/act/send",
        json={**STEP, "key": key * 12, "target": "@UMEMBER"},
        headers=http.csrf_header(),
    )
    assert answer.status_code == 200
    result: dict[str, object] = answer.json()
    return result


async def test_send_now_replaces_the_waiting_message_then_not_again(
    console: ConsoleEnv, as_manager: ConsoleClient, bot: Rallybot
) -> None:
    await _plan_for_member(console, bot, hours=4)
    assert await _question(as_manager) == (
        f"{ASKED} 1 will receive it, nobody has it yet. Whoever was still to get it later as "
        "planned gets this message instead, not both."
    )
    done = await _send(as_manager, "a")
    assert (done["count"], done["replaced"], done["already"], done["quiet"]) == (1, 1, 0, 0)
    await bot.dispatcher.run_once()
    console.clock.set(NOW + timedelta(hours=5))  # past the planned time
    await bot.dispatcher.run_once()
    assert _directs(bot) == ["UMEMBER"]  # once
    async with console.db.read() as session:
        rows = await session.execute(
            sa.select(Delivery.occurrence, Delivery.status, Delivery.reason).order_by(Delivery.id)
        )
        assert tuple(rows.all()[0]) == (
            "once",
            "cancelled",
            "replaced: sent now by Morgan Manager",
        )
    # Sent already: the confirmation says so, and a new send now does not send it again.
    assert await _question(as_manager) == (
        f"{ASKED} 0 will receive it, 1 has it already (not sent again)."
    )
    values = {"csrf_token": as_manager.csrf, **STEP, "key": "b" * 12, "target": "@UMEMBER"}
    page = await as_manager.post("/act/send", data=values)
    assert f"{NAMED} was not sent again. 1 person has it already: not sent again." in page.text
    await bot.dispatcher.run_once()
    assert _directs(bot) == ["UMEMBER"]


async def test_send_now_waits_for_the_end_of_quiet_hours(
    console: ConsoleEnv, as_manager: ConsoleClient, bot: Rallybot
) -> None:
    # 04:00 in Montreal: inside the default quiet hours (21:00-08:00).
    await upsert_member(console.db, "slack", "UMEMBER", NOW, timezone="America/Montreal")
    assert await _question(as_manager) == (
        f"{ASKED} 1 will receive it, nobody has it yet. 1 of them is in their quiet hours now: "
        "they will get it when their quiet hours end. Whoever was still to get it later as "
        "planned gets this message instead, not both."
    )
    done = await _send(as_manager, "c")
    assert (done["count"], done["quiet"]) == (1, 1)
    await bot.dispatcher.run_once()
    assert _directs(bot) == []
    console.clock.set(NOW + timedelta(hours=4, minutes=1))  # 08:01 in Montreal
    await bot.dispatcher.run_once()
    assert _directs(bot) == ["UMEMBER"]


async def test_a_dispatcher_racing_send_now_sends_once(
    console: ConsoleEnv, as_manager: ConsoleClient, bot: Rallybot
) -> None:
    await _plan_for_member(console, bot, hours=0)  # due now: the dispatcher may take it
    await asyncio.gather(
        bot.dispatcher.run_once(), _send(as_manager, "d"), bot.dispatcher.run_once()
    )
    console.clock.set(NOW + timedelta(hours=1))
    await bot.dispatcher.run_once()
    assert _directs(bot) == ["UMEMBER"]


class MovingClock:
    """A clock that moves on at every reading, as the real one does between two readings."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        """A millisecond later than the last reading."""
        self.at += timedelta(milliseconds=1)
        return self.at

    async def sleep(self, seconds: float) -> None:
        """Move on by ``seconds``."""
        self.at += timedelta(seconds=seconds)


async def test_nothing_is_said_to_wait_for_quiet_hours_when_it_goes_at_once(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    # 09:00 in London: outside the member's quiet hours; a channel has none. A clock read
    # twice has moved on: the message due at the first reading is not "later" for that.
    console.state.clock = MovingClock(NOW)
    for step, target in (("pilot-invitation", "@UMEMBER"), ("teaser-4", "")):
        values = {"campaign": "connect-launch", "step": step, "key": f"{step}-key"}
        form = {"csrf_token": as_manager.csrf, **values}
        page = await as_manager.post(
            "/act/send", data={**form, "target": target} if target else form
        )
        assert "is on its way: 1 message queued." in page.text, step
        assert "quiet hours" not in page.text, step
        done = await as_manager.post(
            "/api/act/send",
            json={**values, "key": f"{step}-api", "target": target or None},
            headers=as_manager.csrf_header(),
        )
        assert done.json()["quiet"] == 0, step


async def test_the_planned_messages_a_send_now_replaces_are_counted_alike_everywhere(
    console: ConsoleEnv, as_manager: ConsoleClient, bot: Rallybot
) -> None:
    # Two of the pilot (one in Montreal's quiet hours), their step planned a week ahead and
    # not in the outbox yet; sent now twice, as a manager did in a trial.
    for who, zone in (("UP1", "Europe/London"), ("UP2", "America/Montreal")):
        await upsert_member(console.db, "slack", who, NOW, cohort="pilot", timezone=zone)
    form = {"csrf_token": as_manager.csrf, **STEP}  # to its audience, the pilot
    first = (await as_manager.post("/act/send", data={**form, "key": "f" * 12})).text
    # The planned message of each is replaced: the notice says so, in the pages' words.
    assert "2 planned, not sent: replaced by this send now." in first
    await bot.dispatcher.run_once()  # UP1 gets it; UP2 waits for the end of quiet hours
    second = (await as_manager.post("/act/send", data={**form, "key": "g" * 12})).text
    assert "1 person has it already: not sent again." in second
    assert "1 planned, not sent: replaced by this send now." in second
    # 2 people; 3 messages replaced in all (the second send now replaced the first one's
    # message still waiting for UP2): the pages say the same figure, apart from the others.
    act = (await as_manager.get("/act")).text
    assert "1 sent, 1 waiting, 3 planned, not sent: replaced by a send now" in act, act
    campaigns = (await as_manager.get("/campaigns")).text
    assert "3 planned, not sent: replaced by a send now" in campaigns
