"""Retention: a resolved or closed incident leaves the engine's memory a while after it ended,
and a command's verdict (what makes a repeated command id a no-op) after `command_retention`.

When an incident resolves or closes, a retire timer is armed for `incident_retention` later
(the timer's level holds the retention). When it fires, the incident is retired if it ended at
least that long ago (an incident closed after it resolved waits for its later timer): it is
dropped from the state with its tasks' index entries, and emitted once more as `Retired`, its
final form, for the runtime's store and a drill's summary. A resolved incident whose tasks are
still in someone's hands (assigned or acknowledged, e.g. the post-incident review) is not
retired while they are: its timer is armed again `incident_retention` later, so responders
can still finish that work. A closed incident is retired whatever its tasks.
"""

from __future__ import annotations

from orchestrator.engine.clock import Millis, parse_time
from orchestrator.engine.contract import contract
from orchestrator.engine.ids import shard_of
from orchestrator.engine.outputs import Outbox, Output, Retired
from orchestrator.engine.records import IncidentRecord
from orchestrator.engine.state import EngineState
from schemas import IN_HAND_STATUSES, IncidentEvent, IncidentStatus

RETIRE_TIMER = "retire"
COMMAND_TIMER = "command"
"""Forgets a command's verdict; the timer's incident field holds the command id."""
ENDED = frozenset({"incident.resolved", "incident.closed"})
"""The incident events after which retention starts counting."""


def arm_retirement(state: EngineState, outputs: list[Output], retention: Millis) -> None:
    """Arm a retire timer for every incident that resolved or closed in these outputs."""
    for output in outputs:
        if isinstance(output, IncidentEvent) and output.kind in ENDED:
            due = _ended(state, output) + retention
            state.push_timer(due, RETIRE_TIMER, output.incident_id, level=retention)


def _ended(state: EngineState, output: IncidentEvent) -> Millis:
    """When the incident event's incident resolved or closed (read from the record, not
    parsed back from the event's text)."""
    incident = state.incidents.get(output.incident_id)
    ended = None
    if incident is not None:
        closing = output.kind == "incident.closed"
        ended = incident.closed_at if closing else incident.resolved_at
    return ended if ended is not None else parse_time(output.time)


def ended_at(incident: IncidentRecord) -> Millis:
    """When the incident last ended: closed, else resolved."""
    ended = incident.closed_at if incident.closed_at is not None else incident.resolved_at
    assert ended is not None, f"incident {incident.id} has not ended"
    return ended


def fire_retire(
    state: EngineState, incident: IncidentRecord, due: Millis, retention: Millis, out: Outbox
) -> None:
    """Retire `incident` if it ended at least `retention` before `due` and no task of a
    resolved one is in hand (then look again `retention` later)."""
    if incident.status is IncidentStatus.OPEN or due < ended_at(incident) + retention:
        return  # reopened (flaps.py), or ended again later: a later timer looks again
    if incident.status is IncidentStatus.RESOLVED and any(
        t.status in IN_HAND_STATUSES for t in incident.tasks
    ):
        state.push_timer(due + retention, RETIRE_TIMER, incident.id, level=retention)
        return
    state.drop(incident.id)
    state.quiet_due.pop(incident.id, None)
    shard = shard_of(incident.playbook, incident.key)
    if state.resolved_index.get(shard) == incident.id:
        del state.resolved_index[shard]
    out.outputs.append(Retired(contract(incident)))


def arm_forgetting(state: EngineState, command_id: str, at: Millis, retention: Millis) -> None:
    """Forget the verdict on `command_id` (taken at `at`) `retention` later."""
    state.push_timer(at + retention, COMMAND_TIMER, command_id)
