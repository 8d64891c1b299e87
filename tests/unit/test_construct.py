"""The engine's model constructor and shallow copy make exactly what pydantic's own make:
the same field values in the same order, the same fields-set, extras and private state."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from orchestrator.core.construct import Constructor, shallow_copy
from orchestrator.drill import file_line
from schemas.deadletter import Origin
from schemas.incidents import IncidentEvent, IncidentStatus, Severity, TimelineEntry
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
