"""``/metrics`` in the Prometheus text format: its counters match what the bot did, on every
platform mode and on both databases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rallybot.bot.metrics import METRICS
from rallybot.storage.database import Database
from tests.ops.scenario import play

OUTCOMES = ("sent", "failed", "skipped", "cancelled")


@pytest.mark.parametrize("platform", ["console", "slack", "discord"])
async def test_metrics_match_the_deliveries_and_events_of_a_scenario(
    platform: str, db: Database, db_url: str, tmp_path: Path
) -> None:
    played = await play(platform, db, db_url, tmp_path)

    # The scenario exercised every outcome the platform allows (the console cannot refuse).
    outcomes = {status for _, _, status in played.deliveries}
    expected = set(OUTCOMES) if platform != "console" else {"sent", "skipped", "cancelled"}
    assert expected <= outcomes, played.deliveries
    # Every delivery that reached a final state is counted once, under its campaign and step.
    for (campaign, step, status), count in played.deliveries.items():
        if status in OUTCOMES:
            counted = played.delta(
                "rallybot_deliveries_total", campaign=campaign, step=step, outcome=status
            )
            assert counted == count, (campaign, step, status)
    counted_total = sum(
        v - played.metrics_before.get(k, 0.0)
        for k, v in played.metrics_after.items()
        if k[0] == "rallybot_deliveries_total"
    )
    assert counted_total == sum(
        n for (_, _, status), n in played.deliveries.items() if status in OUTCOMES
    )

    # Inbound: three events arrived, one of them twice; the database kept three.
    ((stored_platform, kind), stored), *_ = played.inbound.items()
    assert (stored_platform, stored) == (platform, 3)
    labels = {"platform": platform, "kind": kind}
    assert played.delta("rallybot_inbound_events_total", **labels, stage="received") == 4
    assert played.delta("rallybot_inbound_events_total", **labels, stage="deduplicated") == 1
    assert played.delta("rallybot_inbound_events_total", **labels, stage="handled") == stored
    assert played.delta("rallybot_event_handle_seconds_count", **labels) == stored
    # Sends were timed; nothing is left due; the probes said ready, then not while stopping.
    sent = sum(n for (_, _, status), n in played.deliveries.items() if status == "sent")
    timed = sum(
        v - played.metrics_before.get(k, 0.0)
        for k, v in played.metrics_after.items()
        if k[0] == "rallybot_delivery_send_seconds_count"
    )
    assert timed == sent
    assert played.metrics_after[("rallybot_outbox_lag_seconds", ())] == 0.0
    assert played.ready_while_running == 200
    assert played.ready_while_stopping == 503


def test_every_metric_is_in_the_reference_and_nothing_else() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "reference" / "metrics.md").read_text(
        encoding="utf-8"
    )
    served = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in METRICS.registry.collect()
        if family.name.startswith("rallybot_")
    }
    documented = set(re.findall(r"`(rallybot_[a-z_]+)`", text))
    assert served == documented
