"""Drills and tooling on Kafka (kafka-python): replay a log into a namespace, send commands,
export a topic's time range to JSON Lines so that a real incident becomes a drill.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from orchestrator.engine import Millis, parse_time, shard_of, split_task_id
from orchestrator.runtime.kafka.codec import (
    CONTROL_HEADER,
    CONTROL_TICK,
    encode_command,
    encode_control_tick,
    event_key,
    header,
    partition_for,
)
from orchestrator.runtime.kafka.readmodel import incident_shards
from orchestrator.runtime.kafka.topics import TopicNames
from schemas import Command

Pace = Callable[[Millis | None], None]
"""Called with each record's event time before it is sent: a drill's pacer holds it back until
its moment comes (orchestrator.drills.pacing.Pacer.wait_for)."""
SEND_TIMEOUT_S = 30.0
POLL_MS = 200


@contextmanager
def _producer(bootstrap: str) -> Iterator[Any]:
    """A producer that keeps the order of what it sends (one request in flight)."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        max_in_flight_requests_per_connection=1,
        linger_ms=5,
    )
    try:
        yield producer
    finally:
        producer.flush(timeout=SEND_TIMEOUT_S)
        producer.close(timeout=SEND_TIMEOUT_S)


def _partitions(producer: Any, topic: str) -> int:
    found = producer.partitions_for(topic)
    if not found:
        raise LookupError(
            f"topic {topic} does not exist; start a worker for its prefix "
            "(it creates the topics) or create them with ensure_topics"
        )
    return len(found)


def record_key(line: bytes) -> bytes | None:
    """An event's key on events.raw: source + id, so that intake dedupe sees duplicates.

    None for a record that has none (intake rejects it): not JSON, nested too deep to parse,
    or a source or id that is not valid Unicode (a lone surrogate)."""
    try:
        obj = json.loads(line)
        if isinstance(obj, dict) and isinstance(obj.get("source"), str) and "id" in obj:
            return event_key(obj["source"], str(obj["id"]))
    except (ValueError, RecursionError):  # UnicodeError is a ValueError
        return None
    return None


def _event_time(line: bytes) -> Millis | None:
    try:
        obj = json.loads(line)
        return parse_time(obj["time"]) if isinstance(obj, dict) else None
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


@dataclass(frozen=True, slots=True)
class Produced:
    """What produce_log sent."""

    records: int
    control_ticks: int


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        for line in handle:
            raw = line.rstrip(b"\r\n")
            if raw.strip():
                yield raw


def produce_log(
    bootstrap: str,
    names: TopicNames,
    path: Path,
    pace: Pace | None = None,
    until: Millis | None = None,
) -> Produced:
    """Produce the JSON Lines log at `path` into events.raw of `names`, in order.

    `pace` paces it (a drill pacer's wait_for); `until` ends it with a control tick on
    every partition of events.raw, which intake turns into a tick at that time for every shard
    (after the shard's events), as `replay --until` does.
    """
    return produce_lines(bootstrap, names, _lines(path), pace, until)


def produce_lines(
    bootstrap: str,
    names: TopicNames,
    lines: Iterable[bytes],
    pace: Pace | None = None,
    until: Millis | None = None,
) -> Produced:
    """Produce raw records (one event each, keyed by source + id) into events.raw, in order."""
    sent = 0
    with _producer(bootstrap) as producer:
        partitions = _partitions(producer, names.events_raw)
        for raw in lines:
            if pace is not None:
                pace(_event_time(raw))
            producer.send(names.events_raw, key=record_key(raw), value=raw)
            sent += 1
        ticks = 0 if until is None else _control_ticks(producer, names, partitions, until)
    return Produced(sent, ticks)


def _control_ticks(producer: Any, names: TopicNames, partitions: int, until: Millis) -> int:
    for partition in range(partitions):
        producer.send(
            names.events_raw,
            value=encode_control_tick(until),
            partition=partition,
            headers=[(CONTROL_HEADER, CONTROL_TICK)],
        )
    return partitions


def command_shard(bootstrap: str, names: TopicNames, command: Command) -> str:
    """The shard a command goes to: by playbook and key, or its incident's (looked up)."""
    if command.playbook and command.key is not None:
        return shard_of(command.playbook, command.key)
    incident = command.incident_id or split_task_id(command.task_id or "")[0]
    shard = incident_shards(bootstrap, names).get(incident)
    if shard is None:
        raise LookupError(
            f"no incident {incident!r} on {names.incidents}; address the "
            "command by playbook and key, or check the task or incident id"
        )
    return shard


def send_command(
    bootstrap: str, names: TopicNames, command: Command, shard: str | None = None
) -> str:
    """Produce a responder command to the commands topic, keyed by its shard; returns it."""
    target = shard or command_shard(bootstrap, names, command)
    with _producer(bootstrap) as producer:
        partition = partition_for(target.encode(), _partitions(producer, names.commands))
        producer.send(
            names.commands, key=target.encode(), value=encode_command(command), partition=partition
        ).get(timeout=SEND_TIMEOUT_S)
    return target


def export_topic(bootstrap: str, topic: str, start: Millis, end: Millis, out: Path) -> int:
    """Write the values of `topic`'s records with timestamps in [start, end) to `out`, one
    per line, in timestamp order; returns how many. A dump of events.raw is a drill log
    (control records, such as a drill's final tick, are left out)."""
    records = sorted(
        _records_between(bootstrap, topic, start, end),
        key=lambda r: (r.timestamp, r.partition, r.offset),
    )
    with out.open("wb") as handle:
        for record in records:
            handle.write((record.value or b"").replace(b"\n", b" ") + b"\n")
    return len(records)


def _records_between(bootstrap: str, topic: str, start: Millis, end: Millis) -> Iterator[Any]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            raise LookupError(f"topic {topic} does not exist")
        ends = consumer.end_offsets(tps)
        starts = consumer.offsets_for_times(dict.fromkeys(tps, start))
        consumer.assign(tps)
        remaining = _seek_starts(consumer, tps, starts, ends)
        while remaining:
            for tp, batch in consumer.poll(timeout_ms=POLL_MS).items():
                for record in batch:
                    wanted = start <= record.timestamp < end and record.offset < ends[tp]
                    if wanted and header(record.headers, CONTROL_HEADER) is None:
                        yield record
                if consumer.position(tp) >= ends[tp] or (batch and batch[-1].timestamp >= end):
                    remaining.discard(tp)
    finally:
        consumer.close()


def _seek_starts(
    consumer: Any, tps: list[TopicPartition], starts: dict[Any, Any], ends: dict[Any, int]
) -> set[TopicPartition]:
    remaining = set()
    for tp in tps:
        found = starts.get(tp)
        if found is None or found.offset >= ends[tp]:
            continue
        consumer.seek(tp, found.offset)
        remaining.add(tp)
    return remaining
