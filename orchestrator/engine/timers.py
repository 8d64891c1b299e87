"""Timers: what fires when the clock passes a moment (ack and due deadlines of tasks, and the
quiet period after which an incident resolves itself).

Timers live in `EngineState.timers`, a queue (engine/timerqueue.py) of (due, seq, kind,
incident, task, level); the engine fires every due one before and after each input.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.engine.clock import Millis
from orchestrator.engine.incidents import resolve
from orchestrator.engine.outputs import Outbox
from orchestrator.engine.playbook import Playbook
from orchestrator.engine.records import IncidentRecord
from orchestrator.engine.retention import COMMAND_TIMER, RETIRE_TIMER, fire_retire
from orchestrator.engine.state import EngineState
from orchestrator.engine.tasks import ACK_TIMER, DUE_TIMER, fire_ack_timer, fire_due_timer
from schemas import IncidentStatus

QUIET_TIMER = "quiet"


def fire_due_timers(state: EngineState, playbooks: Mapping[str, Playbook], out: Outbox) -> None:
    """Fire every timer due at or before the state's clock, earliest first."""
    timers = state.timers
    while (due := timers.next_due()) is not None and due <= state.clock:
        due, _seq, kind, incident_id, name, level = timers.pop()
        if kind == COMMAND_TIMER:
            state.commands.pop(incident_id, None)  # the command's id, for this kind
            continue
        incident = state.incidents.get(incident_id)
        if incident is None:
            continue
        if kind == RETIRE_TIMER:
            fire_retire(state, incident, due, level, out)
            continue
        if incident.status == IncidentStatus.CLOSED:
            continue
        playbook = playbooks[incident.playbook]
        if kind == ACK_TIMER:
            fire_ack_timer(state, playbook, incident, name, level, due, out)
        elif kind == DUE_TIMER:
            fire_due_timer(incident, name, due, out)
        elif kind == QUIET_TIMER:
            _fire_quiet(state, playbook, incident, due, out)


def arm_quiet(state: EngineState, playbook: Playbook, incident: IncidentRecord, at: Millis) -> None:
    """(Re)arm the quiet timer of an open incident after an event joined it: it resolves once
    `resolution.quiet_for` has passed since its last event."""
    quiet = playbook.resolution.quiet_for
    if quiet is None or incident.status != IncidentStatus.OPEN:
        return
    if incident.id not in state.quiet_due:
        state.push_timer(at + quiet, QUIET_TIMER, incident.id)
    state.quiet_due[incident.id] = incident.last_event_at + quiet


def _fire_quiet(
    state: EngineState, playbook: Playbook, incident: IncidentRecord, due: Millis, out: Outbox
) -> None:
    if incident.status != IncidentStatus.OPEN:
        return
    wanted = state.quiet_due.get(incident.id, due)
    if wanted > due:
        state.push_timer(wanted, QUIET_TIMER, incident.id)
        return
    state.quiet_due.pop(incident.id, None)
    resolve(state, playbook, incident, due, out, reason="quiet: no new events")
