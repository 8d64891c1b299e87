"""Case 2, memory: RSS with many open incidents, and RSS along a long replay (must stay flat).

Each measurement runs in a fresh process, so one does not inherit the other's heap.
"""

from __future__ import annotations

from benchmarks.base import DEFAULT_OPEN_INCIDENTS, BenchContext, CaseResult, Figure
from benchmarks.data import STEADY_KEYS
from benchmarks.logs import opening_log, steady_log
from benchmarks.workers import run_worker

MIB = 1_048_576
TARGET_OPEN_MIB = 250
"""Issue 18: at most 250 MiB RSS with 100,000 open incidents (it was 500 before it)."""
ALLOWED_GROWTH_MIB = 48
"""The same allowance as tests/drills/test_large_replay.py: RSS may wobble, not follow events."""


def _mib(value: object) -> float:
    return round(int(str(value)) / MIB, 1)


class OpenIncidentsMemory:
    """RSS once the opening log has opened one incident per line."""

    name = "memory-open"
    title = "2a. Memory with open incidents"

    def run(self, ctx: BenchContext) -> CaseResult:
        log = opening_log(ctx)
        found = run_worker(ctx, "memory: open incidents", "open", log, total=log.stat().st_size)
        count = int(found["open_incidents"])
        after, before = _mib(found["rss_after"]), _mib(found["rss_before"])
        full_size = ctx.config.open_incidents == DEFAULT_OPEN_INCIDENTS
        figures = [
            Figure(
                f"RSS with {count:,} open incidents",
                after,
                "MiB",
                before,
                "RSS before the first event",
                f"<= {TARGET_OPEN_MIB} MiB at 100,000",
                after <= TARGET_OPEN_MIB if full_size else None,
                higher_is_better=False,
            ),
            Figure(
                "RSS per open incident",
                (after - before) * MIB / max(count, 1) / 1024,
                "KiB",
                higher_is_better=False,
            ),
        ]
        return CaseResult(self.name, self.title, figures, {"worker": found})


class FlatMemory:
    """RSS at a quarter, half and all of a long replay over a fixed key set."""

    name = "memory-flat"
    title = "2b. Memory along a long replay (fixed key set)"

    def run(self, ctx: BenchContext) -> CaseResult:
        log = steady_log(ctx)
        events = ctx.config.events
        marks = [events // 4, events // 2, events]
        found = run_worker(
            ctx,
            "memory: flat along the replay",
            "replay",
            log,
            "--rss-at",
            ",".join(str(m) for m in marks),
            total=log.stat().st_size,
        )
        samples = {int(k): _mib(v) for k, v in found["rss"].items() if k != "start"}
        first = samples[marks[0]]
        figures = [
            Figure(
                f"RSS at {mark:,} events",
                samples[mark],
                "MiB",
                first,
                f"RSS at {marks[0]:,} events",
                higher_is_better=False,
            )
            for mark in marks
        ]
        growth = samples[marks[-1]] - first
        figures.append(
            Figure(
                f"growth {marks[0]:,} -> {marks[-1]:,} events",
                growth,
                "MiB",
                target=f"<= {ALLOWED_GROWTH_MIB} MiB (flat)",
                met=growth <= ALLOWED_GROWTH_MIB,
                higher_is_better=False,
            )
        )
        notes = [
            f"steady log: {STEADY_KEYS:,} keys, events ~3 s apart; alerts never resolve, stock "
            "never runs out, mentions are viral and sales fall daily, so every incident opens "
            "early and stays open, timelines reach their cap and the 7-day dedupe horizon fills "
            "before the first sample; later events only join"
        ]
        return CaseResult(self.name, self.title, figures, {"worker": found}, notes)
