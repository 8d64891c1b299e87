"""The faust app around the engine: it only wires the agents (orchestrator.runtime.kafka.agents).

    events.raw --intake--> incidents.keyed --+
                                             +--incident agent--> tasks.<role>, incidents,
    commands (API acks, timer ticks) --------+                    deadletter

Both agents run with concurrency=1 and are idempotent: each table entry records the last offset
it applied per input partition, so records redelivered after a crash or a rebalance publish
nothing twice unless the crash fell between publishing and storing (then consumers dedupe by
the outputs' deterministic ids). Timers only read tables: they publish ticks that the
partition's owner applies. Agents take their records in batches
(orchestrator.runtime.kafka.batches) and wait for the broker once per batch.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import faust
import mode
import structlog

from orchestrator.engine import Engine, EngineConfig, Playbook
from orchestrator.runtime.collector import freeze_loaded
from orchestrator.runtime.kafka.agents import (
    ErrorPolicy,
    EscalationTimer,
    IncidentAgent,
    IntakeAgent,
    Publisher,
    dead_letter_on_error,
)
from orchestrator.runtime.kafka.batches import BATCH_MAX, BATCH_WITHIN_S, SourceTable, Staged
from orchestrator.runtime.kafka.gaps import GapReader, from_faust
from orchestrator.runtime.kafka.health import HealthServer
from orchestrator.runtime.kafka.index import IncidentIndex
from orchestrator.runtime.kafka.metrics import WorkerMetrics
from orchestrator.runtime.kafka.topics import TopicNames
from orchestrator.settings import Settings

log = structlog.get_logger("orchestrator.runtime.kafka")

__all__ = ["ErrorPolicy", "build_app", "dead_letter_on_error", "shard_config"]


_RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "default": None}
"""Tables of raw bytes (faust picks the raw codec for bytes): keys read back as written."""


def _brokers(bootstrap: str) -> list[str]:
    return [f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip()]


PRODUCER_LINGER_S = 0.002
"""How long the producer gathers a batch's records into one request (a batch waits for their
acknowledgements once, so one request per batch instead of one per record)."""

SHARD_DEDUPE_ENTRIES = 64
"""Event keys a shard's own state remembers. Intake dedupes on (source, id) across the stream
and each shard skips inputs at or below its applied offset, so the shard's copy is only a last
guard; bounding it keeps every shard update's cost flat instead of growing with its events.
Every record rewrites the shard's entry, these keys with it: 256 of them were a third of it
(9 KB) and, on the crash test's stream, a fifth of a worker's time."""


def shard_config(config: EngineConfig | None) -> EngineConfig:
    """The engine configuration of the shards: the given one, with a bounded dedupe memory."""
    base = config or EngineConfig()
    return replace(base, dedupe_max_entries=min(base.dedupe_max_entries, SHARD_DEDUPE_ENTRIES))


def build_app(
    settings: Settings,
    playbooks: list[Playbook],
    names: TopicNames,
    engine_config: EngineConfig | None = None,
    on_error: ErrorPolicy = dead_letter_on_error,
    metrics: WorkerMetrics | None = None,
) -> Any:
    """A faust app running the core over the topics of `names`; start it with a faust Worker.
    It counts into `metrics` and serves them on ORCH_WORKER_PORT (unless 0)."""
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
    engine = Engine(playbooks, shard_config(engine_config))
    agents = _Agents.build(app, engine, names, settings, on_error, metrics or WorkerMetrics())
    _wire(app, agents, settings)
    _watch(app, agents, settings)
    return app


class _Agents:
    """The agents of one worker over one set of topics, and the index intake asks."""

    def __init__(
        self, intake: IntakeAgent, incidents: IncidentAgent, timer: EscalationTimer
    ) -> None:
        self.intake = intake
        self.incidents = incidents
        self.timer = timer

    @classmethod
    def build(
        cls,
        app: Any,
        engine: Engine,
        names: TopicNames,
        settings: Settings,
        on_error: ErrorPolicy,
        metrics: WorkerMetrics,
    ) -> _Agents:
        """The agents, their tables (raw bytes) and the publisher they share."""
        bootstrap = settings.kafka_bootstrap_servers
        partitions, raw_partitions = settings.kafka_partitions, settings.kafka_raw_partitions
        index = IncidentIndex(bootstrap, names.incidents)
        intake_table = Staged(app.Table("intake", partitions=raw_partitions, **_RAW))
        shard_table = Staged(app.Table("shards", partitions=partitions, **_RAW))
        publisher = Publisher(app, names, GapReader(bootstrap), on_error, metrics)
        return cls(
            IntakeAgent(publisher, engine, intake_table, index, partitions, raw_partitions),
            IncidentAgent(publisher, engine, shard_table, partitions),
            EscalationTimer(app, publisher, shard_table, partitions),
        )


def _topic(app: Any, *names: str, partitions: int) -> Any:
    return app.topic(
        *names,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )


def _wire(app: Any, agents: _Agents, settings: Settings) -> None:
    names = agents.intake.names
    raw = _topic(app, names.events_raw, partitions=settings.kafka_raw_partitions)
    inputs = _topic(
        app, names.incidents_keyed, names.commands, partitions=settings.kafka_partitions
    )

    async def intake(stream: Any) -> None:
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            await agents.intake.batch([from_faust(e) for e in events])

    async def incidents(stream: Any) -> None:
        async for events in stream.take_events(BATCH_MAX, BATCH_WITHIN_S):
            await agents.incidents.batch([from_faust(e) for e in events])

    app.agent(raw, name="intake", concurrency=1)(intake)
    app.agent(inputs, name="incidents", concurrency=1)(incidents)
    app.task(agents.intake.index.run)
    if settings.kafka_timer_interval > 0:
        timer = agents.timer.tick_due_shards
        app.timer(settings.kafka_timer_interval, name="escalation_timer")(timer)


def _watch(app: Any, agents: _Agents, settings: Settings) -> None:
    """Rebalances (logged once each, with the recovery time) and the worker's port."""
    metrics = agents.intake.publisher.metrics

    async def revoked(sender: Any, *_args: Any, **_kwargs: Any) -> None:
        metrics.rebalance_started()

    async def rebalanced(sender: Any, **_kwargs: Any) -> None:
        actives = sorted(f"{tp.topic}:{tp.partition}" for tp in app.assignor.assigned_actives())
        agents.incidents.shards.forget()
        agents.intake.expiry.forget()
        took = metrics.rebalance_completed()
        freeze_loaded()  # the recovered tables and what joining loaded: out of full collections
        log.info(
            "worker.rebalanced", app_id=app.conf.id, actives=actives, recovery_s=round(took, 2)
        )

    app.on_partitions_revoked.connect(revoked)
    app.on_rebalance_complete.connect(rebalanced)
    metrics.watch_lag(lambda: _lag(app, agents))  # measured when /metrics is scraped
    if settings.worker_port:
        app.task(HealthServer(metrics, settings.worker_host, settings.worker_port).serve)


async def _lag(app: Any, agents: _Agents) -> list[tuple[str, int, int]]:
    """Records behind on each input partition this worker owns: the partition's end offset,
    asked of the broker now, past the last offset the agent applied."""
    names = agents.intake.names
    inputs = (names.events_raw, names.incidents_keyed, names.commands)
    owned = [tp for tp in app.assignor.assigned_actives() if tp.topic in inputs]
    ends = await app.consumer.highwaters(*owned) if owned else {}
    rows = []
    for tp, end in sorted(ends.items()):
        if tp.topic == names.events_raw:
            applied = agents.intake.applied(tp.partition)
        else:
            applied = agents.incidents.applied(f"{tp.topic}:{tp.partition}")
        rows.append((tp.topic, tp.partition, max(0, int(end) - applied - 1)))
    return rows
