"""The engine's own records of incidents, tasks, timeline entries and command verdicts.

Compact and immutable: msgspec Structs, frozen, kept out of the cyclic garbage collector
(`gc=False`: they hold only strings, numbers, enum members, tuples and other such records, so
they can never be part of a reference cycle). A change makes a new record (`replace`) and puts
it in the state, so whatever holds an old one (a reader, a snapshot being encoded) sees it
whole and unchanged, and the state knows which incidents a step changed.

Each record has the fields of its contract model in schemas/ (same names, same order), with
two differences of representation, undone by `contract.contract`:
- times (`at` and every `*_at` field) are event-time Millis (ints), never RFC 3339 text;
- lists are tuples, and dicts (`events_by_type`, a timeline entry's `detail`) are tuples of
  (name, value) pairs in insertion order.
"""

from __future__ import annotations

from typing import Any

import msgspec

from schemas import IncidentStatus, Phase, Severity, TaskStatus

replace = msgspec.structs.replace
Pairs = tuple[tuple[str, Any], ...]
"""A dict as a tuple of (name, value) pairs, in insertion order."""


class Record(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Base of the engine's records: frozen, untracked by the cyclic collector."""


class TaskRecord(Record, frozen=True, gc=False, kw_only=True):
    """A task (schemas.Task) as the engine keeps it."""

    id: str
    incident_id: str
    name: str
    role: str
    title: str
    instructions: str = ""
    phase: str
    status: TaskStatus = TaskStatus.PENDING
    automatic: bool = False
    depends_on: tuple[str, ...] = ()
    join: str = "all"
    attached_at: int
    assigned_at: int | None = None
    ack_due_at: int | None = None
    complete_due_at: int | None = None
    acknowledged_at: int | None = None
    acknowledged_by: str | None = None
    started_at: int | None = None
    finished_at: int | None = None
    finished_by: str | None = None
    outcome: str | None = None
    escalations: int = 0
    overdue: bool = False


class EntryRecord(Record, frozen=True, gc=False, kw_only=True):
    """A timeline entry (schemas.TimelineEntry) as the engine keeps it."""

    at: int
    kind: str
    actor: str | None = None
    ref: str | None = None
    detail: Pairs = ()


class IncidentRecord(Record, frozen=True, gc=False, kw_only=True):
    """An incident (schemas.Incident) as the engine keeps it, with its tasks and timeline."""

    id: str
    playbook: str
    playbook_version: str
    key: str
    mode: str
    drill: bool = False
    status: IncidentStatus = IncidentStatus.OPEN
    phase: Phase = Phase.ASSESS
    severity: Severity
    likelihood: str
    impact: str
    trigger: str
    opened_at: int
    opened_by: str
    resolved_at: int | None = None
    closed_at: int | None = None
    last_event_at: int
    events_total: int = 0
    events_by_type: tuple[tuple[str, int], ...] = ()
    open_signals: tuple[str, ...] = ()
    tasks: tuple[TaskRecord, ...] = ()
    timeline: tuple[EntryRecord, ...] = ()
    timeline_events_dropped: int = 0
    details: tuple[tuple[str, Any], ...] = ()
    flap_count: int = 0


class VerdictRecord(Record, frozen=True, gc=False, kw_only=True):
    """A command's verdict (schemas.CommandResult) as the engine keeps it."""

    command_id: str
    accepted: bool
    reason: str | None = None
    task_id: str | None = None
    incident_id: str | None = None


def find_task(incident: IncidentRecord, name: str) -> TaskRecord | None:
    """The incident's task named `name`, if attached."""
    for task in incident.tasks:
        if task.name == name:
            return task
    return None


def with_task(incident: IncidentRecord, task: TaskRecord) -> IncidentRecord:
    """The incident with `task` in place of its task of the same name (or added last)."""
    tasks = incident.tasks
    for index, old in enumerate(tasks):
        if old.name == task.name:
            return replace(incident, tasks=(*tasks[:index], task, *tasks[index + 1 :]))
    return replace(incident, tasks=(*tasks, task))


def counted(pairs: tuple[tuple[str, int], ...], name: str) -> tuple[tuple[str, int], ...]:
    """`pairs` (a dict of counts) with the count of `name` one higher (added last if new)."""
    for index, (known, count) in enumerate(pairs):
        if known == name:
            return (*pairs[:index], (name, count + 1), *pairs[index + 1 :])
    return (*pairs, (name, 1))


_SHARED_MAX = 4096
_shared: dict[tuple[Any, ...], Pairs] = {}


def shared_pairs(pairs: Pairs) -> Pairs:
    """One tuple for equal pairs of scalars (timeline details repeat a lot: `task`, `role`):
    equal means same names, values of the same type and equal value (1, True and 1.0 apart)."""
    key = (pairs, tuple(type(value) for _name, value in pairs))
    try:
        return _shared.setdefault(key, pairs)
    except TypeError:  # an unhashable value: kept as it is
        return pairs
    finally:
        if len(_shared) > _SHARED_MAX:
            _shared.clear()
