"""Flaps: an incident that resolved and fires again within its playbook's reopen window
(`resolution.reopen_within`, 15m by default) is reopened rather than followed by a new one.

A reopened incident counts the flap (`flap_count`), notes `incident.reopened` on its timeline
and takes over the signals its key gathered meanwhile. The tasks that its resolution cancelled
unacknowledged go back to pending, so they are assigned again with fresh deadlines (their old
timers are dropped); acknowledged and finished tasks, and the review task already in someone's
hands, stay as they are: one review for the whole flapping incident. Past the window, or once
the incident is closed, the next firing opens a new incident.
"""

from __future__ import annotations

import heapq

from orchestrator.engine.clock import Millis, parse_time
from orchestrator.engine.ids import shard_of
from orchestrator.engine.outputs import Outbox
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.state import EngineState
from schemas import Incident, IncidentStatus, Phase, TaskStatus

RESOLVED_OUTCOME = "incident resolved"
"""The outcome of a task the incident's resolution cancelled (incidents.resolve)."""


def reopenable(state: EngineState, playbook: Playbook, key: str, at: Millis) -> Incident | None:
    """The incident of `playbook` for `key` that resolved at most the reopen window before
    `at` and is not closed, if any."""
    window = playbook.resolution.reopen_within
    incident_id = state.resolved_index.get(shard_of(playbook.id, key)) if window else None
    incident = state.incidents.get(incident_id) if incident_id is not None else None
    if incident is None or incident.status is not IncidentStatus.RESOLVED:
        return None
    resolved = parse_time(incident.resolved_at) if incident.resolved_at else None
    if resolved is None or at - resolved > window:
        return None
    return incident


def reopen(
    state: EngineState, playbook: Playbook, incident: Incident, at: Millis, out: Outbox, ref: str
) -> None:
    """resolved -> open again: count the flap, revive the tasks the resolution cancelled."""
    shard = shard_of(playbook.id, incident.key)
    state.resolved_index.pop(shard, None)
    state.open_index[shard] = incident.id
    incident.status = IncidentStatus.OPEN
    incident.phase = Phase.ASSESS
    incident.resolved_at = None
    incident.flap_count += 1
    incident.open_signals = state.signals.pop(shard, [])
    revived = _revive_cancelled(incident)
    _drop_timers(state, incident.id, revived)
    out.incident(
        "incident.reopened",
        incident,
        at,
        ref=ref,
        suffix=f":{incident.flap_count}",
        flap_count=incident.flap_count,
    )


def _revive_cancelled(incident: Incident) -> set[str]:
    names = set()
    for task in incident.tasks:
        if task.status is TaskStatus.CANCELLED and task.outcome == RESOLVED_OUTCOME:
            task.status = TaskStatus.PENDING
            task.finished_at = task.outcome = task.assigned_at = None
            task.ack_due_at = task.complete_due_at = None
            names.add(task.name)
    return names


def _drop_timers(state: EngineState, incident_id: str, names: set[str]) -> None:
    """Forget the ack and due timers of tasks assigned afresh (they belong to the old
    assignment)."""
    if not names:
        return
    state.timers[:] = [t for t in state.timers if not (t[3] == incident_id and t[4] in names)]
    heapq.heapify(state.timers)
