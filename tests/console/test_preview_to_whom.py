"""A message's preview says whom the send reaches: one person by name, a channel by its name,
several people as the one whose message is shown and how many others get theirs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from rallybot.storage.models import Delivery, Member
from rallybot.storage.outbox import insert_deliveries
from tests.console.conftest import ConsoleClient, ConsoleEnv

PEOPLE = ("Amélie", "Bastien", "Chloé", "Dario")


def _dm(member: int, at: Any, occurrence: str = "once") -> dict[str, Any]:
    return {
        "campaign_id": "connect-launch",
        "step_id": "pilot-invitation",
        "recipient": f"member:{member}",
        "occurrence": occurrence,
        "due_at": at,
        "grace_until": at,
        "status": "sent",
        "reason": None,
        "payload": {"message": {"text": "Welcome to the pilot"}},
        "content_hash": "",
        "attempts": 1,
        "created_at": at,
        "updated_at": at,
        "sent_at": at,
        "platform_message_id": f"M-{member}-{occurrence}",
        "platform_channel_id": None,
    }


async def _sends(console: ConsoleEnv, locale: str) -> dict[str, int]:
    """The pilot invitation sent to four people at once, and again to Amélie alone (sent
    now); the manager reads ``locale``. The outbox ids, by who (and "alone")."""
    at = console.clock.now() - timedelta(hours=2)
    async with console.db.session() as session:
        await session.execute(
            sa.update(Member).where(Member.platform_user_id == "UMANAGER").values(locale=locale)
        )
        members = []
        for name in PEOPLE:
            member = Member(platform="slack", platform_user_id=f"U{name[:3].upper()}")
            member.display_name = name
            session.add(member)
            await session.flush()
            members.append(member.id)
        rows = [_dm(m, at) for m in members]
        rows.append(_dm(members[0], at + timedelta(minutes=5), "now-0123456789abcdef01234567"))
        await insert_deliveries(session, rows)
        found = await session.execute(
            sa.select(Delivery.id, Delivery.recipient, Delivery.occurrence)
        )
        ids = {}
        for delivery_id, recipient, occurrence in found.all():
            member = int(recipient.split(":")[1])
            name = PEOPLE[members.index(member)]
            ids[name if occurrence == "once" else "alone"] = delivery_id
    return ids


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("fr", ("Bastien et 3 autres", "Amélie ·")),
        ("en", ("Bastien and 3 others", "Amélie ·")),
    ],
)
async def test_a_send_to_four_names_one_and_counts_the_others(
    console: ConsoleEnv, as_manager: ConsoleClient, locale: str, words: tuple[str, str]
) -> None:
    ids = await _sends(console, locale)
    many, alone = words
    page = (await as_manager.get(f"/timeline/d{ids['Bastien']}")).text
    assert f"<dd>{many} ·" in page  # the message shown is Bastien's
    assert "<dd>Bastien ·" not in page
    one = (await as_manager.get(f"/timeline/d{ids['alone']}")).text
    assert f"<dd>{alone}" in one
