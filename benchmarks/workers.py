"""Start a measurement in a fresh process and follow its progress lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.base import BenchContext, BenchError

STDERR_TAIL = 2000


def one_cpu() -> int:
    """The CPU a single-core measurement is pinned to: the last one this process may use."""
    return max(os.sched_getaffinity(0))


def run_worker(
    ctx: BenchContext, label: str, case: str, log: Path, *options: str, total: int | None = None
) -> dict[str, Any]:
    """Run `python -m benchmarks.worker case log options...`; return its result."""
    step = ctx.reporter.step(label, total)
    command = [sys.executable, "-m", "benchmarks.worker", case, str(log), *options]
    result: dict[str, Any] | None = None
    with (
        tempfile.TemporaryFile("w+") as stderr,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            message = json.loads(line)
            if "progress" in message:
                step(int(message["progress"]))
            elif "result" in message:
                result = message["result"]
        process.wait()
        stderr.seek(0)
        errors = stderr.read()
    if process.returncode != 0 or result is None:
        raise BenchError(
            f"{label}: worker {case} exited with {process.returncode}; "
            f"its error output ends with:\n{errors[-STDERR_TAIL:]}"
        )
    step(total if total is not None else 1)
    return result
