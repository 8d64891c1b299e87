"""Records as the agents see them, and reading the ones a faust stream skipped.

faust-streaming can hand an agent a record past offsets it never delivered, around rebalances
and shutdowns (prefetched records, read offsets that move on while the flow is suspended: see
faust-streaming issues #216, #221, #606), and then commit past them. The agents remember the
last offset they applied per input partition; when a record arrives beyond the next expected
offset, the records in between are read straight from the broker and applied first (with the
runtime's one way of reading without a group, orchestrator.runtime.kafka.follow, in a thread).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from kafka import TopicPartition

from orchestrator.runtime.kafka.codec import Headers
from orchestrator.runtime.kafka.follow import consumer

FETCH_TIMEOUT_MS = 1000
GAP_READ_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Incoming:
    """One input record: where it is (topic, partition, offset) and what it holds."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()

    @property
    def where(self) -> str:
        """The record's topic-partition, as progress entries name it."""
        return f"{self.topic}:{self.partition}"


def _headers(raw: Any) -> Headers:
    pairs = raw.items() if hasattr(raw, "items") else (raw or ())
    return tuple((str(k), bytes(v or b"")) for k, v in pairs)


def from_faust(event: Any) -> Incoming:
    """The record a faust event carries."""
    message = event.message
    return Incoming(
        message.topic,
        message.partition,
        message.offset,
        message.key,
        message.value,
        _headers(message.headers),
    )


def from_consumer(record: Any) -> Incoming:
    """The record a kafka-python ConsumerRecord carries."""
    return Incoming(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.value,
        _headers(record.headers),
    )


class GapReader:
    """Reads a range of offsets of one partition directly (no consumer group)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[Incoming]:
        """The records of offsets start..end-1 that exist (compaction may have removed some)."""
        return await asyncio.to_thread(self._read, TopicPartition(topic, partition), start, end)

    def _read(self, tp: TopicPartition, start: int, end: int) -> list[Incoming]:
        deadline = time.monotonic() + GAP_READ_TIMEOUT_S
        found: list[Incoming] = []
        with consumer(self.bootstrap) as client:
            client.assign([tp])
            client.seek(tp, start)
            while client.position(tp) < end:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"could not read {tp.topic}:{tp.partition} offsets {start}..{end - 1} "
                        f"in {GAP_READ_TIMEOUT_S}s; is the broker reachable?"
                    )
                batch = client.poll(timeout_ms=FETCH_TIMEOUT_MS)
                found.extend(from_consumer(r) for r in batch.get(tp, []) if r.offset < end)
        return found
