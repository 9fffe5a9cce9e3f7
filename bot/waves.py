"""Waves: nobody hears anything before their wave opens.

A campaign's audience becomes a wave when it declares ``opens`` (a milestone expression, a
date, or ``manual``). The planner leaves members of a closed wave out of every plan (see
:func:`campaigns.planner.plan`); this module is the other half: the outbox gate that every
direct message goes through, whichever feature wrote it (journeys, quizzes, surveys, badges,
challenge news), and the manual openings a community manager makes with
``/rallybot wave open NAME``, kept as control flags so every replica sees them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from rallybot.bot.clock import Clock
from rallybot.bot.outbox import HANDED_BACK, Gate
from rallybot.campaigns.planner import NEVER, MemberView, member_opening, openings
from rallybot.campaigns.schema import Campaign
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import ControlFlag, Delivery, Member, table_of
from rallybot.storage.repositories import channel_memberships, get_flag, set_flag

__all__ = ["CLOSED_RECHECK", "FLAG_PREFIX", "Waves", "flag_name", "open_wave", "opened_waves"]

log = logging.getLogger("rallybot.waves")

FLAG_PREFIX = "wave:"
CLOSED_RECHECK = timedelta(hours=24)
"""How long a message to a member of a closed ``manual`` wave waits before it is looked at
again (opening the wave by command wakes it at once)."""

F = table_of(ControlFlag).c


def flag_name(wave: str) -> str:
    """The control flag recording that ``wave`` was opened by hand (its value is the name)."""
    name = FLAG_PREFIX + wave
    if len(name) <= 64:
        return name
    return f"{FLAG_PREFIX}{wave[:50]}~{hashlib.sha256(wave.encode()).hexdigest()[:8]}"


async def opened_waves(db: Database) -> dict[str, datetime]:
    """Wave name -> when a community manager opened it by command."""
    async with db.session() as session:
        rows = await session.execute(
            sa.select(F.value, F.updated_at).where(F.name.startswith(FLAG_PREFIX))
        )
        return {str(value): when for value, when in rows.all()}


async def open_wave(db: Database, wave: str, now: datetime, grace: timedelta) -> datetime | None:
    """Open ``wave`` now; returns when it had been opened already (then nothing changes).

    Messages held for members of a closed wave become due at once (the gate holds back again
    those whose member is still in another closed wave)."""
    existing = await get_flag(db, flag_name(wave))
    if existing is not None:
        return existing.updated_at
    await set_flag(db, flag_name(wave), wave, now)
    woken = await outbox.wake_held(db, None, now, grace)
    log.info("wave %s opened by hand; held messages now due: %d", wave, woken)
    return None


class Waves:
    """Each member's opening, kept up to date by the planning pass, and the outbox gate."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        view: Callable[[Member, set[str]], MemberView],
        *,
        worker_id: str,
    ) -> None:
        self.db = db
        self.clock = clock
        self.worker_id = worker_id
        self._view = view
        self.campaigns: tuple[Campaign, ...] = ()
        self.opened: dict[str, datetime] = {}
        self.channel_ids: dict[str, Mapping[str, str]] = {}
        self.by_member: dict[str, datetime] = {}
        """Member key -> opening, for members in a wave (what the planner is given)."""
        self._seen: dict[str, datetime] = {}  # member key -> updated_at when last worked out

    def update(
        self,
        campaigns: Sequence[Campaign],
        opened: Mapping[str, datetime],
        channel_ids: Mapping[str, Mapping[str, str]],
        rows: Sequence[tuple[MemberView, Member]],
    ) -> frozenset[str]:
        """Work out every member's opening again; returns the keys whose opening changed
        (their join-relative steps must be planned anew, from the new opening)."""
        self.campaigns = tuple(campaigns)
        self.opened = dict(opened)
        self.channel_ids = dict(channel_ids)
        before = self.by_member
        self.by_member = openings([v for v, _ in rows], self.campaigns, self.opened, channel_ids)
        self._seen = {view.key: member.updated_at for view, member in rows}
        keys = set(before) | set(self.by_member)
        return frozenset(k for k in keys if before.get(k) != self.by_member.get(k))

    async def opening_of(self, member: Member, *, fresh: bool = False) -> datetime | None:
        """When ``member``'s wave opens (None: no wave, open from the start); ``fresh``
        works it out again instead of using what the last planning pass found."""
        if not any(c.waves for c in self.campaigns):
            return None
        key = str(member.id)
        if not fresh and self._seen.get(key) == member.updated_at:
            return self.by_member.get(key)
        # A member new or changed since the last planning pass: work it out now.
        assert member.id is not None
        channels = await channel_memberships(self.db, [member.id])
        view = self._view(member, channels.get(member.id, set()))
        return member_opening(view, self.campaigns, self.opened, self.channel_ids)

    async def check(self, row: Delivery, member: Member) -> object:
        """The outbox gate: None lets the message go; a message to a member whose wave is
        not open goes back to the queue, due when it opens (:data:`bot.outbox.HANDED_BACK`).
        A service message (payload ``service``: a help ticket's reminder, evidence for a
        community manager) answers something a person did, it is no campaign news: it is never
        held."""
        if row.payload.get("service"):
            return None
        opening = await self.opening_of(member)
        now = self.clock.now()
        if opening is not None and opening >= NEVER:
            # A manual wave may have been opened a moment ago, here or on another replica:
            # ask the database before holding the message for a day.
            self.opened = await opened_waves(self.db)
            opening = await self.opening_of(member, fresh=True)
        if opening is None or opening <= now:
            return None
        until = opening if opening < NEVER else now + CLOSED_RECHECK
        await outbox.hold(self.db, row, self.worker_id, now, until)
        log.info("held %s until the member's wave opens (%s)", row.key, f"{until:%Y-%m-%d %H:%M}")
        return HANDED_BACK

    def wrap(self, inner: Gate | None) -> Gate:
        """A gate that asks :meth:`check` first, then ``inner`` (the features' gates)."""

        async def gate(row: Delivery, member: Member) -> object:
            verdict = await self.check(row, member)
            if verdict is not None or inner is None:
                return verdict
            return await inner(row, member)

        return gate
