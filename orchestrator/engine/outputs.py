"""What one step of the engine emits, and the timeline entries that go with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.engine.clock import Millis, format_time
from orchestrator.engine.contract import build, contract
from orchestrator.engine.oncall import Rosters, addressed, timeline_detail
from orchestrator.engine.records import (
    TASK_REF,
    EntryRecord,
    IncidentRecord,
    TaskRecord,
    entry_record,
    replace,
)
from orchestrator.engine.state import EngineState
from schemas import (
    CommandResult,
    DeadLetter,
    Incident,
    IncidentEvent,
    TaskEvent,
    TaskEventKind,
)


@dataclass(frozen=True, slots=True)
class Retired:
    """An incident that left the engine's memory (`EngineConfig.incident_retention` after it
    resolved or closed), as it last was: the runtime keeps it in its store, a drill keeps it
    for its summary and report. Not a wire record: nothing publishes it."""

    incident: Incident

    @property
    def incident_id(self) -> str:
        """The retired incident's id."""
        return self.incident.id


Output = TaskEvent | IncidentEvent | DeadLetter | CommandResult | Retired
"""Anything the engine emits: task events, incident events, dead letters, command verdicts,
and incidents retired from memory."""

MONITOR = "monitor"


def flap_suffix(incident: IncidentRecord) -> str:
    """ "" until the incident is reopened (flaps.py), then "@<flap count>": the ids of what
    happens again after a flap (assigned, cancelled, resolved) stay unique."""
    return f"@{incident.flap_count}" if incident.flap_count else ""


def incident_event(
    kind: str,
    incident: IncidentRecord,
    at: Millis,
    ref: str | None,
    suffix: str,
    detail: dict[str, Any],
) -> IncidentEvent:
    """An incident event about `incident`; its id is the incident's, the kind and `suffix`
    (and the flap, once the incident was reopened: each flap resolves again)."""
    return build(
        IncidentEvent,
        {
            "id": f"{incident.id}:{kind.removeprefix('incident.')}{suffix}{flap_suffix(incident)}",
            "kind": kind,
            "time": format_time(at),
            "incident_id": incident.id,
            "playbook": incident.playbook,
            "key": incident.key,
            "severity": incident.severity,
            "status": incident.status,
            "mode": incident.mode,
            "ref": ref,
            "detail": detail,
        },
    )


def timeline_entry(
    at: Millis, kind: str, actor: str | None, ref: str | None, detail: dict[str, Any]
) -> EntryRecord:
    """A timeline entry; equal details are one tuple (records.shared_pairs), equal shapes
    one record."""
    return entry_record(at=at, kind=kind, actor=actor, ref=ref, detail=tuple(detail.items()))


@dataclass
class Outbox:
    """Collects one step's outputs; in monitor mode task events are recorded, never emitted.
    Timeline entries replace the incident in `state` (the returned record is the new one)."""

    timeline_event_cap: int
    state: EngineState
    rosters: Rosters | None = None
    """Who is on call: task.assigned and task.escalated are addressed to the target role's
    on-call responders at that event time (none given: addressed to the role only)."""
    outputs: list[Output] = field(default_factory=list)

    def note(
        self,
        incident: IncidentRecord,
        at: Millis,
        kind: str,
        actor: str | None = None,
        ref: str | None = None,
        **detail: Any,
    ) -> IncidentRecord:
        """Add an entry to the incident's timeline; returns the incident with it."""
        entry = timeline_entry(at, kind, actor, ref, detail)
        return self.state.put(replace(incident, timeline=(*incident.timeline, entry)))

    def task(
        self,
        kind: TaskEventKind,
        incident: IncidentRecord,
        task: TaskRecord,
        at: Millis,
        role: str | None = None,
        escalation: int = 0,
        note: str | None = None,
        actor: str | None = None,
        suffix: str = "",
    ) -> IncidentRecord:
        """Emit a task event (to `role`, the task's own role by default) and note it."""
        target = role or task.role
        detail: dict[str, Any] = {"task": task.name, "role": target}
        if escalation:
            detail["escalation"] = escalation
        if note:
            detail["note"] = note
        notified = addressed(self.rosters, kind, target, at)
        if notified is not None:
            detail.update(timeline_detail(notified))
        incident = self.note(incident, at, kind, actor=actor, ref=TASK_REF, **detail)
        if incident.mode == MONITOR:
            return incident
        event = {
            "id": f"{task.id}:{kind.removeprefix('task.')}{suffix}{flap_suffix(incident)}",
            "kind": kind,
            "role": target,
            "time": format_time(at),
            "incident_id": incident.id,
            "playbook": incident.playbook,
            "severity": incident.severity.value,
            "task": contract(task),
            "escalation": escalation,
            "drill": incident.drill,
            "note": note,
            "notified": notified,
        }
        self.outputs.append(build(TaskEvent, event))
        return incident

    def incident(
        self,
        kind: str,
        incident: IncidentRecord,
        at: Millis,
        ref: str | None = None,
        suffix: str = "",
        actor: str | None = None,
        **detail: Any,
    ) -> IncidentRecord:
        """Emit an incident event and note it on the timeline."""
        incident = self.note(incident, at, kind, actor=actor, ref=ref, **detail)
        self.outputs.append(incident_event(kind, incident, at, ref, suffix, detail))
        return incident
