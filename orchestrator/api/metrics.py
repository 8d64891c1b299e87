"""Prometheus metrics: what the runtime knows, read at scrape time, and what the HTTP layer
counts (request latency, refused credentials, unmapped alert severities), with the standard
process, platform and garbage-collector series.

The runtime's counts come from the engine's own state, so they survive restarts and agree with
`/summary`; each app has its own registry (no process-global state between apps or tests).
Every label set a family can have is there from the first scrape (zeros), so rates and alerts
work before the first event; outcomes do not overlap (a sum over them is the records read,
`late` is a family of its own); labels are bounded: route templates, never raw paths, and
methods outside the usual ones count as OTHER.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.api.problems import ProblemError
from orchestrator.runtime import Runtime
from schemas import Severity, TaskStatus

log = structlog.get_logger("orchestrator.api")
PREFIX = "orchestrator"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OUTCOMES = ("accepted", "rejected", "duplicates")
"""Input outcomes: each record read has exactly one."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Request methods labelled as themselves; any other is OTHER (bounded label values)."""
SHOWN_CHARS = 64
"""The most of a sender's value a log line repeats."""
UNMATCHED = "unmatched"
"""The route label of a request no route took (one value, whatever its path)."""


def metrics_registry(runtime: Runtime) -> CollectorRegistry:
    """A registry of the runtime's counts and the standard process_*, python_* series."""
    registry = CollectorRegistry()
    registry.register(RuntimeCollector(runtime))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class HttpCounters:
    """What the HTTP layer counts: write requests refused for their credentials (by route
    template), and alerts whose severity label no mapping knows."""

    def __init__(self, registry: CollectorRegistry, routes: Iterable[str]) -> None:
        self.refused = Counter(
            f"{PREFIX}_auth_refused",
            "Write requests refused for their credentials (401), by route template.",
            ["route"],
            registry=registry,
        )
        for route in sorted(set(routes)):
            self.refused.labels(route)
        self.unmapped_severity = Counter(
            f"{PREFIX}_alert_severity_unmapped",
            "Alertmanager alerts whose severity label no mapping knows (taken as warning; "
            "add it to ORCH_ALERT_SEVERITY_MAP).",
            registry=registry,
        )

    def refused_credentials(self, request: Request, route: str, refused: ProblemError) -> None:
        """Count a write refused for its credentials, and log it with the client's address
        (ORCH_TRUSTED_PROXIES decides whether X-Forwarded-For names it)."""
        self.refused.labels(route).inc()
        client = request.client.host if request.client else "unknown"
        log.warning("auth.refused", route=route, client=client, reason=refused.detail)

    def unmapped(self, severity: str) -> None:
        """Count (and log) an alert severity label no mapping knows."""
        self.unmapped_severity.inc()
        log.warning(
            "alert.severity_unmapped",
            severity=severity[:SHOWN_CHARS],
            fix="map it in ORCH_ALERT_SEVERITY_MAP, e.g. P1=critical",
        )


class RuntimeCollector:
    """Events, commands, incidents, tasks and escalations, from one summary per scrape."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        """The metric families, computed now."""
        data = self.runtime.summary()
        yield from _events(data["events"])
        yield _commands(data.get("commands", {}))
        incidents: list[dict[str, Any]] = data["incidents"]
        playbooks = self.runtime.loaded_playbooks()
        yield _open_incidents(incidents, [p.id for p in playbooks])
        tasks = [(i["playbook"], t) for i in incidents for t in i["tasks"]]
        yield _tasks(tasks, self.runtime.roles())
        pairs = {(p.id, t.role) for p in playbooks for t in (*p.tasks, p.review) if t}
        yield _escalations(tasks, pairs)


def _events(counts: dict[str, int]) -> Iterator[Metric]:
    family = CounterMetricFamily(
        f"{PREFIX}_events",
        "Input records by outcome: accepted, rejected (dead-lettered) or duplicates; they add "
        "up to the records read.",
        labels=["outcome"],
    )
    for outcome in OUTCOMES:
        family.add_metric([outcome], counts.get(outcome, 0))
    yield family
    yield CounterMetricFamily(
        f"{PREFIX}_events_late",
        "Records that came later than the allowed lateness (processed or dead-lettered as "
        "ORCH_LATE_POLICY says, so also counted under their outcome).",
        value=counts.get("late", 0),
    )


def _commands(counts: dict[str, int]) -> Metric:
    family = CounterMetricFamily(
        f"{PREFIX}_commands", "Responder commands by the engine's verdict.", labels=["verdict"]
    )
    for verdict in ("applied", "rejected"):
        family.add_metric([verdict], counts.get(verdict, 0))
    return family


def _open_incidents(incidents: list[dict[str, Any]], playbooks: list[str]) -> Metric:
    family = GaugeMetricFamily(
        f"{PREFIX}_open_incidents", "Open incidents.", labels=["playbook", "severity"]
    )
    counts = Tally((i["playbook"], i["severity"]) for i in incidents if i["status"] == "open")
    for playbook in sorted({i["playbook"] for i in incidents} | set(playbooks)):
        for severity in Severity:
            family.add_metric([playbook, severity.value], counts[playbook, severity.value])
    return family


def _tasks(tasks: list[tuple[str, dict[str, Any]]], roles: Iterable[str]) -> Metric:
    family = GaugeMetricFamily(
        f"{PREFIX}_tasks", "Tasks by role and status.", labels=["role", "status"]
    )
    counts = Tally((t["role"], t["status"]) for _, t in tasks)
    for role in sorted(set(roles) | {r for r, _ in counts}):
        for status in TaskStatus:
            family.add_metric([role, status.value], counts[role, status.value])
    return family


def _escalations(tasks: list[tuple[str, dict[str, Any]]], pairs: set[tuple[str, str]]) -> Metric:
    family = CounterMetricFamily(
        f"{PREFIX}_escalations", "Escalations of unacknowledged tasks.", labels=["playbook", "role"]
    )
    counts: Tally[tuple[str, str]] = Tally(dict.fromkeys(pairs, 0))
    for playbook, task in tasks:
        counts[playbook, task["role"]] += task["escalations"]
    for (playbook, role), count in sorted(counts.items()):
        family.add_metric([playbook, role], count)
    return family


def latency_histogram(registry: CollectorRegistry) -> Histogram:
    """Request latency by method, route template and status."""
    return Histogram(
        f"{PREFIX}_http_request_duration_seconds",
        "HTTP request latency.",
        ["method", "route", "status"],
        registry=registry,
        buckets=LATENCY_BUCKETS,
    )


class LatencyMiddleware:
    """Times every HTTP request (labelled by route template, never by raw path)."""

    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self.histogram.labels(method, route, str(status)).observe(time.perf_counter() - started)
