"""Imported at start-up by every interpreter run with benchmarks.gcwatch.env(): when
$BENCH_GC_LOG is set, every full (generation 2) collection appends its duration in milliseconds
as one line to that file, as it happens (a process stopped by a signal still leaves what it
measured). Standard library only, so the process measured loads nothing it would not load anyway.
"""

import gc
import os
import time

_FULL = 2


def _install(path: str) -> None:
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != _FULL:
            return
        if phase == "start":
            started[0] = time.perf_counter()
            return
        with open(path, "a") as sink:
            sink.write(f"{1000 * (time.perf_counter() - started[0]):.3f}\n")

    gc.callbacks.append(callback)


if os.environ.get("BENCH_GC_LOG"):
    _install(os.environ["BENCH_GC_LOG"])
