"""Run the benchmark cases in order, show progress with rich, write the two report files."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from benchmarks.api import AgentApi
from benchmarks.base import BenchConfig, BenchContext, BenchError, Case, Step
from benchmarks.drills import Drills
from benchmarks.engine import EngineThroughput
from benchmarks.instance_storm import InstanceStorm
from benchmarks.kafka import KafkaPath
from benchmarks.machine import machine_facts
from benchmarks.memory import FlatMemory, OpenIncidentsMemory
from benchmarks.report import BenchRun, write_json, write_markdown
from benchmarks.storm import AlertStorm
from orchestrator.logs import configure_logging

CASES: tuple[Case, ...] = (
    EngineThroughput(),
    OpenIncidentsMemory(),
    FlatMemory(),
    KafkaPath(),
    AgentApi(),
    Drills(),
    AlertStorm(),
    InstanceStorm(),
)
"""Every case, in report order."""
JSON_FILE = "benchmarks.json"
MARKDOWN_FILE = "benchmarks.md"


class RichReporter:
    """Progress bars on the console: one line per step, finished ones stay visible."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def step(self, description: str, total: int | None = None) -> Step:
        task = self.progress.add_task(description, total=total or 1)

        def advance(done: int) -> None:
            self.progress.update(task, completed=done if total else 1)

        return advance

    def note(self, text: str) -> None:
        self.progress.console.print(text)


def selected(only: tuple[str, ...]) -> list[Case]:
    """The cases named in `only` (all when empty); BenchError names the known ones."""
    names = {case.name for case in CASES}
    unknown = sorted(set(only) - names)
    if unknown:
        raise BenchError(f"unknown case {unknown[0]!r}; cases are: {', '.join(sorted(names))}")
    return [case for case in CASES if not only or case.name in only]


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        yield progress


def run_bench(config: BenchConfig, console: Console, argv: list[str] | None = None) -> BenchRun:
    """Generate the data, run the selected cases, write both files under config.out."""
    cases = selected(config.only)
    configure_logging("console", "warning")
    machine = machine_facts()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="orchestrator-bench-") as work,
        _progress(console) as progress,
    ):
        ctx = BenchContext(config, Path(work), RichReporter(progress))
        results = []
        for case in cases:
            case_started = time.perf_counter()
            result = case.run(ctx)
            result.seconds = time.perf_counter() - case_started
            results.append(result)
    run = BenchRun(
        config,
        machine,
        started_at,
        time.perf_counter() - started,
        results,
        argv if argv is not None else ["python", "-m", "benchmarks", *sys.argv[1:]],
    )
    config.out.mkdir(parents=True, exist_ok=True)
    write_json(config.out / JSON_FILE, run)
    write_markdown(config.out / MARKDOWN_FILE, run)
    return run
