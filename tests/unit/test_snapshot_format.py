"""Snapshots since compact state are the records as msgspec encodes them (format 3: a task
as its id parts, shared definition, state and progress); those written before (format 2: a
task with every field its own, timeline refs written out; no format: contract models, RFC
3339 times) are still read, to the same state; an unknown format is refused with what to do."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from orchestrator.engine import contract, encode_snapshot, restore, snapshot
from orchestrator.engine.ids import shard_of
from orchestrator.engine.state import SNAPSHOT_FORMAT, EngineState
from orchestrator.engine.windows import WindowSlot
from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import Drill, command, event
from schemas import Task

T0 = "2026-11-20T10:00:00Z"


def busy_state() -> EngineState:
    """Incidents with tasks, timelines, signals and command verdicts (one rejected)."""
    run = Drill.of(load_directory(shipped_playbooks()))
    alert = {"alertname": "Down", "service": "api", "status": "firing", "severity": "critical"}
    run.feed(event("ops.alert", T0, id="a1", **alert))
    task_id = run.incident("tech_outage", "api").tasks[0].id
    run.feed(command("ack", "2026-11-20T10:01:00Z", task_id=task_id))
    run.feed(command("ack", "2026-11-20T10:02:00Z", task_id="nope"))
    return run.until("2026-11-20T12:00:00Z").state


def legacy(state: EngineState) -> dict[str, Any]:
    """The snapshot as the version before compact state wrote it."""
    data = json.loads(encode_snapshot(state))
    del data["format"]
    data["incidents"] = {
        i: json.loads(contract(r).model_dump_json()) for i, r in state.incidents.items()
    }
    data["commands"] = {
        i: json.loads(contract(r).model_dump_json()) for i, r in state.commands.items()
    }
    data["task_index"] = dict(state.task_index)
    return data


def flat_tasks(state: EngineState) -> dict[str, Any]:
    """The snapshot as format 2 wrote it: every task and entry field its own, task refs
    written out, the open index by shard."""
    data = json.loads(encode_snapshot(state))
    data["format"] = 2
    data["open_index"] = {
        shard_of(playbook, key): incident_id
        for playbook, ids in state.open_index.items()
        for key, incident_id in ids.items()
    }
    for incident_id, incident in data["incidents"].items():
        record = state.incidents[incident_id]
        incident["tasks"] = [
            {name: msgspec.to_builtins(getattr(task, name)) for name in Task.model_fields}
            for task in record.tasks
        ]
        shown = contract(record).timeline
        incident["timeline"] = [
            {"at": e.at, "kind": e.kind, "actor": e.actor, "ref": written.ref}
            | {"detail": msgspec.to_builtins(e.detail)}
            for e, written in zip(record.timeline, shown, strict=True)
        ]
    return data


def test_a_format_2_snapshot_restores_to_the_same_state() -> None:
    """Flat tasks and entries and written-out task refs read back as shared definitions and
    shapes and TASK_REF: the same state, the same bytes."""
    state = busy_state()
    old = flat_tasks(state)
    (incident,) = old["incidents"].values()
    assert "role" in incident["tasks"][0]
    assert old["open_index"]
    assert any(e["ref"] == incident["tasks"][0]["id"] for e in incident["timeline"])
    restored = restore(old)
    assert restored.incidents == state.incidents
    assert encode_snapshot(restored) == encode_snapshot(state)


def test_a_snapshot_carries_its_format_and_millis() -> None:
    """The encoded snapshot names its format; incident times are integers."""
    data = json.loads(encode_snapshot(busy_state()))
    assert data["format"] == SNAPSHOT_FORMAT
    (incident,) = data["incidents"].values()
    assert isinstance(incident["opened_at"], int)


def test_a_snapshot_from_before_compact_state_restores_to_the_same_state() -> None:
    """Old snapshot -> restore -> snapshot equals the new snapshot of the same state."""
    state = busy_state()
    assert state.commands
    assert state.incidents
    assert snapshot(restore(legacy(state))) == snapshot(state)
    assert restore(legacy(state)).task_index == state.task_index


def test_an_unknown_snapshot_format_is_refused_with_what_to_do() -> None:
    """A snapshot of a later format is not guessed at."""
    data = json.loads(encode_snapshot(busy_state()))
    data["format"] = 99
    with pytest.raises(ValueError, match="delete the snapshot"):
        restore(data)


def test_timers_in_heap_order_and_window_pairs_restore_to_the_same_state() -> None:
    """The state keeps its timers in a queue of sorted runs and its windows as tuples; a
    snapshot lists the timers in (due, sequence) order, where an older one of the same format
    listed them in heap order: any order restores to the same state, and window entries read
    as lists (JSON arrays either way) come back as the same tuples, so the bytes are equal."""
    run = Drill.of(load_directory(shipped_playbooks()))
    alert = {"alertname": "Down", "service": "api", "status": "firing", "severity": "critical"}
    state = run.feed(event("ops.alert", T0, id="a1", **alert)).state
    state.windows["pairs"] = WindowSlot(((1, 2.0), (3, 4.0)))
    data = json.loads(encode_snapshot(state))
    assert len(data["timers"]) >= 2
    assert data["timers"] == sorted(data["timers"])
    data["timers"].reverse()
    restored = restore(data)
    assert restored.timers == state.timers
    assert restored.windows == state.windows
    assert encode_snapshot(restored) == encode_snapshot(state)
