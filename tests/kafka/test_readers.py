"""The runtime's readers without a consumer group, against a real broker: the gap reader
(records a faust stream skipped) and the incidents topic's one reader, followed live."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from kafka import KafkaProducer

from orchestrator.runtime.kafka import TopicNames, ensure_topics
from orchestrator.runtime.kafka.codec import INCIDENT, KIND_HEADER
from orchestrator.runtime.kafka.follow import Follower
from orchestrator.runtime.kafka.gaps import GapReader
from orchestrator.runtime.kafka.incidentlog import IncidentLog

SEND_TIMEOUT_S = 30
FOLLOW_TIMEOUT_S = 30.0


def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes, Any]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value, headers in records:
            producer.send(topic, key=key, value=value, partition=0, headers=headers).get(
                timeout=SEND_TIMEOUT_S
            )
    finally:
        producer.close()


def test_the_gap_reader_reads_exactly_the_offsets_asked_for(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """GapReader.read(topic, partition, 2, 5) gives the records of offsets 2, 3 and 4, in order,
    with their keys, values and headers."""
    names = TopicNames(topic_prefix, ())
    ensure_topics(kafka_bootstrap, names, partitions=1)
    records = [(f"k{i}".encode(), f"v{i}".encode(), [("h", f"{i}".encode())]) for i in range(7)]
    _produce(kafka_bootstrap, names.events_raw, records)

    found = asyncio.run(GapReader(kafka_bootstrap).read(names.events_raw, 0, 2, 5))

    assert [(r.offset, r.key, r.value, r.headers) for r in found] == [
        (i, f"k{i}".encode(), f"v{i}".encode(), (("h", f"{i}".encode()),)) for i in (2, 3, 4)
    ]


def test_a_follower_hands_the_incident_log_each_snapshot_as_it_is_published(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """A Follower of the incidents topic feeds an IncidentLog: the newest snapshot of each
    incident wins, and one published after the follower caught up arrives too."""
    names = TopicNames(topic_prefix, ())
    ensure_topics(kafka_bootstrap, names, partitions=1)
    kind = [(KIND_HEADER, INCIDENT.encode())]
    first = b'{"id": "inc-a", "version": 1}'
    _produce(kafka_bootstrap, names.incidents, [(b"inc-a", first, kind)])
    log = IncidentLog()
    changed = threading.Condition()
    follower = Follower(kafka_bootstrap, [names.incidents], lambda _t, r: log.take(r), changed)
    follower.start(FOLLOW_TIMEOUT_S)
    try:
        assert log.snapshots["inc-a"][0] == first
        newer = b'{"id": "inc-a", "version": 2}'
        _produce(kafka_bootstrap, names.incidents, [(b"inc-a", newer, kind)])
        deadline = time.monotonic() + FOLLOW_TIMEOUT_S
        with changed:
            changed.wait_for(
                lambda: log.snapshots["inc-a"][0] == newer, deadline - time.monotonic()
            )
        assert log.snapshots["inc-a"][0] == newer
        assert log.snapshot_at("inc-a") is not None
    finally:
        follower.stop()
