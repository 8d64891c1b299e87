"""Shards: the unit of incident state the Kafka runtime partitions by.

A shard is one playbook and one correlation key ("playbook\\x1fkey", from Engine.route). Each
shard has its own EngineState in the incident agent's table, with the last offset applied from
each input topic-partition, so that a redelivered record (at-least-once) changes nothing and
publishes nothing again.

The table holds, per shard, one entry for the shard's own state (clock, windows, timers,
dedupe keys, indexes: everything but its incidents) and one entry per incident version: a
record rewrites only the incidents it changed, so a shard's cost per record does not grow with
the incidents it has resolved. Incident entries are keyed by incident id and the shard's write
number, and the shard entry names the version of each of its incidents: the changelog holds
the writes of one record in order (incidents first, then the shard), so a worker that dies
between them recovers the shard as it was before the record, never half of it. Superseded
versions are deleted after the shard entry is written.

Decoded shards are kept in memory between records (`ShardStore`), checked against the table's
bytes before each use, so that a steady stream does not decode its shard from JSON every time.
Only the `DECODED_SHARDS` used most recently are kept: a decoded shard is a dozen or more
objects the cyclic collector tracks (its state's dataclasses, lists and arrays), so keeping
every shard a worker ever decoded made each full collection walk one per (playbook, key) seen.
Which incidents a record changed, the engine says itself (`EngineState.changed_incidents`:
its incident records are immutable and replaced on change); only those are encoded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import pydantic_core

from orchestrator.engine import (
    SEP,
    Engine,
    EngineState,
    IncidentRecord,
    Millis,
    Output,
    Retired,
    contract,
    record_of,
    restore,
    snapshot,
)
from orchestrator.runtime.kafka.codec import ShardMessage
from schemas import Incident

UNROUTED = SEP
"""The shard of commands whose incident intake cannot place: the engine rejects them there."""
_PROGRESS = b"\x00progress\x1f"
_INCIDENT = b"\x00incident\x1f"
_INTERNAL = b"\x00"
DECODED_SHARDS = 256
"""How many decoded shards a store keeps (the most recently used); the others are decoded from
the table again when a record reaches them. Each is about 14 objects every full collection
walks: at 1,024 they were all a worker's full collections walked under load (14,800 objects,
20 ms of wall time on a busy machine)."""
KEPT_INCIDENTS = 4_096
"""How many incident versions a store keeps as records (the most recently stored or read):
a shard decoded again takes its incidents from them instead of validating their JSON, so a
shard beyond DECODED_SHARDS costs its own small entry, not its incidents. Records are never
tracked by the collector, nor then the dict that holds them."""
_INCIDENT_JSON = Incident.__pydantic_serializer__
"""Serialises an incident straight to JSON bytes (pydantic-core; what model_dump_json does)."""


def position(topic: str, partition: int) -> str:
    """The name an input topic-partition has in a shard's applied offsets."""
    return f"{topic}:{partition}"


def progress_key(where: str) -> bytes:
    """The table key of the last offset the incident agent applied from input `where`."""
    return _PROGRESS + where.encode()


def incident_key(incident_id: str, version: int) -> bytes:
    """The table key of one stored version of an incident."""
    return _INCIDENT + incident_id.encode() + SEP.encode() + str(version).encode()


def is_shard_key(key: bytes) -> bool:
    """True for the keys of shards (progress and incident entries start with a zero byte)."""
    return not bytes(key).startswith(_INTERNAL)


class Table(Protocol):
    """What the store needs of a faust table (a dict does too)."""

    def get(self, key: bytes) -> bytes | None: ...

    def __setitem__(self, key: bytes, value: bytes) -> None: ...

    def __delitem__(self, key: bytes) -> None: ...


@dataclass
class ShardEntry:
    """A decoded shard: its engine state, the last offset applied per input, and per incident
    the version stored."""

    state: EngineState
    applied: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    writes: int = 0


@dataclass(frozen=True, slots=True)
class Applied:
    """One record applied to a shard, not stored yet: the outputs, the incidents it changed
    (id and JSON), and what `ShardStore.store` writes: the changed incidents' new versions, the
    shard's entry, then deletes the versions they superseded."""

    key: bytes
    entry: ShardEntry
    outputs: list[Output]
    changed: list[tuple[str, bytes]]
    value: bytes
    versions: list[tuple[bytes, bytes]]
    superseded: list[bytes]


def next_due(state: EngineState) -> Millis | None:
    """When the shard's earliest timer is due, if it has one."""
    return state.timers.next_due()


def stored_next_due(raw: bytes) -> Millis | None:
    """The earliest timer of a stored shard entry (read without restoring the state)."""
    due = json.loads(raw).get("next_due")
    return int(due) if due is not None else None


def _dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON (pydantic-core's encoder: what json.dumps writes, several times
    faster)."""
    return pydantic_core.to_json(data)


class ShardStore:
    """Shards over a table: decode (or reuse the decoded copy), apply a record, store back."""

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table
        self._decoded: dict[bytes, ShardEntry] = {}
        """Decoded shards, least recently used first (a shard is taken out while in use and
        put back last)."""
        self._raw: dict[bytes, bytes] = {}
        """The table's bytes each decoded shard was decoded from or stored as (a dict of bytes:
        never tracked by the collector, where a (bytes, entry) pair per shard was)."""
        self._incidents: dict[bytes, IncidentRecord] = {}
        """Incident versions by their table key, as records, least recently used first: a
        version's key names one value for as long as this store owns its shard (a write number
        is never used twice by one owner; `forget` drops them when that may change)."""

    def forget(self) -> None:
        """Drop every decoded shard and kept incident (after a rebalance the table may hold
        other values)."""
        self._decoded.clear()
        self._raw.clear()
        self._incidents.clear()

    def decoded(self) -> int:
        """How many decoded shards the store keeps now."""
        return len(self._decoded)

    def _keep(self, key: bytes, raw: bytes, entry: ShardEntry) -> None:
        """Keep `entry` (as of the table's `raw`) as the most recently used decoded shard,
        dropping the least recently used beyond DECODED_SHARDS."""
        self._decoded[key], self._raw[key] = entry, raw
        if len(self._decoded) > DECODED_SHARDS:
            oldest = next(iter(self._decoded))
            del self._decoded[oldest], self._raw[oldest]

    def load(self, key: bytes) -> ShardEntry:
        """The shard stored under `key` (a fresh one when there is none)."""
        raw = self.table.get(key)
        cached, cached_raw = self._decoded.pop(key, None), self._raw.pop(key, None)
        if raw is None:
            return ShardEntry(self.engine.initial_state())
        if cached is not None and cached_raw == raw:
            return cached
        data = json.loads(raw)
        versions = {i: int(v) for i, v in data["versions"].items()}
        incidents = {i: self._incident(i, v) for i, v in versions.items()}
        state = restore(data["state"], incidents)
        return ShardEntry(state, dict(data["applied"]), versions, int(data["writes"]))

    def _incident(self, incident_id: str, version: int) -> IncidentRecord:
        """Version `version` of an incident: kept, or read from the table and kept."""
        key = incident_key(incident_id, version)
        record = self._incidents.pop(key, None)
        if record is None:
            stored = self.table.get(key)
            if stored is None:
                raise LookupError(f"incident {incident_id} version {version} is not in the table")
            record = record_of(Incident.model_validate_json(bytes(stored)))
        self._keep_incident(key, record)
        return record

    def _keep_incident(self, key: bytes, record: IncidentRecord) -> None:
        self._incidents[key] = record
        if len(self._incidents) > KEPT_INCIDENTS:
            del self._incidents[next(iter(self._incidents))]

    def apply(self, key: bytes, message: ShardMessage, where: str, offset: int) -> Applied | None:
        """Apply a record (from input `where` at `offset`) to shard `key`; None if the shard
        has applied it already. Nothing is stored until `store` (after the outputs are
        published): until then the shard reads as before.

        Events and commands run on the shard's own event clock (the engine advances it to their
        time and checks lateness and skew against it); ticks run at their own time.
        """
        entry = self.load(key)  # out of the decoded copies until it is stored again
        if offset <= entry.applied.get(where, -1):
            self._keep(key, self.table.get(key) or b"", entry)
            return None
        state = entry.state
        now = message.now if message.now is not None else state.clock
        state, outputs = self.engine.step(state, message.item, now)
        entry.state = state
        entry.applied[where] = offset
        return self._changes(key, entry, outputs, state.changed_incidents())

    def _changes(
        self, key: bytes, entry: ShardEntry, outputs: list[Output], touched: list[str]
    ) -> Applied:
        entry.writes += 1
        changed: list[tuple[str, bytes]] = []
        versions: list[tuple[bytes, bytes]] = []
        superseded: list[bytes] = []
        for output in outputs:
            if isinstance(output, Retired):  # its last version is on the incidents topic
                old = entry.versions.pop(output.incident_id, None)
                if old is not None:
                    superseded.append(incident_key(output.incident_id, old))
        for incident_id in touched:
            incident = entry.state.incidents.get(incident_id)
            if incident is None:  # retired (above)
                continue
            data = _INCIDENT_JSON.to_json(contract(incident))
            old = entry.versions.get(incident_id)
            if old is not None:
                superseded.append(incident_key(incident_id, old))
            versions.append((incident_key(incident_id, entry.writes), data))
            entry.versions[incident_id] = entry.writes
            changed.append((incident_id, data))
        value = _dumps(
            {
                "next_due": next_due(entry.state),
                "applied": entry.applied,
                "writes": entry.writes,
                "versions": entry.versions,
                "state": snapshot(entry.state, incidents=False),
            }
        )
        return Applied(key, entry, outputs, changed, value, versions, superseded)

    def store(self, applied: Applied) -> None:
        """Write an applied record's shard to the table (after its outputs are published)."""
        for key, value in applied.versions:
            self.table[key] = value
        self.table[applied.key] = applied.value
        for key in applied.superseded:
            del self.table[key]
            self._incidents.pop(key, None)
        incidents, versions = applied.entry.state.incidents, applied.entry.versions
        for incident_id, _data in applied.changed:
            self._keep_incident(
                incident_key(incident_id, versions[incident_id]), incidents[incident_id]
            )
        self._keep(applied.key, applied.value, applied.entry)
