"""Benchmarks (`make bench`, or `python -m benchmarks` from a checkout; not in the product
wheel): they generate their own data, run every case beside a baseline measured in the same
run, and write docs/benchmarks.md and docs/benchmarks.json.

Cases live one per module (engine, memory, api, drills); each is a `Case` listed in
`benchmarks.runner.CASES`. Measurements that must not share a heap run in a fresh
process (`benchmarks.worker`).
"""

from benchmarks.base import BenchConfig, BenchError, CaseResult, Figure
from benchmarks.report import BenchRun, summary_table
from benchmarks.runner import CASES, run_bench

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
