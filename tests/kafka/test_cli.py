"""The Kafka commands of the CLI against the real broker: `replay --kafka` and `export`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka_harness import REPO, Workers, lines, names_for

from orchestrator.runtime.kafka.drills import produce_lines
from orchestrator.testing import event

SPEED = 60.0
EVENT_GAP_S = 60  # event time between the drill's records


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=REPO,
        capture_output=True,
        check=True,
        env=env,
    )


def _drill(path: Path) -> Path:
    records = [
        event(
            "ops.metric",
            f"2026-11-20T10:0{i}:00Z",
            source="prom",
            id=f"m{i}",
            service="search",
            metric="error_rate",
            value=0.2,
        )
        for i in range(3)
    ]
    path.write_bytes(b"\n".join(lines(records)) + b"\n")
    return path


def test_replay_kafka_paces_the_log_and_prints_the_embedded_summary(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers, tmp_path: Path
) -> None:
    """`replay LOG --kafka --speed X --json` takes the paced time and prints what the embedded
    `replay LOG --json` prints (incidents and counts)."""
    workers.start("w1").wait_rebalanced()
    log = _drill(tmp_path / "drill.jsonl")
    namespace = topic_prefix.removesuffix(".")
    until = "2026-11-20T11:00:00Z"
    env = {**os.environ, "ORCH_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}

    started = time.monotonic()
    kafka = _cli(
        "replay",
        str(log),
        "--kafka",
        "--namespace",
        namespace,
        "--speed",
        str(SPEED),
        "--json",
        "--until",
        until,
        env=env,
    )
    took = time.monotonic() - started
    embedded = _cli("replay", str(log), "--json", "--until", until)

    assert took >= 2 * EVENT_GAP_S / SPEED
    got, want = json.loads(kafka.stdout), json.loads(embedded.stdout)
    assert got["incidents"] == want["incidents"]
    assert got["events"] == {k: want["events"][k] for k in got["events"]}
    assert [i["playbook"] for i in got["incidents"]] == ["tech_outage"]


def test_export_writes_the_records_of_a_time_range_as_a_replayable_log(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers, tmp_path: Path
) -> None:
    """`export TOPIC --from --to` keeps exactly the records produced within the range."""
    workers.start("w1").wait_rebalanced()  # creates the topics
    names = names_for(topic_prefix)
    before = lines(
        [
            event(
                "ops.alert",
                "2026-11-20T09:00:00Z",
                source="prom",
                id="old",
                alertname="A",
                service="s",
                status="firing",
                severity="info",
            )
        ]
    )
    inside = _drill(tmp_path / "inside.jsonl").read_bytes().splitlines()
    produce_lines(kafka_bootstrap, names, before)
    time.sleep(1.1)
    start = datetime.now(UTC)
    produce_lines(kafka_bootstrap, names, inside)
    out = tmp_path / "export.jsonl"
    env = {**os.environ, "ORCH_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}

    _cli(
        "export",
        names.events_raw,
        "--from",
        start.isoformat(),
        "--to",
        "2100-01-01T00:00:00Z",
        "--out",
        str(out),
        env=env,
    )

    assert out.read_bytes().splitlines() == inside
