"""The task graph of one incident: attach, wait on dependencies, assign, escalate, finish."""

from __future__ import annotations

from typing import Any

from orchestrator.engine.clock import Millis
from orchestrator.engine.outputs import Outbox
from orchestrator.engine.playbook import Deadline, Playbook, TaskDef
from orchestrator.engine.records import (
    TASK_REF,
    IncidentRecord,
    TaskRecord,
    TaskSpec,
    changed_task,
    find_task,
    replace,
    shared_spec,
    with_task,
)
from orchestrator.engine.severity import Ranked
from orchestrator.engine.state import EngineState
from schemas import TERMINAL_STATUSES, IncidentStatus, Phase, Severity, TaskStatus

SATISFYING = frozenset({TaskStatus.DONE, TaskStatus.CANCELLED})
"""Dependency states that let dependents go ahead (cancelled means 'skipped on purpose')."""
ACTIVE_PHASES = (Phase.ASSESS, Phase.RESPOND, Phase.RECOVER)
ACK_TIMER = "ack"
DUE_TIMER = "due"
_RANKED = {severity: Ranked(severity.value) for severity in Severity}
"""One shared (immutable) Ranked name per severity, instead of a new one per context."""
_STATUSES = {status: status.value for status in IncidentStatus}
_PHASES = {phase: phase.value for phase in Phase}
"""Member -> its plain value (`.value` is a slow property on enum members)."""


find = find_task
"""The incident's task named `name`, if attached."""


def incident_context(incident: IncidentRecord) -> dict[str, Any]:
    """The names a task attach condition sees, under `incident`."""
    return {
        "incident": {
            "severity": _RANKED[incident.severity],
            "likelihood": incident.likelihood,
            "impact": incident.impact,
            "key": incident.key,
            "playbook": incident.playbook,
            "status": _STATUSES[incident.status],
            "phase": _PHASES[incident.phase],
            "trigger": incident.trigger,
            "events_total": incident.events_total,
            "events_by_type": dict(incident.events_by_type),
        }
    }


def attach(
    state: EngineState, incident: IncidentRecord, task_def: TaskDef, at: Millis, out: Outbox
) -> tuple[IncidentRecord, TaskRecord]:
    """Add a task to the incident, pending until its dependencies are satisfied; returns the
    incident with it, and the task."""
    complete_due = None
    if task_def.complete is not None and task_def.complete.since == "opened":
        complete_due = _deadline(incident, task_def.complete, at)
        # runs while the task still waits on dependencies: a regulator's clock does not wait
        state.push_timer(max(complete_due, at), DUE_TIMER, incident.id, task_def.name)
    task = TaskRecord(
        incident_id=incident.id,
        spec=spec_of(task_def),
        attached_at=at,
        complete_due_at=complete_due,
    )
    incident = state.put(replace(incident, tasks=(*incident.tasks, task)))
    incident = out.note(incident, at, "task.attached", ref=TASK_REF, task=task.name, role=task.role)
    return incident, task


def spec_of(task_def: TaskDef) -> TaskSpec:
    """The shared record of what every instance of `task_def` has from it."""
    return shared_spec(
        TaskSpec(
            name=task_def.name,
            role=task_def.role,
            title=task_def.title,
            instructions=task_def.instructions,
            phase=task_def.phase,
            automatic=task_def.automatic,
            depends_on=tuple(task_def.depends_on),
            join="any" if task_def.join == "any" else "all",
        )
    )


def ready(incident: IncidentRecord, task: TaskRecord) -> bool:
    """True when the task's dependencies let it be assigned."""
    if not task.depends_on:
        return True
    done = [
        (dep := find(incident, name)) is not None and dep.status in SATISFYING
        for name in task.depends_on
    ]
    return all(done) if task.join == "all" else any(done)


def _deadline(incident: IncidentRecord, deadline: Deadline, assigned_at: Millis) -> Millis:
    base = incident.opened_at if deadline.since == "opened" else assigned_at
    return base + deadline.within


def assign(
    state: EngineState,
    incident: IncidentRecord,
    task: TaskRecord,
    task_def: TaskDef,
    at: Millis,
    out: Outbox,
) -> IncidentRecord:
    """Hand the task to its role: set its deadlines, start its timers, emit task.assigned."""
    ack_due = task.ack_due_at
    if task_def.ack is not None:
        if ack_due is None or task_def.ack.since != "opened":  # set: a revived task's (flaps)
            ack_due = _deadline(incident, task_def.ack, at)
        if task_def.ladder:
            first = max(ack_due + task_def.ladder[0][0], at)  # never before the assignment
            state.push_timer(first, ACK_TIMER, incident.id, task.name, 0)
    complete_due = task.complete_due_at
    if task_def.complete is not None and task_def.complete.since == "assigned":
        complete_due = _deadline(incident, task_def.complete, at)
        state.push_timer(max(complete_due, at), DUE_TIMER, incident.id, task.name)
    task = replace(
        task,
        status=TaskStatus.ASSIGNED,
        assigned_at=at,
        ack_due_at=ack_due,
        complete_due_at=complete_due,
    )
    incident = state.put(with_task(incident, task))
    return out.task("task.assigned", incident, task, at)


def reconcile(
    state: EngineState, playbook: Playbook, incident: IncidentRecord, at: Millis, out: Outbox
) -> IncidentRecord:
    """Attach tasks whose condition now holds and assign those whose dependencies are met."""
    if incident.status == IncidentStatus.OPEN:
        incident = _attach_due(state, playbook, incident, at, out)
    for task in incident.tasks:  # assigning one changes no other task
        if task.status == TaskStatus.PENDING and ready(incident, task):
            incident = assign(state, incident, task, playbook.task(task.name), at, out)
    return _update_phase(state, incident, at, out)


def _attach_due(
    state: EngineState, playbook: Playbook, incident: IncidentRecord, at: Millis, out: Outbox
) -> IncidentRecord:
    """Attach every task not attached yet whose condition holds (the context is made once,
    and only if a condition needs it: attaching changes nothing it shows)."""
    attached = {t.name for t in incident.tasks}
    ctx: dict[str, Any] | None = None
    for task_def in playbook.tasks:
        if task_def.name in attached:
            continue
        if task_def.when is not None:
            ctx = ctx if ctx is not None else incident_context(incident)
            if not task_def.when.holds(ctx):
                continue
        incident, _task = attach(state, incident, task_def, at, out)
        attached.add(task_def.name)
    return incident


def _update_phase(
    state: EngineState, incident: IncidentRecord, at: Millis, out: Outbox
) -> IncidentRecord:
    if incident.status != IncidentStatus.OPEN:
        return incident
    live = {t.phase for t in incident.tasks if t.status not in TERMINAL_STATUSES}
    phase = next((c for c in ACTIVE_PHASES if c.value in live), Phase.RECOVER)
    if phase == incident.phase:
        return incident
    incident = state.put(replace(incident, phase=phase))
    return out.incident(
        "incident.phase_changed", incident, at, suffix=f":{phase.value}", phase=phase.value
    )


def fire_ack_timer(
    state: EngineState,
    playbook: Playbook,
    incident: IncidentRecord,
    name: str,
    level: int,
    at: Millis,
    out: Outbox,
) -> None:
    """The ack deadline (or the previous escalation) passed: escalate if still unacknowledged."""
    task = find(incident, name)
    if task is None or task.status != TaskStatus.ASSIGNED:
        return
    ladder = playbook.task(name).ladder
    task = changed_task(task, escalations=task.escalations + 1)
    incident = state.put(with_task(incident, task))
    target = ladder[level][1]
    out.task(
        "task.escalated",
        incident,
        task,
        at,
        role=target,
        escalation=task.escalations,
        suffix=f":{task.escalations}",
    )
    if level + 1 < len(ladder):
        state.push_timer(at + ladder[level + 1][0], ACK_TIMER, incident.id, name, level + 1)


def fire_due_timer(incident: IncidentRecord, name: str, at: Millis, out: Outbox) -> None:
    """The completion deadline passed: mark the task overdue once."""
    task = find(incident, name)
    if task is None or task.status in TERMINAL_STATUSES or task.overdue:
        return
    task = changed_task(task, overdue=True)
    out.task("task.overdue", out.state.put(with_task(incident, task)), task, at)


def cancel_open(
    incident: IncidentRecord,
    at: Millis,
    out: Outbox,
    reason: str,
    phases: frozenset[str] | None = None,
    keep_acknowledged: bool = False,
) -> IncidentRecord:
    """Cancel the incident's unfinished tasks (of `phases`, if given)."""
    for task in incident.tasks:
        if task.status in TERMINAL_STATUSES:
            continue
        if phases is not None and task.phase not in phases:
            continue
        if keep_acknowledged and task.status == TaskStatus.ACKNOWLEDGED:
            continue
        task = changed_task(task, status=TaskStatus.CANCELLED, finished_at=at, outcome=reason)
        incident = out.state.put(with_task(incident, task))
        incident = out.task("task.cancelled", incident, task, at, note=reason)
    return incident
