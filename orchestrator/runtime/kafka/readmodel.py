"""Read models over the Kafka runtime's topics (kafka-python, no consumer group joined).

`collect_summary` assembles the contract summary (contracts section 4) from the incidents
topic (the newest snapshot of each incident) and the intake table's changelog (the counters of
each events.raw partition), with the same functions as the embedded runtime.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from orchestrator.engine.ids import shard_of
from orchestrator.engine.summary import incident_summary, ordered
from orchestrator.runtime.kafka.codec import INCIDENT, KIND_HEADER, decode_incident, header
from orchestrator.runtime.kafka.config import default_app_id
from orchestrator.runtime.kafka.intake import IntakeCounters
from orchestrator.runtime.kafka.topics import TopicNames
from schemas.incidents import Incident

POLL_MS = 200
IDLE_POLL_S = 0.25
COUNTED = ("read", "accepted", "rejected", "duplicates")
_COUNTERS_PREFIX = b"counters\x1f"


@contextmanager
def _consumer(bootstrap: str, group: str | None = None) -> Iterator[Any]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        consumer_timeout_ms=POLL_MS,
    )
    try:
        yield consumer
    finally:
        consumer.close()


def _partitions(consumer: Any, topic: str) -> list[TopicPartition]:
    found = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(found)]


def read_topic(bootstrap: str, topic: str) -> Iterator[Any]:
    """Every record of `topic` from the beginning to its current end, partition by partition."""
    with _consumer(bootstrap) as consumer:
        tps = _partitions(consumer, topic)
        if not tps:
            return
        ends = consumer.end_offsets(tps)
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, records in consumer.poll(timeout_ms=POLL_MS).items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield record
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)


def latest_incidents(bootstrap: str, names: TopicNames) -> dict[str, Incident]:
    """Incident id -> its newest snapshot on the incidents topic."""
    newest: dict[str, bytes] = {}
    for record in read_topic(bootstrap, names.incidents):
        if header(record.headers, KIND_HEADER) == INCIDENT.encode() and record.value:
            newest[record.key.decode()] = record.value
    return {incident_id: decode_incident(value) for incident_id, value in newest.items()}


def intake_counters(bootstrap: str, app_id: str) -> dict[str, int]:
    """The intake counters, summed over the partitions of events.raw."""
    latest: dict[bytes, bytes | None] = {}
    for record in read_topic(bootstrap, f"{app_id}-intake-changelog"):
        if record.key and record.key.startswith(_COUNTERS_PREFIX):
            latest[record.key] = record.value
    totals = dict.fromkeys(COUNTED, 0)
    for value in latest.values():
        counters = IntakeCounters.load(value)
        for name in COUNTED:
            totals[name] += getattr(counters, name)
    return totals


def collect_summary(bootstrap: str, names: TopicNames, app_id: str | None = None) -> dict[str, Any]:
    """The contract summary of everything the workers of `names` have processed so far."""
    incidents = latest_incidents(bootstrap, names).values()
    return {
        "events": intake_counters(bootstrap, app_id or default_app_id(names.prefix)),
        "incidents": [incident_summary(i) for i in ordered(incidents)],
    }


def _lag(consumer: Any, topics: list[str]) -> tuple[int, dict[TopicPartition, int]]:
    tps = [tp for topic in topics for tp in _partitions(consumer, topic)]
    ends = consumer.end_offsets(tps)
    lag = sum(ends[tp] - (consumer.committed(tp) or 0) for tp in tps)
    return lag, ends


def wait_idle(
    bootstrap: str, names: TopicNames, app_id: str | None = None, timeout_s: float = 60.0
) -> None:
    """Block until the workers have committed every record of their input topics.

    Idle means: no lag on events.raw, incidents.keyed and commands, twice in a row with the
    same end offsets. Raises TimeoutError (with the lag) when that does not happen in time.
    """
    group = app_id or default_app_id(names.prefix)
    topics = [names.events_raw, names.incidents_keyed, names.commands]
    deadline = time.monotonic() + timeout_s
    previous: dict[TopicPartition, int] | None = None
    with _consumer(bootstrap, group) as consumer:
        while True:
            lag, ends = _lag(consumer, topics)
            if lag == 0 and ends == previous:
                return
            previous = ends if lag == 0 else None
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"workers of group {group!r} still lag {lag} records behind after "
                    f"{timeout_s}s; is a worker running for prefix {names.prefix!r}?"
                )
            time.sleep(IDLE_POLL_S)


def incident_shards(bootstrap: str, names: TopicNames) -> dict[str, str]:
    """Incident id -> its shard (engine.ids.shard_of), from the incidents topic."""
    return {i.id: shard_of(i.playbook, i.key) for i in latest_incidents(bootstrap, names).values()}
