"""What metrics and context log fields cost per inbound event and per delivery.

The end-to-end Slack benchmarks (``bench.slack_bench --no-observability`` turns both off) are
too noisy on a shared machine to see a few per cent, so this one times, in one process, the
exact work the hooks add on each path, with metrics on and off, and prints it beside the time
the same path takes as a whole (measured by the Slack benchmarks, passed in as figures):

- per inbound event: two ``log_context`` blocks (accept, handle), ``received`` and ``handled``
  counters, the handling time histogram, the stopwatch;
- per delivery: one ``log_context`` block, the outcome counter, the send time histogram;
- per log line written: the context filter and the fields in the formatter.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

from rallybot.bot.logs import ContextFilter, _JsonFormatter, log_context, set_process_fields
from rallybot.bot.metrics import Metrics


def _event_hooks(metrics: Metrics, n: int) -> float:
    began = time.perf_counter()
    for i in range(n):
        with log_context(event=f"Ev{i}", platform="slack"):
            metrics.event("slack", "reaction_added", "received")
        with log_context(event=f"Ev{i}", platform="slack"):
            started = time.perf_counter()
            if metrics.enabled:
                metrics.handled_in("slack", "reaction_added", time.perf_counter() - started)
                metrics.event("slack", "reaction_added", "handled")
    return (time.perf_counter() - began) / n


def _delivery_hooks(metrics: Metrics, n: int) -> float:
    began = time.perf_counter()
    for i in range(n):
        with log_context(campaign="launch", step="welcome", delivery=i):
            started = time.perf_counter()
            if metrics.enabled:
                metrics.sent_in("slack", "dm", time.perf_counter() - started)
                metrics.delivery("launch", "welcome", "sent")
    return (time.perf_counter() - began) / n


def _log_line(n: int, *, context: bool) -> float:
    record = logging.LogRecord(
        "rallybot.outbox", logging.INFO, __file__, 1, "sent %s", ("k",), None
    )
    formatter = _JsonFormatter()
    flt = ContextFilter()
    set_process_fields(worker="bench-1")
    began = time.perf_counter()
    with log_context(campaign="launch", step="welcome", delivery=1):
        for _ in range(n):
            if context:
                flt.filter(record)
            formatter.format(record)
    return (time.perf_counter() - began) / n


def main() -> None:
    """Print one JSON line: microseconds per event, per delivery, per log line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument(
        "--event-ms", type=float, default=1.0, help="time one inbound event takes end to end"
    )
    parser.add_argument(
        "--delivery-ms", type=float, default=1.0, help="time one delivery takes end to end"
    )
    args = parser.parse_args()
    on, off = Metrics(process=False), Metrics(enabled=False, process=False)
    best = {"event_on": 1e9, "event_off": 1e9, "delivery_on": 1e9, "delivery_off": 1e9}
    for _ in range(5):  # interleaved, best of five: the machine is shared
        best["event_on"] = min(best["event_on"], _event_hooks(on, args.n))
        best["event_off"] = min(best["event_off"], _event_hooks(off, args.n))
        best["delivery_on"] = min(best["delivery_on"], _delivery_hooks(on, args.n))
        best["delivery_off"] = min(best["delivery_off"], _delivery_hooks(off, args.n))
    line_plain = min(_log_line(args.n // 4, context=False) for _ in range(3))
    line_context = min(_log_line(args.n // 4, context=True) for _ in range(3))
    event_us, delivery_us = best["event_on"] * 1e6, best["delivery_on"] * 1e6
    print(
        json.dumps(
            {
                "bench": "observability",
                "per_event_us": round(event_us, 2),
                "per_event_metrics_off_us": round(best["event_off"] * 1e6, 2),
                "per_event_share_pct": round(event_us / (args.event_ms * 1000) * 100, 2),
                "per_delivery_us": round(delivery_us, 2),
                "per_delivery_metrics_off_us": round(best["delivery_off"] * 1e6, 2),
                "per_delivery_share_pct": round(delivery_us / (args.delivery_ms * 1000) * 100, 2),
                "log_line_us": round(line_plain * 1e6, 2),
                "log_line_with_context_us": round(line_context * 1e6, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
