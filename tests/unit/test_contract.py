"""The engine's records and the one conversion to the contract models: the conversion is exact
both ways, follows the contract's fields by name, and `build` makes what pydantic makes; the
records are immutable and invisible to the cyclic garbage collector."""

from __future__ import annotations

import gc
from typing import Any

import msgspec
import pytest
from pydantic import BaseModel, ConfigDict

from benchmarks.data import mixed_lines
from orchestrator.drills.replay import numbered, replay_lines
from orchestrator.engine import IncidentRecord, build, contract, record_of
from orchestrator.engine.contract import _kind, planned_values
from orchestrator.engine.records import (
    TASK_REF,
    VerdictRecord,
    entry_record,
    find_task,
    task_record,
    with_task,
)
from orchestrator.engine.step import Engine
from orchestrator.playbook import load_directory
from orchestrator.settings import shipped_playbooks
from orchestrator.testing import Drill, event
from schemas import (
    CommandResult,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Severity,
    Task,
    TaskStatus,
    TimelineEntry,
)

AT = 1_795_600_800_000  # 2026-11-25T10:00:00Z
TASK = task_record(
    id="inc-1.triage",
    incident_id="inc-1",
    name="triage",
    role="ops",
    title="Triage",
    phase="assess",
    status=TaskStatus.ASSIGNED,
    depends_on=("a", "b"),
    attached_at=AT,
    assigned_at=AT + 1,
    ack_due_at=AT + 300_000,
)
INCIDENT = IncidentRecord(
    id="inc-1",
    playbook="tech_outage",
    playbook_version="1",
    key="api",
    mode="active",
    severity=Severity.HIGH,
    likelihood="likely",
    impact="major",
    trigger="critical_alert",
    opened_at=AT,
    opened_by="mon/e1",
    last_event_at=AT + 5,
    events_total=2,
    events_by_type=(("ops.alert", 2),),
    open_signals=("HighErrors",),
    tasks=(TASK,),
    timeline=(
        entry_record(at=AT, kind="event", ref="mon/e1", detail=(("type", "ops.alert"),)),
        entry_record(at=AT + 5, kind="task.assigned", detail=(("task", "triage"), ("n", 1))),
    ),
)


def test_a_record_converts_to_its_contract_model_field_by_field() -> None:
    """Times become RFC 3339 text, tuples lists, pairs dicts, nested records models; the
    result is the model pydantic validates from the same values."""
    made = contract(INCIDENT)
    assert isinstance(made, Incident)
    assert made.opened_at == "2026-11-25T10:00:00Z"
    assert made.last_event_at == "2026-11-25T10:00:00.005Z"
    assert made.resolved_at is None
    assert made.events_by_type == {"ops.alert": 2}
    assert made.open_signals == ["HighErrors"]
    assert made.tasks[0].depends_on == ["a", "b"]
    assert made.tasks[0].due_at == "2026-11-25T10:05:00Z"
    assert made.timeline[1].detail == {"task": "triage", "n": 1}
    again = Incident.model_validate_json(made.model_dump_json())
    assert again == made
    assert again.model_dump_json() == made.model_dump_json()


def test_record_of_is_the_inverse_of_contract() -> None:
    """contract -> record_of gives back an equal record, for every kind of record."""
    verdict = VerdictRecord(command_id="c1", accepted=False, reason="no", task_id="t")
    for record in (INCIDENT, TASK, INCIDENT.timeline[0], verdict):
        assert record_of(contract(record)) == record
    assert isinstance(contract(verdict), CommandResult)
    assert isinstance(contract(INCIDENT.timeline[0]), TimelineEntry)
    assert isinstance(contract(TASK), Task)


def test_field_kinds_follow_names_and_types() -> None:
    """`at` and `*_at` are times; tuples of records, of pairs and of scalars convert apart."""
    fields = msgspec.structs.fields(IncidentRecord)
    kinds = {f.name: _kind(f.name, f.type) for f in fields}
    assert kinds["opened_at"] == kinds["resolved_at"] == "time"
    assert kinds["tasks"] == kinds["timeline"] == "records"
    assert kinds["events_by_type"] == "pairs"
    assert kinds["open_signals"] == "tuple"
    assert kinds["severity"] == kinds["events_total"] == "plain"


def test_records_are_frozen_and_untracked_by_the_cyclic_collector() -> None:
    """A record cannot be changed in place, and the collector never scans it."""
    with pytest.raises(AttributeError):
        INCIDENT.severity = Severity.LOW  # type: ignore[misc]
    assert not gc.is_tracked(INCIDENT)
    assert not gc.is_tracked(TASK)


def test_with_task_replaces_the_task_of_the_same_name_and_leaves_the_old_incident_alone() -> None:
    """The old incident still holds the old task: readers of it see it whole."""
    done = msgspec.structs.replace(TASK, status=TaskStatus.DONE)
    changed = with_task(INCIDENT, done)
    assert find_task(changed, "triage") == done
    assert find_task(INCIDENT, "triage") == TASK
    assert changed.timeline is INCIDENT.timeline


class _Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: int
    b: str = "x"
    c: list[int] = []


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (_Sample, {"a": 1, "b": "y", "c": [1]}),
        (
            IncidentEvent,
            {
                "id": "inc-1:opened",
                "kind": "incident.opened",
                "time": "2026-11-20T10:00:00Z",
                "incident_id": "inc-1",
                "playbook": "tech_outage",
                "key": "api",
                "severity": Severity.HIGH,
                "status": IncidentStatus.OPEN,
                "mode": "active",
                "ref": None,
                "detail": {"trigger": "t"},
            },
        ),
    ],
)
def test_build_makes_what_model_construct_makes(
    model: type[BaseModel], values: dict[str, Any]
) -> None:
    """Same values, same fields-set, same JSON; with a fields-set given, that one."""
    built, constructed = build(model, dict(values)), model.model_construct(**values)
    assert built == constructed
    assert built.model_fields_set == constructed.model_fields_set
    assert built.model_dump_json() == constructed.model_dump_json()
    some = frozenset(list(values)[:1])
    assert build(model, dict(values), some).model_fields_set == set(some)


def test_a_drill_hands_out_contract_models_made_from_the_records() -> None:
    """What the engine keeps (records) and what a reader gets (contract models) agree."""
    run = Drill.of(load_directory(shipped_playbooks()))
    run.feed(
        {
            "id": "e1",
            "source": "mon",
            "type": "ops.alert",
            "time": "2026-11-20T10:00:00Z",
            "data": {
                "alertname": "Down",
                "service": "api",
                "status": "firing",
                "severity": "critical",
            },
        }
    )
    (kept,) = run.state.incidents.values()
    (shown,) = run.incidents()
    assert shown == contract(kept)
    assert shown.opened_at == "2026-11-20T10:00:00Z"
    assert [t.status for t in shown.tasks] == [t.status for t in kept.tasks]


def test_timeline_refs_to_tasks_are_written_out_and_read_back() -> None:
    """An entry about a task of its incident holds TASK_REF; its contract model has the
    task's id; reading the model back gives the same record (and the same task records,
    their definition shared)."""
    run = Drill.of(load_directory(shipped_playbooks()))
    alert = {"alertname": "Down", "service": "api", "status": "firing", "severity": "critical"}
    run.feed(event("ops.alert", "2026-11-20T10:00:00Z", id="e1", **alert))
    (kept,) = run.state.incidents.values()
    about_tasks = [e for e in kept.timeline if e.kind.startswith("task.")]
    assert about_tasks
    assert all(e.ref == TASK_REF for e in about_tasks)
    shown = contract(kept)
    task_ids = {t.id for t in kept.tasks}
    assert {e.ref for e in shown.timeline if e.kind.startswith("task.")} <= task_ids
    again = record_of(shown)
    assert again == kept
    assert all(a.spec is b.spec for a, b in zip(again.tasks, kept.tasks, strict=True))


def test_generated_conversion_gives_the_plans_values_in_order() -> None:
    """`contract` (one generated function per record class) gives, for every record of a
    replay of the mixed log and the records above, the values the plan gives field by field:
    the same keys in the same order, equal values of the same types."""
    engine = Engine(load_directory(shipped_playbooks()))
    result = replay_lines(engine, numbered(mixed_lines(3000, 40, seed=3)))
    records: list[Any] = [INCIDENT, TASK, *INCIDENT.timeline]
    for incident in result.state.incidents.values():
        records += [incident, *incident.tasks, *incident.timeline]
    records.append(VerdictRecord(command_id="c1", accepted=True, task_id="t", incident_id="i"))
    assert len(records) > 1000
    for record in records:
        made, planned = contract(record).__dict__, planned_values(record)
        assert list(made) == list(planned)
        assert made == planned
        assert [type(v) for v in made.values()] == [type(v) for v in planned.values()]
