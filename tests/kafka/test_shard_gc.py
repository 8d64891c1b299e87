"""What a Kafka worker keeps stays out of the cyclic collector's work: the shard store keeps
only the most recently used decoded shards (the objects the collector tracks for it stay
bounded however many shards a worker has seen, and a shard it dropped decodes from the table to
the same outputs and the same stored bytes), and the incident index's entries are never
tracked. Counted with gc.is_tracked, never timed."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from kafka.consumer.fetcher import ConsumerRecord
from kafka_harness import outage_alert, playbooks

import orchestrator.runtime.kafka.shards as shards
from orchestrator.engine import Engine, record_of, shard_of
from orchestrator.engine.clock import MINUTE_MS, format_time, parse_time
from orchestrator.runtime.kafka.codec import (
    INCIDENT,
    KIND_HEADER,
    decode_shard_message,
    encode_event,
)
from orchestrator.runtime.kafka.incidentlog import IncidentLog
from orchestrator.runtime.kafka.shards import ShardStore
from schemas import Event, Incident

BOUND = 32
FEW, MANY = 2 * BOUND, 8 * BOUND
TRACKED_SLACK = 64
"""Tracked objects that do not depend on the shards seen (the store's dicts, the last shard's
leftovers)."""
START = parse_time("2026-11-20T09:00:00Z")


def feed(store: ShardStore, keys: int, rounds: int = 1) -> list[tuple[bytes, Any]]:
    """`rounds` firing alerts for each of `keys` services, key after key; per record, the
    shard and what applying it gave (outputs, changed incidents, the shard's stored bytes)."""
    got = []
    for offset in range(keys * rounds):
        key = f"svc-{offset % keys}"
        at = format_time(START + offset * MINUTE_MS)
        event = Event.model_validate(outage_alert(offset, key, at, "firing", "critical"))
        shard = shard_of("tech_outage", key)
        message = decode_shard_message(encode_event(event), shard)
        applied = store.apply(shard.encode(), message, "keyed:0", offset)
        assert applied is not None
        store.store(applied)
        got.append((applied.key, (applied.outputs, applied.changed, applied.value)))
    return got


def tracked(root: Any) -> int:
    """Objects the collector tracks among those reachable from `root` (classes aside)."""
    seen: set[int] = set()
    stack, count = [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        count += gc.is_tracked(obj)
        stack.extend(gc.get_referents(obj))
    return count


def test_tracked_objects_of_the_decoded_shards_do_not_grow_with_shards_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """4x the shards: BOUND decoded, and about the same number of tracked objects reachable
    from the store (its table holds bytes only)."""
    monkeypatch.setattr(shards, "DECODED_SHARDS", BOUND)
    engine = Engine(playbooks())
    counts = []
    for keys in (FEW, MANY):
        store = ShardStore(engine, {})
        feed(store, keys)
        assert store.decoded() == BOUND
        gc.collect()  # untracks the tuples and dicts of atoms it sees
        counts.append(tracked(store))  # its engine's objects too: the same in both
    few, many = counts
    assert many <= few + TRACKED_SLACK, counts


@pytest.mark.parametrize("kept_incidents", [0, BOUND, shards.KEPT_INCIDENTS])
def test_a_shard_dropped_from_the_decoded_ones_gives_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, kept_incidents: int
) -> None:
    """Three rounds over more shards than are kept: every record's outputs, changed incidents
    and stored bytes, and the table at the end, equal a store that keeps every shard, whether
    a shard decoded again reads its incidents from the table (none kept), from the records
    kept, or from both."""
    engine = Engine(playbooks())
    kept = ShardStore(engine, {})
    expected = feed(kept, FEW, rounds=3)
    monkeypatch.setattr(shards, "DECODED_SHARDS", BOUND)
    monkeypatch.setattr(shards, "KEPT_INCIDENTS", kept_incidents)
    bounded = ShardStore(engine, {})
    assert feed(bounded, FEW, rounds=3) == expected
    assert bounded.table == kept.table


def test_the_kept_incident_versions_are_bounded_current_and_untracked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The records a store keeps are at most KEPT_INCIDENTS, each the value of a version the
    table still holds (a superseded one goes with it), and the dict holding them is never
    tracked by the collector."""
    monkeypatch.setattr(shards, "KEPT_INCIDENTS", BOUND)
    store = ShardStore(Engine(playbooks()), {})
    feed(store, FEW, rounds=2)
    records = store._incidents
    assert len(records) == BOUND
    gc.collect()
    assert not gc.is_tracked(records)
    for key, record in records.items():
        stored = store.table[key]
        assert record_of(Incident.model_validate_json(stored)) == record


def index_of(incidents: int) -> IncidentLog:
    """A worker's incident index after one snapshot record of each of `incidents` incidents
    (kafka-python's own record type, as its follower hands them over)."""
    index = IncidentLog()
    for offset in range(incidents):
        value = b'{"id":"i%d"}' % offset
        record = ConsumerRecord(
            "incidents", 0, 0, offset, 0, 0, b"i%d" % offset, value,
            [(KIND_HEADER, INCIDENT.encode())], None, 0, len(value), 0,
        )  # fmt: skip
        assert index.take(record) is not None
    return index


def test_tracked_objects_of_the_incident_index_do_not_grow_with_incidents() -> None:
    """8x the incidents read: the same tracked objects reachable from the index (each
    incident's JSON and where it was read are never tracked)."""
    few, many = index_of(FEW), index_of(8 * FEW)
    gc.collect()
    assert tracked(many) <= tracked(few) + TRACKED_SLACK, (tracked(few), tracked(many))
