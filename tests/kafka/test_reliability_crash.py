"""Crash safety: a Kafka worker SIGKILLed at seeded random points mid-stream loses nothing.

One worker runs at a time (no second worker is alive): at each kill point it gets SIGKILL and
a fresh worker process is started at once, which must recover every table from the changelogs
and resume from the group's committed offsets. The log is produced at a steady pace in a
thread; kill points are seeded record counts of that stream, so every kill lands while events
are still arriving. At the end the contract summary equals the core's for the same log, and the task
events, deduplicated by their event id, are exactly the core's.
"""

from __future__ import annotations

import itertools
import random
import signal
import statistics
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka_harness import (
    PacedProducer,
    WorkerProcess,
    Workers,
    assert_summary_matches,
    core_run,
    gaps_refilled,
    mixed_stream,
    names_for,
    raw_duplicates,
    task_events,
    wait_for,
)

from orchestrator.engine.clock import parse_time
from orchestrator.runtime.kafka.readmodel import collect_summary, wait_idle
from orchestrator.runtime.kafka.topics import TopicNames
from orchestrator.settings import default_app_id

EVENTS = 30_000
RATE = 300  # records/s the producer sends (event time runs STEP_S * RATE times the wall clock)
KILLS = 5
SEED = 7
PARTITIONS = 3
SHARDS = 60
STEP_S = 15  # event time between two records
START = parse_time("2026-10-01T00:00:00Z")
KILL_RANGE = (0.05, 0.9)  # kill points lie in this fraction of the log
MIN_GAP = 0.1  # and this fraction apart
RECOVERY_TIMEOUT_S = 90.0
IDLE_TIMEOUT_S = 420.0  # a bounded wait, not a speed target: a slow machine catches up later
PRODUCE_TIMEOUT_S = 180.0


def kill_points(seed: int) -> list[int]:
    """KILLS record counts of the stream, seeded, inside KILL_RANGE and MIN_GAP apart."""
    rng = random.Random(seed)
    low, high = (int(EVENTS * f) for f in KILL_RANGE)
    while True:
        points = sorted(rng.sample(range(low, high), KILLS))
        if all(b - a >= EVENTS * MIN_GAP for a, b in itertools.pairwise(points)):
            return points


@contextmanager
def group_reader(bootstrap: str, group: str) -> Iterator[Any]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        yield consumer
    finally:
        consumer.close()


def committed_raw(consumer: Any, names: TopicNames) -> int:
    """The worker group's committed offset on events.raw (its single partition)."""
    return int(consumer.committed(TopicPartition(names.events_raw, 0)) or 0)


NOISE = ("producer buffer full", "event.rejected", "Timer commit is overlapping")
"""Warnings a busy worker repeats, left out of the log shown when it does not catch up."""


def diagnosis(worker: WorkerProcess) -> str:
    """What a stalled worker was doing: alive or not, its rebalances, its own counters (from
    /metrics) and the end of its log without the warnings it repeats while busy."""
    alive = worker.process.poll() is None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/metrics", timeout=5) as got:
            counters = [
                line
                for line in got.read().decode().splitlines()
                if line.startswith("orch_worker_") and not line.startswith("orch_worker_info")
            ]
    except OSError as error:
        counters = [f"/metrics did not answer: {error}"]
    return "\n".join(
        [
            f"worker {worker.name}: {'running' if alive else f'exited {worker.process.returncode}'}"
            f", {len(worker.log_events('worker.rebalanced'))} rebalances",
            *counters,
            worker.tail(60, skip=NOISE),
        ]
    )


@pytest.mark.timeout(900)  # its own waits are bounded (recovery, produce, idle) and say why
def test_sigkill_at_random_points_loses_and_duplicates_no_task(
    kafka_bootstrap: str,
    topic_prefix: str,
    workers: Workers,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Five seeded SIGKILLs of the only worker mid-stream, each followed by a restart: the
    summary equals the core's, no task event is lost and none doubles after dedupe by id."""
    names = names_for(topic_prefix)
    group = {"ORCH_KAFKA_PARTITIONS": str(PARTITIONS)}
    current = workers.start("w0", drill=True, **group)
    current.wait_rebalanced()
    raw = mixed_stream(EVENTS, shards=SHARDS, step_s=STEP_S, start=START)
    until = START + EVENTS * STEP_S * 1000
    speed = float(STEP_S * RATE)
    producer = PacedProducer(kafka_bootstrap, names, raw, speed, until, PRODUCE_TIMEOUT_S)
    producer.thread.start()
    points = kill_points(SEED)
    recoveries: list[float] = []
    with group_reader(kafka_bootstrap, default_app_id(topic_prefix)) as reader:
        for number, point in enumerate(points, start=1):
            producer.reach(point)
            assert producer.thread.is_alive(), "a kill must land mid-stream"
            killed = time.monotonic()
            assert current.stop(signal.SIGKILL) == -signal.SIGKILL
            # read once the killed worker is gone: a commit it had in flight is not the new one's
            at_kill = committed_raw(reader, names)
            current = workers.start(f"w{number}", drill=True, **group)
            wait_for(
                lambda a=at_kill: committed_raw(reader, names) > a,  # type: ignore[misc]
                RECOVERY_TIMEOUT_S,
                f"the restarted worker to pass offset {at_kill}",
            )
            recoveries.append(time.monotonic() - killed)
    producer.finish()
    produced = time.monotonic()
    try:
        wait_idle(kafka_bootstrap, names, timeout_s=IDLE_TIMEOUT_S)
    except TimeoutError as stalled:
        raise AssertionError(f"{stalled}\n{diagnosis(current)}") from stalled
    caught_up = time.monotonic() - produced

    expected = core_run(raw, until=until)
    assert_summary_matches(collect_summary(kafka_bootstrap, names), expected, tmp_path)

    published = task_events(kafka_bootstrap, names)
    by_id: dict[str, dict[str, Any]] = {}
    for task_event in published:
        assert by_id.setdefault(task_event["id"], task_event) == task_event, "same id, new body"
    core_events = {e["id"]: e for role in names.roles for e in expected.task_events(role)}
    lost = core_events.keys() - by_id.keys()
    extra = by_id.keys() - core_events.keys()
    assert (lost, extra) == (set(), set())
    assert by_id == core_events
    gaps = gaps_refilled(workers)
    with capsys.disabled():
        print(
            f"\nreliability crash: {len(raw)} records, {len(points)} SIGKILLs after records "
            f"{points} survived (one worker, restarted each time); tasks lost 0, duplicated "
            f"after dedupe 0; {len(published)} task events published, {len(by_id)} distinct, "
            f"{raw_duplicates(published)} raw duplicates; {len(gaps)} stream gaps refilled "
            f"({sum(g['records'] for g in gaps)} records); kill -> restarted worker commits "
            f"again: min {min(recoveries):.1f}s, median {statistics.median(recoveries):.1f}s, "
            f"max {max(recoveries):.1f}s; idle {caught_up:.1f}s after the last record was sent"
        )
