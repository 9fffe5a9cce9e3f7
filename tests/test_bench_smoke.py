"""Every benchmark in bench/ runs at a tiny size and prints its JSON lines, so a broken bench
is caught by the tests (the figures themselves are not checked: only that they are there).

The benches run at once, each in its own process (as ``python -m bench`` runs them), started
by a module fixture; each test waits for its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("RALLYBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

# module: (tiny arguments, the keys of each line it prints, in order)
BENCHES: dict[str, tuple[list[str], list[set[str]]]] = {
    "plan_bench": (
        ["--members", "200"],
        [{"members", "deliveries", "plan_seconds", "peak_rss_mb"}],
    ),
    "faq_bench": (
        ["--entries", "100", "--rounds", "2"],
        [{"case", "top3"}, {"case", "top3"}, {"case", "median_ms", "p99_ms"}],
    ),
    "outbox_bench": (
        ["--rows", "50", "--batch", "10", "--pg-url", PG_URL],
        [{"backend", "rows", "ratio"}] * 2,
    ),
    "points_bench": (
        ["--members=50", "--entries=500", "--repeat=3", "--awards=20", f"--pg-url={PG_URL}"],
        [{"backend", "top10_ms", "my_rank_ms"}] * 2,
    ),
    "discord_bench": (
        ["--dms", "20", "--scale", "10"],
        [{"dms", "ratio", "lost", "duplicated"}],
    ),
    "slack_bench": (
        ["--dms=20", "--events=40", "--members=20", "--clicks=5", "--concurrency=4"],
        [{"bench", "lost", "duplicated"}, {"bench", "recorded_per_s"}, {"bench", "p99_ms"}],
    ),
    "observability_bench": (
        ["--n", "200"],
        [{"bench", "per_event_us", "per_delivery_us", "log_line_with_context_us"}],
    ),
    "report_bench": (
        ["--members", "100", "--events", "0.001,0.002", "--backends", "sqlite"],
        [{"backend", "events", "report_s", "peak_mb"}] * 2 + [{"backend", "time_ratio"}],
    ),
    "replica_bench": (
        ["--replicas", "2", "--dms", "40", "--scale", "20", "--backend", "sqlite"],
        [{"bench", "ratio", "429s", "lost", "duplicated"}],
    ),
    "console_bench": (
        [
            "--members=200",
            "--events=0.001",
            "--deliveries=0.002",
            "--repeat=2",
            "--backends=sqlite",
        ],
        [{"bench", "backend", "p95_ms"}] * 14,
    ),
    "recovery_bench": (
        ["--dms", "60", "--scale", "20", "--pg-url", PG_URL],
        [{"bench", "backend", "ratio", "lost", "duplicated"}] * 2,
    ),
}


def test_every_bench_is_smoke_tested() -> None:
    shipped = {p.stem for p in (ROOT / "bench").glob("*_bench.py")}
    assert shipped == set(BENCHES)


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Start every bench at once; kill what is left at the end."""
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", f"bench.{name}", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (args, _keys) in BENCHES.items()
    }
    try:
        yield processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_bench_prints_its_json_lines(name: str, running: dict[str, subprocess.Popen[str]]) -> None:
    stdout, stderr = running[name].communicate(timeout=120)
    assert running[name].returncode == 0, stderr[-2000:]
    lines: list[dict[str, Any]] = [json.loads(line) for line in stdout.splitlines()]
    expected = BENCHES[name][1]
    assert len(lines) == len(expected), stdout
    for line, keys in zip(lines, expected, strict=True):
        assert "error" not in line, line
        assert keys <= set(line), (keys - set(line), line)


def test_the_report_bench_measures_a_kept_database_again(tmp_path: Path) -> None:
    # --url: the first run fills the database; the second only reports on the same rows.
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    args = [sys.executable, "-m", "bench.report_bench", "--members", "50", "--url", url]
    runs = [
        subprocess.run(
            [*args, "--events", events], cwd=ROOT, capture_output=True, text=True, check=False
        )
        for events in ("0.001", "0.005")
    ]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr[-2000:]
    first, again = (json.loads(r.stdout.splitlines()[0]) for r in runs)
    assert first["events"] == again["events"] == 1000  # not filled a second time


def test_the_replica_bench_runs_the_replicas_on_their_scheduler() -> None:
    args = ["--replicas", "2", "--dms", "40", "--scale", "20", "--backend", "sqlite"]
    run = subprocess.run(
        [sys.executable, "-m", "bench.replica_bench", *args, "--loop", "ticks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    line = json.loads(run.stdout.splitlines()[-1])
    assert (line["loop"], line["lost"], line["duplicated"]) == ("ticks", 0, 0), line


def test_the_report_bench_measures_keeping_a_post_audience() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.report_bench",
            "--post-audience-members",
            "50",
            "--backends",
            "sqlite",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (line,) = (json.loads(x) for x in result.stdout.splitlines())
    assert {"new_ms", "same_members_ms", "after_a_join_ms"} <= set(line)
    assert line["audiences"] == 2  # the unchanged channel shared the first
