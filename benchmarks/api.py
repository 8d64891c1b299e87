"""Case 4, agent API: acks/s and latency with concurrent clients against `orchestrator run`.

The database is seeded in-process first (incidents whose tasks are assigned, beside as many
other open incidents as the memory case holds, --open-incidents: the state a busy server
carries, which its full collections would walk), then a real `orchestrator run` serves it on
loopback (embedded runtime, default settings) and N clients acknowledge distinct tasks for the
configured time. Baseline, same server, same clients:
GET /healthz, which does no work beyond the HTTP stack.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import gcwatch
from benchmarks.base import BenchContext, BenchError, CaseResult, Figure
from benchmarks.data import opening_lines
from benchmarks.http import Connection, Reply
from benchmarks.machine import process_cpu_seconds
from orchestrator.engine.clock import format_time
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.runtime.base import wall_clock
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.settings import shipped_playbooks
from orchestrator.testing.servers import Server, serve
from schemas import IncidentStatus
from schemas.deadletter import Origin

TARGET_ACKS_PER_S = 3_000
TARGET_P99_MS = 25.0
SEEDED_TASKS = 10_000
"""Assigned tasks in the database (5,000 open incidents): a busy day, not a pathological one.
Acknowledging them all takes 5 s at the 2,000 acks/s target; after that the clients go round
again, and a repeat ack by the same responder is accepted (202) as a no-op command."""
MIN_TASKS = 200
ACKS_PER_S_SIZING = 400
"""Short runs (tests) seed fewer tasks: this many per second of the run."""
TASKS_PER_INCIDENT = 2
SEED_BATCH = 500
BASELINE_SECONDS_SHARE = 0.3
WARM_UP_S = 1.0
TOKEN_BYTES = 24
MS = 1000.0
US = 1_000_000.0
GC_LOG = "gc.log"
"""The server's full collections (benchmarks.gcwatch), one duration a line."""


@dataclass
class LoadResult:
    """What N clients got in a timed run: per-request latencies (s) and status counts."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    ran_out: bool = False
    server_cpu_s: float = 0.0
    """CPU seconds the server used during the run (all its threads)."""

    @property
    def ok(self) -> int:
        """Requests answered 2xx."""
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def cpu_us_per_ok(self) -> float:
        """The server's CPU microseconds per request answered 2xx."""
        return US * self.server_cpu_s / self.ok if self.ok else 0.0

    def percentile_ms(self, share: float) -> float:
        """Latency at `share` (0..1), in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return MS * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _opening_alert(number: int, at: str) -> bytes:
    envelope = {
        "specversion": "1.0",
        "id": f"api-{number}",
        "source": "bench",
        "time": at,
        "type": "security.alert",
        "data": {
            "kind": "intrusion",
            "asset": f"asset-{number}",
            "records_exposed": 50,
            "pii": True,
        },
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def seed(
    data_dir: Path, tasks: int, background: int, step: Callable[[int], None]
) -> tuple[list[str], int]:
    """Open data_breach incidents (two assigned tasks each) now, then `background` other
    incidents (benchmarks.data.opening_lines, now); the first ones' assigned task ids, and the
    open incidents in all."""
    engine = Engine(load_directory(shipped_playbooks()))
    runtime = EmbeddedRuntime.open(engine, data_dir, synchronous="normal")
    incidents = -(-tasks // TASKS_PER_INCIDENT)
    origin = Origin(kind="file", name="bench-seed")
    try:
        for first in range(0, incidents, SEED_BATCH):
            at = format_time(wall_clock())
            last = min(incidents, first + SEED_BATCH)
            runtime.submit([_opening_alert(n, at) for n in range(first, last)], origin)
            step(last)
        found = [t.id for t in runtime.tasks(status="assigned")]
        lines = list(opening_lines(background, spacing_ms=0, start=wall_clock()))
        for first in range(0, background, SEED_BATCH):
            runtime.submit(lines[first : first + SEED_BATCH], origin)
            step(incidents + min(background, first + SEED_BATCH))
        kept = runtime.state.incidents.values()
        opened = sum(incident.status == IncidentStatus.OPEN for incident in kept)
    finally:
        runtime.close()
    return found, opened


@contextmanager
def serving(work: Path, token: str) -> Iterator[Server]:
    """`orchestrator run` (orchestrator.testing.servers.serve) on the database seeded in work/db,
    with one responder holding `token`."""
    responders = [{"name": "bench", "token": token, "roles": ["incident_commander"]}]
    env = {
        "ORCH_RESPONDERS": json.dumps(responders),
        "ORCH_LOG_LEVEL": "warning",
        **gcwatch.env(work / GC_LOG),
    }
    with ExitStack() as stack:
        try:
            server = stack.enter_context(serve(work, env))
        except AssertionError as problem:
            log = (work / "server.log").read_text(errors="replace")[-2000:]
            raise BenchError(f"orchestrator run: {problem}\n{log}") from None
        yield server


Request = Callable[[Connection], Awaitable[Reply]]
Next = Callable[[], Request | None]
"""Gives the next request to send, or None when there is no more work."""


async def _client(
    url: str, token: str, next_request: Next, until: float, result: LoadResult
) -> None:
    host, port = url.removeprefix("http://").split(":")
    connection = Connection(host, int(port), {"Authorization": f"Bearer {token}"})
    try:
        while time.monotonic() < until:
            request = next_request()
            if request is None:
                result.ran_out = True
                return
            started = time.monotonic()
            reply = await request(connection)
            result.latencies.append(time.monotonic() - started)
            result.statuses[reply.status] = result.statuses.get(reply.status, 0) + 1
    finally:
        await connection.close()


async def _load(
    url: str, token: str, clients: int, seconds: float, next_request: Next
) -> LoadResult:
    result = LoadResult()
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        *(_client(url, token, next_request, until, result) for _ in range(clients))
    )
    result.seconds = time.monotonic() - started
    return result


def load(url: str, token: str, clients: int, seconds: float, next_request: Next) -> LoadResult:
    """`clients` concurrent keep-alive clients sending requests until `seconds` pass (or the
    work runs out); every client sends its next request as soon as the last one is answered."""
    return asyncio.run(_load(url, token, clients, seconds, next_request))


def load_server(
    server: Server, token: str, clients: int, seconds: float, next_request: Next
) -> LoadResult:
    """`load` against `server`, with the CPU time the server used meanwhile."""
    before = process_cpu_seconds(server.process.pid)
    result = load(server.url, token, clients, seconds, next_request)
    result.server_cpu_s = process_cpu_seconds(server.process.pid) - before
    return result


def _acks(task_ids: list[str], sent: dict[str, int]) -> Next:
    """Each task once ("first" acks), then round again ("repeat" acks, the same responder)."""
    queue = itertools.cycle(task_ids)

    def next_request() -> Request:
        task_id = next(queue)
        sent["repeat" if sent["first"] >= len(task_ids) else "first"] += 1
        return lambda connection: connection.request("POST", f"/tasks/{task_id}/ack")

    return next_request


def _health() -> Request:
    return lambda connection: connection.request("GET", "/healthz")


def _summary(result: LoadResult) -> dict[str, Any]:
    return {
        "seconds": result.seconds,
        "requests": len(result.latencies),
        "ok": result.ok,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "p50_ms": result.percentile_ms(0.5),
        "p95_ms": result.percentile_ms(0.95),
        "p99_ms": result.percentile_ms(0.99),
        "ran_out_of_tasks": result.ran_out,
        "server_cpu_s": result.server_cpu_s,
        "server_cpu_us_per_ok": result.cpu_us_per_ok,
    }


class AgentApi:
    """POST /tasks/{id}/ack from concurrent clients, beside GET /healthz on the same server."""

    name = "api"
    title = "4. Agent API (embedded runtime, loopback)"

    def run(self, ctx: BenchContext) -> CaseResult:
        config = ctx.config
        work = ctx.work / "api"
        wanted = min(SEEDED_TASKS, max(MIN_TASKS, int(config.api_seconds * ACKS_PER_S_SIZING)))
        incidents = -(-wanted // TASKS_PER_INCIDENT) + config.open_incidents
        task_ids, opened = seed(
            work / "db",
            wanted,
            config.open_incidents,
            ctx.reporter.step("api: seed open incidents", incidents),
        )
        token = secrets.token_urlsafe(TOKEN_BYTES)
        base_seconds = max(1.0, config.api_seconds * BASELINE_SECONDS_SHARE)
        with serving(work, token) as server:
            gcwatch.mark(work / GC_LOG)
            load(server.url, token, config.api_clients, WARM_UP_S, _health)
            step = ctx.reporter.step(f"api: healthz, {config.api_clients} clients")
            health = load_server(server, token, config.api_clients, base_seconds, _health)
            step(1)
            step = ctx.reporter.step(
                f"api: acks, {config.api_clients} clients, {config.api_seconds:g} s"
            )
            sent = {"first": 0, "repeat": 0}
            acks = load_server(
                server, token, config.api_clients, config.api_seconds, _acks(task_ids, sent)
            )
            step(1)
        result = self._result(ctx, acks, health, len(task_ids), sent)
        result.details["open_incidents"] = opened
        collections = gcwatch.read([work / GC_LOG])
        result.figures.append(gcwatch.figure(collections, "server, whole run"))
        result.details["gc"] = collections
        return result

    def _result(
        self,
        ctx: BenchContext,
        acks: LoadResult,
        health: LoadResult,
        seeded: int,
        sent: dict[str, int],
    ) -> CaseResult:
        rate = acks.ok / acks.seconds
        health_rate = health.ok / health.seconds
        p99 = acks.percentile_ms(0.99)
        figures = [
            Figure(
                "acks/s",
                rate,
                "acks/s",
                health_rate,
                "GET /healthz",
                f">= {TARGET_ACKS_PER_S:,} acks/s",
                rate >= TARGET_ACKS_PER_S,
                baseline_unit="requests/s",
            ),
            Figure(
                "ack latency p99",
                p99,
                "ms",
                health.percentile_ms(0.99),
                "GET /healthz",
                f"<= {TARGET_P99_MS:g} ms",
                p99 <= TARGET_P99_MS,
                higher_is_better=False,
            ),
            Figure(
                "ack latency p50",
                acks.percentile_ms(0.5),
                "ms",
                health.percentile_ms(0.5),
                "GET /healthz",
                higher_is_better=False,
            ),
            Figure(
                "server CPU per ack",
                acks.cpu_us_per_ok,
                "us",
                health.cpu_us_per_ok,
                "per GET /healthz",
                higher_is_better=False,
            ),
        ]
        notes = [
            f"{ctx.config.api_clients} keep-alive clients (one asyncio loop, "
            "benchmarks.http) and the server share this machine's cores"
        ]
        if sent["repeat"]:
            notes.append(
                f"all {seeded:,} seeded tasks were acknowledged within the run; the other "
                f"{sent['repeat']:,} acks were repeats (accepted no-op commands, same path)"
            )
        details = {
            "seeded_tasks": seeded,
            "sent": sent,
            "acks": _summary(acks),
            "healthz": _summary(health),
        }
        return CaseResult(self.name, self.title, figures, details, notes)
