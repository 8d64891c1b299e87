"""What both agents share: publishing to the broker, the error policy, and filling gaps.

Outputs are acknowledged by the broker before the state that produced them is stored, so
nothing is lost (in a batch, orchestrator.runtime.kafka.batches, the batch waits for them once).
A record whose processing raised becomes a dead letter by the injected policy, unless the error
is the broker's: then the worker stops and the record is processed again. Records a faust
stream skips (around rebalances) are read straight from the broker before the next one is
applied (orchestrator.runtime.kafka.gaps).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
import structlog
from aiokafka.errors import KafkaError

from orchestrator.adapters import kafka_binary_headers
from orchestrator.engine import dead_letter
from orchestrator.logs import record_context
from orchestrator.runtime.kafka.batches import pending
from orchestrator.runtime.kafka.codec import Record, output_record
from orchestrator.runtime.kafka.gaps import GapReader, Incoming
from orchestrator.runtime.kafka.metrics import WorkerMetrics
from orchestrator.runtime.kafka.topics import TopicNames
from schemas import DeadLetter, IncidentEvent, Origin

log = structlog.get_logger("orchestrator.runtime.kafka")

ErrorPolicy = Callable[[Exception, bytes, Origin], DeadLetter]
"""Decides what becomes of a record whose processing raised: the dead letter to publish."""


def dead_letter_on_error(error: Exception, raw: bytes, origin: Origin) -> DeadLetter:
    """The default policy: dead-letter the record with the error as reason, and go on."""
    reason = getattr(error, "reason", None) or f"{type(error).__name__}: {error}"
    return dead_letter(raw, f"could not be processed: {reason}", origin)


def origin_of(record: Incoming, headers: dict[str, str] | None = None) -> Origin:
    """Where a record came from, as its dead letter names it, with a binary-mode CloudEvent's
    headers (`ce_*` and content-type)."""
    return Origin(
        kind="kafka",
        name=record.topic,
        partition=record.partition,
        offset=record.offset,
        headers=headers,
    )


class Publisher:
    """Produces records through one faust app's producer, for the agents of one topic set."""

    def __init__(
        self,
        app: Any,
        names: TopicNames,
        gaps: GapReader,
        on_error: ErrorPolicy,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self.app = app
        self.names = names
        self.gaps = gaps
        self.on_error = on_error
        self.metrics = metrics or WorkerMetrics()

    async def publish(self, records: list[Record]) -> None:
        """Produce `records`; wait until the broker has acknowledged every one (in a batch:
        the batch waits for them before it stores its state)."""
        sent = [
            await self.app.producer.send(
                r.topic, r.key, r.value, r.partition, None, list(r.headers) or None
            )
            for r in records
        ]
        self.metrics.dead_letters.inc(sum(r.topic == self.names.deadletter for r in records))
        waiting = pending()
        if waiting is not None:
            waiting.extend(sent)
            return
        for future in sent:
            await future

    async def forward(self, record: Incoming, home: int, key: bytes | None = None) -> None:
        """Send a record found on another partition than the runtime's rule gives it to that
        partition (`home`) of its topic, as it is (with `key` when given), instead of applying
        it here: one shard's state, one partition's dedupe entries, always in one place."""
        moved = Record(
            record.topic, key or record.key or b"", record.value or b"", record.headers, home
        )
        await self.publish([moved])
        self.metrics.forwarded.labels(record.topic).inc()
        log.debug("record.forwarded", input=record.where, offset=record.offset, to=home)

    def skipped(self, record: Incoming) -> None:
        """Count a redelivered record (one already applied): counted, not logged one by one."""
        self.metrics.redeliveries.labels(record.topic).inc()

    def applied(self, record: Incoming) -> None:
        """Count an applied record."""
        self.metrics.records.labels(record.topic).inc()

    def opened(self, outputs: Sequence[object]) -> None:
        """Count the incidents a step's outputs opened."""
        opened = sum(isinstance(o, IncidentEvent) and o.kind == "incident.opened" for o in outputs)
        self.metrics.incidents_opened.inc(opened)

    async def guarded(self, work: Callable[[Incoming], Awaitable[None]], record: Incoming) -> None:
        """Run `work` on a record; an error dead-letters the record (per policy) unless it is
        the broker's: those stop the worker, so that the record is processed again."""
        try:
            await work(record)
        except (KafkaError, faust.exceptions.ProducerSendError):
            raise
        except Exception as error:  # the injected policy decides; the stream goes on
            origin = origin_of(record, kafka_binary_headers(record.headers))
            with structlog.contextvars.bound_contextvars(**record_context(record.value or b"")):
                log.exception(
                    "record.failed",
                    topic=origin.name,
                    partition=origin.partition,
                    offset=origin.offset,
                )
            letter = self.on_error(error, record.value or b"", origin)
            await self.publish([output_record(letter, self.names)])

    async def missed(self, record: Incoming, last: int) -> list[Incoming]:
        """The records between the last applied offset and `record` that the stream skipped."""
        if record.offset <= last + 1:
            return []
        missed = await self.gaps.read(record.topic, record.partition, last + 1, record.offset)
        log.warning(
            "stream.gap_filled",
            input=record.where,
            first=last + 1,
            last=record.offset - 1,
            records=len(missed),
        )
        return missed
