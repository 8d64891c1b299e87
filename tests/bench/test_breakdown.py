"""The memory breakdown charges what open incidents hold to the engine functions that made it."""

from __future__ import annotations

from pathlib import Path

from benchmarks.breakdown import breakdown


def test_the_breakdown_charges_tasks_timeline_and_incidents_to_the_engine(tmp_path: Path) -> None:
    """Tasks (attach), timeline entries (note) and incidents (open_incident) hold memory."""
    held, opened = breakdown(40, tmp_path)
    assert opened == 40
    for owner in ("tasks.attach", "outputs.note", "incidents.open_incident"):
        assert held[owner] > 0
    assert not any(owner.startswith(("construct.", "clock.", "ids.")) for owner in held)
