"""The `orchestrator` command. Exit codes: 0 ok, 1 findings, 2 usage or input errors."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from orchestrator.drills.replay import DrillResult, replay_file
from orchestrator.engine.clock import parse_time
from orchestrator.engine.outputs import Output
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.step import Engine
from orchestrator.engine.summary import summary
from orchestrator.errors import OrchestratorError, PlaybookError
from orchestrator.playbook import load_directory, load_playbook
from orchestrator.runtime.base import Runtime
from orchestrator.settings import Settings
from schemas.deadletter import DeadLetter

if TYPE_CHECKING:
    from orchestrator.api import ApiSettings

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
TICK_SECONDS = 1.0

app = typer.Typer(
    help="Event-driven incident response orchestrator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
playbooks_app = typer.Typer(help="Validate, test and describe playbooks.", no_args_is_help=True)
app.add_typer(playbooks_app, name="playbooks")
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True)

PlaybooksOpt = Annotated[
    Path | None,
    typer.Option("--playbooks", "-p", help="Directory of playbooks (default: the shipped ones)."),
]


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM end the process through `finally` blocks (uvicorn re-raises it after its
    graceful shutdown), so the runtime writes its snapshot and the exit code is 0."""
    import signal

    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def serve_api(runtime: Runtime, settings: Settings, api: ApiSettings | None = None) -> None:
    """Serve the HTTP API over `runtime` until SIGTERM or Ctrl-C (auth etc. from ORCH_*)."""
    from orchestrator.api.server import api_server

    exit_cleanly_on_sigterm()
    server = api_server(runtime, settings.host, settings.port, api)
    server.config.load()  # import the event loop and protocol modules now, to freeze them too
    gc.collect()
    gc.freeze()  # code, app and state live as long as the process: full collections skip them
    server.run()


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print an error with what to do next, and give the exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _load(directory: Path | None, settings: Settings) -> list[Playbook]:
    folder = directory or settings.playbooks
    if not folder.is_dir():
        raise fail(f"{folder} is not a directory of playbooks; pass --playbooks DIR")
    try:
        return load_directory(folder)
    except PlaybookError as problem:
        raise fail(str(problem)) from None


def _until(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise fail(
            f"--until {value!r} is not an RFC 3339 time with offset, e.g. 2026-11-20T18:00:00Z"
        ) from None


def _run_replay(
    engine: Engine,
    log: Path,
    until: int | None,
    speed: float | None,
    dead_letters: Path | None = None,
) -> DrillResult:
    if not log.is_file():
        raise fail(f"{log} is not a file; give the path of a JSON Lines event log")
    with ExitStack() as stack:
        sink = None
        if dead_letters is not None:
            handle = stack.enter_context(dead_letters.open("w", encoding="utf-8"))

            def sink(output: Output) -> None:
                if isinstance(output, DeadLetter):
                    handle.write(output.model_dump_json() + "\n")

        return _replay_with_progress(engine, log, until, speed, sink)


def _replay_with_progress(
    engine: Engine,
    log: Path,
    until: int | None,
    speed: float | None,
    sink: Callable[[Output], None] | None,
) -> DrillResult:
    if not err.is_terminal:
        return replay_file(engine, log, until=until, speed=speed, sink=sink)
    columns = (
        TextColumn("replaying {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(log.name, total=log.stat().st_size)
        return replay_file(
            engine,
            log,
            until=until,
            speed=speed,
            sink=sink,
            progress=lambda done: bar.update(task, completed=done),
        )


def _write_report(result: DrillResult, path: Path | None, title: str) -> None:
    if path is None:
        return
    from orchestrator.drills.report import write_report

    write_report(result.state, path, title)
    err.print(f"report written to {path}")


@app.command()
def replay(
    log: Annotated[Path, typer.Argument(help="JSON Lines event log (CloudEvents, one per line).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the contract summary.")] = False,
    until: Annotated[
        str | None, typer.Option(help="Advance the clock to this time at the end.")
    ] = None,
    speed: Annotated[float | None, typer.Option(help="Pace at X times event time.")] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write a drill report (.md or .html).")
    ] = None,
    dead_letters: Annotated[
        Path | None, typer.Option(help="Write rejected records (JSONL).")
    ] = None,
    serve: Annotated[
        bool, typer.Option(help="Live drill: serve the agent API while the log plays (--speed).")
    ] = False,
    port: Annotated[int | None, typer.Option(help="Port of the live drill's API.")] = None,
    namespace: Annotated[str | None, typer.Option(help="Live drill namespace name.")] = None,
    playbooks: PlaybooksOpt = None,
    kafka: Annotated[
        bool, typer.Option(help="Produce into Kafka (topics <namespace>. or ORCH_TOPIC_PREFIX).")
    ] = False,
) -> None:
    """Replay a recorded event log as a drill, deterministically, on event time."""
    if kafka:
        _replay_kafka(log, speed, _until(until), namespace, playbooks, as_json)
        return
    if serve:
        _live_drill(log, speed, _until(until), report, port, namespace, playbooks, as_json)
        return
    settings = Settings()
    engine = Engine(_load(playbooks, settings), settings.engine_config())
    result = _run_replay(engine, log, _until(until), speed, dead_letters)
    _write_report(result, report, f"Drill: {log.name}")
    if as_json:
        sys.stdout.write(json.dumps(summary(result.state), indent=2, ensure_ascii=False) + "\n")
    else:
        print_tables(summary(result.state))


def _live_drill(
    log: Path,
    speed: float | None,
    until: int | None,
    report: Path | None,
    port: int | None,
    namespace: str | None,
    playbooks: Path | None,
    as_json: bool,
) -> None:
    """Play `log` on drill time in its own namespace while responders act through the API."""
    import threading

    from orchestrator.api.server import api_server
    from orchestrator.drills.live import prepare
    from orchestrator.logs import configure_logging

    if speed is None or speed <= 0:
        raise fail("a live drill needs --speed X (e.g. 60: one minute of event time a second)")
    if not log.is_file():
        raise fail(f"{log} is not a file; give the path of a JSON Lines event log")
    settings = Settings().model_copy(update={"port": port} if port is not None else {})
    configure_logging(settings.log_format, settings.log_level)
    config = replace(settings.engine_config(), drill=True)
    engine = Engine(_load(playbooks, settings), config)
    try:
        drill = prepare(engine, log, settings.data_dir, namespace or f"drill-{log.stem}", speed)
    except ValueError as problem:
        raise fail(str(problem)) from None
    server = api_server(drill.runtime, settings.host, settings.port)
    stop = threading.Event()
    workers = [
        threading.Thread(target=drill.feed, args=(stop, until), daemon=True),
        threading.Thread(target=drill.tick, args=(stop,), daemon=True),
    ]
    for worker in workers:
        worker.start()
    err.print(
        f"live drill {drill.name}: API on http://{settings.host}:{settings.port}, "
        f"{speed:g}x event time; Ctrl-C to end it"
    )

    def end_when_stopped() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=end_when_stopped, daemon=True).start()
    exit_cleanly_on_sigterm()
    try:
        server.run()
    finally:
        stop.set()
        _write_report(DrillResult(drill.runtime.state), report, f"Live drill: {drill.name}")
        data = drill.runtime.summary()
        drill.runtime.close()
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        print_tables(data)


def print_tables(data: dict[str, Any]) -> None:
    """The summary as readable tables: counts, incidents, and each incident's tasks."""
    ev = data["events"]
    out.print(
        f"events: read {ev['read']}, accepted {ev['accepted']}, rejected {ev['rejected']}, "
        f"duplicates {ev['duplicates']}, late {ev['late']}"
    )
    incidents = Table(title="Incidents", title_justify="left")
    for column in ("playbook", "key", "severity", "status", "phase", "opened", "events", "id"):
        incidents.add_column(column)
    for inc in data["incidents"]:
        incidents.add_row(
            inc["playbook"],
            inc["key"],
            inc["severity"],
            inc["status"],
            inc["phase"],
            inc["opened_at"],
            str(inc["events"]),
            inc["id"],
        )
    out.print(incidents)
    tasks = Table(title="Tasks", title_justify="left")
    for column in ("incident", "task", "role", "status", "due", "escalations"):
        tasks.add_column(column)
    for inc in data["incidents"]:
        for task in inc["tasks"]:
            tasks.add_row(
                f"{inc['playbook']}/{inc['key']}",
                task["name"],
                task["role"],
                task["status"],
                task["due_at"] or "-",
                str(task["escalations"]),
            )
    out.print(tasks)


@app.command()
def demo(
    report: Annotated[Path, typer.Option(help="Where to write the drill report.")] = Path(
        "drill-report.html"
    ),
) -> None:
    """The main job on a fresh machine: replay the bundled drill over all five playbooks."""
    from orchestrator.demo import DEMO_LOG, DEMO_UNTIL

    settings = Settings()
    engine = Engine(_load(None, settings), settings.engine_config())
    result = _run_replay(engine, DEMO_LOG, parse_time(DEMO_UNTIL), None)
    print_tables(summary(result.state))
    escalations = sum(
        t["escalations"] for i in summary(result.state)["incidents"] for t in i["tasks"]
    )
    out.print(f"dead letters: {result.dead_letter_count}; escalations: {escalations}")
    for letter in result.dead_letters:
        out.print(f"  line {letter.origin.offset}: {letter.reason}")
    _write_report(result, report, "Demo drill: all five shipped playbooks")
    _write_report(result, report.with_suffix(".md"), "Demo drill: all five shipped playbooks")


@playbooks_app.command("validate")
def playbooks_validate(
    directory: Annotated[Path, typer.Argument(help="Playbook directory.")],
) -> None:
    """Load every playbook in DIR and report every problem with file:line and field."""
    found = _load(directory, Settings())
    for pb in found:
        out.print(f"ok  {pb.id} v{pb.version} ({pb.mode}) {pb.source}")


@playbooks_app.command("test")
def playbooks_test(
    directory: Annotated[Path, typer.Argument(help="Playbook directory.")],
    fixtures: Annotated[Path | None, typer.Option(help="Fixture dir (default: DIR/tests).")] = None,
) -> None:
    """Run playbook fixtures (event sequences with expected incidents, tasks, escalations)."""
    from orchestrator.playbook.fixtures import FixtureError, run_directory

    _load(directory, Settings())
    try:
        results = run_directory(directory, fixtures or directory / "tests")
    except FixtureError as problem:
        raise fail(str(problem)) from None
    failed = [r for r in results if not r.passed]
    for r in results:
        mark = "[green]pass[/]" if r.passed else "[red]FAIL[/]"
        out.print(f"{mark} {r.name}")
        for message in getattr(r, "messages", []):
            out.print(f"     {message}")
    out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(EXIT_FINDINGS)


@playbooks_app.command("schema")
def playbooks_schema(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into.")] = Path(
        "schemas/json"
    ),
) -> None:
    """Export JSON Schema for the event envelope, the event types, commands and playbooks."""
    from schemas.export import export_schemas

    for path in export_schemas(out_dir):
        out.print(f"wrote {path}")


@app.command()
def backtest(
    log: Annotated[Path, typer.Argument(help="JSON Lines event log to test against.")],
    playbook: Annotated[Path, typer.Option(help="The changed playbook (YAML).")],
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="The playbook to compare with (default: the one with the same id in --playbooks)."
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Advance the clock to this time at the end.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    check: Annotated[bool, typer.Option(help="Exit 1 when the candidate differs.")] = False,
    playbooks: PlaybooksOpt = None,
) -> None:
    """What a changed playbook would have done on this history versus the baseline."""
    from orchestrator.drills.backtest import compare, render

    settings = Settings()
    try:
        candidate = load_playbook(playbook)
        if baseline is not None:
            base = [load_playbook(baseline)]
        else:
            base = [p for p in _load(playbooks, settings) if p.id == candidate.id]
    except PlaybookError as problem:
        raise fail(str(problem)) from None
    end = _until(until)
    config = settings.engine_config()
    old = _run_replay(Engine(base, config), log, end, None)
    new = _run_replay(Engine([candidate], config), log, end, None)
    diff = compare(old.state, new.state, candidate.id)
    if as_json:
        sys.stdout.write(json.dumps(diff.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        out.print(render(diff), markup=False)
    if check and not diff.empty:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def run(
    playbooks: PlaybooksOpt = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the database lives.")] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    kafka: Annotated[
        bool,
        typer.Option(
            "--kafka",
            help="Serve the API over Kafka workers (ORCH_KAFKA_BOOTSTRAP_SERVERS, "
            "ORCH_TOPIC_PREFIX); run the workers with `orchestrator worker`.",
        ),
    ] = False,
) -> None:
    """Run the embedded orchestrator as a service: HTTP intake, agent API, timers; with --kafka,
    only the API, over Kafka workers started with `orchestrator worker`."""
    if kafka:
        _run_kafka_api(playbooks, host, port)
        return
    import threading

    from orchestrator.api import ApiSettings
    from orchestrator.auth import AuthConfigError
    from orchestrator.logs import configure_logging
    from orchestrator.runtime.embedded import EmbeddedRuntime

    overrides = {
        k: v for k, v in {"data_dir": data_dir, "host": host, "port": port}.items() if v is not None
    }
    settings = Settings().model_copy(update=overrides)
    configure_logging(settings.log_format, settings.log_level)
    api_settings = ApiSettings()
    try:  # every setting is checked before storage is touched
        claims = api_settings.auth().source_claims()
    except AuthConfigError as problem:
        raise fail(str(problem)) from None
    config = replace(settings.engine_config(), source_claims=claims)
    engine = Engine(_load(playbooks, settings), config)
    runtime = EmbeddedRuntime.open(
        engine,
        settings.data_dir,
        settings.snapshot_every,
        settings.sqlite_synchronous,
        snapshot_seconds=settings.snapshot_seconds,
        freeze_gc=True,
    )
    stop = threading.Event()

    def ticker() -> None:
        while not stop.wait(TICK_SECONDS):
            runtime.tick()

    thread = threading.Thread(target=ticker, name="timers", daemon=True)
    thread.start()
    try:
        serve_api(runtime, settings, api_settings)
    finally:
        stop.set()
        thread.join()
        runtime.close()


@app.command()
def agent(
    role: Annotated[str, typer.Argument(help="ops, pr, legal or logistics.")],
    api: Annotated[str, typer.Option(help="The orchestrator's API URL.")] = "http://127.0.0.1:8080",
    token: Annotated[
        str,
        typer.Option(
            envvar="ORCH_AGENT_TOKEN", show_default=False, help="The agent's responder token."
        ),
    ] = "",
    table: Annotated[Path | None, typer.Option(help="Own table, not the shipped one.")] = None,
) -> None:
    """Run a role agent: follow ROLE's feed and add role-specific help to its new tasks."""
    from agents.cli import run_agent

    raise typer.Exit(run_agent(role, api, token, table, err))


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as dist_version

    out.print(dist_version("incident-orchestrator"))


# -- Kafka runtime: worker -------------------------------------------------------------------


@app.command()
def worker(
    playbooks: PlaybooksOpt = None,
    faust_log_level: Annotated[str, typer.Option(help="faust's own log level.")] = "warning",
) -> None:
    """Run a Kafka worker (ORCH_KAFKA_BOOTSTRAP_SERVERS, ORCH_TOPIC_PREFIX, ORCH_KAFKA_*)."""
    from orchestrator.logs import configure_logging
    from orchestrator.runtime.kafka.config import KafkaSettings
    from orchestrator.runtime.kafka.worker import run_worker

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    config = replace(settings.engine_config(), network_commands=settings.network_commands)
    run_worker(KafkaSettings(), _load(playbooks, settings), config, faust_log_level)


def _run_kafka_api(playbooks: Path | None, host: str | None, port: int | None) -> None:
    """`run --kafka`: the agent API over the Kafka runtime; the workers run on their own."""

    from orchestrator.api import ApiSettings
    from orchestrator.auth import AuthConfigError
    from orchestrator.logs import configure_logging
    from orchestrator.runtime.kafka.config import KafkaSettings
    from orchestrator.runtime.kafka.runtime import KafkaRuntime

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings().model_copy(update=overrides)
    configure_logging(settings.log_format, settings.log_level)
    try:  # every setting is checked before the broker is reached
        claims = ApiSettings().auth().source_claims()
    except AuthConfigError as problem:
        raise fail(str(problem)) from None
    runtime = KafkaRuntime(KafkaSettings(), _load(playbooks, settings), source_claims=dict(claims))
    try:
        runtime.start()
    except (ConnectionError, TimeoutError) as problem:
        raise fail(str(problem)) from None
    try:
        serve_api(runtime, settings)
    finally:
        runtime.close()


# -- Kafka runtime: replay --kafka, export ----------------------------------------------------


def _replay_kafka(
    log: Path,
    speed: float | None,
    until: int | None,
    namespace: str | None,
    playbooks: Path | None,
    as_json: bool,
) -> None:
    """Produce `log` into a Kafka namespace (in order, paced by --speed, --until as a final
    tick); with --json, wait until its workers are idle and print the contract summary."""
    from orchestrator.runtime.kafka.config import KafkaSettings
    from orchestrator.runtime.kafka.drills import produce_log
    from orchestrator.runtime.kafka.readmodel import collect_summary, wait_idle
    from orchestrator.runtime.kafka.worker import prepare_topics

    if not log.is_file():
        raise fail(f"{log} is not a file; give the path of a JSON Lines event log")
    kafka = KafkaSettings()
    if namespace:
        kafka = kafka.model_copy(update={"topic_prefix": f"{namespace}."})
    names = kafka.topic_names(_load(playbooks, Settings()))
    bootstrap = kafka.kafka_bootstrap_servers
    try:
        prepare_topics(kafka, names)
        produced = produce_log(bootstrap, names, log, speed, until)
        err.print(f"produced {produced.records} records into {names.events_raw}")
        if as_json:
            wait_idle(bootstrap, names, kafka.app_id)
            data = collect_summary(bootstrap, names, kafka.app_id)
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    except (ConnectionError, LookupError, TimeoutError) as problem:
        raise fail(
            f"{problem}; run `orchestrator worker` with ORCH_TOPIC_PREFIX={names.prefix} "
            "and ORCH_KAFKA_TIMER_INTERVAL=0 (drills run on event time)"
        ) from None


@app.command()
def export(
    topic: Annotated[str, typer.Argument(help="Full topic name, e.g. orch.events.raw.")],
    start: Annotated[str, typer.Option("--from", help="RFC 3339 time, inclusive.")],
    end: Annotated[str, typer.Option("--to", help="RFC 3339 time, exclusive.")],
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write.")],
) -> None:
    """Dump a topic's records (by Kafka timestamp) to JSON Lines: events.raw gives a drill."""
    from orchestrator.runtime.kafka.config import KafkaSettings
    from orchestrator.runtime.kafka.drills import export_topic

    first, last = _until(start) or 0, _until(end) or 0
    try:
        count = export_topic(KafkaSettings().kafka_bootstrap_servers, topic, first, last, out)
    except LookupError as problem:
        raise fail(f"{problem}; list the topics with the prefix you deployed") from None
    err.print(f"wrote {count} records of {topic} to {out}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except OrchestratorError as problem:
        err.print(f"[bold red]error:[/] {escape(str(problem))}")
        sys.exit(EXIT_USAGE)
