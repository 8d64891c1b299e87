"""Run one Kafka worker: create the topics if needed, then the faust app until SIGTERM.

Several workers with the same app id (one consumer group) share the partitions; a worker that
joins or restarts recovers the state of its partitions from the tables' changelog topics.

A worker logs one line when it starts (bootstrap, group, topics, partitions, its port) and one
when it stops (its counters); in between, one per rebalance and what needs an operator. faust's
and the Kafka clients' own lines go through the same renderer (orchestrator.logs). Its port
(ORCH_WORKER_PORT) serves /healthz, /readyz and /metrics (orchestrator.runtime.kafka.health).
"""

from __future__ import annotations

import logging
import time

import faust
import mode.loop
import structlog

from orchestrator.engine import EngineConfig, Playbook
from orchestrator.errors import TopicLayoutError
from orchestrator.logs import capture_library_logging
from orchestrator.runtime.collector import freeze_loaded
from orchestrator.runtime.kafka.app import build_app
from orchestrator.runtime.kafka.metrics import WorkerMetrics
from orchestrator.runtime.kafka.topics import (
    TopicNames,
    changelog_topics,
    describe_topics,
    ensure_topics,
    topic_configs,
    topic_drift,
)
from orchestrator.settings import Settings

log = structlog.get_logger("orchestrator.runtime.kafka")
CLIENT_LOGGERS = ("faust", "mode", "aiokafka", "kafka")
"""faust's and the Kafka clients' loggers, held at faust's level (they log every record sent
at debug level, which costs a log record each even when no handler keeps it)."""
COORDINATOR_LOGGER = "aiokafka.consumer.group_coordinator"


class RetriedCoordinatorLookup(logging.Filter):
    """aiokafka logs a failed group-coordinator lookup as an ERROR even when it retries it: a
    fresh broker answers "coordinator not available" until its offsets topic exists. A
    retriable failure is logged at INFO instead (kept when that level is on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if record.levelno >= logging.ERROR and getattr(error, "retriable", False):
            record.levelno, record.levelname = logging.INFO, "INFO"
            return logging.getLogger(record.name).isEnabledFor(logging.INFO)
        return True


def prepare_topics(settings: Settings, names: TopicNames) -> list[str]:
    """Create the deployment's topics that are missing (events.raw with its own count), and
    check that those that were there have the counts the settings give them.

    Raises TopicLayoutError naming each topic whose partition count differs."""
    counts = dict.fromkeys(names.all(), settings.kafka_partitions)
    counts[names.events_raw] = settings.kafka_raw_partitions
    created = ensure_topics(
        settings.kafka_bootstrap_servers,
        names,
        partitions=settings.kafka_partitions,
        replication=settings.kafka_replication,
        overrides={names.events_raw: settings.kafka_raw_partitions},
        retention_ms=settings.kafka_retention_ms,
    )
    found = describe_topics(settings.kafka_bootstrap_servers, names)
    wrong = [
        f"{name} has {found[name]}"
        for name in counts
        if found.get(name, counts[name]) != counts[name]
    ]
    if wrong:
        raise TopicLayoutError(
            f"{'; '.join(wrong)} partitions where ORCH_KAFKA_PARTITIONS is "
            f"{settings.kafka_partitions} (ORCH_KAFKA_RAW_PARTITIONS "
            f"{settings.kafka_raw_partitions} for {names.events_raw}): give every worker and "
            "the API the topics' counts, or delete the topics so they are created again"
        )
    return created


def warn_on_drift(settings: Settings, names: TopicNames) -> list[str]:
    """Log a warning for each topic whose configuration differs from what it should have
    (topics made by hand or by an older version); the differences."""
    wanted = {
        **topic_configs(names, settings.kafka_retention_ms),
        **changelog_topics(settings.app_id),
    }
    drift = topic_drift(settings.kafka_bootstrap_servers, wanted)
    for line in drift:
        log.warning("topic.drifted", drift=line)
    return drift


def _client_logging(settings: Settings, loglevel: str) -> None:
    capture_library_logging(settings.log_format, loglevel)
    for client in CLIENT_LOGGERS:
        logging.getLogger(client).setLevel(loglevel.upper())
    logging.getLogger(COORDINATOR_LOGGER).addFilter(RetriedCoordinatorLookup())


def run_worker(
    settings: Settings,
    playbooks: list[Playbook],
    engine_config: EngineConfig | None = None,
    loglevel: str = "warning",
) -> None:
    """Start a worker and block until it stops (SIGTERM or SIGINT stop it cleanly).

    Raises ConnectionError (naming ORCH_KAFKA_BOOTSTRAP_SERVERS) when no broker answers."""
    mode.loop.use("uvloop")  # before faust makes its loop: a faster loop and socket transport
    names = TopicNames.of(settings, playbooks)
    created = prepare_topics(settings, names)
    _client_logging(settings, loglevel)
    settings.kafka_data_dir.mkdir(parents=True, exist_ok=True)
    metrics = WorkerMetrics(process=True)
    app = build_app(settings, playbooks, names, engine_config, metrics=metrics)
    drift = warn_on_drift(settings, names)
    log.info(
        "worker.started",
        bootstrap=settings.kafka_bootstrap_servers,
        group=settings.app_id,
        topics=list(names.all()),
        created_topics=created,
        partitions=settings.kafka_partitions,
        raw_partitions=settings.kafka_raw_partitions,
        store=settings.kafka_store,
        port=settings.worker_port or None,
        drifted_topics=len(drift),
    )
    started = time.monotonic()
    worker = faust.Worker(
        app, loglevel=loglevel, redirect_stdouts=False, quiet=True, override_logging=False
    )
    worker.spinner = None  # faust's progress spinner writes terminal codes even into files
    freeze_loaded()  # the code and app; each rebalance freezes what it recovered (app.py)
    try:
        worker.execute_from_commandline()
    finally:
        log.info(
            "worker.stopped",
            group=settings.app_id,
            uptime_s=round(time.monotonic() - started, 1),
            **metrics.totals(),
        )
