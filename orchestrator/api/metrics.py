"""Prometheus metrics: what the runtime knows, read at scrape time, and request latency.

The counts come from the engine's own state, so they survive restarts and agree with
`/summary`; each app has its own registry (no process-global state between apps or tests).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.runtime import Runtime
from schemas import Severity, TaskStatus

PREFIX = "orchestrator"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RuntimeCollector:
    """Events, commands, incidents, tasks and escalations, from one summary per scrape."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        """The metric families, computed now."""
        data = self.runtime.summary()
        yield _events(data["events"])
        yield _commands(data.get("commands", {}))
        incidents: list[dict[str, Any]] = data["incidents"]
        yield _open_incidents(incidents)
        tasks = [(i["playbook"], t) for i in incidents for t in i["tasks"]]
        yield _tasks(tasks, self.runtime.roles())
        yield _escalations(tasks)


def _events(counts: dict[str, int]) -> Metric:
    family = CounterMetricFamily(
        f"{PREFIX}_events", "Input records by outcome.", labels=["outcome"]
    )
    for outcome in ("accepted", "rejected", "duplicates", "late"):
        family.add_metric([outcome], counts.get(outcome, 0))
    return family


def _commands(counts: dict[str, int]) -> Metric:
    family = CounterMetricFamily(
        f"{PREFIX}_commands", "Responder commands by the engine's verdict.", labels=["verdict"]
    )
    for verdict in ("applied", "rejected"):
        family.add_metric([verdict], counts.get(verdict, 0))
    return family


def _open_incidents(incidents: list[dict[str, Any]]) -> Metric:
    family = GaugeMetricFamily(
        f"{PREFIX}_open_incidents", "Open incidents.", labels=["playbook", "severity"]
    )
    counts = Counter((i["playbook"], i["severity"]) for i in incidents if i["status"] == "open")
    for playbook in sorted({i["playbook"] for i in incidents}):
        for severity in Severity:
            family.add_metric([playbook, severity.value], counts[playbook, severity.value])
    return family


def _tasks(tasks: list[tuple[str, dict[str, Any]]], roles: Iterable[str]) -> Metric:
    family = GaugeMetricFamily(
        f"{PREFIX}_tasks", "Tasks by role and status.", labels=["role", "status"]
    )
    counts = Counter((t["role"], t["status"]) for _, t in tasks)
    for role in sorted(set(roles) | {r for r, _ in counts}):
        for status in TaskStatus:
            family.add_metric([role, status.value], counts[role, status.value])
    return family


def _escalations(tasks: list[tuple[str, dict[str, Any]]]) -> Metric:
    family = CounterMetricFamily(
        f"{PREFIX}_escalations", "Escalations of unacknowledged tasks.", labels=["playbook", "role"]
    )
    counts: Counter[tuple[str, str]] = Counter()
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
            route = getattr(scope.get("route"), "path", "unmatched")
            self.histogram.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
