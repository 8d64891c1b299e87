"""`python -m benchmarks` (make bench) end to end on tiny sizes: both files written, every case
reported with its baseline, and the hand-written part of benchmarks.md kept. No timing is
asserted. The alert-storm case needs wrk and prometheus-alertmanager (scripts/system-deps).
The Kafka case uses $KAFKA_BOOTSTRAP_SERVERS (scripts/test sets it) or starts
deploy/kafka-local.sh."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import BenchConfig, BenchRun, CaseResult, Figure
from benchmarks.report import END_MARK, START_MARK, write_markdown

REPO = Path(__file__).resolve().parents[2]
TINY = [
    "--events",
    "2000",
    "--keys",
    "40",
    "--open-incidents",
    "200",
    "--api-seconds",
    "1",
    "--api-clients",
    "4",
    "--storm-seconds",
    "1",
    "--storm-runs",
    "1",
]
CASES = {
    "engine",
    "memory-open",
    "memory-flat",
    "kafka",
    "api",
    "drills",
    "storm",
    "storm-instances",
}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_bench_runs_every_case_and_writes_both_files(tmp_path: Path) -> None:
    """Every case runs; the JSON has machine facts and each case's figures with baselines;
    the Markdown has the results between its markers."""
    notes = tmp_path / "benchmarks.md"
    notes.write_text("# Benchmarks\n\nHand-written log.\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *TINY, "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((tmp_path / "benchmarks.json").read_text(encoding="utf-8"))
    assert {case["case"] for case in data["cases"]} == CASES
    assert data["machine"]["cores"] >= 1
    assert data["machine"]["python"]
    for case in data["cases"]:
        assert case["figures"], case["case"]
        assert any(f["baseline"] is not None for f in case["figures"]), case["case"]
    engine = next(c for c in data["cases"] if c["case"] == "engine")
    assert engine["details"]["replay"]["events"] == 2000
    assert engine["details"]["ceiling"]["events"] == 2000  # the bare read, same lines
    for name in ("api", "kafka"):  # the servers' full collections were timed
        case = next(c for c in data["cases"] if c["case"] == name)
        timed = case["details"]["gc"]
        assert timed["full_collections"] + timed["start_up_collections"] >= 1, name
        assert any(f["name"].startswith("longest full collection") for f in case["figures"])
    kafka = next(c for c in data["cases"] if c["case"] == "kafka")
    assert kafka["details"]["records"] == 2000  # the run's --events, on a real broker
    assert kafka["details"]["latency_ms"]["probes"] == 200  # every probe reached a task event
    assert kafka["details"]["passthrough_latency_ms"]["probes"] == 200
    storm = next(c for c in data["cases"] if c["case"] == "storm")
    runs = {(r["system"], r["batch"]): r for r in storm["details"]["runs"]}
    assert set(runs) == {(s, b) for s in ("alertmanager", "webhook", "events") for b in (1, 50)}
    assert all(r["alerts_per_s"] > 0 for r in runs.values())  # every server took alerts
    assert all(r["non_2xx"] == 0 for (s, _), r in runs.items() if s != "alertmanager")
    text = notes.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nHand-written log.")
    assert START_MARK in text
    assert END_MARK in text
    assert "events/s" in text


def _run(value: float) -> BenchRun:
    figure = Figure("events/s (wall)", value, "events/s", 2.0 * value, "parse only")
    machine = {
        "cores": 2,
        "cpu_model": "test",
        "python": "CPython 3.11",
        "git": {"commit": "abc", "dirty": False},
        "load_average_at_start": [0.5],
    }
    return BenchRun(
        BenchConfig(),
        machine,
        "2026-11-22T00:00:00+00:00",
        60.0,
        [CaseResult("engine", "1. Engine", [figure])],
        ["python", "-m", "benchmarks"],
    )


def test_rerunning_replaces_only_the_results_section(tmp_path: Path) -> None:
    """What is written around the markers survives a rerun; the figures are replaced."""
    path = tmp_path / "benchmarks.md"
    write_markdown(path, _run(1234.0))
    path.write_text(
        path.read_text(encoding="utf-8") + "\n## Optimisation log\n\nkept\n", encoding="utf-8"
    )
    write_markdown(path, _run(98765.0))
    text = path.read_text(encoding="utf-8")
    assert "98,765 events/s" in text
    assert "1,234 events/s" not in text
    assert text.endswith("## Optimisation log\n\nkept\n")
    assert text.count(START_MARK) == 1
