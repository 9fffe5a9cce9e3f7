"""Notices: the messages that report a change (points granted, an answer recorded, a decision,
a deletion done, a poll closed), queued in the outbox in the transaction of that change.

A feature writes a notice with :func:`queue` in the session that makes the change: the row and
the change are committed together or not at all, and the row's key (campaign id, step id,
recipient, occurrence) is derived from the change (a submission id, a poll id, an answer), so a
replayed event or a retried tick queues it once. The dispatcher sends it with its retries, rate
limits and crash recovery (:mod:`bot.outbox`).

So that a notice does not wait for the next dispatch tick, the kernel collects the keys queued
while it handles an event (:func:`collecting`) and has the dispatcher send those rows right after
the event's transaction is committed (:meth:`bot.outbox.Dispatcher.send_now`).

Replies that change nothing (a help text, a list, a usage line) stay direct: sent again, they
do no harm, and nothing is lost that the member cannot ask for again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rallybot.bot.messages import Message
from rallybot.storage import outbox
from rallybot.storage.models import DeliveryStatus

__all__ = [
    "ANONYMOUS_STEP",
    "GRACE",
    "Key",
    "anonymous_row",
    "channel_row",
    "collecting",
    "day_of",
    "direct_row",
    "person_row",
    "queue",
]

GRACE = timedelta(days=1)
"""How long a notice may wait for a platform that is down before it is skipped."""

ANONYMOUS_STEP = "anonymous"
"""The step id of every row of :func:`anonymous_row` (the console leaves them out)."""

Key = tuple[str, str, str, str]
"""An outbox row's key: campaign id, step id, recipient, occurrence."""

_QUEUED: ContextVar[list[Key] | None] = ContextVar("rallybot_notices", default=None)


def _row(
    campaign_id: str,
    step_id: str,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    occurrence: str,
    grace: timedelta,
    service: bool,
) -> dict[str, Any]:
    # ``service`` lets a notice through a closed wave and past "/rallybot stop": it answers
    # something the person did (or is work for them), it is no campaign news.
    return {
        "campaign_id": campaign_id,
        "step_id": step_id,
        "recipient": recipient,
        "occurrence": occurrence,
        "due_at": now,
        "grace_until": now + grace,
        "status": DeliveryStatus.pending.value,
        "reason": None,
        "payload": {**payload, "service": True} if service else payload,
        "content_hash": "",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def direct_row(
    campaign_id: str,
    step_id: str,
    member_id: int,
    message: Message,
    now: datetime,
    *,
    occurrence: str = "once",
    grace: timedelta = GRACE,
    service: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """An outbox row for a direct message to the member ``member_id``; ``extra`` goes into
    the payload (``excerpt``, ``unless``...)."""
    payload = {"message": message.to_dict(), "member_id": member_id, **extra}
    return _row(
        campaign_id,
        step_id,
        f"member:{member_id}",
        payload,
        now,
        occurrence=occurrence,
        grace=grace,
        service=service,
    )


def person_row(
    campaign_id: str,
    step_id: str,
    key: str,
    user_id: str,
    message: Message,
    now: datetime,
    *,
    grace: timedelta = GRACE,
) -> dict[str, Any]:
    """An outbox row for a direct message to a person who has no member row any more (the
    confirmation of "forget me"), by platform user id: ``key`` (a keyed hash, never the id)
    makes the row's recipient, and the dispatcher empties the row once it is finished."""
    payload = {"message": message.to_dict(), "user": user_id, "scrub": True}
    return _row(
        campaign_id,
        step_id,
        f"{outbox.PERSON}{key}",
        payload,
        now,
        occurrence="once",
        grace=grace,
        service=True,
    )


def day_of(now: datetime) -> datetime:
    """The start of ``now``'s day (UTC): the only time an anonymous survey's rows keep."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def anonymous_row(
    campaign_id: str,
    key: str,
    member_id: int,
    message: Message,
    now: datetime,
    *,
    grace: timedelta = GRACE,
) -> dict[str, Any]:
    """An outbox row for a direct message that follows an answer to an anonymous survey (its
    next question, its thanks). ``key`` (a keyed hash, never the member id) makes the row's
    recipient; every time it holds is the start of ``now``'s day, not the second of the answer;
    the dispatcher empties it once finished and takes the times it wrote back to that day
    (:func:`storage.outbox.scrub_finished`). It must hold nothing drawn from the answers."""
    day = day_of(now)
    payload = {"message": message.to_dict(), "member_id": member_id, "scrub": True, "blur": True}
    return _row(
        campaign_id,
        ANONYMOUS_STEP,
        f"{outbox.ANONYMOUS}{key}",
        payload,
        day,
        occurrence="once",
        # A whole day more, so that the grace from now is full and its end a day's start too.
        grace=grace + timedelta(days=1),
        service=True,
    )


def channel_row(
    campaign_id: str,
    step_id: str,
    channel_id: str,
    message: Message,
    now: datetime,
    *,
    thread: str | None = None,
    occurrence: str = "once",
    grace: timedelta = GRACE,
    service: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """An outbox row for a post in the platform channel ``channel_id`` (in ``thread``)."""
    payload: dict[str, Any] = {"message": message.to_dict(), "channel": channel_id, **extra}
    if thread is not None:
        payload["thread"] = thread
    return _row(
        campaign_id,
        step_id,
        f"channel:{channel_id}",
        payload,
        now,
        occurrence=occurrence,
        grace=grace,
        service=service,
    )


async def queue(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Write ``rows`` in ``session`` (the transaction of the change they report), each once:
    a row whose key is already there is left alone. Their keys go to the kernel, which has
    them sent as soon as the event being handled is committed. How many were new."""
    added = await outbox.insert_deliveries(session, rows)
    keys = _QUEUED.get()
    if keys is not None:
        keys.extend(
            (row["campaign_id"], row["step_id"], row["recipient"], row["occurrence"])
            for row in rows
        )
    return added


@contextmanager
def collecting() -> Iterator[list[Key]]:
    """Collect the keys of the notices queued in this block (and in the tasks it starts)."""
    keys: list[Key] = []
    token = _QUEUED.set(keys)
    try:
        yield keys
    finally:
        _QUEUED.reset(token)
