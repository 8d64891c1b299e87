"""Flaps: an incident that resolved and fires again within its playbook's reopen window
(`resolution.reopen_within`, 15m by default) is reopened rather than followed by a new one.

A reopened incident counts the flap (`flap_count`), notes `incident.reopened` on its timeline
and takes over the signals its key gathered meanwhile. The tasks that its resolution cancelled
unacknowledged go back to pending, so they are assigned again with fresh deadlines (their old
timers are dropped; a deadline `since: opened` counts from the reopening); acknowledged and
finished tasks, and the review task already in someone's hands, stay as they are: one review
for the whole flapping incident, which cannot be completed while the incident is open again
(commands.py). Past the window, or once the incident is closed, the next firing opens a new
incident.
"""

from __future__ import annotations

from orchestrator.engine.clock import Millis
from orchestrator.engine.ids import shard_of
from orchestrator.engine.outputs import Outbox
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.records import IncidentRecord, TaskRecord, changed_task, replace
from orchestrator.engine.state import EngineState
from orchestrator.engine.tasks import DUE_TIMER
from schemas import IncidentStatus, Phase, TaskStatus

RESOLVED_OUTCOME = "incident resolved"
"""The outcome of a task the incident's resolution cancelled (incidents.resolve)."""


def reopenable(
    state: EngineState, playbook: Playbook, key: str, at: Millis
) -> IncidentRecord | None:
    """The incident of `playbook` for `key` that resolved at most the reopen window before
    `at` and is not closed, if any."""
    window = playbook.resolution.reopen_within
    incident_id = state.resolved_index.get(shard_of(playbook.id, key)) if window else None
    incident = state.incidents.get(incident_id) if incident_id is not None else None
    if incident is None or incident.status is not IncidentStatus.RESOLVED:
        return None
    if incident.resolved_at is None or at - incident.resolved_at > window:
        return None
    return incident


def reopen(
    state: EngineState,
    playbook: Playbook,
    incident: IncidentRecord,
    at: Millis,
    out: Outbox,
    ref: str,
) -> IncidentRecord:
    """resolved -> open again: count the flap, revive the tasks the resolution cancelled."""
    shard = shard_of(playbook.id, incident.key)
    state.resolved_index.pop(shard, None)
    state.mark_open(incident)
    tasks = tuple(_revived(playbook, t, at) for t in incident.tasks)
    revived = {t.name for t, old in zip(tasks, incident.tasks, strict=True) if t is not old}
    flaps = incident.flap_count + 1
    incident = state.put(
        replace(
            incident,
            status=IncidentStatus.OPEN,
            phase=Phase.ASSESS,
            resolved_at=None,
            flap_count=flaps,
            **state.take_signals(shard),
            tasks=tasks,
        )
    )
    _drop_timers(state, incident.id, revived)
    for task in incident.tasks:
        if task.name in revived and task.complete_due_at is not None:  # counted since opened
            state.push_timer(task.complete_due_at, DUE_TIMER, incident.id, task.name)
    return out.incident(
        "incident.reopened", incident, at, ref=ref, suffix=f":{flaps}", flap_count=flaps
    )


def _revived(playbook: Playbook, task: TaskRecord, at: Millis) -> TaskRecord:
    """A task the resolution cancelled, pending again (to be assigned afresh); others as is.
    Its deadlines counted `since: opened` count from the reopening at `at` (tasks.assign
    keeps an ack deadline so set; the due timer runs from now, as from an attachment)."""
    if task.status is not TaskStatus.CANCELLED or task.outcome != RESOLVED_OUTCOME:
        return task
    task_def = playbook.task(task.name)
    ack, complete = task_def.ack, task_def.complete
    return changed_task(
        task,
        status=TaskStatus.PENDING,
        finished_at=None,
        outcome=None,
        assigned_at=None,
        ack_due_at=at + ack.within if ack is not None and ack.since == "opened" else None,
        complete_due_at=(
            at + complete.within if complete is not None and complete.since == "opened" else None
        ),
    )


def _drop_timers(state: EngineState, incident_id: str, names: set[str]) -> None:
    """Forget the ack and due timers of tasks assigned afresh (they belong to the old
    assignment)."""
    if not names:
        return
    state.timers.remove_tasks(incident_id, names)
