"""Prometheus metrics: what the bot sent, received and waited for.

One :class:`Metrics` object per process (:data:`METRICS`), in a registry of its own so that
nothing a library registers globally leaks into ``/metrics``. The hooks in the outbox, the bot,
the rate limiter and the adapters call its small methods; each starts with one test of
:attr:`Metrics.enabled`, so a process that turns metrics off pays next to nothing.

Labels stay bounded: campaigns and steps come from the campaign files, event kinds and
methods from the code, platforms from the adapters; never a member, channel or message id.
The gauges that need the database (outbox lag, pending rows, active replicas) are read when
``/metrics`` is scraped (:func:`refresh_from_database`), not on every change.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

from rallybot.bot.health import active_replicas, outbox_backlog
from rallybot.storage.database import Database

__all__ = [
    "CONTENT_TYPE",
    "METRICS",
    "Metrics",
    "refresh_from_database",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Handlers answer in milliseconds; a slow database or a large fan-out takes seconds.
_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The bot's counters, gauges and histograms (see ``docs/reference/metrics.md``)."""

    def __init__(self, *, enabled: bool = True, process: bool = True) -> None:
        self.enabled = enabled
        self._children: dict[tuple[object, ...], Any] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        if process:  # CPU, memory, open files, GC: what an administrator looks at first
            process_collector.ProcessCollector(registry=self.registry)
            platform_collector.PlatformCollector(registry=self.registry)
            gc_collector.GCCollector(registry=self.registry)
        r = self.registry
        self.deliveries = Counter(
            "rallybot_deliveries",
            "Deliveries that reached a final state in this process, by outcome.",
            ["campaign", "step", "outcome"],
            registry=r,
        )
        self.delivery_retries = Counter(
            "rallybot_delivery_retries",
            "Sends put back in the queue to be tried again later (transient failures).",
            ["platform"],
            registry=r,
        )
        self.send_seconds = Histogram(
            "rallybot_delivery_send_seconds",
            "Time to send one delivery through the platform, rate limit waits included.",
            ["platform", "kind"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.events = Counter(
            "rallybot_inbound_events",
            "Inbound events by stage: received, deduplicated (dropped retries), handled, failed.",
            ["platform", "kind", "stage"],
            registry=r,
        )
        self.handle_seconds = Histogram(
            "rallybot_event_handle_seconds",
            "Time the features took to handle one inbound event.",
            ["platform", "kind"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.ratelimit_waits = Counter(
            "rallybot_ratelimit_waits",
            "Calls that had to wait for the rate limiter, by platform and rule.",
            ["platform", "method"],
            registry=r,
        )
        self.ratelimit_wait_seconds = Counter(
            "rallybot_ratelimit_wait_seconds",
            "Seconds spent waiting for the rate limiter, by platform and rule.",
            ["platform", "method"],
            registry=r,
        )
        self.rate_limited = Counter(
            "rallybot_rate_limited",
            "429 (rate limited) answers from the platform, by platform and API method.",
            ["platform", "method"],
            registry=r,
        )
        self.outbox_lag = Gauge(
            "rallybot_outbox_lag_seconds",
            "How late the oldest due pending delivery is (0 when none is due).",
            registry=r,
        )
        self.outbox_pending = Gauge(
            "rallybot_outbox_pending",
            "Pending deliveries of active campaigns that are due now.",
            registry=r,
        )
        self.replicas = Gauge(
            "rallybot_active_replicas",
            "Bot processes of each platform whose heartbeat in the database is recent.",
            ["platform"],
            registry=r,
        )
        self.ready = Gauge(
            "rallybot_ready",
            "1 when the last readiness check passed, else 0.",
            registry=r,
        )
        self.started = Gauge(
            "rallybot_start_time_seconds",
            "When this process started (Unix time).",
            registry=r,
        )
        self.started.set(time.time())

    # ---- hooks (each one test of ``enabled`` when off) ----------------------------------

    def _child(self, metric: Any, *labels: str) -> Any:
        # ``labels()`` takes a lock and builds a key on every call; the children are cached
        # here by their label values (bounded: see the module docstring).
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def delivery(self, campaign: str, step: str, outcome: str, count: int = 1) -> None:
        """Count deliveries that ended ``sent``, ``failed``, ``skipped`` or ``cancelled``."""
        if self.enabled and count:
            self._child(self.deliveries, campaign, step, outcome).inc(count)

    def retried(self, platform: str) -> None:
        """Count a send handed back to the queue."""
        if self.enabled:
            self._child(self.delivery_retries, platform).inc()

    def sent_in(self, platform: str, kind: str, seconds: float) -> None:
        """Record how long one send took."""
        if self.enabled:
            self._child(self.send_seconds, platform, kind).observe(seconds)

    def event(self, platform: str, kind: str, stage: str) -> None:
        """Count an inbound event at ``stage``."""
        if self.enabled:
            self._child(self.events, platform, kind, stage).inc()

    def handled_in(self, platform: str, kind: str, seconds: float) -> None:
        """Record how long the features took on one event."""
        if self.enabled:
            self._child(self.handle_seconds, platform, kind).observe(seconds)

    def waited(self, platform: str, method: str, seconds: float) -> None:
        """Record a wait for the rate limiter."""
        if self.enabled:
            self._child(self.ratelimit_waits, platform, method).inc()
            self._child(self.ratelimit_wait_seconds, platform, method).inc(seconds)

    def throttled(self, platform: str, method: str) -> None:
        """Count a 429 answer."""
        if self.enabled:
            self._child(self.rate_limited, platform, method).inc()

    @contextmanager
    def timer(self) -> Iterator[list[float]]:
        """Yields a one-item list that holds the elapsed seconds once the block ends."""
        elapsed = [0.0]
        start = time.perf_counter()
        try:
            yield elapsed
        finally:
            elapsed[0] = time.perf_counter() - start

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


METRICS = Metrics()
"""The process' metrics, served on ``/metrics``."""


async def refresh_from_database(
    metrics: Metrics, db: Database, now: datetime, *, stale_after: float
) -> None:
    """Set the gauges read from the database: outbox lag and backlog, active replicas (those
    whose heartbeat is at most ``stale_after`` seconds old)."""
    backlog = await outbox_backlog(db, now)
    metrics.outbox_lag.set(backlog.lag_seconds)
    metrics.outbox_pending.set(backlog.due)
    replicas = await active_replicas(db, now, stale_after)
    metrics.replicas.clear()  # a platform whose last replica stopped disappears
    for platform, count in replicas.items():
        metrics.replicas.labels(platform).set(count)
