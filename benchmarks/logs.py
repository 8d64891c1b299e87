"""The generated logs a run needs, each written once into the run's scratch directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from benchmarks.base import BenchContext
from benchmarks.data import (
    STEADY_KEYS,
    STEADY_STEP_MS,
    mixed_lines,
    opening_lines,
    paced_lines,
    write_lines,
)

PROGRESS_EVERY = 10_000
PACED_EVENTS = 400
PACED_SPACING_MS = 50


def _counted(lines: Iterator[bytes], ctx: BenchContext, label: str, total: int) -> Iterator[bytes]:
    step = ctx.reporter.step(label, total)
    for number, line in enumerate(lines, start=1):
        if number % PROGRESS_EVERY == 0:
            step(number)
        yield line
    step(total)


def _written(ctx: BenchContext, name: str, lines: Iterator[bytes], total: int) -> Path:
    path = ctx.logs.get(name)
    if path is None:
        path = ctx.work / f"{name}.jsonl"
        write_lines(path, _counted(lines, ctx, f"generate {name} log", total))
        ctx.logs[name] = path
    return path


def mixed_log(ctx: BenchContext) -> Path:
    """Every playbook's event types over the configured keys, 5% bad lines."""
    events = ctx.config.events
    return _written(ctx, "mixed", mixed_lines(events, ctx.config.keys), events)


def opening_log(ctx: BenchContext) -> Path:
    """One new incident per line."""
    count = ctx.config.open_incidents
    return _written(ctx, "opening", opening_lines(count), count)


def paced_log(ctx: BenchContext) -> Path:
    """A short log of evenly spaced events, for --speed."""
    return _written(ctx, "paced", paced_lines(PACED_EVENTS, PACED_SPACING_MS), PACED_EVENTS)


def steady_log(ctx: BenchContext) -> Path:
    """A fixed key set whose incidents stay open: later events only join them."""
    events = ctx.config.events
    lines = mixed_lines(events, STEADY_KEYS, steady=True, max_step_ms=STEADY_STEP_MS)
    return _written(ctx, "steady", lines, events)
