"""What metrics and context log fields cost per inbound event and per delivery.

The end-to-end Slack benchmarks (``bench.slack_bench --no-observability`` turns both off) are
too noisy on a shared machine to see a few per cent, so this one times, in one process, the
exact work the hooks add on each path, with metrics on and off, and prints it beside the time
the same path takes as a whole (measured by the Slack benchmarks, passed in as figures):

- per inbound event: two ``log_context`` blocks (accept, handle), ``received`` and ``handled``
  counters, the handling time histogram, the stopwatch;
- per delivery: one ``log_context`` block, the outcome counter, the send time histogram;
- per log line written: the context filter and the fields in the formatter.

``--ab ROUNDS`` also runs the real paths with both on and off, interleaved, and compares the
CPU time of this process (other work on the machine does not count): the outbox dispatcher
with a no-op adapter (``bench.outbox_bench``) and the Slack inbound path with its features
(``bench.slack_bench``, fake Slack in this process), in events or rows per CPU second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

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


class _NoContext:
    def __init__(self, **fields: object) -> None:
        pass

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _switch(on: bool) -> None:
    import rallybot.bot.app
    import rallybot.bot.inbox
    import rallybot.bot.outbox
    from rallybot.bot import logs
    from rallybot.bot.metrics import METRICS

    METRICS.enabled = on
    context: Any = logs.log_context if on else _NoContext
    for module in (rallybot.bot.app, rallybot.bot.inbox, rallybot.bot.outbox):
        module.log_context = context  # type: ignore[attr-defined]


async def _ab(rounds: int, rows: int, events: int) -> dict[str, Any]:
    from bench import outbox_bench, slack_bench
    from rallybot.storage.database import create_database
    from rallybot.storage.migrate import upgrade_async
    from tests.platform_slack.fake_slack import FakeSlack

    outbox: dict[bool, list[float]] = {True: [], False: []}
    inbound: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        db = create_database(url)
        await slack_bench._seed_announcement(db, 200)
        async with FakeSlack(scale=1000) as fake:
            for r in range(rounds + 1):  # the first round warms up and is not counted
                for on in (True, False) if r % 2 == 0 else (False, True):
                    _switch(on)
                    await outbox_bench._seed(db, rows, f"ab{r}{int(on)}")
                    cpu = time.process_time()
                    await outbox_bench._dispatcher(db, rows, 100)
                    outbox_cpu = time.process_time() - cpu
                    bodies = slack_bench._reaction_bodies(events, f"ab{r}{int(on)}", 200)
                    cpu = time.process_time()
                    await slack_bench._rallybot_inbound(db, fake, bodies, 16)
                    inbound_cpu = time.process_time() - cpu
                    if r:
                        outbox[on].append(rows / outbox_cpu)
                        inbound[on].append(events / inbound_cpu)
        await db.dispose()
    _switch(True)

    def ratio(figures: dict[bool, list[float]]) -> float:
        return round(statistics.median(figures[True]) / statistics.median(figures[False]), 3)

    return {
        "outbox_rows_per_cpu_s_on": round(statistics.median(outbox[True])),
        "outbox_rows_per_cpu_s_off": round(statistics.median(outbox[False])),
        "outbox_on_over_off": ratio(outbox),
        "inbound_events_per_cpu_s_on": round(statistics.median(inbound[True])),
        "inbound_events_per_cpu_s_off": round(statistics.median(inbound[False])),
        "inbound_on_over_off": ratio(inbound),
    }


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
    parser.add_argument("--ab", type=int, default=0, help="rounds of the on/off comparison")
    parser.add_argument("--ab-rows", type=int, default=300)
    parser.add_argument("--ab-events", type=int, default=300)
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
    if args.ab:
        result = asyncio.run(_ab(args.ab, args.ab_rows, args.ab_events))
        print(json.dumps({"bench": "observability_ab", "rounds": args.ab, **result}))


if __name__ == "__main__":
    main()
