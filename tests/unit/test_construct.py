"""The engine's model constructor and shallow copy make exactly what pydantic's own make:
the same field values in the same order, the same fields-set, extras and private state; the
compact models the state keeps differ only in counting every field as set, and in size."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from orchestrator.drills.replay import file_line
from orchestrator.engine.construct import Constructor, SharedDicts, compact, shallow_copy
from orchestrator.engine.state import compact_incident
from schemas.deadletter import Origin
from schemas.incidents import Incident, IncidentEvent, IncidentStatus, Severity, TimelineEntry
from schemas.tasks import Task, TaskEvent, TaskStatus

TASK = Task(
    id="inc-1.triage",
    incident_id="inc-1",
    name="triage",
    role="ops",
    title="T",
    phase="assess",
    status=TaskStatus.ASSIGNED,
    attached_at="2026-11-20T10:00:00Z",
    depends_on=["a"],
)
SAMPLES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (
        TimelineEntry,
        {
            "at": "2026-11-20T10:00:00Z",
            "kind": "event",
            "actor": None,
            "ref": "s/e1",
            "detail": {"type": "ops.alert"},
        },
    ),
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
    (
        TaskEvent,
        {
            "id": "inc-1.triage:assigned",
            "kind": "task.assigned",
            "role": "ops",
            "time": "2026-11-20T10:00:00Z",
            "incident_id": "inc-1",
            "playbook": "tech_outage",
            "severity": "high",
            "task": TASK,
            "escalation": 0,
            "drill": False,
            "note": None,
            "notified": None,
        },
    ),
]


def _state(model: BaseModel) -> tuple[Any, ...]:
    return (
        type(model),
        list(model.__dict__.items()),
        model.model_fields_set,
        model.__pydantic_extra__,
        model.__pydantic_private__,
        model.model_dump_json(),
    )


@pytest.mark.parametrize(("cls", "values"), SAMPLES)
def test_constructor_matches_model_construct(cls: type[BaseModel], values: dict[str, Any]) -> None:
    """Given every field, in declaration order, the result equals model_construct's."""
    assert list(values) == list(cls.model_fields)
    built = Constructor(cls)(dict(values))
    assert _state(built) == _state(cls.model_construct(**values))


def test_constructor_with_a_missing_field_defers_to_model_construct() -> None:
    """Defaults are pydantic's business: a missing field takes model_construct's path."""
    values = {"at": "2026-11-20T10:00:00Z", "kind": "event"}
    assert _state(Constructor(TimelineEntry)(dict(values))) == _state(
        TimelineEntry.model_construct(**values)
    )


def test_models_with_extras_are_refused() -> None:
    """A model that keeps extra fields is not for this constructor."""

    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int = 0

    with pytest.raises(TypeError):
        Constructor(Open)


def test_shallow_copy_matches_model_copy() -> None:
    """A copy shares nested values, as model_copy() does, and is equal to it in every part."""
    copied = shallow_copy(TASK)
    assert _state(copied) == _state(TASK.model_copy())
    assert copied is not TASK
    assert copied.depends_on is TASK.depends_on
    copied.status = TaskStatus.DONE
    assert TASK.status == TaskStatus.ASSIGNED


def test_a_file_line_origin_is_the_validated_one() -> None:
    """The replay's per-line Origin equals Origin(kind=..., name=..., offset=...)."""
    assert _state(file_line("log.jsonl", 7)) == _state(
        Origin(kind="file", name="log.jsonl", offset=7)
    )


def test_a_shared_fields_set_never_shows() -> None:
    """Entries built with all fields share their fields-set; assigning to one, copying one with
    an update, or deep-copying one leaves every other entry's fields-set as it was."""
    build = Constructor(TimelineEntry)
    values = dict(SAMPLES[0][1])
    first, second = build(dict(values)), build(dict(values))
    expected = set(TimelineEntry.model_fields)
    first.ref = "changed"
    updated = second.model_copy(update={"kind": "note"})
    deep = second.model_copy(deep=True)
    for entry in (first, second, updated, deep):
        assert entry.model_fields_set == expected
    assert first.ref == "changed"
    assert second.ref == values["ref"]


def test_a_compact_model_is_the_same_model() -> None:
    """compact() keeps the type, the values in order, equality and the dump; every field counts
    as set, in one set shared by every compact task, which assignment leaves alone."""
    built, other = compact(TASK), compact(TASK)
    assert built is not TASK
    assert list(built.__dict__.items()) == list(TASK.__dict__.items())
    assert built == TASK
    assert built.model_dump_json() == TASK.model_dump_json()
    assert built.model_fields_set == set(Task.model_fields)
    assert built.__pydantic_fields_set__ is other.__pydantic_fields_set__
    built.status = TaskStatus.DONE
    assert (built.status, other.status, TASK.status) == (TaskStatus.DONE,) + (
        TaskStatus.ASSIGNED,
    ) * 2
    assert other.model_fields_set == set(Task.model_fields)
    copied = shallow_copy(other)
    assert _state(copied) == _state(other.model_copy())
    assert copied.__pydantic_fields_set__ is other.__pydantic_fields_set__


def test_the_compact_constructor_matches_the_plain_one() -> None:
    """A timeline entry built compact has the plain constructor's values, dump and fields-set."""
    values = SAMPLES[0][1]
    assert _state(Constructor(TimelineEntry, compact=True)(dict(values))) == _state(
        Constructor(TimelineEntry)(dict(values))
    )


def _traced(make: Callable[[], object], count: int = 200) -> int:
    tracemalloc.start()
    try:
        kept = [make() for _ in range(count)]
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(kept) == count
    return size


def test_a_compact_task_takes_less_than_half_the_memory() -> None:
    """The point of compact(): no dict and no fields-set of its own per task."""
    validated = _traced(lambda: Task.model_validate(TASK.model_dump()))
    compacted = _traced(lambda: compact(TASK))
    assert compacted < validated / 2


def test_a_restored_incident_is_compact_all_the_way_down() -> None:
    """compact_incident() rebuilds the incident, its tasks and its timeline entries."""
    data = {
        "id": "inc-1",
        "playbook": "tech_outage",
        "playbook_version": "1",
        "key": "api",
        "mode": "active",
        "severity": "high",
        "likelihood": "likely",
        "impact": "major",
        "trigger": "t",
        "opened_at": "2026-11-20T10:00:00Z",
        "opened_by": "s/e1",
        "last_event_at": "2026-11-20T10:00:00Z",
        "tasks": [TASK.model_dump(mode="json")],
        "timeline": [SAMPLES[0][1]],
    }
    validated = Incident.model_validate(data)
    dump = validated.model_dump_json()
    restored = compact_incident(validated)
    assert restored.model_dump_json() == dump
    for model in (restored, *restored.tasks, *restored.timeline):
        assert model.__pydantic_fields_set__ is compact(model).__pydantic_fields_set__
    again = compact_incident(Incident.model_validate(data))
    assert again.timeline[0].detail is restored.timeline[0].detail


def test_shared_dicts_hand_out_one_dict_for_equal_scalar_dicts() -> None:
    """Equal dicts of scalars come back as the first one; 1, True and 1.0 (or a str and an
    equal StrEnum member) are not equal here, since they dump differently."""
    share = SharedDicts()
    first = share({"task": "triage", "role": "ops"})
    assert share({"task": "triage", "role": "ops"}) is first
    one = share({"n": 1})
    assert share({"n": True}) is not one
    assert share({"n": 1.0}) is not one
    assert share({"severity": Severity.HIGH}) is not share({"severity": "high"})
    nested = {"list": [1]}
    assert share(nested) is nested
    assert share({"list": [1]}) is not nested


def test_shared_dicts_start_over_when_full() -> None:
    """Past its limit it forgets what it knew, and still hands back equal dicts."""
    share = SharedDicts(limit=2)
    first = share({"a": 1})
    share({"b": 2})
    share({"c": 3})
    again = share({"a": 1})
    assert again == first
    assert again is not first
    assert len(share.known) <= 2
