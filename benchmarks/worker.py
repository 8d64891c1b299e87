"""Measurements that run in a fresh process each: `python -m benchmarks.worker CASE ...`.

A worker prints JSON lines on stdout: {"progress": n} while it works, then {"result": {...}}.
A fresh process per measurement keeps one case's memory and caches out of the next one's.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from orchestrator.drills.replay import replay_file
from orchestrator.engine.clock import Millis
from orchestrator.engine.outputs import Output
from orchestrator.engine.state import EngineState
from orchestrator.engine.step import Engine, Input
from orchestrator.errors import EventRejected
from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks
from schemas.incidents import IncidentStatus

PAGE = os.sysconf("SC_PAGE_SIZE")
PROGRESS_EVERY_BYTES = 4 * 1_048_576
Handler = Callable[[argparse.Namespace], dict[str, Any]]


def emit(payload: dict[str, Any]) -> None:
    """One JSON line to the parent process."""
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def rss() -> int:
    """Resident set size of this process now, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def peak_rss() -> int:
    """The highest resident set size this process has had, in bytes (VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _engine() -> Engine:
    return Engine(load_directory(shipped_playbooks()))


class _Clocks:
    """Wall and CPU time since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> dict[str, float]:
        return {"wall": time.perf_counter() - self.wall, "cpu": time.process_time() - self.cpu}


def _bytes_progress() -> Callable[[int], None]:
    last = [0]

    def progress(done: int) -> None:
        if done - last[0] >= PROGRESS_EVERY_BYTES:
            last[0] = done
            emit({"progress": done})

    return progress


def _each_line(
    path: Path, parse: Callable[[bytes], object], refused: type[Exception]
) -> dict[str, Any]:
    """Read every non-blank line of `path` and hand it to `parse`; count what it refuses."""
    progress = _bytes_progress()
    events = rejected = done = 0
    clocks = _Clocks()
    with path.open("rb") as handle:
        for line in handle:
            done += len(line)
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                continue
            events += 1
            try:
                parse(raw)
            except refused:
                rejected += 1
            if events % 1000 == 0:
                progress(done)
    return {"events": events, "rejected": rejected, **clocks.read()}


def parse_only(args: argparse.Namespace) -> dict[str, Any]:
    """The baseline: read, parse and validate every line (EventValidator.parse), nothing else."""
    return _each_line(Path(args.log), _engine().validator.parse, EventRejected)


def read_only(args: argparse.Namespace) -> dict[str, Any]:
    """The ceiling: read every line and parse it with orjson, nothing else (no validation)."""
    return _each_line(Path(args.log), orjson.loads, orjson.JSONDecodeError)


def line_offsets(path: Path, marks: list[int]) -> dict[int, int]:
    """The byte offset just after line `mark` (1-based), for each mark within the file."""
    wanted = sorted(marks)
    found: dict[int, int] = {}
    offset = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            offset += len(line)
            if wanted and number == wanted[0]:
                found[wanted.pop(0)] = offset
    return found


def replay(args: argparse.Namespace) -> dict[str, Any]:
    """Replay the log through the engine (orchestrator.drills.replay.replay_file), sampling RSS."""
    path = Path(args.log)
    marks = line_offsets(path, [int(m) for m in args.rss_at.split(",")] if args.rss_at else [])
    engine = _engine()
    gc.collect()
    samples: dict[str, int] = {"start": rss()}
    forward = _bytes_progress()

    def progress(done: int) -> None:
        for mark, offset in marks.items():
            if str(mark) not in samples and done >= offset:
                samples[str(mark)] = rss()
        forward(done)

    clocks = _Clocks()
    result = replay_file(engine, path, progress=progress)
    timing = clocks.read()
    counters = vars(result.state.counters)
    return {
        "events": result.state.counters.read,
        **timing,
        "counters": counters,
        "outputs": result.outputs,
        "incidents": len(result.state.incidents),
        "open_incidents": _open(result.state),
        "rss": samples,
        "peak_rss": peak_rss(),
    }


def _open(state: EngineState) -> int:
    return sum(i.status == IncidentStatus.OPEN for i in state.incidents.values())


def open_incidents(args: argparse.Namespace) -> dict[str, Any]:
    """RSS with the log's incidents open (the log opens one incident per line)."""
    engine = _engine()
    gc.collect()
    before = rss()
    result = replay_file(engine, Path(args.log), progress=_bytes_progress())
    gc.collect()
    return {
        "rss_before": before,
        "rss_after": rss(),
        "peak_rss": peak_rss(),
        "incidents": len(result.state.incidents),
        "open_incidents": _open(result.state),
        "tasks": sum(len(i.tasks) for i in result.state.incidents.values()),
    }


class _TimedEngine(Engine):
    """An engine that notes when (wall clock) each input was applied and its event time."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(list(engine.playbooks.values()), engine.config)
        self.applied: list[tuple[float, Millis]] = []

    def step(
        self, state: EngineState, item: Input, now: Millis
    ) -> tuple[EngineState, list[Output]]:
        started = time.monotonic()
        state, outputs = super().step(state, item, now)
        self.applied.append((started, state.watermark))
        return state, outputs


def pacing(args: argparse.Namespace) -> dict[str, Any]:
    """Replay at --speed and compare when each event was applied with when it was due."""
    engine = _TimedEngine(_engine())
    clocks = _Clocks()
    replay_file(engine, Path(args.log), speed=args.speed)
    timing = clocks.read()
    (wall0, event0), *_ = engine.applied
    lags = [
        1000 * ((wall - wall0) - (at - event0) / 1000 / args.speed) for wall, at in engine.applied
    ]
    span = (engine.applied[-1][1] - event0) / 1000 / args.speed
    return {"events": len(engine.applied), **timing, "expected_wall": span, "lags_ms": lags}


HANDLERS: dict[str, Handler] = {
    "parse": parse_only,
    "read": read_only,
    "replay": replay,
    "open": open_incidents,
    "pacing": pacing,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    parser.add_argument("case", choices=sorted(HANDLERS))
    parser.add_argument("log")
    parser.add_argument("--cpu", type=int, default=None, help="Pin the process to this CPU.")
    parser.add_argument("--rss-at", default="", help="Line numbers to sample RSS at (a,b,c).")
    parser.add_argument("--speed", type=float, default=1.0)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run one measurement and print its result as the last JSON line."""
    args = _parser().parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    emit({"result": HANDLERS[args.case](args)})


if __name__ == "__main__":
    main()
