"""The bundled demo drill through Kafka gives the embedded runtime's contract summary."""

from __future__ import annotations

import json
import subprocess
import sys

from kafka_harness import REPO, Workers, names_for, playbooks

from orchestrator.demo import DEMO_LOG, DEMO_UNTIL
from orchestrator.engine.clock import parse_time
from orchestrator.runtime.kafka.drills import produce_log
from orchestrator.runtime.kafka.readmodel import collect_summary, wait_idle

COUNTS = ("read", "accepted", "rejected", "duplicates")
IDLE_TIMEOUT_S = 60.0


def _embedded_summary() -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "replay",
            str(DEMO_LOG),
            "--json",
            "--until",
            DEMO_UNTIL,
        ],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    summary: dict[str, object] = json.loads(done.stdout)
    return summary


def test_demo_drill_through_kafka_matches_the_embedded_replay_summary(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers
) -> None:
    """Same incidents (ids, severities, statuses, tasks, escalations) and same event counts."""
    names = names_for(topic_prefix)
    first = workers.start("w1", drill=True, ORCH_KAFKA_PARTITIONS="4")
    second = workers.start("w2", drill=True, ORCH_KAFKA_PARTITIONS="4")
    first.wait_rebalanced()
    second.wait_rebalanced()

    produce_log(kafka_bootstrap, names, DEMO_LOG, until=parse_time(DEMO_UNTIL))
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    embedded = _embedded_summary()
    kafka = collect_summary(kafka_bootstrap, names)
    assert kafka["incidents"] == embedded["incidents"]
    assert kafka["events"] == {k: embedded["events"][k] for k in COUNTS}  # type: ignore[index]
    # not a vacuous match: the drill opens incidents of all five playbooks and escalates
    assert {i["playbook"] for i in kafka["incidents"]} == {p.id for p in playbooks()}
    assert sum(t["escalations"] for i in kafka["incidents"] for t in i["tasks"]) > 0
