"""What a worker counts, for its /metrics page (Prometheus text format) and its stop line.

The agents count as they go (records, redeliveries, forwards, dead letters, incidents opened);
the consumer lag per input partition is measured when scraped (`refresh`): the broker's end
offsets, asked then, past the last offset each agent applied (one request per scrape).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

__all__ = ["Lag", "WorkerMetrics"]

RECOVERY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
"""Seconds from a rebalance starting to the worker's tables being recovered."""

LagRow = tuple[str, int, int]
Lag = Callable[[], Awaitable[list[LagRow]]]
"""(topic, partition, records behind) for every input partition the worker owns."""


class _LagCollector(Collector):
    def __init__(self, rows: Callable[[], Iterable[LagRow]]) -> None:
        self.rows = rows

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "orch_worker_consumer_lag",
            "Records of an owned input partition not yet applied (end offset - 1 - applied).",
            labels=["topic", "partition"],
        )
        for topic, partition, behind in self.rows():
            family.add_metric([topic, str(partition)], behind)
        yield family


PREFIX = "orch_worker_"


@dataclass
class WorkerMetrics:
    """One worker's counters on its own registry (a process may hold several in tests); with
    `process`, the standard process_*, python_info and python_gc_* series too (the worker
    process's registry, as the API's /metrics has them)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    process: bool = False

    def __post_init__(self) -> None:
        r = self.registry
        if self.process:
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)
            GCCollector(registry=r)
        self.records = Counter(
            "orch_worker_records", "Input records applied, by topic.", ["topic"], registry=r
        )
        self.redeliveries = Counter(
            "orch_worker_redeliveries",
            "Input records skipped as already applied (redelivered after a crash or rebalance).",
            ["topic"],
            registry=r,
        )
        self.forwarded = Counter(
            "orch_worker_forwarded",
            "Input records found on another partition than the runtime's rule gives them, "
            "forwarded there unapplied.",
            ["topic"],
            registry=r,
        )
        self.dead_letters = Counter(
            "orch_worker_dead_letters", "Dead letters published.", registry=r
        )
        self.incidents_opened = Counter(
            "orch_worker_incidents_opened", "Incidents the worker's shards opened.", registry=r
        )
        self.rebalances = Counter(
            "orch_worker_rebalances", "Rebalances the worker completed.", registry=r
        )
        self.recovery = Histogram(
            "orch_worker_recovery_seconds",
            "From a rebalance starting to its tables being recovered and streams resuming.",
            buckets=RECOVERY_BUCKETS,
            registry=r,
        )
        self.ready = Gauge(
            "orch_worker_ready", "1 once assigned and recovered, 0 while rebalancing.", registry=r
        )
        self._rebalancing_since: float | None = time.monotonic()
        self._lag_source: Lag | None = None
        self._lag: list[LagRow] = []

    def watch_lag(self, lag: Lag) -> None:
        """Measure `lag` on every scrape (`refresh`)."""
        self._lag_source = lag
        self.registry.register(_LagCollector(lambda: self._lag))

    async def refresh(self) -> None:
        """Measure what is measured when scraped (the consumer lag)."""
        if self._lag_source is not None:
            self._lag = await self._lag_source()

    def rebalance_started(self) -> None:
        """A rebalance began: not ready until it completes."""
        self.ready.set(0)
        if self._rebalancing_since is None:
            self._rebalancing_since = time.monotonic()

    def rebalance_completed(self) -> float:
        """A rebalance completed (tables recovered): ready; the seconds it took."""
        started = self._rebalancing_since or time.monotonic()
        took = time.monotonic() - started
        self._rebalancing_since = None
        self.rebalances.inc()
        self.recovery.observe(took)
        self.ready.set(1)
        return took

    @property
    def is_ready(self) -> bool:
        """True between a completed rebalance and the next one starting."""
        return self._rebalancing_since is None

    def totals(self) -> dict[str, int]:
        """Every counter of the worker's own over its labels, for the worker's stop line."""
        totals: dict[str, int] = {}
        for metric in self.registry.collect():
            if metric.type != "counter" or not metric.name.startswith(PREFIX):
                continue
            name = metric.name.removeprefix(PREFIX)
            totals[name] = int(sum(s.value for s in metric.samples if s.name.endswith("_total")))
        return totals
