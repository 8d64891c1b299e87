"""Case 1, engine throughput: the mixed log replayed on one core beside a parse-only baseline."""

from __future__ import annotations

from typing import Any

from benchmarks.base import BenchContext, CaseResult, Figure
from benchmarks.logs import mixed_log
from benchmarks.workers import one_cpu, run_worker

TARGET_EVENTS_PER_S = 150_000
TARGET_RATIO = 0.5
TARGET_CEILING_RATIO = 0.15
"""Issue 18's targets: events/s, share of parse + validate, share of the bare-read ceiling."""


def _best_of_two(ctx: BenchContext, case: str, label: str) -> dict[str, Any]:
    """The faster of two runs of worker `case` over the mixed log on one core (cached per run)."""
    cached = ctx.results.get(case)
    if cached is not None:
        return cached
    log = mixed_log(ctx)
    size = log.stat().st_size
    runs = [
        run_worker(ctx, f"{label} ({n}/2)", case, log, "--cpu", str(one_cpu()), total=size)
        for n in (1, 2)
    ]
    best = min(runs, key=lambda r: float(r["wall"]))
    ctx.results[case] = best
    return best


def parse_baseline(ctx: BenchContext) -> dict[str, Any]:
    """The parse-only loop over the mixed log on one core (measured once per run, cached)."""
    return _best_of_two(ctx, "parse", "baseline: parse + validate")


def read_ceiling(ctx: BenchContext) -> dict[str, Any]:
    """The bare-read ceiling: an orjson loop over the same lines, nothing else (cached)."""
    return _best_of_two(ctx, "read", "ceiling: read + orjson.loads")


def _rate(result: dict[str, Any], clock: str = "wall") -> float:
    return int(result["events"]) / float(result[clock])


class EngineThroughput:
    """Replay through the engine (drill.replay_file) versus read + parse + validate only."""

    name = "engine"
    title = "1. Engine throughput (one core)"

    def run(self, ctx: BenchContext) -> CaseResult:
        log = mixed_log(ctx)
        ceiling = read_ceiling(ctx)
        baseline = parse_baseline(ctx)
        replay = run_worker(
            ctx, "engine: replay", "replay", log, "--cpu", str(one_cpu()), total=log.stat().st_size
        )
        ctx.results["replay"] = replay
        events = int(replay["events"])
        rate, base_rate, read_rate = _rate(replay), _rate(baseline), _rate(ceiling)
        cpu_rate, base_cpu_rate = _rate(replay, "cpu"), _rate(baseline, "cpu")
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
                "events/s (wall) against the bare read",
                rate,
                "events/s",
                read_rate,
                "bare-read ceiling (read + orjson.loads)",
                f">= {TARGET_CEILING_RATIO}x the ceiling",
                rate >= TARGET_CEILING_RATIO * read_rate,
            ),
            Figure(
                "parse + validate (wall)",
                base_rate,
                "events/s",
                read_rate,
                "bare-read ceiling (read + orjson.loads)",
            ),
            Figure(
                "events/s (CPU time)", cpu_rate, "events/s", base_cpu_rate, "parse + validate only"
            ),
        ]
        details = {
            "log": {"events": events, "bytes": log.stat().st_size, "keys": ctx.config.keys},
            "replay": replay,
            "baseline": baseline,
            "ceiling": ceiling,
        }
        return CaseResult(self.name, self.title, figures, details)
