"""Run every benchmark: ``python -m bench`` (or ``make bench``). Each runs in its own process."""

from __future__ import annotations

import json
import subprocess
import sys

BENCHES = [
    ("planning 100k members x 5 steps", ["bench.plan_bench"]),
    ("outbox claim-send-record", ["bench.outbox_bench"]),
    ("points: top-10 and rank over 1M entries, awards per second", ["bench.points_bench"]),
    ("discord fan-out of 2,000 DMs (fake REST, Discord's limits)", ["bench.discord_bench"]),
    ("slack: 5,000 DMs, inbound events, button acks (fake Slack)", ["bench.slack_bench"]),
    ("rallybot report: 100k members, 1M to 10M events", ["bench.report_bench"]),
    ("help channel FAQ matching: 2,000 entries, 50 labelled questions", ["bench.faq_bench"]),
    ("recovery: 1,000-DM fan-out, uninterrupted vs kill -9 and restart", ["bench.recovery_bench"]),
    (
        "three replicas share Slack's allowance: 3,000 DMs, one killed halfway",
        ["bench.replica_bench", "--kill"],
    ),
    (
        "console pages: timeline, indicators, members over 100k members, 1M deliveries",
        ["bench.console_bench"],
    ),
    (
        "metrics and context log fields: cost per event, delivery, log line",
        ["bench.observability_bench"],
    ),
]


def main() -> int:
    """Run the benchmarks one after another and print their figures."""
    failed = 0
    for title, module in BENCHES:
        print(f"== {title}", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", *module], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            failed += 1
            print(result.stderr.strip()[-2000:])
            continue
        for line in result.stdout.splitlines():
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                print(line)
                continue
            print("   " + ", ".join(f"{k}={v}" for k, v in data.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
