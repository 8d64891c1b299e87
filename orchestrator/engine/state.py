"""The engine's state: everything it remembers between inputs, as plain serializable data."""

from __future__ import annotations

import hashlib
import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import pydantic_core
from pydantic import TypeAdapter

from orchestrator.engine.clock import Millis
from orchestrator.engine.construct import Constructor, SharedDicts, compact
from orchestrator.engine.dedupe import SeenIndex
from orchestrator.engine.ids import SEP, shard_of
from orchestrator.engine.sweeps import WindowSchedule
from schemas import CommandResult, Incident, TimelineEntry

TIMELINE_ENTRY = Constructor(TimelineEntry, compact=True)
TIMELINE_DETAIL = SharedDicts()
"""Timeline details are never changed once written: equal ones are one dict."""
TimerEntry = tuple[Millis, int, str, str, str, int]
"""(due, sequence, kind, incident id, task name or "", escalation level)."""
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
    """All the engine knows. The reducer updates the state it is given and returns it."""

    clock: Millis = 0
    watermark: Millis = 0
    counters: Counters = field(default_factory=Counters)
    seen: dict[str, Millis] = field(default_factory=OrderedDict)
    """Dedupe keys ("source SEP id") and their event times, oldest insertion first."""
    windows: dict[str, list[Any]] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    open_index: dict[str, str] = field(default_factory=dict)
    task_index: dict[str, str] = field(default_factory=dict)
    timers: list[TimerEntry] = field(default_factory=list)
    quiet_due: dict[str, Millis] = field(default_factory=dict)
    signals: dict[str, list[str]] = field(default_factory=dict)
    """Open signals (e.g. firing alerts) per "playbook SEP key" while no incident is open."""
    resolved_index: dict[str, str] = field(default_factory=dict)
    """The incident that last resolved per "playbook SEP key" (flaps.py may reopen it)."""
    held: dict[str, list[list[Any]]] = field(default_factory=dict)
    """Events that would have joined per "playbook SEP key" while no incident was open, as
    [event time, ref, type, severity rule indexes] (gather.py)."""
    commands: dict[str, CommandResult] = field(default_factory=dict)
    sequence: int = 0
    last_sweep: Millis = 0
    seen_index: SeenIndex = field(default_factory=SeenIndex, repr=False, compare=False)
    """Derived from `seen` (never snapshotted): lets a sweep visit only expired hours."""
    window_schedule: WindowSchedule = field(
        default_factory=WindowSchedule, repr=False, compare=False
    )
    """Derived (never snapshotted): the windows a sweep must look at."""

    def __post_init__(self) -> None:
        self.seen_index.rebuild(self.seen)
        self.window_schedule.reset(self.windows)

    def remember(self, key: str, at: Millis) -> None:
        """Store a dedupe key with its event time."""
        self.seen[key] = at
        self.seen_index.add(key, at)

    def forget_first_seen(self) -> None:
        """Forget the dedupe key stored longest ago (when there are too many)."""
        if isinstance(self.seen, OrderedDict):
            self.seen.popitem(last=False)
        else:
            del self.seen[next(iter(self.seen))]

    def forget_seen_before(self, cutoff: Millis) -> None:
        """Forget every dedupe key whose event time is before `cutoff`."""
        self.seen_index.expire(self.seen, cutoff)

    def push_timer(
        self, due: Millis, kind: str, incident_id: str, task: str = "", level: int = 0
    ) -> None:
        """Schedule a timer; equal due times fire in the order they were scheduled."""
        self.sequence += 1
        heapq.heappush(self.timers, (due, self.sequence, kind, incident_id, task, level))

    def open_incident(self, playbook: str, key: str) -> Incident | None:
        """The open incident of `playbook` for `key`, if any."""
        incident_id = self.open_index.get(shard_of(playbook, key))
        return self.incidents[incident_id] if incident_id is not None else None


_INCIDENTS = TypeAdapter(dict[str, Incident])
_RESULTS = TypeAdapter(dict[str, CommandResult])


def snapshot(state: EngineState, *, incidents: bool = True) -> dict[str, Any]:
    """The state as JSON-compatible data (for durable snapshots and state tables). Without
    `incidents`, the incidents and the task index (derived from them) are left out, for a
    store that keeps each incident on its own (`restore` takes them back separately)."""
    data: dict[str, Any] = {
        "clock": state.clock,
        "watermark": state.watermark,
        "counters": vars(state.counters).copy(),
        "seen": state.seen,
        "windows": state.windows,
    }
    if incidents:
        data["incidents"] = _INCIDENTS.dump_python(state.incidents, mode="json")
    data["open_index"] = state.open_index
    if incidents:
        data["task_index"] = state.task_index
    data.update(
        timers=[list(t) for t in state.timers],
        quiet_due=state.quiet_due,
        signals=state.signals,
        resolved_index=state.resolved_index,
        held=state.held,
        commands=_RESULTS.dump_python(state.commands, mode="json"),
        sequence=state.sequence,
        last_sweep=state.last_sweep,
    )
    return data


def encode_snapshot(state: EngineState) -> bytes:
    """`snapshot(state)` as JSON, encoded from the incident models directly (pydantic-core,
    no dicts in between) and without the task index (`restore` rebuilds it): a third of the
    time, for the embedded runtime, which encodes while no write may change the state."""
    head = pydantic_core.to_json(snapshot(state, incidents=False))
    return head[:-1] + b',"incidents":' + _INCIDENTS.dump_json(state.incidents) + b"}"


def task_index_of(incidents: dict[str, Incident]) -> dict[str, str]:
    """Task id -> incident id for every task of `incidents` (what the engine's index holds)."""
    return {task.id: incident.id for incident in incidents.values() for task in incident.tasks}


def compact_incident(incident: Incident) -> Incident:
    """The incident with its tasks and timeline entries built compact (construct.compact), as
    the engine builds them: validated models each hold a dict and a fields-set of their own."""
    rebuilt = compact(incident)
    rebuilt.tasks[:] = map(compact, rebuilt.tasks)
    rebuilt.timeline[:] = map(_compact_entry, rebuilt.timeline)
    return rebuilt


def _compact_entry(entry: TimelineEntry) -> TimelineEntry:
    values = dict(entry.__dict__)
    values["detail"] = TIMELINE_DETAIL(entry.detail)
    return TIMELINE_ENTRY(values)


def restore(data: dict[str, Any]) -> EngineState:
    """The state a snapshot was taken of (the task index rebuilt if the snapshot has none)."""
    timers: list[TimerEntry] = [
        (int(t[0]), int(t[1]), str(t[2]), str(t[3]), str(t[4]), int(t[5])) for t in data["timers"]
    ]
    heapq.heapify(timers)
    incidents = {
        k: compact_incident(v) for k, v in _INCIDENTS.validate_python(data["incidents"]).items()
    }
    return EngineState(
        clock=data["clock"],
        watermark=data["watermark"],
        counters=Counters(**data["counters"]),
        seen=OrderedDict(data["seen"]),
        windows={k: list(v) for k, v in data["windows"].items()},
        incidents=incidents,
        open_index=dict(data["open_index"]),
        task_index=dict(data["task_index"]) if "task_index" in data else task_index_of(incidents),
        timers=timers,
        quiet_due=dict(data["quiet_due"]),
        signals={k: list(v) for k, v in data.get("signals", {}).items()},
        resolved_index=dict(data.get("resolved_index", {})),
        held={k: [list(e) for e in v] for k, v in data.get("held", {}).items()},
        commands=_RESULTS.validate_python(data["commands"]),
        sequence=data["sequence"],
        last_sweep=data["last_sweep"],
    )
