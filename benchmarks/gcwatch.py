"""Full (generation 2) garbage collections timed inside a server or worker process.

The process under measurement is started with `env(path)` added to its environment: its
interpreter then imports `benchmarks/gcsite/sitecustomize.py`, which appends the duration of
every full collection to `path`; `read` sums the files up and `figure` reports the longest.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.base import Figure

ENV = "BENCH_GC_LOG"
SITE = Path(__file__).parent / "gcsite"
TARGET_LONGEST_MS = 10.0
"""Issue 18: no full collection over 10 ms during the API and Kafka cases."""


def env(path: Path) -> dict[str, str]:
    """The environment that makes a Python process under it time its full collections."""
    paths = (str(SITE), os.environ.get("PYTHONPATH", ""))
    return {ENV: str(path), "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def read(paths: list[Path]) -> dict[str, float]:
    """Count, total and longest (ms) of the full collections the processes wrote to `paths`."""
    times = [float(line) for path in paths if path.exists() for line in path.read_text().split()]
    return {
        "full_collections": len(times),
        "total_ms": sum(times),
        "longest_ms": max(times, default=0.0),
    }


def figure(summary: dict[str, float], where: str) -> Figure:
    """The longest full collection in `where`, against issue 18's target."""
    longest = summary["longest_ms"]
    return Figure(
        f"longest full collection ({where}; {int(summary['full_collections'])} in all)",
        longest,
        "ms",
        target=f"<= {TARGET_LONGEST_MS:g} ms",
        met=longest <= TARGET_LONGEST_MS,
        higher_is_better=False,
    )
