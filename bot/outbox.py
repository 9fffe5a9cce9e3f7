"""The dispatcher: claim due outbox rows, send them through the adapter, record the result.

Nothing is sent inside a database transaction, and nothing is recorded without the claim:
a crash between claim and send leaves a claim that expires and is sent later; a crash
between send and record is recovered by asking the platform whether the message with this
key already went out (:meth:`Adapter.find_sent`). Where the platform cannot tell, the one
in-flight message may go out twice, and that is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from rallybot.bot.adapters.base import Adapter, AdapterError, SentMessage, TransientSendError
from rallybot.bot.clock import Clock
from rallybot.bot.logs import log_context
from rallybot.bot.messages import Message
from rallybot.bot.metrics import METRICS
from rallybot.bot.ratelimit import RateLimiter
from rallybot.storage import outbox
from rallybot.storage.batching import GroupCommit
from rallybot.storage.database import Database
from rallybot.storage.models import Delivery, DeliveryStatus, Member
from rallybot.storage.repositories import get_members

__all__ = [
    "MISSED",
    "NOT_NEEDED",
    "OPTED_OUT",
    "REMOVED",
    "DispatchStats",
    "Dispatcher",
    "SendHook",
]

log = logging.getLogger("rallybot.outbox")

SendHook = Callable[[Delivery, SentMessage | None], None]
Gate = Callable[[Delivery, Member], Awaitable[object]]
"""Asked before a direct message goes, after the built-in checks: None lets it go, a text
skips it with that reason, :data:`HANDED_BACK` means the gate put the row back in the queue
itself (due later). Features hook their own conditions (``unless: task_done(...)``) here."""
HANDED_BACK = object()
# How the reasons of skipped messages begin (kept in English for the logs; the console words
# them for the manager by these prefixes).
MISSED = "missed: "
"""Past its grace: the bot was stopped, or the campaign paused, until too late."""
OPTED_OUT = "opted out: "
REMOVED = "member removed: "
NOT_NEEDED = "condition met: "
"""Its ``unless:`` condition held when it was due (a gate's verdict may say so too)."""
EDIT_WAIT_SECONDS = 5.0
"""How long an edit waits, when the message it changes has not gone out yet, before it looks
again."""
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
        # Sends about to begin, marked in the database together (one transaction for those
        # that start at the same moment) before they go: see outbox.begin_attempts.
        self._begins: GroupCommit[int, bool] = GroupCommit(self._write_begins)
        self._held: set[int] = set()  # ids claimed and not finished: the heartbeat renews them
        self._rate: float | None = None  # rows handled per second, measured batch after batch
        # One batch at a time (``_held`` is the batch's): a tick waits for the batch under
        # way, a notice sent at once (send_now) leaves its rows to it instead.
        self._busy = asyncio.Lock()

    def claim_size(self) -> int:
        """How many rows to claim: what can be handled within half a lease at the rate just
        measured (between ``concurrency`` and ``batch``), so that a claim never outlives its
        lease waiting in this process while other replicas could have sent it."""
        if self._rate is None:
            return self.batch
        within = int(self._rate * self.lease.total_seconds() / 2)
        return max(min(self.batch, within), min(self.concurrency, self.batch), 1)

    async def take_back(self) -> int:
        """At start: put back at once the claims this worker id's previous run left (it was
        killed), instead of waiting for their lease. The caller makes sure that no other live
        process uses this worker id (see :mod:`storage.worker_lock`)."""
        count = await outbox.take_back_own(self.db, self.worker_id, self.clock.now())
        if count:
            log.warning(
                "took back the claims left by the previous run of %s (it stopped without "
                "releasing them): %d; those whose send had begun are checked with the platform "
                "first",
                self.worker_id,
                count,
            )
        return count

    async def _write_begins(self, ids: Sequence[int]) -> list[bool]:
        marked = await outbox.begin_attempts(self.db, ids, self.worker_id, self.clock.now())
        return [i in marked for i in ids]

    async def _heartbeat(self) -> None:
        """Renew the leases of the claims in hand every third of a lease, while a batch runs."""
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            held = list(self._held)
            if not held:
                continue
            try:
                await outbox.renew_leases(
                    self.db, held, self.worker_id, self.clock.now(), self.lease
                )
            except Exception:  # the next beat tries again; the lease covers two more
                log.warning(
                    "could not renew the leases of the claims held: %d", len(held), exc_info=True
                )

    def stop(self) -> None:
        """Finish the sends under way, start no new one."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopping

    async def run_once(self, *, until: datetime | None = None) -> DispatchStats:
        """Claim one batch of due deliveries and send them.

        With ``until``, a due time just ahead on a simulated clock running at a speed: claim
        the rows due by then too, and send them once the clock reaches it. The claim is made
        beforehand because at such a speed its few milliseconds are simulated minutes.
        """
        async with self._busy:
            return await self._run(None, until)

    async def send_now(self, keys: Sequence[tuple[str, str, str, str]]) -> DispatchStats:
        """Send the due rows of ``keys`` (notices just queued) now, unless a batch is under
        way: the running loop takes them with its next batch then, a second later at most."""
        if not keys or self._busy.locked():
            return DispatchStats()
        async with self._busy:
            return await self._run(keys)

    async def _run(
        self, keys: Sequence[tuple[str, str, str, str]] | None, until: datetime | None = None
    ) -> DispatchStats:
        stats = DispatchStats()
        if self._stopping:
            return stats
        now = self.clock.now()
        size = self.claim_size()
        rows = await outbox.claim_due(
            self.db, now, self.worker_id, self.lease, size, keys=keys, due_by=until
        )
        stats.claimed = len(rows)
        if not rows:
            return stats
        began = time.monotonic()
        self._held = {r.id for r in rows if r.id is not None}
        heartbeat = asyncio.create_task(self._heartbeat())
        # Messages to one channel or person keep their order; different targets go in parallel.
        groups: dict[str, list[Delivery]] = defaultdict(list)
        for row in rows:
            groups[row.recipient].append(row)
        # One query for the batch's members, not one per direct message.
        members = await get_members(
            self.db, [int(r.payload["member_id"]) for r in rows if "member_id" in r.payload]
        )
        if until is not None and (ahead := (until - self.clock.now()).total_seconds()) > 0:
            await self.clock.sleep(ahead)  # nothing leaves before it is due
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
                    # Every line logged about this delivery, here or below, says which it is.
                    with log_context(
                        campaign=item.campaign_id, step=item.step_id, delivery=item.id
                    ):
                        await self._deliver(item, stats, members)
                        if item.payload.get("scrub") and item.id is not None:
                            # A row that must not keep its words or its person once finished
                            # (a member's question posted for them, "forget me" confirmed),
                            # nor, for an anonymous survey's, a time finer than its day.
                            await outbox.scrub_finished(
                                self.db, item.id, to_day=bool(item.payload.get("blur"))
                            )
                    self._held.discard(item.id or 0)

        try:
            await asyncio.gather(*(run_group(items) for items in groups.values()))
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        if self._stopping:
            await outbox.release_all(self.db, self.worker_id, self.clock.now())
        self._held = set()
        elapsed = time.monotonic() - began
        handled = (
            stats.sent
            + stats.recovered
            + stats.skipped
            + stats.retried
            + stats.failed
            + stats.lost_claims
        )
        if elapsed > 0 and handled > 0 and len(rows) >= min(size, self.concurrency):
            rate = handled / elapsed
            self._rate = rate if self._rate is None else 0.5 * self._rate + 0.5 * rate
        return stats

    async def _lost_before_send(self, row: Delivery, stats: DispatchStats) -> None:
        """The claim was gone when the send was about to begin: nothing was sent."""
        assert row.id is not None
        stats.lost_claims += 1
        now_held = await outbox.holder(self.db, row.id)
        owner = now_held[1] if now_held is not None else None
        if owner is not None and owner != self.worker_id:
            log.warning("did not send %s: another replica (%s) owns it now", row.key, owner)
        else:
            log.info("did not send %s: its claim lapsed before the send began", row.key)

    async def _record_lapsed(self, row: Delivery, sent: SentMessage, stats: DispatchStats) -> None:
        """Sent, but the claim lapsed meanwhile. If nobody took the row, record the send now
        (it will not go twice); if another replica did, it will find this send on the platform
        (``attempted_at`` is set) before sending."""
        assert row.id is not None
        now_held = await outbox.holder(self.db, row.id)
        status, owner = now_held if now_held is not None else ("deleted", None)
        if status == "pending" and await outbox.mark_sent_unclaimed(
            self.db,
            row.id,
            self.clock.now(),
            sent.channel_id,
            sent.message_id,
            audience_of=self._audience_of(row),
        ):
            log.info("recorded %s as sent although its claim had lapsed (nobody took it)", row.key)
            return
        stats.lost_claims += 1
        if owner is not None and owner != self.worker_id:
            log.warning(
                "sent %s but its claim had lapsed; another replica (%s) owns it now and will "
                "find this send before sending",
                row.key,
                owner,
            )
        else:
            log.info("sent %s; it was meanwhile recorded as %s", row.key, status)

    def _audience_of(self, row: Delivery) -> str | None:
        """The platform whose channel members see a channel post (its audience is kept with
        it, for reach); None for a direct message or an edit."""
        if row.payload.get("edit") is not None:
            return None
        return self.adapter.platform if row.recipient.startswith("channel:") else None

    async def _edited(
        self,
        row: Delivery,
        original: int | Sequence[str],
        stats: DispatchStats,
        *,
        missing: str = "nothing to edit: the message never went out",
    ) -> SentMessage | None:
        """The message an edit row changes (payload ``edit``: the id of the delivery that sent
        it), or that a reply answers in its thread (payload ``thread_of``: that delivery's key),
        once it is out; None when the row waits for it (handed back, due a little later) or is
        skipped (``missing``) because it never went out."""
        assert row.id is not None
        found = await outbox.sent_as(self.db, original)
        if found is None or found[0] not in (
            DeliveryStatus.sent.value,
            DeliveryStatus.pending.value,
            DeliveryStatus.claimed.value,
        ):
            await self._skip(row, missing, stats)
            return None
        status, channel_id, message_id = found
        if channel_id is None or message_id is None or status != DeliveryStatus.sent.value:
            now = self.clock.now()
            retry_at = now + timedelta(seconds=EDIT_WAIT_SECONDS)
            await outbox.release(
                self.db, row.id, self.worker_id, now, retry_at, reason="waiting for its message"
            )
            stats.retried += 1
            return None
        return SentMessage(channel_id, message_id)

    async def _skip(self, row: Delivery, reason: str, stats: DispatchStats) -> None:
        assert row.id is not None
        await outbox.mark_skipped(self.db, row.id, self.worker_id, self.clock.now(), reason)
        stats.skipped += 1
        METRICS.delivery(row.campaign_id, row.step_id, "skipped")
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
        edited: SentMessage | None = None
        original = payload.get("edit")
        if original is not None:  # a change to a message sent before: by the outbox (its row
            # id), or named by its platform ids
            if isinstance(original, dict):
                edited = SentMessage(str(original["channel"]), str(original["message"]))
            else:
                edited = await self._edited(row, int(original), stats)
                if edited is None:
                    return
            kind, target = "edit", edited.channel_id
        else:
            kind, recipient = await self._target(row, stats, members)
            if recipient is None:
                return
            target = recipient
        if self.render is not None and payload.get("render"):
            try:
                message = await self.render(row, message)
            except Exception:  # the message goes as planned rather than not at all
                log.exception("could not render %s; sending it as planned", row.key)
        # A channel row may answer in a thread (the help desk's reminders in a question's),
        # named, or that of a message the outbox posts first (``thread_of``: its row's key).
        thread = str(payload["thread"]) if kind == "post" and payload.get("thread") else None
        if kind == "post" and payload.get("thread_of") is not None:
            missing = "nothing to answer: the message it answers never went out"
            root = await self._edited(row, payload["thread_of"], stats, missing=missing)
            if root is None:
                return
            thread = root.message_id
        # An earlier send began: it may have gone out (an edit made twice shows once).
        if row.attempted_at is not None and edited is None:
            try:
                if thread is None:
                    found = await self.adapter.find_sent(target, row.key)
                else:
                    found = await self.adapter.find_sent(target, row.key, thread_id=thread)
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
                    audience_of=self._audience_of(row),
                )
                stats.recovered += 1
                METRICS.delivery(row.campaign_id, row.step_id, "sent")
                log.info("recovered %s: already delivered before an interruption", row.key)
                return
            if self.adapter.capabilities.idempotent_send:
                log.info(
                    "resending %s after an interrupted attempt (attempt %d) with the same key: "
                    "the platform drops it if the earlier send went through",
                    row.key,
                    row.attempts,
                )
            elif self.adapter.capabilities.confirms_sends:
                log.info(
                    "sending %s after an interrupted attempt (attempt %d): the platform "
                    "confirms the earlier one did not go out",
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
        started = time.perf_counter()
        try:
            if self.limiter is not None:
                await self.limiter.acquire(*self.rate_keys(kind, target))
            if not await self._begins.submit(row.id):
                await self._lost_before_send(row, stats)
                return
            if edited is not None:
                await self.adapter.update(edited, message)
                sent = edited
            elif kind == "dm":
                sent = await self.adapter.send_direct(target, message, idempotency_key=row.key)
            elif thread is not None:
                sent = await self.adapter.reply(target, thread, message, idempotency_key=row.key)
            else:
                sent = await self.adapter.post(target, message, idempotency_key=row.key)
        except TransientSendError as exc:
            await self._retry(row, exc, stats)
            return
        except AdapterError as exc:
            await outbox.mark_failed(self.db, row.id, self.worker_id, self.clock.now(), str(exc))
            stats.failed += 1
            METRICS.delivery(row.campaign_id, row.step_id, "failed")
            log.error("failed %s for good: %s", row.key, exc)
            return
        recorded = await outbox.mark_sent(
            self.db,
            row.id,
            self.worker_id,
            self.clock.now(),
            sent.channel_id,
            sent.message_id,
            audience_of=self._audience_of(row),
        )
        if not recorded:
            await self._record_lapsed(row, sent, stats)
        stats.sent += 1
        if METRICS.enabled:
            METRICS.sent_in(self.adapter.platform, kind, time.perf_counter() - started)
            METRICS.delivery(row.campaign_id, row.step_id, "sent")
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
        if payload.get("user") is not None:  # a person with no member row any more
            return "dm", str(payload["user"])
        member = members.get(int(payload["member_id"]))
        if member is None:
            await self._skip(row, f"{REMOVED}no longer in the database", stats)
            return "dm", None
        # A service message answers something the person did (their help question) or is work
        # for them (evidence to judge): "/rallybot stop" turns off campaign messages only.
        if member.opted_out and not payload.get("service"):
            await self._skip(row, f"{OPTED_OUT}the member asked for no messages", stats)
            return "dm", None
        for condition in payload.get("unless", ()):
            if condition == "profile_complete" and member.profile_complete:
                await self._skip(row, f"{NOT_NEEDED}the profile is already complete", stats)
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
            METRICS.delivery(row.campaign_id, row.step_id, "failed")
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
        METRICS.retried(self.adapter.platform)
        log.info("will retry %s in %.1fs: %s", row.key, delay, exc)
