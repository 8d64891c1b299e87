"""The instance-storm measurement feeds new firing instances of one service to one incident and
reports what it lists and counts."""

from __future__ import annotations

from benchmarks.instance_storm import run
from orchestrator.engine import EngineConfig


def test_it_reports_the_listed_and_the_counted_instances_of_one_incident() -> None:
    capped = run(200, EngineConfig(open_signals_cap=10))
    assert (capped.alerts, capped.listed, capped.counted) == (200, 10, 190)
    assert 0 < capped.held_half <= capped.held_all
    whole = run(200, EngineConfig(open_signals_cap=1_000))
    assert (whole.listed, whole.counted) == (200, 0)
