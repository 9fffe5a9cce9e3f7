"""The dispatcher: claim due outbox rows, send them through the adapter, record the result.

Nothing is sent inside a database transaction, and nothing is recorded without the claim:
a crash between claim and send leaves a claim that expires and is sent later; a crash
between send and record is recovered by asking the platform whether the message with this
key already went out (:meth:`Adapter.find_sent`). Where the platform cannot tell, the one
in-flight message may go out twice, and that is logged.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from rallybot.bot.adapters.base import Adapter, AdapterError, SentMessage, TransientSendError
from rallybot.bot.clock import Clock
from rallybot.bot.messages import Message
from rallybot.bot.ratelimit import RateLimiter
from rallybot.storage import outbox
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, Member
from rallybot.storage.repositories import get_members

__all__ = ["DispatchStats", "Dispatcher", "SendHook"]

log = logging.getLogger("rallybot.outbox")

SendHook = Callable[[Delivery, SentMessage | None], None]
Gate = Callable[[Delivery, Member], Awaitable[object]]
"""Asked before a direct message goes, after the built-in checks: None lets it go, a text
skips it with that reason, :data:`HANDED_BACK` means the gate put the row back in the queue
itself (due later). Features hook their own conditions (``unless: task_done(...)``) here."""
HANDED_BACK = object()
Render = Callable[[Delivery, Message], Awaitable[Message]]
"""Called just before a delivery whose payload carries a ``render`` marker is sent: returns
the message to send (a leaderboard step's standings are written then, not when planned)."""


@dataclass
class DispatchStats:
    """What one dispatch pass did."""

    claimed: int = 0
    sent: int = 0
    recovered: int = 0  # found already sent after an interrupted attempt
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    lost_claims: int = 0  # claims taken over by another replica before we recorded
    skip_reasons: dict[str, int] = field(default_factory=dict)


class Dispatcher:
    """Sends due deliveries; one per process (``worker_id`` names it in the database)."""

    def __init__(
        self,
        db: Database,
        adapter: Adapter,
        clock: Clock,
        *,
        worker_id: str | None = None,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 100,
        limiter: RateLimiter | None = None,
        rate_keys: Callable[[str, str], tuple[str, ...]] | None = None,
        max_attempts: int = 8,
        concurrency: int = 8,
        on_sent: SendHook | None = None,
    ) -> None:
        self.db = db
        self.adapter = adapter
        self.clock = clock
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self.lease = lease
        self.batch = batch
        self.limiter = limiter
        self.rate_keys = rate_keys or (lambda kind, target: ("global", f"{kind}:{target}"))
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.on_sent = on_sent
        self.gate: Gate | None = None
        self.render: Render | None = None
        self._stopping = False

    def stop(self) -> None:
        """Finish the sends under way, start no new one."""
        self._stopping = True

    async def run_once(self) -> DispatchStats:
        """Claim one batch of due deliveries and send them."""
        stats = DispatchStats()
        if self._stopping:
            return stats
        now = self.clock.now()
        rows = await outbox.claim_due(self.db, now, self.worker_id, self.lease, self.batch)
        stats.claimed = len(rows)
        if not rows:
            return stats
        # Messages to one channel or person keep their order; different targets go in parallel.
        groups: dict[str, list[Delivery]] = defaultdict(list)
        for row in rows:
            groups[row.recipient].append(row)
        # One query for the batch's members, not one per direct message.
        members = await get_members(
            self.db, [int(r.payload["member_id"]) for r in rows if "member_id" in r.payload]
        )
        # Where the platform can neither drop a repeated send nor confirm an earlier one, a
        # crash could duplicate every message in flight: send one at a time so it is one.
        caps = self.adapter.capabilities
        parallel = self.concurrency if (caps.idempotent_send or caps.confirms_sends) else 1
        semaphore = asyncio.Semaphore(parallel)

        async def run_group(items: list[Delivery]) -> None:
            async with semaphore:
                for item in items:
                    if self._stopping:
                        break
                    await self._deliver(item, stats, members)

        await asyncio.gather(*(run_group(items) for items in groups.values()))
        if self._stopping:
            await outbox.release_all(self.db, self.worker_id, self.clock.now())
        return stats

    async def _skip(self, row: Delivery, reason: str, stats: DispatchStats) -> None:
        assert row.id is not None
        await outbox.mark_skipped(self.db, row.id, self.worker_id, self.clock.now(), reason)
        stats.skipped += 1
        label = reason.split(":", maxsplit=1)[0]
        stats.skip_reasons[label] = stats.skip_reasons.get(label, 0) + 1
        log.info("skipped %s: %s", row.key, reason)

    async def _deliver(
        self, row: Delivery, stats: DispatchStats, members: dict[int, Member]
    ) -> None:
        assert row.id is not None
        payload = row.payload
        message = Message.from_dict(payload["message"])
        message = replace(message, metadata={**message.metadata, "delivery_key": row.key})
        kind, target = await self._target(row, stats, members)
        if target is None:
            return
        if self.render is not None and payload.get("render"):
            try:
                message = await self.render(row, message)
            except Exception:  # the message goes as planned rather than not at all
                log.exception("could not render %s; sending it as planned", row.key)
        if row.attempts > 1:
            try:
                found = await self.adapter.find_sent(target, row.key)
            except TransientSendError as exc:  # the platform is unreachable: try again later
                await self._retry(row, exc, stats)
                return
            if found is not None:
                await outbox.mark_sent(
                    self.db,
                    row.id,
                    self.worker_id,
                    self.clock.now(),
                    found.channel_id,
                    found.message_id,
                )
                stats.recovered += 1
                log.info("recovered %s: already delivered before an interruption", row.key)
                return
            if self.adapter.capabilities.idempotent_send:
                log.info(
                    "resending %s after an interrupted attempt (attempt %d) with the same key: "
                    "the platform drops it if the earlier send went through",
                    row.key,
                    row.attempts,
                )
            else:
                log.warning(
                    "resending %s after an interrupted attempt (attempt %d): the platform "
                    "cannot confirm the earlier send, so this one message may appear twice",
                    row.key,
                    row.attempts,
                )
        try:
            if self.limiter is not None:
                await self.limiter.acquire(*self.rate_keys(kind, target))
            if kind == "dm":
                sent = await self.adapter.send_direct(target, message, idempotency_key=row.key)
            else:
                sent = await self.adapter.post(target, message, idempotency_key=row.key)
        except TransientSendError as exc:
            await self._retry(row, exc, stats)
            return
        except AdapterError as exc:
            await outbox.mark_failed(self.db, row.id, self.worker_id, self.clock.now(), str(exc))
            stats.failed += 1
            log.error("failed %s for good: %s", row.key, exc)
            return
        recorded = await outbox.mark_sent(
            self.db, row.id, self.worker_id, self.clock.now(), sent.channel_id, sent.message_id
        )
        if not recorded:
            stats.lost_claims += 1
            log.warning("sent %s but its claim had expired; another replica owns it now", row.key)
        stats.sent += 1
        if self.on_sent is not None:
            self.on_sent(row, sent)
        if message.pin and self.adapter.capabilities.pins:
            try:
                await self.adapter.pin(sent)
            except AdapterError as exc:
                log.warning("could not pin %s: %s", row.key, exc)

    async def _target(
        self, row: Delivery, stats: DispatchStats, members: dict[int, Member]
    ) -> tuple[str, str | None]:
        payload = row.payload
        if row.recipient.startswith("channel:"):
            return "post", str(payload["channel"])
        member = members.get(int(payload["member_id"]))
        if member is None:
            await self._skip(row, "member removed: no longer in the database", stats)
            return "dm", None
        if member.opted_out:
            await self._skip(row, "opted out: the member asked for no messages", stats)
            return "dm", None
        for condition in payload.get("unless", ()):
            if condition == "profile_complete" and member.profile_complete:
                await self._skip(row, "condition met: the profile is already complete", stats)
                return "dm", None
        if self.gate is not None:
            verdict = await self.gate(row, member)
            if verdict is HANDED_BACK:
                stats.retried += 1
                return "dm", None
            if isinstance(verdict, str):
                await self._skip(row, verdict, stats)
                return "dm", None
        return "dm", member.platform_user_id

    async def _retry(self, row: Delivery, exc: TransientSendError, stats: DispatchStats) -> None:
        assert row.id is not None
        now = self.clock.now()
        if row.attempts >= self.max_attempts:
            await outbox.mark_failed(
                self.db,
                row.id,
                self.worker_id,
                now,
                f"gave up after {row.attempts} attempts: {exc}",
            )
            stats.failed += 1
            log.error("gave up on %s after %d attempts: %s", row.key, row.attempts, exc)
            return
        delay = exc.retry_after if exc.retry_after is not None else min(2.0**row.attempts, 300.0)
        if self.limiter is not None and exc.retry_after is not None:
            self.limiter.penalize("*", exc.retry_after)
        await outbox.release(
            self.db,
            row.id,
            self.worker_id,
            now,
            now + timedelta(seconds=delay),
            reason=f"retrying: {exc}",
        )
        stats.retried += 1
        log.info("will retry %s in %.1fs: %s", row.key, delay, exc)
