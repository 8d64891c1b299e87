"""Responder commands applied to an incident: the engine, not a read model, decides conflicts."""

from __future__ import annotations

from orchestrator.engine.clock import Millis
from orchestrator.engine.ids import split_task_id
from orchestrator.engine.incidents import check_resolution, close, resolve
from orchestrator.engine.outputs import Outbox
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.records import IncidentRecord, TaskRecord, changed_task, with_task
from orchestrator.engine.state import EngineState
from orchestrator.engine.tasks import find, reconcile
from orchestrator.errors import CommandRejected
from schemas import (
    TASK_COMMANDS,
    TERMINAL_STATUSES,
    Command,
    IncidentStatus,
    TaskEventKind,
    TaskStatus,
)

WORKING = frozenset({TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED})


def _refuse_unless_working(task: TaskRecord) -> None:
    if task.status == TaskStatus.PENDING:
        waiting = ", ".join(task.depends_on)
        raise CommandRejected(f"task {task.id} is pending: it waits on {waiting}")
    if task.status in TERMINAL_STATUSES:
        by = f" by {task.finished_by}" if task.finished_by else ""
        raise CommandRejected(f"task {task.id} is already {task.status.value}{by}")


def _acknowledge(task: TaskRecord, cmd: Command, at: Millis) -> TaskRecord:
    return changed_task(
        task, status=TaskStatus.ACKNOWLEDGED, acknowledged_at=at, acknowledged_by=cmd.actor
    )


def _finish(task: TaskRecord, status: TaskStatus, cmd: Command, at: Millis) -> TaskRecord:
    if task.acknowledged_at is None:
        task = _acknowledge(task, cmd, at)
    return changed_task(
        task, status=status, finished_at=at, finished_by=cmd.actor, outcome=cmd.note
    )


def apply_task_command(
    incident: IncidentRecord, task: TaskRecord, cmd: Command, at: Millis, out: Outbox
) -> tuple[IncidentRecord, TaskRecord]:
    """Change one task as `cmd` says (the incident and the task after it), or raise
    CommandRejected saying why not."""
    if cmd.kind == "comment":
        if not cmd.note:
            raise CommandRejected("a comment needs text in `note`")
        incident = out.task(
            "task.commented",
            incident,
            task,
            at,
            note=cmd.note,
            actor=cmd.actor,
            suffix=f":{cmd.id}",
        )
        return incident, task
    if cmd.kind == "cancel":
        if task.status in TERMINAL_STATUSES:
            raise CommandRejected(f"task {task.id} is already {task.status.value}")
        return _emit(out, incident, _finish(task, TaskStatus.CANCELLED, cmd, at), cmd, at)
    if cmd.kind == "ack" and task.status == TaskStatus.ACKNOWLEDGED:
        if task.acknowledged_by == cmd.actor:
            return incident, task
        raise CommandRejected(f"task {task.id} was already acknowledged by {task.acknowledged_by}")
    _refuse_unless_working(task)
    if cmd.kind == "ack":
        task = _acknowledge(task, cmd, at)
    elif cmd.kind == "start":
        if task.status == TaskStatus.ASSIGNED:
            task = _acknowledge(task, cmd, at)
        elif task.acknowledged_by != cmd.actor:
            raise CommandRejected(f"task {task.id} is held by {task.acknowledged_by}")
        task = changed_task(task, started_at=task.started_at or at)
    elif cmd.kind == "complete":
        task = _finish(task, TaskStatus.DONE, cmd, at)
    elif cmd.kind == "fail":
        if not cmd.note:
            raise CommandRejected("failing a task needs a reason in `note`")
        task = _finish(task, TaskStatus.FAILED, cmd, at)
    return _emit(out, incident, task, cmd, at)


_EVENTS: dict[str, TaskEventKind] = {
    "cancel": "task.cancelled",
    "ack": "task.acknowledged",
    "start": "task.started",
    "complete": "task.done",
    "fail": "task.failed",
}
_WITH_NOTE = frozenset({"cancel", "complete", "fail"})


def _emit(
    out: Outbox, incident: IncidentRecord, task: TaskRecord, cmd: Command, at: Millis
) -> tuple[IncidentRecord, TaskRecord]:
    """Put the changed task in its incident and emit the command's task event."""
    incident = out.state.put(with_task(incident, task))
    note = cmd.note if cmd.kind in _WITH_NOTE else None
    incident = out.task(_EVENTS[cmd.kind], incident, task, at, note=note, actor=cmd.actor)
    return incident, task


def apply_command(
    state: EngineState,
    playbook: Playbook,
    incident: IncidentRecord,
    task: TaskRecord | None,
    cmd: Command,
    at: Millis,
    out: Outbox,
) -> None:
    """Apply `cmd` and everything that follows from it (dependents, resolution, closing). The
    review done closes its incident; while the incident is open again after a flap
    (flaps.py), completing the review is refused (it would close an open incident)."""
    if cmd.kind in {"resolve", "close"}:
        _apply_incident_command(state, playbook, incident, cmd, at, out)
        return
    assert task is not None
    if incident.status == IncidentStatus.CLOSED and cmd.kind != "comment":
        raise CommandRejected(f"incident {incident.id} is closed")
    review = playbook.review is not None and task.name == playbook.review.name
    if review and cmd.kind == "complete" and incident.status == IncidentStatus.OPEN:
        raise CommandRejected(
            f"incident {incident.id} is open again (reopened after a flap): complete its "
            "review once it has resolved, or close the incident by hand"
        )
    incident, task = apply_task_command(incident, task, cmd, at, out)
    if review:
        if task.status == TaskStatus.DONE and incident.status != IncidentStatus.CLOSED:
            close(
                state,
                playbook,
                incident,
                at,
                out,
                reason="review done",
                actor=cmd.actor,
                ref=cmd.id,
            )
        return
    incident = reconcile(state, playbook, incident, at, out)
    check_resolution(state, playbook, incident, at, out)


def _apply_incident_command(
    state: EngineState,
    playbook: Playbook,
    incident: IncidentRecord,
    cmd: Command,
    at: Millis,
    out: Outbox,
) -> None:
    reason = cmd.note or f"{cmd.kind} by {cmd.actor}"
    if cmd.kind == "resolve":
        if incident.status != IncidentStatus.OPEN:
            raise CommandRejected(f"incident {incident.id} is already {incident.status.value}")
        resolve(state, playbook, incident, at, out, reason=reason, actor=cmd.actor, ref=cmd.id)
        return
    if incident.status == IncidentStatus.CLOSED:
        raise CommandRejected(f"incident {incident.id} is already closed")
    close(state, playbook, incident, at, out, reason=reason, actor=cmd.actor, ref=cmd.id)


def command_target(state: EngineState, cmd: Command) -> tuple[IncidentRecord, TaskRecord | None]:
    """The incident a command acts on, and its task for a task command; CommandRejected when
    the command names none that exists."""
    incident = _incident_of(state, cmd)
    if cmd.kind not in TASK_COMMANDS:
        return incident, None
    name = cmd.task or (split_task_id(cmd.task_id)[1] if cmd.task_id else None)
    task = find(incident, name) if name else None
    if task is None:
        raise CommandRejected(f"unknown task {cmd.task_id or name} in incident {incident.id}")
    return incident, task


def _incident_of(state: EngineState, cmd: Command) -> IncidentRecord:
    if cmd.task_id:
        incident_id = state.task_index.get(cmd.task_id)
        if incident_id is None:
            raise CommandRejected(f"unknown task {cmd.task_id}")
        return state.incidents[incident_id]
    if cmd.incident_id:
        if cmd.incident_id not in state.incidents:
            raise CommandRejected(f"unknown incident {cmd.incident_id}")
        return state.incidents[cmd.incident_id]
    if cmd.playbook and cmd.key is not None:
        newest = None
        for incident in state.incidents.values():
            if incident.playbook == cmd.playbook and incident.key == cmd.key:
                newest = incident
        if newest is None:
            raise CommandRejected(f"no incident of {cmd.playbook} for key {cmd.key!r}")
        return newest
    raise CommandRejected("say which task or incident: task_id, incident_id, or playbook + key")
