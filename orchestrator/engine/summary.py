"""The contract summary of a run (contracts section 4): counts, incidents and their tasks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestrator.engine.clock import parse_time
from orchestrator.engine.contract import contract
from orchestrator.engine.records import IncidentRecord
from orchestrator.engine.state import EngineState
from schemas import Incident, Task


def task_summary(task: Task) -> dict[str, Any]:
    """One task as the summary shows it (the contract's fields first, then more)."""
    return {
        "id": task.id,
        "name": task.name,
        "role": task.role,
        "status": task.status.value,
        "due_at": task.due_at,
        "escalations": task.escalations,
        "phase": task.phase,
        "assigned_at": task.assigned_at,
        "acknowledged_at": task.acknowledged_at,
        "acknowledged_by": task.acknowledged_by,
        "finished_at": task.finished_at,
        "overdue": task.overdue,
    }


def incident_summary(incident: Incident | IncidentRecord) -> dict[str, Any]:
    """One incident (a contract model, or the engine's record of one) as the summary shows it."""
    if isinstance(incident, IncidentRecord):
        incident = contract(incident)
    return {
        "id": incident.id,
        "playbook": incident.playbook,
        "key": incident.key,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "opened_at": incident.opened_at,
        "mode": incident.mode,
        "phase": incident.phase.value,
        "trigger": incident.trigger,
        "resolved_at": incident.resolved_at,
        "closed_at": incident.closed_at,
        "events": incident.events_total,
        "tasks": [task_summary(t) for t in incident.tasks],
    }


def ordered(incidents: Iterable[Incident]) -> list[Incident]:
    """Incidents by opening time, then id: the same order whatever runtime produced them."""
    return sorted(incidents, key=lambda i: (parse_time(i.opened_at), i.id))


def summary(state: EngineState, retired: Iterable[Incident] = ()) -> dict[str, Any]:
    """The run's summary: `events` counts and `incidents` in the order they opened, those in
    `state` and those retention `retired` from it (kept by a runtime's store)."""
    c = state.counters
    live = {i.id: contract(i) for i in state.incidents.values()}
    incidents = {**{i.id: i for i in retired}, **live}
    return {
        "events": {
            "read": c.read,
            "accepted": c.accepted,
            "rejected": c.rejected,
            "duplicates": c.duplicates,
            "late": c.late,
        },
        "commands": {"applied": c.commands - c.commands_rejected, "rejected": c.commands_rejected},
        "incidents": [incident_summary(i) for i in ordered(incidents.values())],
    }
