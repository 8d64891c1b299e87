"""Failover: workers stop and die mid-stream; state recovers from changelogs, no task is lost.

Two workers share four partitions. While events keep arriving, one gets SIGTERM, a restarted
worker joins, the other gets SIGKILL, the survivor takes over every partition (state recovered
from the changelogs), and another restarted worker joins. At the end, the
incidents equal the core's for the same log (a state lost in the moves would open second
incidents or miss joins), and the task events, deduplicated by id, are exactly the core's.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from kafka_harness import (
    PacedProducer,
    Workers,
    assert_summary_matches,
    breach_alert,
    core_run,
    gaps_refilled,
    lines,
    names_for,
    outage_alert,
    raw_duplicates,
    task_events,
    wait_for,
)

from orchestrator.engine.clock import format_time, parse_time
from orchestrator.runtime.kafka.readmodel import collect_summary, wait_idle
from orchestrator.testing import command

EVENTS = 750
PARTITIONS = 4
SHARDS = 24
STEP_S = 20  # event time between two records
SPEED = 500.0  # event time runs this much faster than the wall clock: 25 records/s
START = parse_time("2026-10-01T00:00:00Z")
TERM_AT, JOIN_AT, KILL_AT = 120, 220, 330
TAKEOVER_TIMEOUT_S = 25.0
STREAM_TIMEOUT_S = 120.0
IDLE_TIMEOUT_S = 120.0


def _service_record(i: int, rnd: int, key: str, at: str) -> dict[str, Any]:
    step = rnd % 4
    if step == 1:
        return command(
            "ack",
            at,
            actor="ops-bot",
            id=f"ack-{i}",
            playbook="tech_outage",
            key=key,
            task="triage",
        )
    status = "resolved" if step == 2 else "firing"
    return outage_alert(i, key, at, status, "critical" if step != 3 else "warning")


def _asset_record(i: int, rnd: int, key: str, at: str) -> dict[str, Any]:
    if rnd in (2, 4, 6):
        kind, task = {
            2: ("ack", "legal_assessment"),
            4: ("complete", "legal_assessment"),
            6: ("ack", "contain"),
        }[rnd]
        return command(
            kind, at, actor="legal-bot", id=f"cmd-{i}", playbook="data_breach", key=key, task=task
        )
    return breach_alert(i, key, at, 25000 if rnd == 0 else 0)


def stream() -> list[bytes]:
    """The log: tech_outage and data_breach shards opened, joined, acked, resolved, reopened;
    every 50th record is a duplicate of an earlier one, every 97th is not JSON."""
    made: list[dict[str, Any] | bytes] = []
    for i in range(EVENTS):
        at = format_time(START + i * STEP_S * 1000)
        rnd, slot = divmod(i, SHARDS)
        if i and i % 97 == 0:
            made.append(b"{broken record " + str(i).encode())
        elif i and i % 50 == 0:
            made.append(made[i - 30])
        elif slot < SHARDS // 2:
            made.append(_service_record(i, rnd, f"svc-{slot}", at))
        else:
            made.append(_asset_record(i, rnd, f"asset-{slot}", at))
    return lines(made)


def _owns_everything(worker: Any, topic: str) -> bool:
    """True once the worker's latest rebalance gave it every partition of `topic`."""
    rebalances = worker.log_events("worker.rebalanced")
    owned = (
        {a for a in rebalances[-1]["actives"] if a.startswith(topic + ":")} if rebalances else ()
    )
    return len(owned) == PARTITIONS


def test_sigterm_then_sigkill_mid_stream_loses_no_task_and_recovers_state(
    kafka_bootstrap: str,
    topic_prefix: str,
    workers: Workers,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After SIGTERM of one worker and SIGKILL of the other, restarted workers finish the log
    with the core's incidents; task events deduped by id are exactly the core's."""
    names = names_for(topic_prefix)
    group = {"ORCH_KAFKA_PARTITIONS": str(PARTITIONS)}
    first = workers.start("w1", drill=True, **group)
    first.wait_rebalanced()
    second = workers.start("w2", drill=True, **group)
    second.wait_rebalanced()
    raw = stream()
    until = START + EVENTS * STEP_S * 1000
    feeder = PacedProducer(
        kafka_bootstrap, names_for(topic_prefix), raw, SPEED, until, STREAM_TIMEOUT_S
    )
    feeder.thread.start()

    feeder.reach(TERM_AT)
    assert first.stop(signal.SIGTERM) == 0
    feeder.reach(JOIN_AT)
    third = workers.start("w3", drill=True, **group)
    third.wait_rebalanced()
    feeder.reach(KILL_AT)
    assert second.stop(signal.SIGKILL) == -signal.SIGKILL
    wait_for(
        lambda: _owns_everything(third, names.incidents_keyed),
        TAKEOVER_TIMEOUT_S,
        "the survivor to take over every partition",
    )
    assert feeder.thread.is_alive()  # events kept arriving all along
    workers.start("w4", drill=True, **group)
    feeder.finish()
    wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)

    expected = core_run(raw, until=until)
    assert_summary_matches(collect_summary(kafka_bootstrap, names), expected, tmp_path)
    published = task_events(kafka_bootstrap, names)
    by_id = {e["id"]: e for e in published}
    core_events = {e["id"]: e for role in names.roles for e in expected.task_events(role)}
    assert by_id == core_events
    gaps = gaps_refilled(workers)
    with capsys.disabled():
        print(
            f"\nfailover: {len(published)} task events published, {len(by_id)} distinct, "
            f"{raw_duplicates(published)} raw duplicates (removed by id); {len(gaps)} stream gaps "
            f"refilled ({sum(g['records'] for g in gaps)} records)"
        )
