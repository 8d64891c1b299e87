"""The engine's state: everything it remembers between inputs, as plain serializable data."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from orchestrator.engine.clock import Millis
from orchestrator.engine.contract import record_of
from orchestrator.engine.dedupe import SeenIndex
from orchestrator.engine.ids import SEP, split_shard, split_task_id
from orchestrator.engine.records import (
    PROGRESS_FIELDS,
    SPEC_FIELDS,
    IncidentRecord,
    VerdictRecord,
    find_task,
    replace,
    shared_entry,
    shared_task,
    with_task_refs,
)
from orchestrator.engine.sweeps import WindowSchedule
from orchestrator.engine.timerqueue import TimerEntry, TimerQueue
from orchestrator.engine.windows import WindowSlot
from schemas import CommandResult, Incident

DEDUPE_KEY_CHARS = 96
"""The longest dedupe key kept as written; longer ones are kept as their SHA-256 digest, so
dedupe memory is bounded in bytes (at most `dedupe_max_entries` keys of at most this many
characters), not by what senders put in their ids."""


def dedupe_key_of(source: str, event_id: str) -> str:
    """The dedupe key of (source, id): "source SEP id", or "#" + its digest when long."""
    key = source + SEP + event_id
    if len(key) <= DEDUPE_KEY_CHARS:
        return key
    return "#" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class TaskIndex(Mapping[str, str]):
    """Task id -> incident id, read from the incidents themselves (a task id is "<incident
    id>.<task name>", ids.task_id): no entry per task to keep, nothing to keep in step."""

    __slots__ = ("_incidents",)

    def __init__(self, incidents: dict[str, IncidentRecord]) -> None:
        self._incidents = incidents

    def __getitem__(self, task_id: str) -> str:
        incident_id, name = split_task_id(task_id)
        incident = self._incidents.get(incident_id)
        if incident is None or find_task(incident, name) is None:
            raise KeyError(task_id)
        return incident_id

    def __iter__(self) -> Iterator[str]:
        return (task.id for incident in self._incidents.values() for task in incident.tasks)

    def __len__(self) -> int:
        return sum(len(incident.tasks) for incident in self._incidents.values())


@dataclass
class Counters:
    """Input accounting: read = accepted + rejected + duplicates, always."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    late: int = 0
    commands: int = 0
    commands_rejected: int = 0


@dataclass
class EngineState:
    """All the engine knows. The reducer updates the state it is given and returns it; its
    incidents and verdicts are immutable records, replaced (`put`) rather than changed."""

    clock: Millis = 0
    watermark: Millis = 0
    counters: Counters = field(default_factory=Counters)
    seen: dict[str, Millis] = field(default_factory=dict)
    """Dedupe keys ("source SEP id") and their event times, oldest insertion first (a plain
    dict of strings and ints: never tracked by the cyclic collector; `seen_index` finds the
    oldest)."""
    windows: dict[str, WindowSlot] = field(default_factory=dict)
    """Window states by name, immutable and untracked by the collector (replaced on change)."""
    incidents: dict[str, IncidentRecord] = field(default_factory=dict)
    open_index: dict[str, dict[str, str]] = field(default_factory=dict)
    """The open incident's id per playbook and correlation key (`mark_open`): the key strings
    are the incidents' own, no "playbook SEP key" string per incident."""
    timers: TimerQueue = field(default_factory=TimerQueue)
    """Pending timers, earliest first (mostly in runs the collector never walks)."""
    quiet_due: dict[str, Millis] = field(default_factory=dict)
    signals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Open signals (e.g. firing alerts) per "playbook SEP key" while no incident is open."""
    signals_untracked: dict[str, int] = field(default_factory=dict)
    """How many signals beyond those listed in `signals` are open, where some are."""
    resolved_index: dict[str, str] = field(default_factory=dict)
    """The incident that last resolved per "playbook SEP key" (flaps.py may reopen it)."""
    held: dict[str, list[list[Any]]] = field(default_factory=dict)
    """Events that would have joined per "playbook SEP key" while no incident was open, as
    [event time, ref, type, severity rule indexes] (gather.py)."""
    commands: dict[str, VerdictRecord] = field(default_factory=dict)
    sequence: int = 0
    last_sweep: Millis = 0
    seen_index: SeenIndex = field(default_factory=SeenIndex, repr=False, compare=False)
    """Derived from `seen` (never snapshotted): lets a sweep visit only expired hours."""
    window_schedule: WindowSchedule = field(
        default_factory=WindowSchedule, repr=False, compare=False
    )
    """Derived (never snapshotted): the windows a sweep must look at."""
    changed: dict[str, IncidentRecord | None] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Never snapshotted: the incidents the current step added, replaced or dropped (cleared
    when a step begins), each with its record from before the step (None if it is new), so a
    store rewrites only those that differ."""

    def __post_init__(self) -> None:
        self.seen_index.rebuild(self.seen)
        self.window_schedule.reset(self.windows)

    @property
    def task_index(self) -> TaskIndex:
        """Task id -> incident id, for every task of the incidents in memory."""
        return TaskIndex(self.incidents)

    def remember(self, key: str, at: Millis) -> None:
        """Store a dedupe key with its event time."""
        self.seen[key] = at
        self.seen_index.add(key, at)

    def forget_first_seen(self) -> None:
        """Forget the dedupe key stored longest ago (when there are too many)."""
        self.seen_index.forget_oldest(self.seen)

    def forget_seen_before(self, cutoff: Millis) -> None:
        """Forget every dedupe key whose event time is before `cutoff`."""
        self.seen_index.expire(self.seen, cutoff)

    def push_timer(
        self, due: Millis, kind: str, incident_id: str, task: str = "", level: int = 0
    ) -> None:
        """Schedule a timer; equal due times fire in the order they were scheduled."""
        self.sequence += 1
        self.timers.push((due, self.sequence, kind, incident_id, task, level))

    def timers_due(self, at: Millis) -> bool:
        """Whether a timer is due at or before `at`."""
        return self.timers.due(at)

    def put(self, incident: IncidentRecord) -> IncidentRecord:
        """Keep `incident` (new, or in place of the one with its id); returns it."""
        incident_id = incident.id
        if incident_id not in self.changed:
            self.changed[incident_id] = self.incidents.get(incident_id)
        self.incidents[incident_id] = incident
        return incident

    def drop(self, incident_id: str) -> None:
        """Forget an incident (retention)."""
        before = self.incidents.pop(incident_id)
        self.changed.setdefault(incident_id, before)

    def changed_incidents(self) -> list[str]:
        """The ids of the incidents the last step changed (added, replaced by a different
        record, or dropped), sorted."""
        changed = self.changed
        return sorted(i for i, old in changed.items() if self.incidents.get(i) != old)

    def open_incident(self, playbook: str, key: str) -> IncidentRecord | None:
        """The open incident of `playbook` for `key`, if any."""
        ids = self.open_index.get(playbook)
        incident_id = ids.get(key) if ids is not None else None
        return self.incidents[incident_id] if incident_id is not None else None

    def take_signals(self, shard: str) -> dict[str, Any]:
        """The signals `shard` gathered while no incident was open (listed and counted), as
        the fields of the incident that takes them over; the shard keeps none."""
        return {
            "open_signals": self.signals.pop(shard, ()),
            "open_signals_untracked": self.signals_untracked.pop(shard, 0),
        }

    def mark_open(self, incident: IncidentRecord) -> None:
        """`incident` is the open one of its playbook and key."""
        self.open_index.setdefault(incident.playbook, {})[incident.key] = incident.id

    def mark_not_open(self, incident: IncidentRecord) -> None:
        """`incident`'s playbook and key have no open incident now."""
        ids = self.open_index.get(incident.playbook)
        if ids is not None:
            ids.pop(incident.key, None)
            if not ids:
                del self.open_index[incident.playbook]


SNAPSHOT_FORMAT = 3
"""Snapshots since compact tasks: records as msgspec encodes them (times as Millis; a task as
its incident, definition, state and progress; a timeline entry as its time, ref and shape).
Also read: format 2 (the same, but tasks and entries with every field their own, refs to
tasks written out) and a snapshot without "format" (contract models, RFC 3339 times), through
the contract conversion."""
FLAT_TASKS_FORMAT = 2
_INCIDENT_RECORDS = dict[str, IncidentRecord]
_VERDICT_RECORDS = dict[str, VerdictRecord]


def snapshot_parts(state: EngineState) -> list[tuple[str, Any]]:
    """The parts of a snapshot, in its order, as the state holds them (not copies; the windows
    as their entries, the timers as their queue: `snapshot_hook` encodes it)."""
    return [
        ("format", SNAPSHOT_FORMAT),
        ("clock", state.clock),
        ("watermark", state.watermark),
        ("counters", vars(state.counters).copy()),
        ("seen", state.seen),
        ("windows", {name: slot.entries for name, slot in state.windows.items()}),
        ("incidents", state.incidents),
        ("open_index", state.open_index),
        ("timers", state.timers),
        ("quiet_due", state.quiet_due),
        ("signals", state.signals),
        *([("signals_untracked", state.signals_untracked)] if state.signals_untracked else []),
        ("resolved_index", state.resolved_index),
        ("held", state.held),
        ("commands", state.commands),
        ("sequence", state.sequence),
        ("last_sweep", state.last_sweep),
    ]


def snapshot_hook(value: Any) -> Any:
    """What msgspec encodes in place of a part it does not know: the timers' queue as its
    timers, earliest first (so equal states give equal bytes, whatever their runs)."""
    if isinstance(value, TimerQueue):
        return value.entries()
    raise NotImplementedError(f"a snapshot holds no {type(value).__name__}")


def snapshot(state: EngineState, *, incidents: bool = True) -> dict[str, Any]:
    """The state as JSON-compatible data (for durable snapshots and state tables). Without
    `incidents`, the incidents are left out, for a store that keeps each incident on its own
    (`restore` takes them back separately). Encoded: stateview.encode_snapshot."""
    data = {k: v for k, v in snapshot_parts(state) if incidents or k != "incidents"}
    built: dict[str, Any] = msgspec.to_builtins(data, enc_hook=snapshot_hook)
    return built


def _legacy(data: dict[str, Any]) -> tuple[dict[str, IncidentRecord], dict[str, VerdictRecord]]:
    """Incidents and verdicts of a snapshot from before SNAPSHOT_FORMAT (contract models)."""
    incidents = {k: record_of(Incident.model_validate(v)) for k, v in data["incidents"].items()}
    verdicts = {k: record_of(CommandResult.model_validate(v)) for k, v in data["commands"].items()}
    return incidents, verdicts


def _entries(items: list[Any]) -> tuple[Any, ...]:
    """A window's entries from a snapshot: its lists (pairs, triples) as tuples."""
    return tuple(tuple(item) if isinstance(item, list) else item for item in items)


def _nested(task: dict[str, Any]) -> dict[str, Any]:
    """A task of a format 2 snapshot (every field its own) as format 3 has it."""
    parts = SPEC_FIELDS | PROGRESS_FIELDS | {"id"}
    nested = {name: value for name, value in task.items() if name not in parts}
    nested["spec"] = {name: task[name] for name in SPEC_FIELDS if name in task}
    nested["progress"] = {name: task[name] for name in PROGRESS_FIELDS if name in task}
    return nested


def _shaped(entry: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry of a format 2 snapshot as format 3 has it."""
    shape = {name: entry[name] for name in ("kind", "actor", "detail") if name in entry}
    return {"at": entry["at"], "ref": entry.get("ref"), "shape": shape}


def _incidents(data: dict[str, Any], snapshot_format: int) -> dict[str, IncidentRecord]:
    """The incidents of a snapshot of format 2 or 3, their tasks' definitions shared."""
    found = data["incidents"]
    if snapshot_format == FLAT_TASKS_FORMAT:
        found = {
            k: {
                **v,
                "tasks": [_nested(t) for t in v.get("tasks", ())],
                "timeline": [_shaped(e) for e in v.get("timeline", ())],
            }
            for k, v in found.items()
        }
    incidents = msgspec.convert(found, _INCIDENT_RECORDS)
    if snapshot_format == FLAT_TASKS_FORMAT:  # its entries wrote out their tasks' ids
        incidents = {k: with_task_refs(v) for k, v in incidents.items()}
    return {
        k: replace(
            v,
            tasks=tuple(shared_task(t) for t in v.tasks),
            timeline=tuple(shared_entry(e) for e in v.timeline),
        )
        for k, v in incidents.items()
    }


def _open_index(found: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The open index of a snapshot: by playbook then key, or (before format 3) by shard."""
    index: dict[str, dict[str, str]] = {}
    for name, value in found.items():
        if isinstance(value, dict):
            index.setdefault(name, {}).update(value)
        else:
            playbook, key = split_shard(name)
            index.setdefault(playbook, {})[key] = value
    return index


def restore(
    data: dict[str, Any], incidents: dict[str, IncidentRecord] | None = None
) -> EngineState:
    """The state a snapshot was taken of; `incidents`, when given, instead of the snapshot's
    own (a store that keeps them apart)."""
    timers: list[TimerEntry] = [
        (int(t[0]), int(t[1]), str(t[2]), str(t[3]), str(t[4]), int(t[5])) for t in data["timers"]
    ]
    if data.get("format") in (FLAT_TASKS_FORMAT, SNAPSHOT_FORMAT):
        verdicts = msgspec.convert(data["commands"], _VERDICT_RECORDS)
        if incidents is None:
            incidents = _incidents(data, data["format"])
    elif "format" in data:
        raise ValueError(
            f"snapshot format {data['format']!r} is not one this version reads"
            f" ({SNAPSHOT_FORMAT}, {FLAT_TASKS_FORMAT} or the older one without a format):"
            " delete the snapshot"
            " to recover from the input log alone, or run the version that wrote it"
        )
    else:
        legacy_incidents, verdicts = _legacy({"incidents": {}, **data})
        incidents = legacy_incidents if incidents is None else incidents
    return EngineState(
        clock=data["clock"],
        watermark=data["watermark"],
        counters=Counters(**data["counters"]),
        seen=dict(data["seen"]),
        windows={k: WindowSlot(_entries(v)) for k, v in data["windows"].items()},
        incidents=incidents,
        open_index=_open_index(data["open_index"]),
        timers=TimerQueue(timers),
        quiet_due=dict(data["quiet_due"]),
        signals={k: tuple(v) for k, v in data.get("signals", {}).items()},
        signals_untracked=dict(data.get("signals_untracked", {})),
        resolved_index=dict(data.get("resolved_index", {})),
        held={k: [list(e) for e in v] for k, v in data.get("held", {}).items()},
        commands=verdicts,
        sequence=data["sequence"],
        last_sweep=data["last_sweep"],
    )
