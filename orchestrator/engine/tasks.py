"""The task graph of one incident: attach, wait on dependencies, assign, escalate, finish."""

from __future__ import annotations

from typing import Any

from orchestrator.engine.clock import Millis, format_time, parse_time
from orchestrator.engine.construct import compact
from orchestrator.engine.ids import task_id
from orchestrator.engine.outputs import Outbox
from orchestrator.engine.playbook import Deadline, Playbook, TaskDef
from orchestrator.engine.severity import Ranked
from orchestrator.engine.state import EngineState
from schemas import TERMINAL_STATUSES, Incident, IncidentStatus, Phase, Severity, Task, TaskStatus

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


def find(incident: Incident, name: str) -> Task | None:
    """The incident's task named `name`, if attached."""
    for task in incident.tasks:
        if task.name == name:
            return task
    return None


def incident_context(incident: Incident) -> dict[str, Any]:
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
            "events_by_type": incident.events_by_type,
        }
    }


def attach(
    state: EngineState, incident: Incident, task_def: TaskDef, at: Millis, out: Outbox
) -> Task:
    """Add a task to the incident, pending until its dependencies are satisfied."""
    task = compact(
        Task(
            id=task_id(incident.id, task_def.name),
            incident_id=incident.id,
            name=task_def.name,
            role=task_def.role,
            title=task_def.title,
            instructions=task_def.instructions,
            phase=task_def.phase,
            automatic=task_def.automatic,
            depends_on=list(task_def.depends_on),
            join="any" if task_def.join == "any" else "all",
            attached_at=format_time(at),
        )
    )
    if task_def.complete is not None and task_def.complete.since == "opened":
        due = _deadline(incident, task_def.complete, at)
        task.complete_due_at = format_time(due)
        # runs while the task still waits on dependencies: a regulator's clock does not wait
        state.push_timer(max(due, at), DUE_TIMER, incident.id, task.name)
    incident.tasks.append(task)
    state.task_index[task.id] = incident.id
    out.note(incident, at, "task.attached", ref=task.id, task=task.name, role=task.role)
    return task


def ready(incident: Incident, task: Task) -> bool:
    """True when the task's dependencies let it be assigned."""
    if not task.depends_on:
        return True
    done = [
        (dep := find(incident, name)) is not None and dep.status in SATISFYING
        for name in task.depends_on
    ]
    return all(done) if task.join == "all" else any(done)


def _deadline(incident: Incident, deadline: Deadline, assigned_at: Millis) -> Millis:
    base = parse_time(incident.opened_at) if deadline.since == "opened" else assigned_at
    return base + deadline.within


def assign(
    state: EngineState, incident: Incident, task: Task, task_def: TaskDef, at: Millis, out: Outbox
) -> None:
    """Hand the task to its role: set its deadlines, start its timers, emit task.assigned."""
    task.status = TaskStatus.ASSIGNED
    task.assigned_at = format_time(at)
    if task_def.ack is not None:
        ack_due = _deadline(incident, task_def.ack, at)
        task.ack_due_at = format_time(ack_due)
        if task_def.ladder:
            first = max(ack_due + task_def.ladder[0][0], at)  # never before the assignment
            state.push_timer(first, ACK_TIMER, incident.id, task.name, 0)
    if task_def.complete is not None and task_def.complete.since == "assigned":
        due = _deadline(incident, task_def.complete, at)
        task.complete_due_at = format_time(due)
        state.push_timer(max(due, at), DUE_TIMER, incident.id, task.name)
    out.task("task.assigned", incident, task, at)


def reconcile(
    state: EngineState, playbook: Playbook, incident: Incident, at: Millis, out: Outbox
) -> None:
    """Attach tasks whose condition now holds and assign those whose dependencies are met."""
    if incident.status == IncidentStatus.OPEN:
        _attach_due(state, playbook, incident, at, out)
    for task in incident.tasks:
        if task.status == TaskStatus.PENDING and ready(incident, task):
            assign(state, incident, task, playbook.task(task.name), at, out)
    _update_phase(incident, at, out)


def _attach_due(
    state: EngineState, playbook: Playbook, incident: Incident, at: Millis, out: Outbox
) -> None:
    """Attach every task not attached yet whose condition holds (the context is made once,
    and only if a condition needs it: attaching changes nothing it shows)."""
    attached = {t.name for t in incident.tasks}
    ctx: dict[str, Any] | None = None
    for task_def in playbook.tasks:
        if task_def.name in attached:
            continue
        if task_def.when is not None:
            ctx = ctx if ctx is not None else incident_context(incident)
            if not task_def.when.test(ctx):
                continue
        attach(state, incident, task_def, at, out)
        attached.add(task_def.name)


def _update_phase(incident: Incident, at: Millis, out: Outbox) -> None:
    if incident.status != IncidentStatus.OPEN:
        return
    live = {t.phase for t in incident.tasks if t.status not in TERMINAL_STATUSES}
    phase = next((c for c in ACTIVE_PHASES if c.value in live), Phase.RECOVER)
    if phase != incident.phase:
        incident.phase = phase
        out.incident(
            "incident.phase_changed", incident, at, suffix=f":{phase.value}", phase=phase.value
        )


def fire_ack_timer(
    state: EngineState,
    playbook: Playbook,
    incident: Incident,
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
    task.escalations += 1
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


def fire_due_timer(incident: Incident, name: str, at: Millis, out: Outbox) -> None:
    """The completion deadline passed: mark the task overdue once."""
    task = find(incident, name)
    if task is None or task.status in TERMINAL_STATUSES or task.overdue:
        return
    task.overdue = True
    out.task("task.overdue", incident, task, at)


def cancel_open(
    incident: Incident,
    at: Millis,
    out: Outbox,
    reason: str,
    phases: frozenset[str] | None = None,
    keep_acknowledged: bool = False,
) -> None:
    """Cancel the incident's unfinished tasks (of `phases`, if given)."""
    for task in incident.tasks:
        if task.status in TERMINAL_STATUSES:
            continue
        if phases is not None and task.phase not in phases:
            continue
        if keep_acknowledged and task.status == TaskStatus.ACKNOWLEDGED:
            continue
        task.status = TaskStatus.CANCELLED
        task.finished_at = format_time(at)
        task.outcome = reason
        out.task("task.cancelled", incident, task, at, note=reason)
