"""Case 6, intake under an alert storm: `orchestrator run` beside Prometheus Alertmanager.

One load client, wrk (Debian's package; LuaJIT builds every request, benchmarks/storm.lua), sends
the same stream of new alerts, spread over 1,000 services, to three servers in turn:
Alertmanager's own intake (`POST /api/v2/alerts`, Debian's prometheus-alertmanager, which
holds alerts in memory), the orchestrator's Alertmanager webhook and its `/events` intake (which
answer 2xx once the alerts are committed to SQLite, synchronous=FULL). Each run gets a fresh
server; the systems alternate, run after run, at 1 and at 50 alerts per request. Reported per
system and batch size: the median over the runs of alerts/s, p50, p99 and the longest request
(the stall), the server's CPU seconds per second of load and its memory after the run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.base import BenchContext, BenchError, CaseResult, Figure
from benchmarks.machine import process_cpu_seconds
from orchestrator.engine.clock import format_time
from orchestrator.runtime.base import wall_clock
from orchestrator.testing import monitoring
from orchestrator.testing.servers import serve

SCRIPT = Path(__file__).with_name("storm.lua")
SERVICES = 1_000
BATCHES = (1, 50)
SYSTEMS = ("alertmanager", "webhook", "events")
CONNECTIONS = 50
WRK_THREADS = 2
STALL_TARGET_MS = 250.0
RESULT_MARK = "storm-result "
MS_PER_US = 1e-3
MIB = 1024.0
ALERTMANAGER_CONFIG = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n'
DURABILITY = {
    "alertmanager": "held in memory",
    "webhook": "committed to SQLite (synchronous=FULL)",
    "events": "committed to SQLite (synchronous=FULL)",
}
LABELS = {
    "alertmanager": "Alertmanager /api/v2/alerts",
    "webhook": "orchestrator /webhooks/alertmanager",
    "events": "orchestrator /events",
}


@dataclass(frozen=True, slots=True)
class Run:
    """One wrk run against one fresh server."""

    system: str
    batch: int
    alerts_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    cpu_per_s: float
    rss_mib: float
    peak_rss_mib: float

    def as_json(self) -> dict[str, Any]:
        """The run as plain JSON data."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Server:
    """A server under load: its URL, its process id and the token its intake wants."""

    url: str
    pid: int
    token: str


def _memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of the process, in MiB."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / MIB
    return found["VmRSS"], found["VmHWM"]


@contextmanager
def alertmanager(work: Path) -> Iterator[Server]:
    """Debian's prometheus-alertmanager on a free port, routing every alert to a receiver
    that sends nothing (no clustering), on fresh storage."""
    try:
        with monitoring.alertmanager(work, ALERTMANAGER_CONFIG) as server:
            yield Server(server.url, server.process.pid, "")
    except (AssertionError, FileNotFoundError) as problem:
        raise BenchError(f"storm: alertmanager: {problem}") from None


@contextmanager
def orchestrator(work: Path) -> Iterator[Server]:
    """`orchestrator run` with its default settings, on fresh storage, one ingest token."""
    token = "storm-ingest-token"
    env = {"ORCH_INGEST_TOKEN": token, "ORCH_LOG_LEVEL": "warning"}
    try:
        with serve(work, env) as server:
            yield Server(server.url, server.process.pid, token)
    except AssertionError as problem:
        raise BenchError(f"storm: orchestrator run: {problem}") from None


def _wrk(server: Server, system: str, batch: int, seconds: float) -> dict[str, Any]:
    starts = format_time(wall_clock())
    try:
        wrk = monitoring.tool("wrk")
    except FileNotFoundError as problem:
        raise BenchError(f"storm: {problem}") from None
    args = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--timeout=30s",
        f"-s{SCRIPT}",
        server.url,
        "--",
        system,
        str(batch),
        str(SERVICES),
        starts,
        server.token,
    ]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            found: dict[str, Any] = json.loads(line.removeprefix(RESULT_MARK))
            return found
    raise BenchError(f"storm: wrk printed no result ({done.returncode}): {done.stderr[-500:]}")


def measure(work: Path, system: str, batch: int, seconds: float) -> Run:
    """One run: a fresh server for `system`, loaded by wrk for `seconds`."""
    server_of = alertmanager if system == "alertmanager" else orchestrator
    with server_of(work) as server:
        cpu_before = process_cpu_seconds(server.pid)
        got = _wrk(server, system, batch, seconds)
        cpu = process_cpu_seconds(server.pid) - cpu_before
        rss, peak = _memory_mib(server.pid)
    answered = got["requests"] - got["non_2xx"]
    return Run(
        system,
        batch,
        answered * batch / got["seconds"],
        got["p50_us"] * MS_PER_US,
        got["p99_us"] * MS_PER_US,
        got["max_us"] * MS_PER_US,
        got["non_2xx"] + got["socket_errors"],
        cpu / got["seconds"],
        rss,
        peak,
    )


def _median(runs: list[Run], name: str) -> float:
    return float(statistics.median(getattr(run, name) for run in runs))


class AlertStorm:
    """The orchestrator's intake beside Alertmanager's, under the same load client."""

    name = "storm"
    title = "6. Intake under an alert storm (beside Alertmanager)"

    def run(self, ctx: BenchContext) -> CaseResult:
        seconds, repeats = ctx.config.storm_seconds, ctx.config.storm_runs
        runs: list[Run] = []
        for batch in BATCHES:
            for repeat in range(repeats):
                for system in SYSTEMS:
                    step = ctx.reporter.step(f"storm: {system}, {batch}/request, run {repeat + 1}")
                    work = ctx.work / "storm" / f"{system}-{batch}-{repeat}"
                    runs.append(measure(work, system, batch, seconds))
                    step(1)
        return self._result(ctx, runs)

    def _result(self, ctx: BenchContext, runs: list[Run]) -> CaseResult:
        figures: list[Figure] = []
        for batch in BATCHES:
            figures += _figures(runs, batch)
        notes = [
            f"one load client, wrk ({WRK_THREADS} threads, {CONNECTIONS} connections), on the "
            f"same {os.cpu_count()} cores as the server; {ctx.config.storm_seconds:g} s per run, "
            f"{ctx.config.storm_runs} runs per system and batch size, systems alternating, a "
            "fresh server per run; figures are medians over the runs",
            "every alert is new (an id of its own), spread over "
            f"{SERVICES:,} services; answered 2xx when: "
            + "; ".join(f"{LABELS[s]} {DURABILITY[s]}" for s in SYSTEMS),
        ]
        details = {"runs": [run.as_json() for run in runs]}
        return CaseResult(self.name, self.title, figures, details, notes)


def _figures(runs: list[Run], batch: int) -> list[Figure]:
    """The orchestrator's webhook and /events beside Alertmanager at one batch size."""
    by = {s: [r for r in runs if r.system == s and r.batch == batch] for s in SYSTEMS}
    base = by["alertmanager"]
    base_name = f"Alertmanager, {batch}/request"
    rate_share = 1.0 if batch > 1 else 0.5
    figures: list[Figure] = []
    for system in ("webhook", "events"):
        mine = by[system]
        rate, base_rate = _median(mine, "alerts_per_s"), _median(base, "alerts_per_s")
        p99, base_p99 = _median(mine, "p99_ms"), _median(base, "p99_ms")
        stall = max(run.max_ms for run in mine)
        label = f"{LABELS[system]}, {batch}/request"
        figures += [
            Figure(
                f"{label}: alerts/s",
                rate,
                "alerts/s",
                base_rate,
                base_name,
                f">= {rate_share:g}x Alertmanager",
                rate >= rate_share * base_rate,
            ),
            Figure(
                f"{label}: p99",
                p99,
                "ms",
                base_p99,
                base_name,
                "<= Alertmanager's p99",
                p99 <= base_p99,
                higher_is_better=False,
            ),
            Figure(
                f"{label}: p50",
                _median(mine, "p50_ms"),
                "ms",
                _median(base, "p50_ms"),
                base_name,
                higher_is_better=False,
            ),
            Figure(
                f"{label}: longest request",
                stall,
                "ms",
                max(run.max_ms for run in base),
                base_name,
                f"<= {STALL_TARGET_MS:g} ms",
                stall <= STALL_TARGET_MS,
                higher_is_better=False,
            ),
            Figure(
                f"{label}: server CPU",
                _median(mine, "cpu_per_s"),
                "cores",
                _median(base, "cpu_per_s"),
                base_name,
                higher_is_better=False,
            ),
            Figure(
                f"{label}: server RSS after",
                _median(mine, "rss_mib"),
                "MiB",
                _median(base, "rss_mib"),
                base_name,
                higher_is_better=False,
            ),
            Figure(
                f"{label}: refused (non-2xx, errors)",
                _median(mine, "non_2xx"),
                "requests",
                _median(base, "non_2xx"),
                base_name,
                higher_is_better=False,
            ),
        ]
    return figures
