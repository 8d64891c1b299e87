"""The intake agent: events.raw -> incidents.keyed (and dead letters).

It keeps, per partition of events.raw, the counters and the last offset it applied, and one
dedupe entry per accepted (source, id) (orchestrator.runtime.kafka.intake). A record at or
below the applied offset is a redelivery and skipped; one past the next expected offset has the
records in between read first. A control tick (drills' --until) is broadcast to every
partition of incidents.keyed.
"""

from __future__ import annotations

import structlog

from orchestrator.adapters import kafka_binary_headers, kafka_binary_record
from orchestrator.engine import Engine
from orchestrator.logs import log_intake
from orchestrator.runtime.base import wall_clock
from orchestrator.runtime.kafka.agents.publisher import Publisher, origin_of
from orchestrator.runtime.kafka.batches import Staged, in_batch
from orchestrator.runtime.kafka.codec import (
    BROADCAST_KEY,
    CONTROL_HEADER,
    CONTROL_TICK,
    Record,
    decode_control_tick,
    encode_tick,
    header,
    output_record,
)
from orchestrator.runtime.kafka.gaps import Incoming
from orchestrator.runtime.kafka.index import IncidentIndex
from orchestrator.runtime.kafka.intake import (
    Intake,
    IntakeCounters,
    SeenExpiry,
    counters_key,
    seen_prefix,
)

log = structlog.get_logger("orchestrator.runtime.kafka")
ROUTE_WAIT_S = 10.0
"""How long intake waits for an unknown incident (of a command by task id) to be published."""


class IntakeAgent:
    """Validates, dedupes and routes the records of events.raw, one batch at a time."""

    def __init__(
        self,
        publisher: Publisher,
        engine: Engine,
        table: Staged,
        index: IncidentIndex,
        partitions: int,
        raw_partitions: int = 1,
    ) -> None:
        self.publisher = publisher
        self.engine = engine
        self.names = publisher.names
        self.table = table
        self.index = index
        self.partitions = partitions
        self.intake = Intake(engine, self.names, partitions, index.get, raw_partitions)
        self.expiry = SeenExpiry()

    async def batch(self, records: list[Incoming]) -> None:
        """A batch of events.raw records, applied in order, stored once acknowledged."""

        async def work() -> None:
            for record in records:
                self.table.partition = record.partition
                await self.take(record)

        await in_batch(work, [self.table])

    async def take(self, record: Incoming) -> None:
        """A record of events.raw from the stream: skip it if applied, fill a gap before it."""
        last = self._counters(record.partition).offset
        if record.offset <= last:
            self.publisher.skipped(record)
            return
        for item in [*await self.publisher.missed(record, last), record]:
            await self.publisher.guarded(self.on_raw, item)
            self.publisher.applied(item)
            counters = self._counters(item.partition)
            if counters.offset < item.offset:  # failed and dead-lettered: applied all the same
                counters.offset = item.offset
                self.table[counters_key(item.partition)] = counters.dump()

    def applied(self, partition: int) -> int:
        """The last offset of events.raw's `partition` applied (-1: none)."""
        return self._counters(partition).offset

    def _counters(self, partition: int) -> IntakeCounters:
        return IntakeCounters.load(self.table.get(counters_key(partition)))

    async def on_raw(self, record: Incoming) -> None:
        """One record of events.raw: validate, dedupe, route to shards (or a control tick)."""
        counters = self._counters(record.partition)
        if header(record.headers, CONTROL_HEADER) == CONTROL_TICK:
            await self._broadcast_tick(record.value or b"")
        else:
            await self._admit(record, counters)
        counters.offset = record.offset
        self.table[counters_key(record.partition)] = counters.dump()

    async def _admit(self, record: Incoming, counters: IntakeCounters) -> None:
        raw, binary = record.value or b"", kafka_binary_headers(record.headers)
        if binary is not None:  # the Kafka binding's binary mode: ce_* headers, value as data
            raw = kafka_binary_record(binary, raw)
        origin, received = origin_of(record, binary), wall_clock()
        table = self.table.get
        verdict = self.intake.judge(raw, origin, table, counters.watermark, received)
        if verdict.home is not None:  # on another partition than its own: judged there
            await self.publisher.forward(record, *verdict.home)
            return
        if verdict.awaiting and await self.index.wait_for(verdict.awaiting, ROUTE_WAIT_S):
            verdict = self.intake.judge(raw, origin, table, counters.watermark, received)
        records = list(verdict.forwards)
        if verdict.dead_letter is not None:
            records.append(output_record(verdict.dead_letter, self.names))
        await self.publisher.publish(records)
        if verdict.seen is not None:
            key, seen = verdict.seen
            self.table[key] = seen.dump()
            assert origin.partition is not None
            self.expiry.add(origin.partition, key, seen.time)
        assert verdict.status is not None  # judged: only a misplaced record has none
        counters.count(verdict.status)
        if verdict.status != "accepted":
            letter = verdict.dead_letter
            reason, letter_id = (letter.reason, letter.id) if letter else (None, None)
            log_intake(log, verdict.status, raw, reason, letter_id)
        if verdict.event_time is not None:
            counters.watermark = max(counters.watermark, verdict.event_time)
            assert origin.partition is not None
            self._sweep(origin.partition, counters)

    def _sweep(self, partition: int, counters: IntakeCounters) -> None:
        """Forget dedupe entries past the horizon, on the engine's own schedule."""
        if counters.watermark - counters.last_sweep < self.engine.config.sweep_every:
            return
        counters.last_sweep = counters.watermark
        if not self.expiry.knows(partition):
            prefix = seen_prefix(partition)
            entries = [(k, v) for k, v in self.table.items() if k.startswith(prefix)]
            self.expiry.load(partition, entries)
        cutoff = counters.watermark - self.engine.config.dedupe_horizon
        for key in self.expiry.expired(partition, cutoff):
            del self.table[key]

    async def _broadcast_tick(self, raw: bytes) -> None:
        now = decode_control_tick(raw)
        value = encode_tick(now, broadcast=True)
        await self.publisher.publish(
            [
                Record(self.names.incidents_keyed, BROADCAST_KEY, value, partition=p)
                for p in range(self.partitions)
            ]
        )
