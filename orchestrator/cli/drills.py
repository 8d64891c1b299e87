"""The drill commands: `replay` (a recorded log, on its own, live with the API served, or into
Kafka), `demo` (the bundled drill) and `backtest` (a changed playbook against history)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from orchestrator.cli.common import (
    EXIT_FINDINGS,
    PlaybooksOpt,
    RostersOpt,
    engine_config,
    err,
    fail,
    load_playbooks,
    out,
    print_json,
    print_summary,
    print_tables,
    read_settings,
    require_log,
    until_time,
)
from orchestrator.drills import DrillResult, Pacer, replay_file
from orchestrator.engine import Engine, Millis, Output, parse_time, summary
from orchestrator.errors import PlaybookError
from orchestrator.playbook import load_playbook
from orchestrator.settings import Settings
from schemas import DeadLetter

UntilOpt = Annotated[
    str | None, typer.Option(metavar="TIME", help="Advance the clock to this time at the end.")
]


def replay(
    log: Annotated[
        Path,
        typer.Argument(metavar="LOG", help="JSON Lines event log (CloudEvents, one per line)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the contract summary.")] = False,
    until: UntilOpt = None,
    speed: Annotated[
        float | None, typer.Option(metavar="X", help="Pace at X times event time.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write a drill report (.md or .html).")
    ] = None,
    dead_letters: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write rejected records (JSONL).")
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve", help="Live drill: serve the agent API while the log plays (--speed)."
        ),
    ] = False,
    port: Annotated[
        int | None, typer.Option(metavar="PORT", help="Port of the live drill's API.")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(metavar="NAME", help="Live drill namespace name.")
    ] = None,
    playbooks: PlaybooksOpt = None,
    rosters: RostersOpt = None,
    notify: Annotated[
        bool, typer.Option("--notify", help="Live drill: page people for real (a game day).")
    ] = False,
    kafka: Annotated[
        bool,
        typer.Option(
            "--kafka", help="Produce into Kafka (topics <namespace>. or ORCH_TOPIC_PREFIX)."
        ),
    ] = False,
) -> None:
    """Replay an event log as a drill.

    Deterministic, on event time: the same log and playbooks give the same output; --serve plays
    it live with the agent API, --kafka produces it into Kafka workers."""
    settings = read_settings(port=port, rosters_file=rosters)
    if kafka:
        _replay_kafka(
            log, speed, until_time(until), settings.in_namespace(namespace), playbooks, as_json
        )
        return
    if serve:
        live = (report, namespace, notify)
        _live_drill(log, speed, until_time(until), live, settings, playbooks, as_json)
        return
    engine = Engine(load_playbooks(playbooks, settings), engine_config(settings))
    result = _run_replay(engine, log, until_time(until), speed, dead_letters)
    _write_report(result, report, f"Drill: {log.name}")
    data = summary(result.state)
    if engine.config.rosters is not None:
        from orchestrator.drills.report import with_pages

        data = with_pages(data, result.state)
    print_summary(data, as_json)


def demo(
    report: Annotated[
        Path, typer.Option(metavar="FILE", help="Where to write the drill report.")
    ] = Path("drill-report.html"),
    serve: Annotated[
        bool,
        typer.Option(help="Then serve the agent API and the responder console on its data."),
    ] = False,
    port: Annotated[
        int | None, typer.Option(metavar="PORT", help="Port of the served console.")
    ] = None,
) -> None:
    """Replay the bundled drill: start here.

    One business day of signals over all five shipped playbooks; prints the incidents and tasks
    and writes a drill report (HTML and Markdown)."""
    from orchestrator.demo import DEMO_LOG, DEMO_RESPONDERS, DEMO_ROSTERS, DEMO_UNTIL

    settings = read_settings(port=port, rosters_file=DEMO_ROSTERS)
    engine = Engine(load_playbooks(None, settings), engine_config(settings))
    result = _run_replay(engine, DEMO_LOG, parse_time(DEMO_UNTIL), None)
    print_tables(summary(result.state))
    escalations = sum(
        t["escalations"] for i in summary(result.state)["incidents"] for t in i["tasks"]
    )
    out.print(f"dead letters: {result.dead_letter_count}; escalations: {escalations}")
    for letter in result.dead_letters:
        out.print(f"  line {letter.origin.offset}: {letter.reason}")
    title = "Demo drill: all five shipped playbooks"
    written = [report, report.with_suffix(".md")]
    for path in written:
        _write_report(result, path, title)
    html, markdown = (path.resolve() for path in written)
    out.print(f"drill report: {html} (open it in a browser) and {markdown}", soft_wrap=True)
    _demo_responders(DEMO_RESPONDERS, DEMO_LOG)
    if serve:
        from orchestrator.cli.serving import serve_demo

        serve_demo(DEMO_LOG, parse_time(DEMO_UNTIL), settings, DEMO_RESPONDERS)
        return
    out.print(
        "open the responder console on this data: orchestrator demo --serve, then "
        f"http://{settings.host}:{settings.port}/console",
        soft_wrap=True,
        markup=False,
    )


def _demo_responders(path: Path, log: Path) -> None:
    """Who acted in the demo (the example responders file), and how to play it live with them."""
    from orchestrator.auth import load_identities_file

    responders, _senders = load_identities_file(path)
    people = ", ".join(f"{r.name} ({' '.join(sorted(r.roles)) or 'reads'})" for r in responders)
    out.print(f"responders ({path}): {people}", soft_wrap=True)
    out.print(
        f"play it live with them: ORCH_RESPONDERS_FILE={path} orchestrator replay {log} "
        "--serve --speed 600 --port 8081",
        soft_wrap=True,
        markup=False,
    )


def backtest(
    log: Annotated[
        Path, typer.Argument(metavar="LOG", help="JSON Lines event log to test against.")
    ],
    playbook: Annotated[Path, typer.Option(metavar="FILE", help="The changed playbook (YAML).")],
    baseline: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The playbook to compare with (default: the one with the same id in --playbooks).",
        ),
    ] = None,
    until: UntilOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when the candidate differs.")
    ] = False,
    playbooks: PlaybooksOpt = None,
) -> None:
    """Compare a changed playbook with its baseline on history.

    Replays LOG through both and lists the incidents that would no longer open, would newly
    open, open at another time, or differ."""
    from orchestrator.drills import compare, render

    settings = read_settings()
    try:
        candidate = load_playbook(playbook)
        if baseline is not None:
            base = [load_playbook(baseline)]
        else:
            base = [p for p in load_playbooks(playbooks, settings) if p.id == candidate.id]
    except PlaybookError as problem:
        raise fail(str(problem)) from None
    end = until_time(until)
    config = engine_config(settings)
    old = _run_replay(Engine(base, config), log, end, None)
    new = _run_replay(Engine([candidate], config), log, end, None)
    diff = compare(old.state, new.state, candidate.id, base[0].source if base else None)
    if not base:
        err.print(
            f"[yellow]note:[/] no baseline playbook {candidate.id!r} found; comparing with "
            "nothing (give --baseline FILE)"
        )
    if as_json:
        print_json(diff.as_json())
    else:
        out.print(render(diff), markup=False)
    if check and not diff.empty:
        raise typer.Exit(EXIT_FINDINGS)


def _run_replay(
    engine: Engine,
    log: Path,
    until: Millis | None,
    speed: float | None,
    dead_letters: Path | None = None,
) -> DrillResult:
    require_log(log)
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
    until: Millis | None,
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


def _live_drill(
    log: Path,
    speed: float | None,
    until: Millis | None,
    live: tuple[Path | None, str | None, bool],
    settings: Settings,
    playbooks: Path | None,
    as_json: bool,
) -> None:
    """Play `log` on drill time in its own namespace while responders act through the API;
    `live` is the report file, the namespace and whether to page for real (--notify)."""
    import threading

    from orchestrator.cli.oncall import drill_notifications, print_recorded
    from orchestrator.cli.serving import api_server, exit_cleanly_on_sigterm, listen, serve
    from orchestrator.drills import prepare
    from orchestrator.logs import configure_logging

    if speed is None or speed <= 0:
        raise fail("a live drill needs --speed X (e.g. 60: one minute of event time a second)")
    report, namespace, notify = live
    require_log(log)
    configure_logging(settings.log_format, settings.log_level)
    config = replace(engine_config(settings), drill=True)
    engine = Engine(load_playbooks(playbooks, settings), config)
    sock = listen(settings)
    try:
        drill = prepare(engine, log, settings.data_dir, namespace or f"drill-{log.stem}", speed)
    except ValueError as problem:
        raise fail(str(problem)) from None
    folder = settings.data_dir / "drills" / drill.name
    notifications = drill_notifications(drill.runtime, settings, folder, notify)
    server = api_server(drill.runtime, settings, notifications.links if notifications else None)
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
    exit_cleanly_on_sigterm()
    try:
        serve(server, sock, stop)
    finally:
        stop.set()
        retired = {i.id: i for i in drill.runtime.store.retired_incidents()}
        result = DrillResult(drill.runtime.state, retired=retired)
        result.with_retired()  # the report lists every incident, retired ones too
        _write_report(result, report, f"Live drill: {drill.name}")
        data = drill.runtime.summary()
        print_recorded(notifications)
        if notifications is not None:
            notifications.close()
        drill.runtime.close()
    print_summary(data, as_json)


def _replay_kafka(
    log: Path,
    speed: float | None,
    until: Millis | None,
    settings: Settings,
    playbooks: Path | None,
    as_json: bool,
) -> None:
    """Produce `log` into a Kafka namespace (in order, paced by --speed, --until as a final
    tick); with --json, wait until its workers are idle and print the contract summary."""
    from orchestrator.runtime.kafka import (
        TopicNames,
        collect_summary,
        prepare_topics,
        produce_log,
        wait_idle,
    )

    require_log(log)
    names = TopicNames.of(settings, load_playbooks(playbooks, settings))
    bootstrap = settings.kafka_bootstrap_servers
    try:
        prepare_topics(settings, names)
        pace = Pacer(speed).wait_for if speed else None
        produced = produce_log(bootstrap, names, log, pace, until)
        err.print(f"produced {produced.records} records into {names.events_raw}")
        if as_json:
            wait_idle(bootstrap, names, settings.app_id)
            print_json(collect_summary(bootstrap, names, settings.app_id))
    except (ConnectionError, LookupError, TimeoutError) as problem:
        raise fail(
            f"{problem}; run `orchestrator worker` with ORCH_TOPIC_PREFIX={names.prefix} "
            "and ORCH_KAFKA_TIMER_INTERVAL=0 (drills run on event time)"
        ) from None
