"""The engine's own records of incidents, tasks, timeline entries and command verdicts.

Compact and immutable: msgspec Structs, frozen, kept out of the cyclic garbage collector
(`gc=False`: they hold only strings, numbers, enum members, tuples and other such records, so
they can never be part of a reference cycle). A change makes a new record (`replace`) and puts
it in the state, so whatever holds an old one (a reader, a snapshot being encoded) sees it
whole and unchanged, and the state knows which incidents a step changed.

Each record has the fields of its contract model in schemas/ (same names, same order; a task
holds its playbook definition's fields in one record shared by every incident, and what it
gains when acted on in another, None until then: it reads them through properties of the same
names), with two differences of representation, undone by `contract.contract`:
- times (`at` and every `*_at` field) are event-time Millis (ints), never RFC 3339 text;
- lists are tuples, and dicts (`events_by_type`, a timeline entry's `detail`) are tuples of
  (name, value) pairs in insertion order.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from orchestrator.engine.ids import SEP, task_id
from schemas import IncidentStatus, Phase, Severity, TaskStatus

replace = msgspec.structs.replace
Pairs = tuple[tuple[str, Any], ...]
"""A dict as a tuple of (name, value) pairs, in insertion order."""
K = TypeVar("K")
V = TypeVar("V")
_SHARED_MAX = 4096
"""Entries a table of shared values holds before it starts over."""


def _shared_in(table: dict[K, V], key: K, value: V) -> V:
    """The value `table` holds for `key`, `value` when it holds none yet (an equal value kept
    once instead of once per incident); the table starts over when full. Sharing changes no
    value, only how many copies of it exist."""
    if len(table) >= _SHARED_MAX:
        table.clear()
    return table.setdefault(key, value)


class Record(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Base of the engine's records: frozen, untracked by the cyclic collector."""


class TaskSpec(Record, frozen=True, gc=False, kw_only=True):
    """What a task has from its playbook's definition: one record per definition, shared by
    every incident's instance of it (`shared_spec`)."""

    name: str
    role: str
    title: str
    instructions: str = ""
    phase: str
    automatic: bool = False
    depends_on: tuple[str, ...] = ()
    join: str = "all"


class TaskProgress(Record, frozen=True, gc=False, kw_only=True):
    """What a task gains once it is acted on (acknowledged, started, finished, escalated,
    overdue); a task nobody acted on holds None instead."""

    acknowledged_at: int | None = None
    acknowledged_by: str | None = None
    started_at: int | None = None
    finished_at: int | None = None
    finished_by: str | None = None
    outcome: str | None = None
    escalations: int = 0
    overdue: bool = False


NO_PROGRESS = TaskProgress()
SPEC_FIELDS = frozenset(TaskSpec.__struct_fields__)
PROGRESS_FIELDS = frozenset(TaskProgress.__struct_fields__)


class TaskRecord(Record, frozen=True, gc=False, kw_only=True):
    """A task (schemas.Task) as the engine keeps it: its id, its definition (shared), where it
    stands and its deadlines, and its progress (None until it is acted on). The contract's
    other fields are properties of the same names; `task_record` makes one from them all,
    `changed_task` changes any of them but the definition's."""

    incident_id: str
    spec: TaskSpec
    status: TaskStatus = TaskStatus.PENDING
    attached_at: int
    assigned_at: int | None = None
    ack_due_at: int | None = None
    complete_due_at: int | None = None
    progress: TaskProgress | None = None

    @property
    def id(self) -> str:
        """The task's id: its incident's and its name (ids.task_id; made when asked for, so
        no incident keeps a string per task)."""
        return task_id(self.incident_id, self.spec.name)

    @property
    def name(self) -> str:
        """The task's name in its playbook."""
        return self.spec.name

    @property
    def role(self) -> str:
        """The role it is assigned to."""
        return self.spec.role

    @property
    def title(self) -> str:
        """What to do, in a line."""
        return self.spec.title

    @property
    def instructions(self) -> str:
        """How to do it."""
        return self.spec.instructions

    @property
    def phase(self) -> str:
        """The incident phase it belongs to."""
        return self.spec.phase

    @property
    def automatic(self) -> bool:
        """Whether an automation, not a person, does it."""
        return self.spec.automatic

    @property
    def depends_on(self) -> tuple[str, ...]:
        """The tasks it waits for."""
        return self.spec.depends_on

    @property
    def join(self) -> str:
        """Whether it waits for "all" or "any" of `depends_on`."""
        return self.spec.join

    @property
    def acknowledged_at(self) -> int | None:
        """When it was acknowledged."""
        return (self.progress or NO_PROGRESS).acknowledged_at

    @property
    def acknowledged_by(self) -> str | None:
        """Who acknowledged it."""
        return (self.progress or NO_PROGRESS).acknowledged_by

    @property
    def started_at(self) -> int | None:
        """When work on it started."""
        return (self.progress or NO_PROGRESS).started_at

    @property
    def finished_at(self) -> int | None:
        """When it finished (done, failed or cancelled)."""
        return (self.progress or NO_PROGRESS).finished_at

    @property
    def finished_by(self) -> str | None:
        """Who finished it."""
        return (self.progress or NO_PROGRESS).finished_by

    @property
    def outcome(self) -> str | None:
        """Completion notes or the reason it failed or was cancelled."""
        return (self.progress or NO_PROGRESS).outcome

    @property
    def escalations(self) -> int:
        """How often it was escalated."""
        return (self.progress or NO_PROGRESS).escalations

    @property
    def overdue(self) -> bool:
        """Whether its completion deadline passed before it finished."""
        return (self.progress or NO_PROGRESS).overdue


_specs: dict[TaskSpec, TaskSpec] = {}


def shared_spec(spec: TaskSpec) -> TaskSpec:
    """One record for equal task definitions (every incident of a playbook holds the same)."""
    return _shared_in(_specs, spec, spec)


def _progress(progress: TaskProgress) -> TaskProgress | None:
    return None if progress == NO_PROGRESS else progress


def task_record(**fields: Any) -> TaskRecord:
    """A task from the contract's fields (`id`, if given, is made of two of them)."""
    fields.pop("id", None)
    spec = {name: fields.pop(name) for name in SPEC_FIELDS if name in fields}
    progress = {name: fields.pop(name) for name in PROGRESS_FIELDS if name in fields}
    return TaskRecord(
        spec=shared_spec(TaskSpec(**spec)), progress=_progress(TaskProgress(**progress)), **fields
    )


def shared_task(task: TaskRecord) -> TaskRecord:
    """`task` (decoded from a snapshot) with its definition shared and no empty progress."""
    progress = task.progress
    return replace(
        task,
        spec=shared_spec(task.spec),
        progress=None if progress is None else _progress(progress),
    )


def changed_task(task: TaskRecord, **changes: Any) -> TaskRecord:
    """`task` with `changes` (any field of the contract's but the definition's and the ids)."""
    progress = {name: changes.pop(name) for name in PROGRESS_FIELDS & changes.keys()}
    if progress:
        changes["progress"] = _progress(replace(task.progress or NO_PROGRESS, **progress))
    return replace(task, **changes)


class EntryShape(Record, frozen=True, gc=False, kw_only=True):
    """What a timeline entry says besides when and about what: one record for equal ones."""

    kind: str
    actor: str | None = None
    detail: Pairs = ()


class EntryRecord(Record, frozen=True, gc=False, kw_only=True):
    """A timeline entry (schemas.TimelineEntry) as the engine keeps it: its time, its ref and
    its shape (shared); `kind`, `actor` and `detail` read through properties."""

    at: int
    ref: str | None = None
    shape: EntryShape

    @property
    def kind(self) -> str:
        """What happened."""
        return self.shape.kind

    @property
    def actor(self) -> str | None:
        """Who did it, if someone did."""
        return self.shape.actor

    @property
    def detail(self) -> Pairs:
        """The rest, as (name, value) pairs."""
        return self.shape.detail


_shapes: dict[tuple[str, str | None, int], EntryShape] = {}


def shared_shape(shape: EntryShape) -> EntryShape:
    """One record for shapes of the same kind, actor and detail tuple (the detail tuples are
    shared already, `shared_pairs`, keeping 1, True and 1.0 apart: the same tuple, the same
    values; the table holds the shape, and so the tuple whose id it is keyed by)."""
    return _shared_in(_shapes, (shape.kind, shape.actor, id(shape.detail)), shape)


def entry_record(
    *, at: int, kind: str, actor: str | None = None, ref: str | None = None, detail: Pairs = ()
) -> EntryRecord:
    """A timeline entry from the contract's fields, its shape shared."""
    shape = EntryShape(kind=kind, actor=actor, detail=shared_pairs(detail))
    return EntryRecord(at=at, ref=ref, shape=shared_shape(shape))


def shared_entry(entry: EntryRecord) -> EntryRecord:
    """`entry` (decoded from a snapshot) with its shape shared."""
    shape = entry.shape
    return entry_record(
        at=entry.at, ref=entry.ref, kind=shape.kind, actor=shape.actor, detail=shape.detail
    )


TASK_REF = SEP + "task"
"""The `ref` of an entry about a task of the incident's own (kinds "task.*") stands for that
task's id (the incident's id, ".", the entry's `task` detail), which the contract conversion
writes out (`entry_ref`): no entry keeps a string per task."""


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
    open_signals_untracked: int = 0
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


def entry_ref(incident_id: str, entry: EntryRecord) -> str | None:
    """The ref an entry of the timeline of incident `incident_id` stands for."""
    ref = entry.ref
    if ref == TASK_REF and entry.kind.startswith("task."):
        return task_id(incident_id, dict(entry.detail)["task"])
    return ref


def with_task_refs(incident: IncidentRecord) -> IncidentRecord:
    """`incident` with TASK_REF for each ref that names the task of its entry (as the engine
    writes them): an incident read back from its contract model or an older snapshot."""
    timeline = tuple(_task_ref(incident.id, entry) for entry in incident.timeline)
    if all(new is old for new, old in zip(timeline, incident.timeline, strict=True)):
        return incident
    return replace(incident, timeline=timeline)


def _task_ref(incident_id: str, entry: EntryRecord) -> EntryRecord:
    if entry.ref is None or not entry.kind.startswith("task."):
        return entry
    name = dict(entry.detail).get("task")
    if not isinstance(name, str) or entry.ref != task_id(incident_id, name):
        return entry
    return replace(entry, ref=TASK_REF)


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
    if not pairs:  # an incident's first event: one tuple per event type, not one per incident
        return _shared_in(_firsts, name, ((name, 1),))
    return (*pairs, (name, 1))


_firsts: dict[str, tuple[tuple[str, int], ...]] = {}


_shared: dict[tuple[Any, ...], Pairs] = {}


def shared_pairs(pairs: Pairs) -> Pairs:
    """One tuple for equal pairs of scalars (timeline details repeat a lot: `task`, `role`):
    equal means same names, values of the same type and equal value (1, True and 1.0 apart)."""
    key = (pairs, tuple(type(value) for _name, value in pairs))
    try:
        return _shared_in(_shared, key, pairs)
    except TypeError:  # an unhashable value: kept as it is
        return pairs
