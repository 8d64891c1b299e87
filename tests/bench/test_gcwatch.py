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
        "start_up_collections": 0,
        "start_up_longest_ms": 0.0,
    }


def test_collections_before_the_mark_count_as_start_up(tmp_path: Path) -> None:
    """What a process logged before the bench marked its load is start-up, apart from the
    figure; a file without a mark counts whole."""
    marked, unmarked = tmp_path / "a.gc", tmp_path / "b.gc"
    marked.write_text("40.0\n30.0\n")
    gcwatch.mark(marked)
    with marked.open("a") as sink:
        sink.write("2.5\n4.0\n")
    unmarked.write_text("3.0\n")
    summary = gcwatch.read([marked, unmarked])
    assert summary == {
        "full_collections": 3,
        "total_ms": 9.5,
        "longest_ms": 4.0,
        "start_up_collections": 2,
        "start_up_longest_ms": 40.0,
    }
    figure = gcwatch.figure(summary, "workers")
    assert figure.met is True
    assert "3 in all, 2 more at start-up" in figure.name
