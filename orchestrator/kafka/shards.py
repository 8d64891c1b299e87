"""Shards: the unit of incident state the Kafka runtime partitions by.

A shard is one playbook and one correlation key ("playbook\\x1fkey", from Engine.route). Each
shard has its own EngineState in the incident agent's table, with the last offset applied from
each input topic-partition, so that a redelivered record (at-least-once) changes nothing and
publishes nothing again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kafka.partitioner.default import murmur2

from orchestrator.core.clock import Millis
from orchestrator.core.engine import Engine
from orchestrator.core.outbox import Output
from orchestrator.core.state import SEP, EngineState, restore, snapshot
from orchestrator.kafka.codec import ShardMessage

UNROUTED = SEP
"""The shard of commands whose incident intake cannot place: the engine rejects them there."""
_POSITIVE = 0x7FFFFFFF


def shard_of(playbook: str, key: str) -> str:
    """The shard name of a playbook and correlation key."""
    return playbook + SEP + key


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the Java client) gives `key`."""
    return int(murmur2(key) & _POSITIVE) % partitions


def position(topic: str, partition: int) -> str:
    """The name an input topic-partition has in a shard's applied offsets."""
    return f"{topic}:{partition}"


_PROGRESS = b"\x00progress\x1f"


def progress_key(where: str) -> bytes:
    """The table key of the last offset the incident agent applied from input `where`."""
    return _PROGRESS + where.encode()


def is_progress_key(key: bytes) -> bool:
    """True for progress entries (every other key of the shard table is a shard)."""
    return bytes(key).startswith(_PROGRESS)


@dataclass
class ShardEntry:
    """A shard's table value: its engine state and the last offset applied per input."""

    state: EngineState
    applied: dict[str, int] = field(default_factory=dict)
    incidents: dict[str, Any] = field(default_factory=dict)
    """The incidents as last stored (JSON data), to tell which ones a step changed."""


@dataclass(frozen=True, slots=True)
class Applied:
    """One record applied to a shard: the new table value, the outputs, changed incidents."""

    value: bytes
    outputs: list[Output]
    changed: list[dict[str, Any]]


def load_entry(raw: bytes | None, engine: Engine) -> ShardEntry:
    """The shard entry stored as `raw` (a fresh one when there is none)."""
    if raw is None:
        return ShardEntry(engine.initial_state())
    data = json.loads(raw)
    state = data["state"]
    return ShardEntry(restore(state), dict(data["applied"]), dict(state["incidents"]))


def dump_entry(entry: ShardEntry) -> tuple[bytes, dict[str, Any]]:
    """The table value of `entry`, and its incidents as JSON data."""
    state = snapshot(entry.state)
    value = json.dumps(
        {"next_due": next_due(entry.state), "applied": entry.applied, "state": state},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return value.encode("utf-8"), state["incidents"]


def next_due(state: EngineState) -> Millis | None:
    """When the shard's earliest timer is due, if it has one."""
    return state.timers[0][0] if state.timers else None


def stored_next_due(raw: bytes) -> Millis | None:
    """The earliest timer of a stored shard entry (read without restoring the state)."""
    due = json.loads(raw).get("next_due")
    return int(due) if due is not None else None


def apply(
    engine: Engine, stored: bytes | None, message: ShardMessage, where: str, offset: int
) -> Applied | None:
    """Apply a record (from input `where` at `offset`) to a shard; None if already applied.

    Events and commands run on the shard's own event clock (the engine advances it to their
    time and checks lateness and skew against it); ticks run at their own time.
    """
    entry = load_entry(stored, engine)
    if offset <= entry.applied.get(where, -1):
        return None
    now = message.now if message.now is not None else entry.state.clock
    entry.state, outputs = engine.step(entry.state, message.item, now)
    entry.applied[where] = offset
    value, incidents = dump_entry(entry)
    return Applied(value, outputs, changed_incidents(entry.incidents, incidents))


def changed_incidents(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The incidents (JSON data) that are new or differ from `before`, in id order."""
    return [after[i] for i in sorted(after) if before.get(i) != after[i]]
