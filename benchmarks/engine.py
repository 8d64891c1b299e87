"""Case 1, engine throughput: the mixed log replayed on one core beside a parse-only baseline."""

from __future__ import annotations

from typing import Any

from benchmarks.base import BenchContext, CaseResult, Figure
from benchmarks.logs import mixed_log
from benchmarks.workers import one_cpu, run_worker

TARGET_EVENTS_PER_S = 100_000
TARGET_RATIO = 0.5


def parse_baseline(ctx: BenchContext) -> dict[str, Any]:
    """The parse-only loop over the mixed log on one core (measured once per run, cached)."""
    cached = ctx.results.get("parse")
    if cached is not None:
        return cached
    log = mixed_log(ctx)
    size = log.stat().st_size
    runs = [
        run_worker(
            ctx,
            f"baseline: parse + validate ({n}/2)",
            "parse",
            log,
            "--cpu",
            str(one_cpu()),
            total=size,
        )
        for n in (1, 2)
    ]
    best = min(runs, key=lambda r: float(r["wall"]))
    ctx.results["parse"] = best
    return best


class EngineThroughput:
    """Replay through the engine (drill.replay_file) versus read + parse + validate only."""

    name = "engine"
    title = "1. Engine throughput (one core)"

    def run(self, ctx: BenchContext) -> CaseResult:
        log = mixed_log(ctx)
        baseline = parse_baseline(ctx)
        replay = run_worker(
            ctx, "engine: replay", "replay", log, "--cpu", str(one_cpu()), total=log.stat().st_size
        )
        ctx.results["replay"] = replay
        events = int(replay["events"])
        rate = events / float(replay["wall"])
        base_rate = int(baseline["events"]) / float(baseline["wall"])
        cpu_rate = events / float(replay["cpu"])
        base_cpu_rate = int(baseline["events"]) / float(baseline["cpu"])
        figures = [
            Figure(
                "events/s (wall)",
                rate,
                "events/s",
                base_rate,
                "parse + validate only",
                f">= {TARGET_EVENTS_PER_S:,} events/s and >= {TARGET_RATIO}x baseline",
                rate >= TARGET_EVENTS_PER_S and rate >= TARGET_RATIO * base_rate,
            ),
            Figure(
                "events/s (CPU time)", cpu_rate, "events/s", base_cpu_rate, "parse + validate only"
            ),
        ]
        details = {
            "log": {"events": events, "bytes": log.stat().st_size, "keys": ctx.config.keys},
            "replay": replay,
            "baseline": baseline,
        }
        return CaseResult(self.name, self.title, figures, details)
