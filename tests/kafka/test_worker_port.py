"""What an operator sees of a worker: its port (/healthz, /readyz, /metrics), its log lines, and
its answer to a wrong bootstrap address."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from kafka_harness import (
    REPO,
    Workers,
    core_run,
    lines,
    mixed_stream,
    names_for,
    outage_alert,
    wait_for,
)
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.runtime.kafka.drills import produce_lines
from orchestrator.testing import event
from orchestrator.testing.monitoring import check_metrics
from orchestrator.testing.servers import free_port
from schemas import DeadLetter

BURST = 3_000
START = "2026-11-20T10:00:00Z"
SCRAPE_TIMEOUT_S = 5.0
DRAIN_TIMEOUT_S = 180.0
PARTITIONS = 2
NO_BROKER_TIMEOUT_S = 120


def _scrape(port: int) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """The worker's /metrics: metric name -> labels -> value."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=SCRAPE_TIMEOUT_S).text
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def _lag(port: int) -> dict[str, float]:
    """Consumer lag per owned input partition ("topic:partition")."""
    lag = _scrape(port).get("orch_worker_consumer_lag", {})
    return {f"{dict(k)['topic']}:{dict(k)['partition']}": v for k, v in lag.items()}


def test_metrics_show_the_lag_of_a_burst_falling_back_to_zero(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """A worker's /healthz and /readyz answer 200 once it is assigned; during a burst of
    records /metrics shows lag on events.raw, which returns to 0 on every owned input
    partition; records, incidents opened and dead letters are counted."""
    names = names_for(topic_prefix)
    worker = workers.start("w1", drill=True, ORCH_KAFKA_PARTITIONS=str(PARTITIONS))
    worker.wait_rebalanced()
    base = f"http://127.0.0.1:{worker.port}"
    wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200, 30, "readiness")
    assert httpx.get(f"{base}/healthz").status_code == 200
    owned = {
        f"{names.events_raw}:0",
        *(f"{t}:{p}" for t in (names.incidents_keyed, names.commands) for p in range(PARTITIONS)),
    }  # each reported once the consumer has fetched from it
    wait_for(lambda: set(_lag(worker.port)) == owned, 30, f"lag reported on {owned}")

    burst = mixed_stream(BURST, shards=20)
    produce_lines(kafka_bootstrap, names, burst)
    peak = wait_for(
        lambda: max(_lag(worker.port).values()) or None, 30, "lag to show during the burst"
    )
    wait_for(lambda: not any(_lag(worker.port).values()), DRAIN_TIMEOUT_S, "lag to return to 0")

    metrics = _scrape(worker.port)
    records = {dict(k)["topic"]: v for k, v in metrics["orch_worker_records_total"].items()}
    assert records[names.events_raw] == BURST
    assert records[names.incidents_keyed] > 0
    assert metrics["orch_worker_incidents_opened_total"][()] > 0
    letters = sum(isinstance(o, DeadLetter) for o in core_run(burst).outputs)
    assert metrics["orch_worker_dead_letters_total"][()] == letters
    assert metrics["orch_worker_rebalances_total"][()] >= 1
    assert metrics["orch_worker_recovery_seconds_count"][()] >= 1
    assert peak > 0


def test_metrics_carry_the_process_and_python_series_and_pass_promtool(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """A worker's /metrics has the standard process_* and python_* series beside its own
    (process_cpu_seconds_total, python_info, python_gc_*), and `promtool check metrics`
    accepts the page after some traffic; the stop line still counts only the worker's own."""
    names = names_for(topic_prefix)
    worker = workers.start("w1", drill=True)
    worker.wait_rebalanced()
    produce_lines(kafka_bootstrap, names, lines([b"not json"]))
    wait_for(
        lambda: _scrape(worker.port).get("orch_worker_dead_letters_total", {}).get(()) or None,
        30,
        "the dead letter to be counted",
    )
    text = httpx.get(f"http://127.0.0.1:{worker.port}/metrics", timeout=SCRAPE_TIMEOUT_S).text
    metrics = _scrape(worker.port)
    assert metrics["process_cpu_seconds_total"][()] > 0
    assert metrics["process_resident_memory_bytes"][()] > 0
    [(labels, _one)] = metrics["python_info"].items()
    assert dict(labels)["implementation"] == "CPython"
    assert "python_gc_objects_collected_total" in metrics
    assert check_metrics(text) == ""
    assert worker.stop(signal.SIGTERM) == 0
    entries = [json.loads(line) for line in worker.log_path.read_text().splitlines() if line]
    stopped = entries[-1]
    assert stopped["event"] == "worker.stopped"
    assert stopped["dead_letters"] == 1
    assert not [k for k in stopped if k.startswith(("python", "process"))]


def test_a_worker_logs_a_rejected_and_a_duplicate_event_with_its_event_id(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """Intake on Kafka logs a record it did not accept with the event's id and source bound:
    `event.rejected` with the reason and the dead letter's id, `event.duplicate` (debug)."""
    names = names_for(topic_prefix)
    worker = workers.start("w1", drill=True, ORCH_LOG_LEVEL="debug")
    worker.wait_rebalanced()
    bad = event("no.such_type", START, source="monitor/eu", id="evt-bad-1", service="x")
    alert = outage_alert(1, "payments", START, "firing", "critical")
    produce_lines(kafka_bootstrap, names, lines([bad, alert, alert]))
    wait_for(
        lambda: (
            _scrape(worker.port)
            .get("orch_worker_records_total", {})
            .get((("topic", names.events_raw),))
            == len([bad, alert, alert])
            or None
        ),
        30,
        "the three records to be applied",
    )
    assert worker.stop(signal.SIGTERM) == 0
    entries = [json.loads(line) for line in worker.log_path.read_text().splitlines() if line]
    [rejected] = [e for e in entries if e["event"] == "event.rejected"]
    assert (rejected["event_id"], rejected["source"]) == ("evt-bad-1", "monitor/eu")
    assert "no.such_type" in rejected["reason"]
    assert rejected["dead_letter_id"].startswith("dl-")
    [duplicate] = [e for e in entries if e["event"] == "event.duplicate"]
    assert (duplicate["event_id"], duplicate["level"]) == ("p1", "debug")


def test_a_worker_logs_json_only_one_line_at_start_and_one_at_stop(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """With ORCH_LOG_FORMAT=json every line of a worker's output (faust's and the clients'
    included) is a JSON object without terminal codes; it starts with worker.started (bootstrap,
    group, topics, partitions, port) and ends with worker.stopped (its counters)."""
    names = names_for(topic_prefix)
    worker = workers.start("w1", drill=True)
    worker.wait_rebalanced()
    produce_lines(kafka_bootstrap, names, lines([b"not json"]))
    time.sleep(2)
    assert worker.stop(signal.SIGTERM) == 0

    output = worker.log_path.read_text()
    assert "\x1b" not in output
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    events = [e["event"] for e in entries]
    assert events.count("worker.started") == events.count("worker.stopped") == 1
    started, stopped = entries[events.index("worker.started")], entries[-1]
    assert stopped["event"] == "worker.stopped"
    assert started["bootstrap"] == kafka_bootstrap
    assert started["group"] == f"{topic_prefix}orchestrator"
    assert started["topics"] == list(names.all())
    assert (started["partitions"], started["port"]) == (3, worker.port)
    assert stopped["rebalances"] >= 1
    assert not [e for e in entries if e.get("level") in ("error", "critical")]


def test_a_worker_without_a_broker_names_the_setting_in_one_line(tmp_path: Path) -> None:
    """`orchestrator worker` with a bootstrap address where no broker answers exits 2 with one
    error line naming ORCH_KAFKA_BOOTSTRAP_SERVERS, no traceback."""
    env = {
        **os.environ,
        "ORCH_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "ORCH_KAFKA_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "worker"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=NO_BROKER_TIMEOUT_S,
    )

    error = done.stderr.decode()
    assert done.returncode == 2, error
    assert "ORCH_KAFKA_BOOTSTRAP_SERVERS" in error
    assert "Traceback" not in error
    assert len(error.strip().splitlines()) == 1, error
