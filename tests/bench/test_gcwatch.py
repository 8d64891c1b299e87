"""benchmarks.gcwatch: a process started with its environment times its full collections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks import gcwatch

COLLECT = "import gc\nfor _ in range(3):\n    gc.collect()\ngc.collect(0)\n"


def test_a_process_under_the_environment_writes_one_line_per_full_collection(
    tmp_path: Path,
) -> None:
    """Three gc.collect() calls leave a duration each (the interpreter's exit may add one)."""
    log = tmp_path / "gc.log"
    subprocess.run(
        [sys.executable, "-c", COLLECT], env={**os.environ, **gcwatch.env(log)}, check=True
    )
    summary = gcwatch.read([log])
    assert summary["full_collections"] >= 3  # and the one at interpreter exit
    assert 0 <= summary["longest_ms"] <= summary["total_ms"]


def test_without_the_environment_nothing_is_timed(tmp_path: Path) -> None:
    """A process started without it writes nothing, and reading no file gives zero."""
    subprocess.run([sys.executable, "-c", COLLECT], check=True, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert gcwatch.read([tmp_path / "absent"]) == {
        "full_collections": 0,
        "total_ms": 0.0,
        "longest_ms": 0.0,
    }
