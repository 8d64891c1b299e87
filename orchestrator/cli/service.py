"""The service commands: `run` (the embedded runtime, or with --kafka the agent API over Kafka
workers), `worker` (one Kafka worker) and `agent` (a role agent against the API)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from orchestrator.cli.common import (
    PlaybooksOpt,
    engine_config,
    err,
    fail,
    load_playbooks,
    load_rosters_file,
    read_settings,
)
from orchestrator.cli.serving import listen, serve_api
from orchestrator.engine import Engine
from orchestrator.errors import AuthConfigError
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from orchestrator.notify import Notifications
    from orchestrator.runtime.embedded import EmbeddedRuntime
    from orchestrator.runtime.kafka import KafkaRuntime

TICK_SECONDS = 1.0
"""How often (wall time) the embedded service fires due timers."""


def run(
    playbooks: PlaybooksOpt = None,
    data_dir: Annotated[
        Path | None, typer.Option(metavar="DIR", help="Where the database lives.")
    ] = None,
    host: Annotated[str | None, typer.Option(metavar="HOST", help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="Port to listen on.")] = None,
    kafka: Annotated[
        bool,
        typer.Option(
            "--kafka",
            help="Serve the API over Kafka workers (ORCH_KAFKA_BOOTSTRAP_SERVERS, "
            "ORCH_TOPIC_PREFIX); run the workers with `orchestrator worker`.",
        ),
    ] = False,
) -> None:
    """Run the service (HTTP intake, agent API, timers).

    The embedded runtime on SQLite; with --kafka only the API, over Kafka workers started with
    `orchestrator worker`."""
    from orchestrator.logs import configure_logging

    settings = read_settings(data_dir=data_dir, host=host, port=port)
    configure_logging(settings.log_format, settings.log_level)
    if kafka:
        _run_kafka_api(playbooks, settings)
    else:
        _run_embedded(playbooks, settings)


def _source_claims(settings: Settings) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Which sources each ingest sender may claim; checks every auth setting, so it comes
    before storage or the broker is touched."""
    try:
        return settings.auth().source_claims()
    except AuthConfigError as problem:
        raise fail(str(problem)) from None


def _run_embedded(playbooks: Path | None, settings: Settings) -> None:
    """The embedded runtime on its SQLite log, its timers on a thread, the API in front."""
    import threading

    from orchestrator.runtime import collector_paused, freeze_loaded
    from orchestrator.runtime.embedded import EmbeddedRuntime

    config = replace(engine_config(settings), source_claims=_source_claims(settings))
    engine = Engine(load_playbooks(playbooks, settings), config)
    sock = listen(settings)
    with collector_paused():  # a recovery makes no garbage worth full collections
        runtime = EmbeddedRuntime.open(
            engine,
            settings.data_dir,
            settings.snapshot_every,
            settings.sqlite_synchronous,
            snapshot_seconds=settings.snapshot_seconds,
        )
        freeze_loaded()  # the recovered state, once (serving freezes what it loads then)
    stop = threading.Event()

    def ticker() -> None:
        while not stop.wait(TICK_SECONDS):
            runtime.tick()

    thread = threading.Thread(target=ticker, name="timers", daemon=True)
    thread.start()
    notifications = _notifications(runtime, settings)
    try:
        serve_api(runtime, settings, sock, notifications.links if notifications else None)
    finally:
        stop.set()
        thread.join()
        if notifications is not None:
            notifications.close()
        runtime.close()


def _notifications(runtime: EmbeddedRuntime, settings: Settings) -> Notifications | None:
    """Delivery after the outbox, when a rosters file says who is on call (and how reached)."""
    from orchestrator.notify import start_notifications

    rosters = load_rosters_file(settings)
    return None if rosters is None else start_notifications(runtime, settings, rosters, runtime.now)


def _run_kafka_api(playbooks: Path | None, settings: Settings) -> None:
    """`run --kafka`: the agent API over the Kafka runtime (and, with rosters, the delivery of
    its share of the role topics' pages); the workers run on their own."""
    from orchestrator.runtime.kafka import KafkaRuntime

    claims = dict(_source_claims(settings))
    runtime = KafkaRuntime(settings, load_playbooks(playbooks, settings), source_claims=claims)
    sock = listen(settings)
    try:
        runtime.start()
    except (ConnectionError, TimeoutError) as problem:
        raise fail(str(problem)) from None
    try:
        with _kafka_notifications(runtime, settings) as notifications:
            serve_api(runtime, settings, sock, notifications.links if notifications else None)
    finally:
        runtime.close()


@contextmanager
def _kafka_notifications(
    runtime: KafkaRuntime, settings: Settings
) -> Iterator[Notifications | None]:
    """With a rosters file, delivery over the Kafka runtime: a member of the consumer group
    `<prefix>notify` on the role topics, queueing into notify.db under ORCH_DATA_DIR. A drill
    namespace (ORCH_NETWORK_COMMANDS=true, as its workers run) only records its pages."""
    from orchestrator.notify import start_notifications
    from orchestrator.runtime.kafka import TaskFeed

    rosters = load_rosters_file(settings)
    if rosters is None:
        yield None
        return
    feed = TaskFeed(settings, runtime.names)
    drill = settings.network_commands
    notifications = start_notifications(
        runtime, settings, rosters, runtime.now, record_only=drill, feed=feed
    )
    try:
        yield notifications
    finally:
        notifications.close()
        feed.close()


def worker(
    playbooks: PlaybooksOpt = None,
    faust_log_level: Annotated[
        str, typer.Option(metavar="LEVEL", help="faust's own log level.")
    ] = "warning",
) -> None:
    """Run one Kafka worker.

    Configured by ORCH_KAFKA_BOOTSTRAP_SERVERS, ORCH_TOPIC_PREFIX and ORCH_KAFKA_*; it serves
    /healthz, /readyz and /metrics on ORCH_WORKER_PORT (8081)."""
    from orchestrator.logs import configure_logging
    from orchestrator.runtime.kafka import run_worker

    settings = read_settings()
    configure_logging(settings.log_format, settings.log_level)
    config = replace(engine_config(settings), network_commands=settings.network_commands)
    try:
        run_worker(settings, load_playbooks(playbooks, settings), config, faust_log_level)
    except (ConnectionError, TimeoutError) as problem:
        raise fail(str(problem)) from None


def agent(
    role: Annotated[str, typer.Argument(metavar="ROLE", help="ops, pr, legal or logistics.")],
    api: Annotated[
        str, typer.Option(metavar="URL", help="The orchestrator's API URL.")
    ] = "http://127.0.0.1:8080",
    token: Annotated[
        str,
        typer.Option(
            envvar="ORCH_AGENT_TOKEN",
            metavar="TOKEN",
            show_default=False,
            help="The agent's responder token.",
        ),
    ] = "",
    table: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Own table, not the shipped one.")
    ] = None,
) -> None:
    """Run a role agent against the API.

    Follows ROLE's feed and adds role-specific help to its new tasks as comments."""
    from agents import run_agent

    raise typer.Exit(run_agent(role, api, token, table, err))
