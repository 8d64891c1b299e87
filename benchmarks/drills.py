"""Case 5, drills: wall time of `orchestrator replay` on the mixed log, and --speed pacing."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from benchmarks.base import BenchContext, BenchError, CaseResult, Figure, percentile
from benchmarks.engine import parse_baseline
from benchmarks.logs import PACED_EVENTS, PACED_SPACING_MS, mixed_log, paced_log
from benchmarks.workers import run_worker

PACING_SPEED = 10.0
PERCENT = 100


class Drills:
    """The replay command end to end (process start, log, summary) and pacing accuracy."""

    name = "drills"
    title = "5. Drills"

    def run(self, ctx: BenchContext) -> CaseResult:
        result = CaseResult(self.name, self.title)
        self._replay(ctx, result)
        self._pacing(ctx, result)
        return result

    def _replay(self, ctx: BenchContext, result: CaseResult) -> None:
        log = mixed_log(ctx)
        baseline = parse_baseline(ctx)
        step = ctx.reporter.step(f"drills: orchestrator replay {log.name} --json")
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "orchestrator", "replay", str(log), "--json"],
            capture_output=True,
            check=False,
        )
        wall = time.perf_counter() - started
        step(1)
        if done.returncode != 0:
            raise BenchError(
                f"orchestrator replay exited with {done.returncode}: "
                f"{done.stderr.decode(errors='replace')[-2000:]}"
            )
        result.figures.append(
            Figure(
                f"replay --json wall time, {ctx.config.events:,} events",
                wall,
                "s",
                float(baseline["wall"]),
                "parse + validate only",
                higher_is_better=False,
            )
        )
        result.details["replay_wall"] = wall
        result.details["summary_bytes"] = len(done.stdout)

    def _pacing(self, ctx: BenchContext, result: CaseResult) -> None:
        log = paced_log(ctx)
        found = run_worker(
            ctx,
            f"drills: pacing at --speed {PACING_SPEED:g}",
            "pacing",
            log,
            "--speed",
            str(PACING_SPEED),
        )
        lags = [float(v) for v in found["lags_ms"]]
        expected, wall = float(found["expected_wall"]), float(found["wall"])
        result.figures += [
            Figure(
                f"--speed {PACING_SPEED:g} wall time, {PACED_EVENTS} events",
                wall,
                "s",
                expected,
                "event-time span / speed",
                higher_is_better=False,
            ),
            Figure("pacing lag p50", statistics.median(lags), "ms", higher_is_better=False),
            Figure("pacing lag p99", percentile(lags, 0.99), "ms", higher_is_better=False),
            Figure("pacing lag max", max(lags), "ms", higher_is_better=False),
        ]
        result.details["pacing"] = {
            "speed": PACING_SPEED,
            "events": PACED_EVENTS,
            "spacing_ms": PACED_SPACING_MS,
            "wall": wall,
            "expected_wall": expected,
            "error_percent": PERCENT * (wall - expected) / expected,
        }
