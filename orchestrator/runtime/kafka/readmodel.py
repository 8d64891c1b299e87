"""Read models over the Kafka runtime's topics, read once to their current end.

`collect_summary` assembles the contract summary (contracts section 4) from the incidents
topic (the newest snapshot of each incident, as orchestrator.runtime.kafka.incidentlog reads
it) and the intake table's changelog (the counters of each events.raw partition), with the same
functions as the embedded runtime; `wait_idle` watches the workers' consumer group catch up.
"""

from __future__ import annotations

import time
from typing import Any

from kafka import TopicPartition

from orchestrator.engine import incident_summary, ordered
from orchestrator.runtime.kafka.follow import consumer, partitions, read_topic
from orchestrator.runtime.kafka.incidentlog import IncidentLog
from orchestrator.runtime.kafka.intake import COUNTERS_PREFIX, IntakeCounters
from orchestrator.runtime.kafka.topics import TopicNames
from orchestrator.settings import default_app_id
from schemas import Incident

__all__ = [
    "collect_summary",
    "incident_shards",
    "intake_counters",
    "latest_incidents",
    "read_topic",
    "wait_idle",
]

POLL_MS = 200
IDLE_POLL_S = 0.25
COUNTED = ("read", "accepted", "rejected", "duplicates")


def read_incidents(bootstrap: str, names: TopicNames) -> IncidentLog:
    """The incidents topic, read from its beginning to its current end."""
    incidents = IncidentLog()
    for record in read_topic(bootstrap, names.incidents):
        incidents.take(record)
    return incidents


def latest_incidents(bootstrap: str, names: TopicNames) -> dict[str, Incident]:
    """Incident id -> its newest snapshot on the incidents topic."""
    return read_incidents(bootstrap, names).incidents()


def intake_counters(bootstrap: str, app_id: str) -> dict[str, int]:
    """The intake counters, summed over the partitions of events.raw."""
    latest: dict[bytes, bytes | None] = {}
    for record in read_topic(bootstrap, f"{app_id}-intake-changelog"):
        if record.key and record.key.startswith(COUNTERS_PREFIX):
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


def _lag(client: Any, topics: list[str]) -> tuple[int, dict[TopicPartition, int]]:
    tps = [tp for topic in topics for tp in partitions(client, topic)]
    ends = client.end_offsets(tps)
    lag = sum(ends[tp] - (client.committed(tp) or 0) for tp in tps)
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
    with consumer(bootstrap, group, consumer_timeout_ms=POLL_MS) as client:
        while True:
            lag, ends = _lag(client, topics)
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
    incidents = read_incidents(bootstrap, names)
    found = {i: incidents.shard(i) for i in list(incidents.snapshots)}
    return {i: shard for i, shard in found.items() if shard is not None}
