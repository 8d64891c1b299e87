"""The engine's state: everything it remembers between inputs, as plain serializable data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import msgspec

from orchestrator.engine.clock import Millis
from orchestrator.engine.contract import record_of
from orchestrator.engine.dedupe import SeenIndex
from orchestrator.engine.ids import SEP, shard_of
from orchestrator.engine.records import IncidentRecord, VerdictRecord
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
    open_index: dict[str, str] = field(default_factory=dict)
    task_index: dict[str, str] = field(default_factory=dict)
    timers: TimerQueue = field(default_factory=TimerQueue)
    """Pending timers, earliest first (mostly in runs the collector never walks)."""
    quiet_due: dict[str, Millis] = field(default_factory=dict)
    signals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Open signals (e.g. firing alerts) per "playbook SEP key" while no incident is open."""
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
        incident_id = self.open_index.get(shard_of(playbook, key))
        return self.incidents[incident_id] if incident_id is not None else None


SNAPSHOT_FORMAT = 2
"""Snapshots since compact state: records as msgspec encodes them (times as Millis). A
snapshot without "format" is the older kind (contract models, RFC 3339 times): still read,
through the contract conversion."""
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


def task_index_of(incidents: dict[str, IncidentRecord]) -> dict[str, str]:
    """Task id -> incident id for every task of `incidents` (what the engine's index holds)."""
    return {task.id: incident.id for incident in incidents.values() for task in incident.tasks}


def _legacy(data: dict[str, Any]) -> tuple[dict[str, IncidentRecord], dict[str, VerdictRecord]]:
    """Incidents and verdicts of a snapshot from before SNAPSHOT_FORMAT (contract models)."""
    incidents = {k: record_of(Incident.model_validate(v)) for k, v in data["incidents"].items()}
    verdicts = {k: record_of(CommandResult.model_validate(v)) for k, v in data["commands"].items()}
    return incidents, verdicts


def _entries(items: list[Any]) -> tuple[Any, ...]:
    """A window's entries from a snapshot: its lists (pairs, triples) as tuples."""
    return tuple(tuple(item) if isinstance(item, list) else item for item in items)


def restore(
    data: dict[str, Any], incidents: dict[str, IncidentRecord] | None = None
) -> EngineState:
    """The state a snapshot was taken of; `incidents`, when given, instead of the snapshot's
    own (a store that keeps them apart). The task index is rebuilt from the incidents."""
    timers: list[TimerEntry] = [
        (int(t[0]), int(t[1]), str(t[2]), str(t[3]), str(t[4]), int(t[5])) for t in data["timers"]
    ]
    if data.get("format") == SNAPSHOT_FORMAT:
        verdicts = msgspec.convert(data["commands"], _VERDICT_RECORDS)
        if incidents is None:
            incidents = msgspec.convert(data["incidents"], _INCIDENT_RECORDS)
    elif "format" in data:
        raise ValueError(
            f"snapshot format {data['format']!r} is not one this version reads"
            f" ({SNAPSHOT_FORMAT} or the older one without a format): delete the snapshot"
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
        open_index=dict(data["open_index"]),
        task_index=task_index_of(incidents),
        timers=TimerQueue(timers),
        quiet_due=dict(data["quiet_due"]),
        signals={k: tuple(v) for k, v in data.get("signals", {}).items()},
        resolved_index=dict(data.get("resolved_index", {})),
        held={k: [list(e) for e in v] for k, v in data.get("held", {}).items()},
        commands=verdicts,
        sequence=data["sequence"],
        last_sweep=data["last_sweep"],
    )
