"""The longest request while snapshots are taken: `python -m benchmarks.snapshot_stall [ALERTS]`.

An embedded runtime (no HTTP) is filled with ALERTS storm alerts (each a firing instance of its
own, spread over 1,000 services, as benchmarks/storm.lua sends them to /events), then loaded
for SECONDS by one thread submitting batches of 50 new alerts while a probe thread submits one
alert every PROBE_EVERY seconds and times it. Snapshots are taken after every batch the writer
is free for (snapshot_every=1, snapshot_seconds=0), then, for comparison, never. Printed per
phase: snapshots written, the newest one's bytes, the probe's p50, p99 and longest request, the
longest batch, and the process CPU time. Only the runtime's public methods are used, so the same
file measures an older tree (PYTHONPATH=that tree python benchmarks/snapshot_stall.py).
"""

from __future__ import annotations

import json
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from orchestrator.engine import Engine, format_time
from orchestrator.playbook import load_directory
from orchestrator.runtime.base import wall_clock
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.settings import shipped_playbooks
from schemas import Origin

DEFAULT_ALERTS = 200_000
SECONDS = float(__import__("os").environ.get("STALL_SECONDS", "15"))
BATCH = 50
SERVICES = 1_000
PROBE_EVERY = 0.005
HOLDS = 5
NEVER = 10**12
HTTP = Origin(kind="http", name="/events")
MS = 1e3
KIB = 1024


class Alerts:
    """New storm alerts, numbered on: each an instance of its own (its labels) on a service."""

    def __init__(self) -> None:
        self.number = 0
        self.time = format_time(wall_clock())

    def take(self, count: int) -> list[bytes]:
        """The next `count` alerts as /events records."""
        first, self.number = self.number, self.number + count
        return [self._record(n) for n in range(first, self.number)]

    def _record(self, n: int) -> bytes:
        service = f"svc-{n % SERVICES}"
        labels = {"alertname": "HighErrorRate", "service": service, "instance": f"t-{n}"}
        data: dict[str, Any] = {
            "alertname": "HighErrorRate",
            "service": service,
            "status": "firing",
        }
        data |= {"severity": "critical", "labels": labels, "summary": "error rate above 5%"}
        envelope: dict[str, Any] = {"specversion": "1.0", "id": f"t-{n}", "source": "storm"}
        envelope |= {"type": "ops.alert", "time": self.time, "data": data}
        return json.dumps(envelope, separators=(",", ":")).encode()


def fill(runtime: EmbeddedRuntime, alerts: Alerts, count: int) -> None:
    """Submit `count` alerts in batches of 500 (no snapshot is due meanwhile)."""
    while alerts.number < count:
        runtime.submit(alerts.take(min(500, count - alerts.number)), HTTP)


def load(runtime: EmbeddedRuntime, alerts: Alerts, seconds: float) -> dict[str, Any]:
    """Batches from one thread, timed probes from another, for `seconds`."""
    stop = threading.Event()
    batches: list[float] = []
    probes: list[float] = []
    lock = threading.Lock()

    def batcher() -> None:
        while not stop.is_set():
            with lock:
                records = alerts.take(BATCH)
            start = time.perf_counter()
            runtime.submit(records, HTTP)
            batches.append(time.perf_counter() - start)

    def prober() -> None:
        while not stop.is_set():
            with lock:
                records = alerts.take(1)
            start = time.perf_counter()
            runtime.submit(records, HTTP)
            probes.append(time.perf_counter() - start)
            time.sleep(PROBE_EVERY)

    seqs = _snapshot_seqs(runtime, stop, seconds)
    threads = [threading.Thread(target=batcher), threading.Thread(target=prober)]
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    written = seqs()
    for thread in threads:
        thread.join()
    runtime.snapshots.flush()
    return _figures(probes, batches, written, time.process_time() - cpu, runtime)


def _snapshot_seqs(runtime: EmbeddedRuntime, stop: threading.Event, seconds: float) -> Any:
    """A function that polls snapshots.db until `seconds` pass, then stops the load and
    returns how many snapshots appeared meanwhile."""
    path = runtime.store.path.with_name("snapshots.db")

    def newest(db: sqlite3.Connection) -> int:
        return _stored(db)[0]

    def poll() -> int:
        seen: set[int] = set()
        with sqlite3.connect(path) as db:
            first = newest(db)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                seen.add(newest(db))
                time.sleep(0.05)
            stop.set()
        return len(seen - {first})

    return poll


def _stored(db: sqlite3.Connection) -> tuple[int, int]:
    """The newest snapshot's input and bytes: in parts (snapshot_done) or one row (before)."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    if "snapshot_done" in tables:
        seq = db.execute("SELECT coalesce(max(seq), 0) FROM snapshot_done").fetchone()[0]
        query = "SELECT coalesce(sum(length(bytes)), 0) FROM snapshot_parts WHERE seq = ?"
    else:
        seq = db.execute("SELECT coalesce(max(seq), 0) FROM snapshots").fetchone()[0]
        query = "SELECT coalesce(sum(length(state)), 0) FROM snapshots WHERE seq = ?"
    return int(seq), int(db.execute(query, (seq,)).fetchone()[0])


def _figures(
    probes: list[float], batches: list[float], written: int, cpu: float, runtime: EmbeddedRuntime
) -> dict[str, Any]:
    ordered = sorted(probes)
    with sqlite3.connect(runtime.store.path.with_name("snapshots.db")) as db:
        size = _stored(db)[1]
    return {
        "snapshots": written,
        "snapshot_mib": round(size / KIB / KIB, 1),
        "probes": len(probes),
        "probe_p50_ms": round(statistics.median(ordered) * MS, 1),
        "probe_p99_ms": round(ordered[int(len(ordered) * 0.99)] * MS, 1),
        "probe_max_ms": round(ordered[-1] * MS, 1),
        "batch_max_ms": round(max(batches) * MS, 1),
        "alerts_per_s": round((len(probes) + BATCH * len(batches)) / SECONDS),
        "cpu_s": round(cpu, 1),
    }


def hold(runtime: EmbeddedRuntime) -> dict[str, Any]:
    """How long taking one snapshot holds the runtime's lock (what every request waits out),
    median and longest of HOLDS, each after the one before was written."""
    held = []
    for _ in range(HOLDS):
        runtime.snapshots.flush()
        with runtime.lock:
            start = time.perf_counter()
            runtime._snapshot()
            held.append(time.perf_counter() - start)
    runtime.snapshots.flush()
    return {
        "lock_held_median_ms": round(statistics.median(held) * MS, 2),
        "lock_held_max_ms": round(max(held) * MS, 2),
    }


def main(count: int, synchronous: str) -> None:
    """Fill, then load with snapshots, then without; print one JSON line per phase."""
    with tempfile.TemporaryDirectory() as work:
        engine = Engine(load_directory(shipped_playbooks()))
        runtime = EmbeddedRuntime.open(
            engine,
            Path(work),
            snapshot_every=NEVER,
            synchronous=synchronous,  # type: ignore[arg-type]
        )
        alerts = Alerts()
        cpu = time.process_time()
        fill(runtime, alerts, count)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB
        print(
            json.dumps(
                {
                    "filled": count,
                    "cpu_s": round(time.process_time() - cpu, 1),
                    "peak_rss_mib": round(rss),
                    **hold(runtime),
                }
            )
        )
        for every, seconds in ((1, 0.0), (NEVER, 0.0)):
            runtime.snapshot_every, runtime.snapshot_seconds = every, seconds
            phase = "snapshots" if every == 1 else "no snapshots"
            print(json.dumps({"phase": phase, **load(runtime, alerts, SECONDS)}), flush=True)
        runtime.store.close()
        runtime.snapshots.close()


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ALERTS,
        sys.argv[2] if len(sys.argv) > 2 else "full",
    )
