"""Benchmarks: `orchestrator bench` generates its own data, runs every case beside a baseline
measured in the same run, and writes docs/benchmarks.md and docs/benchmarks.json.

Cases live one per module (engine, memory, api, drills); each is a `Case` listed in
`orchestrator.bench.runner.CASES`. Measurements that must not share a heap run in a fresh
process (`orchestrator.bench.worker`).
"""

from orchestrator.bench.base import BenchConfig, BenchError, CaseResult, Figure
from orchestrator.bench.report import BenchRun, summary_table
from orchestrator.bench.runner import CASES, run_bench

__all__ = [
    "CASES",
    "BenchConfig",
    "BenchError",
    "BenchRun",
    "CaseResult",
    "Figure",
    "run_bench",
    "summary_table",
]
