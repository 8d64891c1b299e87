"""The faust app around the core: an intake agent, an incident agent and a wall-clock timer.

    events.raw --intake--> incidents.keyed --+
                                             +--incident agent--> tasks.<role>, incidents,
    commands (API acks, timer ticks) --------+                    deadletter

Both agents run with concurrency=1 and are idempotent: each table entry records the last offset
it applied per input partition, so records redelivered after a crash or a rebalance publish
nothing twice unless the crash fell between publishing and storing (then consumers dedupe by
the outputs' deterministic ids). Outputs are acknowledged by the broker before the state that
produced them is stored, so nothing is lost. Records a faust stream skips (around rebalances)
are read straight from the broker before the next one is applied (orchestrator.runtime.kafka.gaps).
Timers only read tables: they publish ticks that the partition's owner applies.

Agents take their records in batches (orchestrator.runtime.kafka.batches): each record is applied in
order, the batch waits once for the broker's acknowledgements, then stores its table writes.
The incidents topic gets each incident the batch changed once, as the batch left it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import faust
import mode
import structlog
from aiokafka.errors import KafkaError

from orchestrator.engine.clock import Millis
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.step import Engine, EngineConfig
from orchestrator.engine.validate import dead_letter
from orchestrator.runtime.base import wall_clock
from orchestrator.runtime.kafka.batches import (
    BATCH_MAX,
    BATCH_WITHIN_S,
    SourceTable,
    Staged,
    in_batch,
    pending,
)
from orchestrator.runtime.kafka.codec import (
    BROADCAST_KEY,
    CONTROL_HEADER,
    CONTROL_TICK,
    Record,
    ShardMessage,
    decode_control_tick,
    decode_shard_message,
    encode_tick,
    header,
    incident_record,
    output_record,
)
from orchestrator.runtime.kafka.config import KafkaSettings
from orchestrator.runtime.kafka.gaps import GapReader, Incoming, from_faust
from orchestrator.runtime.kafka.index import IncidentIndex
from orchestrator.runtime.kafka.intake import (
    Intake,
    IntakeCounters,
    SeenExpiry,
    counters_key,
    seen_prefix,
)
from orchestrator.runtime.kafka.shards import (
    ShardStore,
    is_shard_key,
    partition_for,
    progress_key,
    stored_next_due,
)
from orchestrator.runtime.kafka.topics import TopicNames
from schemas.deadletter import DeadLetter, Origin

log = structlog.get_logger("orchestrator.runtime.kafka")

ErrorPolicy = Callable[[Exception, bytes, Origin], DeadLetter]
"""Decides what becomes of a record whose processing raised: the dead letter to publish."""
ROUTE_WAIT_S = 10.0
"""How long intake waits for an unknown incident (of a command by task id) to be published."""
RETICK_AFTER_S = 10.0
"""A due shard is ticked again if its timer is still due this long after the last tick."""


def dead_letter_on_error(error: Exception, raw: bytes, origin: Origin) -> DeadLetter:
    """The default policy: dead-letter the record with the error as reason, and go on."""
    reason = getattr(error, "reason", None) or f"{type(error).__name__}: {error}"
    return dead_letter(raw, f"could not be processed: {reason}", origin)


def _origin(record: Incoming) -> Origin:
    return Origin(kind="kafka", name=record.topic, partition=record.partition, offset=record.offset)


class Pipeline:
    """The agents' work, bound to one faust app, one engine and one set of topics."""

    def __init__(
        self,
        app: Any,
        engine: Engine,
        names: TopicNames,
        settings: KafkaSettings,
        on_error: ErrorPolicy = dead_letter_on_error,
    ) -> None:
        self.app = app
        self.engine = engine
        self.names = names
        self.partitions = settings.kafka_partitions
        self.raw_partitions = settings.kafka_raw_partitions
        self.on_error = on_error
        self.index = IncidentIndex(settings.kafka_bootstrap_servers, names.incidents)
        self.intake = Intake(engine, names, self.partitions, self.index.get)
        self.intake_table = Staged(app.Table("intake", partitions=self.raw_partitions, **_RAW))
        self.shard_table = Staged(app.Table("shards", partitions=self.partitions, **_RAW))
        self.expiry = SeenExpiry()
        self._snapshots: dict[str, bytes] = {}
        """The newest JSON of each incident the incident agent's batch changed."""
        self.shards = ShardStore(engine, self.shard_table)
        self.gaps = GapReader(settings.kafka_bootstrap_servers)
        self._due: dict[bytes, tuple[int, Millis | None]] = {}
        self._ticked: dict[bytes, tuple[Millis, float]] = {}

    # -- publishing ---------------------------------------------------------------------------

    async def publish(self, records: list[Record]) -> None:
        """Produce `records`; wait until the broker has acknowledged every one (in a batch:
        the batch waits for them before it stores its state)."""
        sent = [
            await self.app.producer.send(
                r.topic, r.key, r.value, r.partition, None, list(r.headers) or None
            )
            for r in records
        ]
        waiting = pending()
        if waiting is not None:
            waiting.extend(sent)
            return
        for future in sent:
            await future

    async def intake_batch(self, records: list[Incoming]) -> None:
        """A batch of events.raw records, applied in order, stored once acknowledged."""

        async def work() -> None:
            for record in records:
                self.intake_table.partition = record.partition
                await self.take_raw(record)

        await in_batch(work, [self.intake_table])

    async def shard_batch(self, records: list[Incoming]) -> None:
        """A batch of incidents.keyed and commands records, applied in order, stored once
        acknowledged."""

        async def work() -> None:
            for record in records:
                self.shard_table.partition = record.partition
                await self.take_shard_input(record)
            snapshots, self._snapshots = self._snapshots, {}
            await self.publish(
                [incident_record(i, data, self.names) for i, data in snapshots.items()]
            )

        try:
            await in_batch(work, [self.shard_table])
        except BaseException:
            self.shards.forget()  # decoded shards may hold what was not stored
            self._snapshots.clear()
            raise

    async def guarded(self, work: Callable[[Incoming], Awaitable[None]], record: Incoming) -> None:
        """Run `work` on a record; an error dead-letters the record (per policy) unless it is
        the broker's: those stop the worker, so that the record is processed again."""
        try:
            await work(record)
        except (KafkaError, faust.exceptions.ProducerSendError):
            raise
        except Exception as error:  # the injected policy decides; the stream goes on
            origin = _origin(record)
            log.exception(
                "record.failed", topic=origin.name, partition=origin.partition, offset=origin.offset
            )
            letter = self.on_error(error, record.value or b"", origin)
            await self.publish([output_record(letter, self.names)])

    async def _missed(self, record: Incoming, last: int) -> list[Incoming]:
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

    # -- intake -------------------------------------------------------------------------------

    async def take_raw(self, record: Incoming) -> None:
        """A record of events.raw from the stream: skip it if applied, fill a gap before it."""
        last = self._counters(record.partition).offset
        if record.offset <= last:
            log.info("intake.skipped_redelivery", input=record.where, offset=record.offset)
            return
        for item in [*await self._missed(record, last), record]:
            await self.guarded(self.on_raw, item)
            counters = self._counters(item.partition)
            if counters.offset < item.offset:  # failed and dead-lettered: applied all the same
                counters.offset = item.offset
                self.intake_table[counters_key(item.partition)] = counters.dump()

    def _counters(self, partition: int) -> IntakeCounters:
        return IntakeCounters.load(self.intake_table.get(counters_key(partition)))

    async def on_raw(self, record: Incoming) -> None:
        """One record of events.raw: validate, dedupe, route to shards (or a control tick)."""
        counters = self._counters(record.partition)
        if header(record.headers, CONTROL_HEADER) == CONTROL_TICK:
            await self._broadcast_tick(record.value or b"")
        else:
            await self._admit(record.value or b"", _origin(record), counters)
        counters.offset = record.offset
        self.intake_table[counters_key(record.partition)] = counters.dump()

    async def _admit(self, raw: bytes, origin: Origin, counters: IntakeCounters) -> None:
        received = wall_clock()
        table = self.intake_table.get
        verdict = self.intake.judge(raw, origin, table, counters.watermark, received)
        if verdict.awaiting and await self.index.wait_for(verdict.awaiting, ROUTE_WAIT_S):
            verdict = self.intake.judge(raw, origin, table, counters.watermark, received)
        records = list(verdict.forwards)
        if verdict.dead_letter is not None:
            records.append(output_record(verdict.dead_letter, self.names))
        await self.publish(records)
        if verdict.seen is not None:
            key, seen = verdict.seen
            self.intake_table[key] = seen.dump()
            assert origin.partition is not None
            self.expiry.add(origin.partition, key, seen.time)
        counters.count(verdict.status)
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
            entries = [(k, v) for k, v in self.intake_table.items() if k.startswith(prefix)]
            self.expiry.load(partition, entries)
        cutoff = counters.watermark - self.engine.config.dedupe_horizon
        for key in self.expiry.expired(partition, cutoff):
            del self.intake_table[key]

    async def _broadcast_tick(self, raw: bytes) -> None:
        now = decode_control_tick(raw)
        value = encode_tick(now, broadcast=True)
        await self.publish(
            [
                Record(self.names.incidents_keyed, BROADCAST_KEY, value, partition=p)
                for p in range(self.partitions)
            ]
        )

    # -- incidents ----------------------------------------------------------------------------

    async def take_shard_input(self, record: Incoming) -> None:
        """A record of incidents.keyed or commands from the stream: skip it if applied, fill a
        gap before it."""
        last = self._progress(record.where)
        if record.offset <= last:
            log.info("shard.skipped_redelivery", input=record.where, offset=record.offset)
            return
        for item in [*await self._missed(record, last), record]:
            await self.guarded(self.on_shard_input, item)
            self.shard_table[progress_key(item.where)] = str(item.offset).encode()

    def _progress(self, where: str) -> int:
        stored = self.shard_table.get(progress_key(where))
        return int(stored) if stored is not None else -1

    async def on_shard_input(self, record: Incoming) -> None:
        """One record of incidents.keyed or commands: apply it to its shard (or all, for a
        broadcast tick) and publish what the engine emits."""
        shard = (record.key or b"").decode("utf-8")
        decoded = decode_shard_message(record.value, shard)
        keys = self._local_shards(record.partition) if decoded.broadcast else [shard.encode()]
        for key in keys:
            await self._apply(key, decoded, record.where, record.offset)

    async def _apply(self, key: bytes, decoded: ShardMessage, where: str, offset: int) -> None:
        applied = self.shards.apply(key, decoded, where, offset)
        if applied is None:
            log.info("shard.skipped_redelivery", input=where, offset=offset)
            return
        records = [output_record(o, self.names) for o in applied.outputs]
        await self.publish(records)
        self.shards.store(applied)
        self._snapshots.update(applied.changed)  # published once, at the end of the batch

    def _local_shards(self, partition: int) -> list[bytes]:
        keys = [bytes(k) for k in list(self.shard_table.keys()) if is_shard_key(k)]
        return sorted(k for k in keys if partition_for(k, self.partitions) == partition)

    # -- timers -------------------------------------------------------------------------------

    async def tick_due_shards(self, *_app: Any) -> None:
        """Publish a tick for each shard this worker owns whose earliest timer is due."""
        now = wall_clock()
        owned = {
            tp.partition
            for tp in self.app.assignor.assigned_actives()
            if tp.topic == self.names.incidents_keyed
        }
        ticks = []
        for key, raw in list(self.shard_table.items()):
            if not is_shard_key(key):
                continue
            partition = partition_for(key, self.partitions)
            due = self._next_due(key, raw)
            if partition in owned and due is not None and due <= now and self._may_tick(key, due):
                value = encode_tick(now)
                ticks.append(Record(self.names.commands, key, value, partition=partition))
        await self.publish(ticks)

    def _next_due(self, key: bytes, raw: bytes) -> Millis | None:
        cached = self._due.get(key)
        if cached is not None and cached[0] == hash(raw):
            return cached[1]
        due = stored_next_due(raw)
        self._due[key] = (hash(raw), due)
        return due

    def _may_tick(self, key: bytes, due: Millis) -> bool:
        last = self._ticked.get(key)
        if last is not None and last[0] == due and time.monotonic() - last[1] < RETICK_AFTER_S:
            return False
        self._ticked[key] = (due, time.monotonic())
        return True


_RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "default": None}
"""Tables of raw bytes (faust picks the raw codec for bytes): keys read back as written."""


def _brokers(bootstrap: str) -> list[str]:
    return [f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip()]


PRODUCER_LINGER_S = 0.002
"""How long the producer gathers a batch's records into one request (a batch waits for their
acknowledgements once, so one request per batch instead of one per record)."""

SHARD_DEDUPE_ENTRIES = 256
"""Event keys a shard's own state remembers. Intake dedupes on (source, id) across the stream
and each shard skips inputs at or below its applied offset, so the shard's copy is only a last
guard; bounding it keeps every shard update's cost flat instead of growing with its events."""


def shard_config(config: EngineConfig | None) -> EngineConfig:
    """The engine configuration of the shards: the given one, with a bounded dedupe memory."""
    base = config or EngineConfig()
    return replace(base, dedupe_max_entries=min(base.dedupe_max_entries, SHARD_DEDUPE_ENTRIES))


def build_app(
    settings: KafkaSettings,
    playbooks: list[Playbook],
    names: TopicNames,
    engine_config: EngineConfig | None = None,
    on_error: ErrorPolicy = dead_letter_on_error,
) -> Any:
    """A faust app running the core over the topics of `names`; start it with a faust Worker."""
    app = faust.App(
        settings.app_id,
        broker=_brokers(settings.kafka_bootstrap_servers),
        store=settings.kafka_store,
        datadir=str(settings.kafka_data_dir),
        topic_partitions=settings.kafka_partitions,
        topic_replication_factor=settings.kafka_replication,
        table_standby_replicas=settings.kafka_standby_replicas,
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
        producer_linger=PRODUCER_LINGER_S,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.kafka_session_timeout,
        broker_heartbeat_interval=settings.kafka_heartbeat_interval,
        broker_rebalance_timeout=settings.kafka_rebalance_timeout,
        broker_commit_interval=settings.kafka_commit_interval,
        consumer_group_instance_id=settings.kafka_group_instance_id,
        agent_supervisor=mode.CrashingSupervisor,
        web_enabled=False,
        Table=SourceTable,
    )
    pipeline = Pipeline(
        app, Engine(playbooks, shard_config(engine_config)), names, settings, on_error
    )
    _wire(app, pipeline, settings)
    return app


def _topic(app: Any, *names: str, partitions: int) -> Any:
    return app.topic(
        *names,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )


def _wire(app: Any, pipeline: Pipeline, settings: KafkaSettings) -> None:
    names = pipeline.names
    raw = _topic(app, names.events_raw, partitions=settings.kafka_raw_partitions)
    inputs = _topic(
        app, names.incidents_keyed, names.commands, partitions=settings.kafka_partitions
    )

    async def intake(stream: Any) -> None:
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            await pipeline.intake_batch([from_faust(e) for e in events])

    async def incidents(stream: Any) -> None:
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            await pipeline.shard_batch([from_faust(e) for e in events])

    app.agent(raw, name="intake", concurrency=1)(intake)
    app.agent(inputs, name="incidents", concurrency=1)(incidents)
    app.task(pipeline.index.run)
    if settings.kafka_timer_interval > 0:
        app.timer(settings.kafka_timer_interval, name="escalation_timer")(pipeline.tick_due_shards)

    async def rebalanced(sender: Any, **_kwargs: Any) -> None:
        actives = sorted(f"{tp.topic}:{tp.partition}" for tp in app.assignor.assigned_actives())
        pipeline.shards.forget()
        pipeline.expiry.forget()
        log.info("worker.rebalanced", app_id=app.conf.id, actives=actives)

    app.on_rebalance_complete.connect(rebalanced)
