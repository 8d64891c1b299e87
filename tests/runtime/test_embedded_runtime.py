"""The embedded runtime: durable input log, exact restart, outbox, dead letters."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from orchestrator.engine.clock import parse_time
from orchestrator.engine.step import Engine
from orchestrator.engine.summary import summary
from orchestrator.playbook import load_directory
from orchestrator.runtime.embedded import EmbeddedRuntime
from orchestrator.testing import ManualClock, encode, event
from schemas.commands import Command
from schemas.deadletter import Origin

HTTP = Origin(kind="http", name="/events")
START = "2026-11-20T10:00:00Z"


def alert(service: str, time: str, status: str = "firing", **extra: str) -> bytes:
    return encode(
        event(
            "ops.alert",
            time,
            alertname="Down",
            service=service,
            status=status,
            severity="critical",
            **extra,
        )
    )


@pytest.fixture
def engine() -> Engine:
    return Engine(load_directory("playbooks"))


def open_runtime(
    engine: Engine, path: Path, clock: ManualClock, every: int = 1000
) -> EmbeddedRuntime:
    return EmbeddedRuntime.open(engine, path, snapshot_every=every, clock=clock.now)


def test_restart_resumes_exactly_from_snapshot_and_log_tail(engine: Engine, tmp_path: Path) -> None:
    """State after close+reopen (snapshot every 3 inputs, then a tail) equals the state before."""
    clock = ManualClock(START)
    runtime = open_runtime(engine, tmp_path, clock, every=3)
    for i in range(8):
        clock.value = parse_time(f"2026-11-20T10:0{i}:00Z")  # received as they happen
        runtime.submit([alert(f"svc{i % 3}", f"2026-11-20T10:0{i}:00Z")], HTTP)
    before = summary(runtime.state)
    runtime.store.close()  # no final snapshot: recovery must replay the tail of the log
    again = open_runtime(engine, tmp_path, clock, every=3)
    assert summary(again.state) == before
    assert again.state.counters.accepted == 8


def test_submit_reports_accepted_duplicate_and_rejected(engine: Engine, tmp_path: Path) -> None:
    """Each record's fate is reported; rejected ones land in the dead-letter table with reason."""
    runtime = open_runtime(engine, tmp_path, ManualClock(START))
    good = alert("checkout", START)
    results = runtime.submit([good, good, b"{not json"], HTTP)
    assert [r.status for r in results] == ["accepted", "duplicate", "rejected"]
    letters = runtime.dead_letters()
    assert len(letters) == 1
    assert letters[0].raw == "{not json"
    assert "not valid JSON" in letters[0].reason
    assert letters[0].origin.kind == "http"


def test_outbox_holds_task_events_for_each_role(engine: Engine, tmp_path: Path) -> None:
    """A critical alert puts ops's triage assignment in the outbox, readable per role."""
    runtime = open_runtime(engine, tmp_path, ManualClock(START))
    runtime.submit([alert("checkout", START)], HTTP)
    ops = runtime.outbox_after(0, role="ops")
    assert [row.kind for row in ops] == ["task.assigned"]
    assert ops[0].body["task"]["name"] == "triage"
    assert runtime.outbox_after(ops[0].seq, role="ops") == []


def test_commands_are_durable_and_conflicts_decided_once(engine: Engine, tmp_path: Path) -> None:
    """Two acks of one task by different people: the first wins, the second is rejected."""
    clock = ManualClock(START)
    runtime = open_runtime(engine, tmp_path, clock)
    runtime.submit([alert("checkout", START)], HTTP)
    task_id = runtime.tasks(role="ops")[0].id
    first = runtime.command(
        Command(id="c1", kind="ack", actor="dana", time="2026-11-20T10:01:00Z", task_id=task_id)
    )
    second = runtime.command(
        Command(id="c2", kind="ack", actor="lee", time="2026-11-20T10:01:01Z", task_id=task_id)
    )
    assert first.accepted
    assert not second.accepted
    assert "dana" in (second.reason or "")
    runtime.close()
    again = open_runtime(engine, tmp_path, clock)
    task = again.task(task_id)
    assert task is not None
    assert task.acknowledged_by == "dana"


def test_tick_fires_escalations_on_the_wall_clock_and_is_logged(
    engine: Engine, tmp_path: Path
) -> None:
    """With nobody acking, a tick past the ack deadline escalates; a restart keeps it."""
    clock = ManualClock(START)
    runtime = open_runtime(engine, tmp_path, clock)
    runtime.submit([alert("checkout", START)], HTTP)
    assert runtime.tick() == 0
    clock.advance(6 * 60_000)
    assert runtime.tick() > 0
    escalated = [r for r in runtime.outbox_after(0) if r.kind == "task.escalated"]
    assert escalated
    runtime.store.close()
    again = open_runtime(engine, tmp_path, clock)
    assert again.tasks(role="ops")[0].escalations == runtime.tasks(role="ops")[0].escalations


def test_replaying_the_same_batch_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    """Feeding the same input twice: second time every record is a duplicate; state unchanged."""
    runtime = open_runtime(engine, tmp_path, ManualClock(START))
    batch = [alert(f"s{i}", START) for i in range(5)]
    runtime.submit(batch, HTTP)
    before = json.dumps(summary(runtime.state)["incidents"])
    assert {r.status for r in runtime.submit(batch, HTTP)} == {"duplicate"}
    assert json.dumps(summary(runtime.state)["incidents"]) == before


def test_the_state_of_many_incidents_adds_almost_nothing_for_the_collector_to_scan(
    engine: Engine, tmp_path: Path
) -> None:
    """Incidents, their tasks and timelines are records the cyclic collector never tracks, so
    what a full collection scans hardly grows with them: 300 more open incidents (each with
    tasks and a timeline) add well under one tracked object each (only the engine's windows,
    lists per correlation key, are tracked). No freezing needed, so nothing is frozen."""
    gc.collect()
    runtime = open_runtime(engine, tmp_path, ManualClock(START))
    runtime.submit([alert("svc-first", START)], HTTP)
    gc.collect()
    before = len(gc.get_objects())
    runtime.submit([alert(f"svc{i}", START) for i in range(300)], HTTP)
    gc.collect()
    assert len(runtime.state.incidents) == 301
    assert not any(gc.is_tracked(i) for i in runtime.state.incidents.values())
    grown = len(gc.get_objects()) - before
    assert grown < 300
    runtime.close()
