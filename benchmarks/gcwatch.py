"""Full (generation 2) garbage collections timed inside a server or worker process.

The process under measurement is started with `env(path)` added to its environment: its
interpreter then imports `benchmarks/gcsite/sitecustomize.py`, which appends the duration of
every full collection to `path`; `read` sums the files up and `figure` reports the longest.
The bench `mark`s each file when its load begins (the server healthy, the workers assigned):
collections before the mark happened at start-up (imports, the freeze of what was loaded, a
recovery), with nothing in flight to wait for them; the figure is the longest after it.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.base import Figure

ENV = "BENCH_GC_LOG"
SITE = Path(__file__).parent / "gcsite"
TARGET_LONGEST_MS = 10.0
"""Issue 18: no full collection over 10 ms during the API and Kafka cases."""
MARK = "# load begins"


def env(path: Path) -> dict[str, str]:
    """The environment that makes a Python process under it time its full collections."""
    paths = (str(SITE), os.environ.get("PYTHONPATH", ""))
    return {ENV: str(path), "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def mark(path: Path) -> None:
    """Note in the log at `path` that the load begins (what the process logs next is under it)."""
    with path.open("a") as sink:
        sink.write(MARK + "\n")


def read(paths: list[Path]) -> dict[str, float]:
    """Count, total and longest (ms) of the full collections the processes wrote to `paths`
    under load (after the mark; all of a file without one), and count and longest before."""
    loaded: list[float] = []
    early: list[float] = []
    for path in paths:
        lines = path.read_text().splitlines() if path.exists() else []
        cut = lines.index(MARK) + 1 if MARK in lines else 0
        early += [float(line) for line in lines[:cut] if line != MARK]
        loaded += [float(line) for line in lines[cut:] if line != MARK]
    return {
        "full_collections": len(loaded),
        "total_ms": sum(loaded),
        "longest_ms": max(loaded, default=0.0),
        "start_up_collections": len(early),
        "start_up_longest_ms": max(early, default=0.0),
    }


def figure(summary: dict[str, float], where: str) -> Figure:
    """The longest full collection in `where` under load, against issue 18's target."""
    longest = summary["longest_ms"]
    return Figure(
        f"longest full collection ({where}, under load; {int(summary['full_collections'])}"
        f" in all, {int(summary['start_up_collections'])} more at start-up)",
        longest,
        "ms",
        target=f"<= {TARGET_LONGEST_MS:g} ms",
        met=longest <= TARGET_LONGEST_MS,
        higher_is_better=False,
    )
