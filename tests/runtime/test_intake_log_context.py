"""The embedded runtime's log lines about one record carry that record's event id: the failure
of its step (`input.failed`), and nothing of it leaks onto the lines of later requests."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs
from test_embedded_runtime import alert

from orchestrator.engine import EngineState, Input, Millis, Output, RawRecord
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock
from schemas.deadletter import Origin

HTTP = Origin(kind="http", name="/events")
START = "2026-11-20T10:00:00Z"


class Faulty(Engine):
    """The real engine, failing on a record of the `boom` service (a bug's stand-in)."""

    def step(
        self, state: EngineState, item: Input, now: Millis
    ) -> tuple[EngineState, list[Output]]:
        if isinstance(item, RawRecord) and b'"boom"' in item.raw:
            raise RuntimeError("a bug in the engine")
        return super().step(state, item, now)


def test_a_failed_step_is_logged_with_the_event_id_of_its_record(tmp_path: Path) -> None:
    """A request whose second record breaks the engine: `input.failed` names that record's
    event id; a later request's rejected record is logged with its own id only."""
    engine = Faulty(load_directory("playbooks"))
    runtime = EmbeddedRuntime.open(engine, tmp_path, clock=ManualClock(START).now)
    merge = structlog.contextvars.merge_contextvars
    with capture_logs(processors=[merge]) as logs:
        with pytest.raises(RuntimeError):
            runtime.submit([alert("fine", START, id="ok-1"), alert("boom", START, id="b-1")], HTTP)
        runtime.submit([b'{"id": "late-1", "source": "x"}'], HTTP)
    [failed] = [e for e in logs if e["event"] == "input.failed"]
    assert failed["event_id"] == "b-1"
    [rejected] = [e for e in logs if e["event"] == "event.rejected"]
    assert (rejected["event_id"], rejected["source"]) == ("late-1", "x")
    runtime.store.close()
