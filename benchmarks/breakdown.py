"""Where the memory of open incidents goes: `python -m benchmarks.breakdown [N]`.

Replays the bench's opening log (one new incident per line) under tracemalloc and prints the
bytes still held afterwards per open incident, grouped by the engine function that allocated
them: the first frame, innermost first, in `orchestrator/` outside the bench and outside the
helper modules (construct, clock, ids), whose allocations count for their caller.
"""

from __future__ import annotations

import ast
import gc
import sys
import tempfile
import tracemalloc
from collections import Counter
from functools import cache
from pathlib import Path

from benchmarks.data import opening_lines, write_lines
from orchestrator.drills.replay import replay_file
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks

DEFAULT_INCIDENTS = 20_000
FRAMES = 30
HELPERS = frozenset({"construct", "clock", "ids"})
"""Modules whose allocations are charged to the function that called them."""


@cache
def _functions(filename: str) -> tuple[tuple[int, int, str], ...]:
    tree = ast.parse(Path(filename).read_text())
    return tuple(
        (node.lineno, node.end_lineno or node.lineno, node.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def _owner(frame: tracemalloc.Frame) -> str | None:
    path = Path(frame.filename)
    if "orchestrator" not in path.parts or "bench" in path.parts or path.stem in HELPERS:
        return None
    inside = [
        (end - start, name)
        for start, end, name in _functions(frame.filename)
        if start <= frame.lineno <= end
    ]
    return f"{path.stem}.{min(inside)[1] if inside else '<module>'}"


def _charged(traceback: tracemalloc.Traceback) -> str:
    for frame in reversed(traceback):  # a traceback lists the oldest frame first
        owner = _owner(frame)
        if owner is not None:
            return owner
    return "other"


def breakdown(incidents: int, work: Path) -> tuple[Counter[str], int]:
    """Bytes held after replaying an opening log of `incidents` lines, by the function that
    allocated them, and how many incidents are open."""
    log = work / "opening.jsonl"
    write_lines(log, opening_lines(incidents))
    engine = Engine(load_directory(shipped_playbooks()))
    gc.collect()
    tracemalloc.start(FRAMES)
    result = replay_file(engine, log)
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held: Counter[str] = Counter()
    for stat in snapshot.statistics("traceback"):
        held[_charged(stat.traceback)] += stat.size
    return held, len(result.state.incidents)


def main(argv: list[str] | None = None) -> None:
    """Print the breakdown per open incident, largest first."""
    args = sys.argv[1:] if argv is None else argv
    incidents = int(args[0]) if args else DEFAULT_INCIDENTS
    with tempfile.TemporaryDirectory() as work:
        held, opened = breakdown(incidents, Path(work))
    total = sum(held.values())
    sys.stdout.write(f"{opened:,} open incidents: {total / opened:,.0f} bytes each\n")
    for name, size in held.most_common():
        if size >= opened:
            sys.stdout.write(f"{size / opened:8,.0f}  {name}\n")


if __name__ == "__main__":
    main()
