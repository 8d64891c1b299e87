"""Run one Kafka worker: create the topics if needed, then the faust app until SIGTERM.

Several workers with the same app id (one consumer group) share the partitions; a worker that
joins or restarts recovers the state of its partitions from the tables' changelog topics.
"""

from __future__ import annotations

import logging

import faust
import mode.loop
import structlog

from orchestrator.engine import EngineConfig, Playbook
from orchestrator.runtime.kafka.app import build_app
from orchestrator.runtime.kafka.topics import TopicNames, ensure_topics
from orchestrator.settings import Settings

log = structlog.get_logger("orchestrator.runtime.kafka")
CLIENT_LOGGERS = ("faust", "mode", "aiokafka", "kafka")
"""faust's and the Kafka clients' loggers, held at faust's level (they log every record sent
at debug level, which costs a log record each even when no handler keeps it)."""


def prepare_topics(settings: Settings, names: TopicNames) -> list[str]:
    """Create the deployment's topics that are missing (events.raw with its own count)."""
    return ensure_topics(
        settings.kafka_bootstrap_servers,
        names,
        partitions=settings.kafka_partitions,
        replication=settings.kafka_replication,
        overrides={names.events_raw: settings.kafka_raw_partitions},
    )


def run_worker(
    settings: Settings,
    playbooks: list[Playbook],
    engine_config: EngineConfig | None = None,
    loglevel: str = "warning",
) -> None:
    """Start a worker and block until it stops (SIGTERM or SIGINT stop it cleanly)."""
    mode.loop.use("uvloop")  # before faust makes its loop: a faster loop and socket transport
    names = TopicNames.of(settings, playbooks)
    created = prepare_topics(settings, names)
    settings.kafka_data_dir.mkdir(parents=True, exist_ok=True)
    app = build_app(settings, playbooks, names, engine_config)
    log.info(
        "worker.starting",
        app_id=settings.app_id,
        prefix=settings.topic_prefix,
        created_topics=created,
        store=settings.kafka_store,
        partitions=settings.kafka_partitions,
        roles=list(names.roles),
    )
    for client in CLIENT_LOGGERS:
        logging.getLogger(client).setLevel(loglevel.upper())
    worker = faust.Worker(app, loglevel=loglevel, redirect_stdouts=False, quiet=True)
    worker.execute_from_commandline()
