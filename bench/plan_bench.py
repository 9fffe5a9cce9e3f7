"""Planning 100,000 members x 5 per-member steps: time, peak memory, ratio to a bare loop.

The baseline is the least any planner must do: for every member and step, add an offset to
the join date and build a key. Run in a fresh process so peak memory is the planner's own.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from rallybot.campaigns.planner import MemberView, plan
from rallybot.campaigns.quiet_hours import QuietHours
from rallybot.campaigns.schema import CampaignSpec, compile_campaign

ZONES = ["Europe/Paris", "Europe/London", "America/Montreal", "Asia/Singapore", None]


def build(members: int) -> tuple[Any, list[MemberView]]:
    """A campaign with 5 per-member steps and ``members`` members joining over 90 days."""
    spec = CampaignSpec.model_validate(
        {
            "id": "bench",
            "title": "Bench",
            "timezone": "Europe/Paris",
            "milestones": {"launch": "2026-09-15 09:30"},
            "audiences": {"pilote": {"cohort": "pilote"}},
            "steps": [
                {
                    "id": f"s{i}",
                    "for": "pilote",
                    "at": f"join + {d}d at 10:00",
                    "dm": {
                        "fr": "Bonjour {first_name}, J+{days_since_launch}",
                        "en": "Hi {first_name}",
                    },
                }
                for i, d in enumerate((0, 2, 5, 9, 14))
            ],
        }
    )
    campaign = compile_campaign(
        spec,
        "bench.yaml",
        default_quiet_hours=QuietHours(
            datetime.strptime("21:00", "%H:%M").time(), datetime.strptime("08:00", "%H:%M").time()
        ),
    )
    start = datetime(2026, 9, 15, 7, 30, tzinfo=UTC)
    people = [
        MemberView(
            key=str(i),
            first_name=f"P{i}",
            cohort="pilote",
            timezone=ZONES[i % len(ZONES)],
            locale="fr" if i % 3 else "en",
            joined_at=start + timedelta(minutes=(i * 7919) % (90 * 24 * 60)),
        )
        for i in range(members)
    ]
    return campaign, people


def baseline(people: list[MemberView], offsets: list[int]) -> float:
    """The bare loop: offset + key for every member and step."""
    began = time.perf_counter()
    out = []
    for member in people:
        assert member.joined_at is not None
        for offset in offsets:
            out.append((member.key, member.joined_at + timedelta(days=offset)))
    elapsed = time.perf_counter() - began
    del out
    return elapsed


def main() -> None:
    """Run the benchmark and print JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--render", action="store_true", help="also render every message")
    args = parser.parse_args()
    campaign, people = build(args.members)
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    deliveries = list(plan(campaign, people, *window))
    elapsed = time.perf_counter() - began
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rendered = 0.0
    if args.render:
        sample = deliveries[:50_000]
        began = time.perf_counter()
        for d in sample:
            d.message()
        rendered = (time.perf_counter() - began) * len(deliveries) / max(len(sample), 1)
    count = len(deliveries)
    del deliveries
    base = baseline(people, [0, 2, 5, 9, 14])
    result = {
        "members": args.members,
        "deliveries": count,
        "plan_seconds": round(elapsed, 3),
        "baseline_seconds": round(base, 3),
        "ratio_to_baseline": round(elapsed / base, 2) if base else None,
        "time_vs_5s_budget": round(elapsed / 5.0, 3),
        "peak_rss_mb": round(rss, 1),
        "rss_before_plan_mb": round(rss_before, 1),
        "memory_vs_300mb_budget": round(rss / 300, 3),
        "render_all_seconds_estimate": round(rendered, 2) if args.render else None,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
