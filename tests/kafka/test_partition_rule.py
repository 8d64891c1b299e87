"""Inputs on the wrong partition: forwarded to the runtime's own, never applied where they are.

A producer that does not place keys as the workers do (kcat's CRC32, a hand-picked partition)
puts events and commands on partitions the runtime's rule (murmur2 of the key) does not give
them. Here every record goes to a partition it does not belong on: events and command events
onto events.raw (three partitions), completions straight onto the commands topic. Workers are
restarted between the phases (SIGTERM, then SIGKILL). At the end each shard's state lives in
its own changelog partition only, every legal assessment was completed exactly once, and the
incidents equal the core's replay of the same records.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka_harness import (
    Workers,
    breach_alert,
    core_run,
    lines,
    names_for,
    records,
    task_events,
)

from orchestrator.engine import shard_of
from orchestrator.engine.clock import format_time, parse_time
from orchestrator.engine.summary import summary
from orchestrator.runtime.kafka.codec import encode_command, event_key, partition_for
from orchestrator.runtime.kafka.readmodel import collect_summary, wait_idle
from orchestrator.settings import default_app_id
from orchestrator.testing import command
from schemas import Command

PARTITIONS = 3
ASSETS = 9
START = parse_time("2026-10-01T00:00:00Z")
IDLE_TIMEOUT_S = 120.0
SEND_TIMEOUT_S = 30.0
GROUP = {"ORCH_KAFKA_PARTITIONS": str(PARTITIONS), "ORCH_KAFKA_RAW_PARTITIONS": str(PARTITIONS)}


def _at(minutes: int, i: int) -> str:
    return format_time(START + (minutes * 60 + i) * 1000)


def _asset(i: int) -> str:
    return f"asset-{i}"


def _assessment(kind: str, minutes: int, i: int) -> dict[str, Any]:
    """Legal's `kind` (ack, complete) of asset i's assessment, as a recorded command event."""
    return command(
        kind,
        _at(minutes, i),
        actor="legal-bot",
        id=f"{kind}-{i}",
        playbook="data_breach",
        key=_asset(i),
        task="legal_assessment",
    )


def _as_command(recorded: dict[str, Any]) -> Command:
    """The command a recorded command event stands for (as the engine reads it)."""
    return Command(id=recorded["id"], time=recorded["time"], **recorded["data"])


def _misplace(bootstrap: str, topic: str, keyed: list[tuple[bytes, bytes]]) -> None:
    """Produce each (key, value) onto the partition after the one its key hashes to."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value in keyed:
            wrong = (partition_for(key, PARTITIONS) + 1) % PARTITIONS
            producer.send(topic, key=key, value=value, partition=wrong)
        producer.flush(timeout=SEND_TIMEOUT_S)
    finally:
        producer.close()


def _raw(events: list[dict[str, Any]]) -> list[tuple[bytes, bytes]]:
    return [
        (event_key(e["source"], e["id"]), raw) for e, raw in zip(events, lines(events), strict=True)
    ]


def test_misplaced_events_and_commands_are_forwarded_and_applied_once_by_the_shard_owner(
    kafka_bootstrap: str, topic_prefix: str, workers: Workers, tmp_path: Path
) -> None:
    """Every event and command produced onto a wrong partition, workers restarted between
    phases: each shard's state is in its own changelog partition only, each assessment is done
    once, the task events (by id) and incidents are the core's, and the workers counted the
    records they forwarded."""
    names = names_for(topic_prefix)
    alerts = [breach_alert(i, _asset(i), _at(0, i), 40_000) for i in range(ASSETS)]
    acks = [_assessment("ack", 10, i) for i in range(ASSETS)]
    completions = [_assessment("complete", 20, i) for i in range(ASSETS)]
    direct = [
        (shard_of("data_breach", _asset(i)).encode(), encode_command(_as_command(c)))
        for i, c in enumerate(completions)
    ]

    def idle() -> None:
        wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    first = workers.start("w0", drill=True, **GROUP)
    first.wait_rebalanced()
    _misplace(kafka_bootstrap, names.events_raw, _raw(alerts))
    idle()
    assert first.stop(signal.SIGTERM) == 0
    pair = [workers.start(name, drill=True, **GROUP) for name in ("w1", "w2")]
    for worker in pair:
        worker.wait_rebalanced()
    _misplace(kafka_bootstrap, names.events_raw, _raw(acks))
    idle()
    _misplace(kafka_bootstrap, names.commands, direct)
    idle()
    assert pair[0].stop(signal.SIGKILL) == -signal.SIGKILL
    workers.start("w3", drill=True, **GROUP).wait_rebalanced()
    _misplace(kafka_bootstrap, names.commands, direct)  # the same commands again
    _misplace(kafka_bootstrap, names.events_raw, _raw(alerts))  # the same events again
    idle()
    workers.stop_all()
    last = workers.start("w4", drill=True, **GROUP)
    last.wait_rebalanced()
    idle()

    changelog = records(kafka_bootstrap, f"{default_app_id(topic_prefix)}-shards-changelog")
    shards = {(r.key, r.partition) for r in changelog if not r.key.startswith(b"\x00")}
    assert len({key for key, _ in shards}) == ASSETS
    assert all(partition == partition_for(key, PARTITIONS) for key, partition in shards)

    expected = core_run(lines([*alerts, *acks, *completions, *alerts]))
    want = summary(expected.state)
    got = collect_summary(kafka_bootstrap, names)
    (tmp_path / "summary-kafka.json").write_text(json.dumps(got, indent=1))
    assert got["incidents"] == want["incidents"]
    # intake saw every record but the completions, which went to the commands topic directly
    not_through_intake = {"read": ASSETS, "accepted": ASSETS}
    assert got["events"] == {
        k: want["events"][k] - not_through_intake.get(k, 0) for k in got["events"]
    }
    assert got["events"]["duplicates"] == ASSETS

    published = {e["id"]: e for e in task_events(kafka_bootstrap, names)}
    core = {e["id"]: e for role in names.roles for e in expected.task_events(role)}
    assert published == core
    done = Counter(
        e["incident_id"]
        for e in published.values()
        if e["task"]["name"] == "legal_assessment" and e["kind"] == "task.done"
    )
    assert sorted(done.values()) == [1] * ASSETS

    stopped = [line for w in workers.started for line in w.log_events("worker.stopped")]
    assert sum(line["forwarded"] for line in stopped) >= ASSETS
