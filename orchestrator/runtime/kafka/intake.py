"""Intake on Kafka: a raw record -> a dead letter, a duplicate, or events keyed by shard.

The intake agent keeps, per partition of events.raw, one table entry with its counters and
the last offset it applied, and one entry per (source, id) it accepted (the dedupe key of
contracts section 1) holding the event time and the offset that first brought it. Both live
in one table, so their changelog records go to one partition in order: when the counters say
an offset was applied, its dedupe entry is stored too.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from orchestrator.engine import (
    SEP,
    Engine,
    EngineConfig,
    Millis,
    command_refusal,
    dead_letter,
    dedupe_key_of,
    shard_of,
    split_task_id,
    time_refusal,
    to_millis,
)
from orchestrator.errors import EventRejected
from orchestrator.runtime.base import IntakeStatus
from orchestrator.runtime.kafka.codec import Record, encode_event, event_key, partition_for
from orchestrator.runtime.kafka.shards import UNROUTED
from orchestrator.runtime.kafka.topics import TopicNames
from schemas import COMMAND_EVENT_TYPE, DeadLetter, Event, Origin

IncidentShard = Callable[[str], str | None]
"""Finds the shard of an incident id (None when unknown)."""
_COUNTERS, _SEEN = b"counters", b"seen"
_SEP = SEP.encode()


@dataclass
class IntakeCounters:
    """One events.raw partition's accounting: read = accepted + rejected + duplicates."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    offset: int = -1
    """The last offset applied: a redelivered record at or below it is skipped."""
    watermark: Millis = 0
    last_sweep: Millis = 0

    def count(self, status: IntakeStatus) -> None:
        """Account for one record."""
        self.read += 1
        if status == "accepted":
            self.accepted += 1
        elif status == "rejected":
            self.rejected += 1
        else:
            self.duplicates += 1

    def dump(self) -> bytes:
        """The table value."""
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def load(cls, raw: bytes | None) -> IntakeCounters:
        """Counters from a table value (zero when there is none)."""
        return cls(**json.loads(raw)) if raw else cls()


@dataclass(frozen=True, slots=True)
class Seen:
    """A dedupe entry: when the event happened and which offset first brought it."""

    time: Millis
    offset: int

    def dump(self) -> bytes:
        """The table value."""
        return json.dumps([self.time, self.offset]).encode()

    @classmethod
    def load(cls, raw: bytes) -> Seen:
        """A dedupe entry from its table value."""
        time, offset = json.loads(raw)
        return cls(int(time), int(offset))


COUNTERS_PREFIX = _COUNTERS + _SEP
"""The start of every counters key (one per partition) of the intake table."""


def counters_key(partition: int) -> bytes:
    """The table key of a partition's counters."""
    return COUNTERS_PREFIX + str(partition).encode()


def seen_prefix(partition: int) -> bytes:
    """The start of every dedupe key of a partition."""
    return _SEEN + _SEP + str(partition).encode() + _SEP


def seen_key(partition: int, event: Event) -> bytes:
    """The table key of an event's dedupe entry."""
    return seen_prefix(partition) + dedupe_key_of(event.source, event.id).encode()


def time_bound(
    config: EngineConfig, at: Millis, watermark: Millis, received: Millis | None
) -> str | None:
    """Why intake refuses an event at `at`, or None: the engine's admission rule
    (engine.admit.time_refusal), with this partition's `watermark` as the newest event.

    A live worker holds a record to its clock when the record arrived (`received`), as the
    embedded runtime holds a record from the network. A worker of a drill namespace (one that
    takes the commands of a recorded log, `network_commands`) replays a log, which keeps its
    own clock, as the embedded replay of a file does: the record is held to the newest event
    plus `max_future_skew`, the bound the shard's engine applies to what intake forwards.
    """
    clock = None if config.network_commands else received
    return time_refusal(
        at,
        watermark,
        watermark,
        clock,
        max_clock_skew=config.max_clock_skew,
        max_future_skew=config.max_future_skew,
        dedupe_horizon=config.dedupe_horizon,
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What intake does with one raw record."""

    status: IntakeStatus | None
    """None: the record is on another partition than its own (`home`); not judged here."""
    forwards: list[Record] = field(default_factory=list)
    dead_letter: DeadLetter | None = None
    seen: tuple[bytes, Seen] | None = None
    event_time: Millis | None = None
    awaiting: str | None = None
    """A command's incident that intake could not place (yet): it went to UNROUTED."""
    home: tuple[int, bytes] | None = None
    """The partition of events.raw the record belongs on and its key, when it is not on it: it
    is forwarded there unjudged, so that one partition's dedupe entries see every copy."""


class Intake:
    """Validates raw records, dedupes them and routes accepted ones to their shards."""

    def __init__(
        self,
        engine: Engine,
        names: TopicNames,
        partitions: int,
        incident_shard: IncidentShard | None = None,
        raw_partitions: int = 1,
    ) -> None:
        self.engine = engine
        self.names = names
        self.partitions = partitions
        self.raw_partitions = raw_partitions
        self.incident_shard = incident_shard or (lambda _incident: None)

    def judge(
        self,
        raw: bytes,
        origin: Origin,
        lookup: Callable[[bytes], bytes | None],
        watermark: Millis = 0,
        received: Millis | None = None,
    ) -> Verdict:
        """The verdict on `raw` (at `origin`); `lookup` reads the intake table, `watermark` is
        the newest event time the partition accepted and `received` the worker's clock when
        the record arrived (for the engine's time bounds)."""
        try:
            event = self.engine.validator.parse(raw)
        except EventRejected as err:
            return Verdict("rejected", dead_letter=dead_letter(raw, err.reason, origin))
        assert origin.partition is not None
        assert origin.offset is not None
        key = event_key(event.source, event.id)
        home = partition_for(key, self.raw_partitions)
        if home != origin.partition:
            return Verdict(None, home=(home, key))
        if event.type == COMMAND_EVENT_TYPE:
            refused = command_refusal(origin.kind, self.engine.config.network_commands)
            if refused is not None:
                return Verdict("rejected", dead_letter=dead_letter(raw, refused, origin, event))
        key = seen_key(origin.partition, event)
        stored = lookup(key)
        if stored is not None and Seen.load(stored).offset != origin.offset:
            return Verdict("duplicate")
        at = to_millis(event.time)
        refusal = time_bound(self.engine.config, at, watermark, received)
        if refusal is not None:
            return Verdict("rejected", dead_letter=dead_letter(raw, refusal, origin, event))
        forwards = self.forwards(event)
        unrouted = [r.key for r in forwards] == [UNROUTED.encode()]
        awaiting = self.target(event) if unrouted else None
        return Verdict(
            "accepted",
            forwards,
            seen=(key, Seen(at, origin.offset)),
            event_time=at,
            awaiting=awaiting,
        )

    def shards(self, event: Event) -> list[str]:
        """The shards an accepted event goes to (a command goes to its incident's shard)."""
        if event.type != COMMAND_EVENT_TYPE:
            return self.engine.route(event)
        data = event.data
        if data.get("playbook") and data.get("key") is not None:
            return [shard_of(str(data["playbook"]), str(data["key"]))]
        return [self.incident_shard(self.target(event)) or UNROUTED]

    @staticmethod
    def target(event: Event) -> str:
        """The incident a command event addresses by task or incident id."""
        data = event.data
        return str(data.get("incident_id") or split_task_id(str(data.get("task_id") or ""))[0])

    def forwards(self, event: Event) -> list[Record]:
        """One record per shard of `event` on incidents.keyed, keyed by the shard."""
        value = encode_event(event)
        topic = self.names.incidents_keyed
        return [
            Record(topic, s.encode(), value, partition=partition_for(s.encode(), self.partitions))
            for s in self.shards(event)
        ]


class SeenExpiry:
    """When each partition's dedupe entries expire, earliest first, so that a sweep visits
    only the expired ones (not every entry of the table). Loaded from the table the first time
    a partition is swept in this process (and again after a rebalance), kept up as entries are
    added."""

    def __init__(self) -> None:
        self._heaps: dict[int, list[tuple[Millis, bytes]]] = {}

    def knows(self, partition: int) -> bool:
        """True when the partition's entries are loaded."""
        return partition in self._heaps

    def load(self, partition: int, entries: list[tuple[bytes, bytes]]) -> None:
        """Take the partition's dedupe entries as stored."""
        heap = [(Seen.load(value).time, bytes(key)) for key, value in entries]
        heapq.heapify(heap)
        self._heaps[partition] = heap

    def add(self, partition: int, key: bytes, at: Millis) -> None:
        """Note a new dedupe entry (ignored until the partition is loaded)."""
        heap = self._heaps.get(partition)
        if heap is not None:
            heapq.heappush(heap, (at, key))

    def expired(self, partition: int, cutoff: Millis) -> list[bytes]:
        """Take out and return the keys of entries whose event time is before `cutoff`."""
        heap = self._heaps.get(partition, [])
        found = []
        while heap and heap[0][0] < cutoff:
            found.append(heapq.heappop(heap)[1])
        return found

    def forget(self) -> None:
        """Drop every partition (after a rebalance they are loaded afresh when swept)."""
        self._heaps.clear()
