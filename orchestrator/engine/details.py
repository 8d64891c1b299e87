"""Details: what responders need from an incident's events, kept on the incident.

A playbook's `details` names fields of its events (`runbook_url: data.annotations.runbook_url`);
each joining or opening event that has one sets it on the incident's `details` unless an
earlier event did: the first value stays, so the links responders follow do not move.
"""

from __future__ import annotations

from typing import Any

from orchestrator.engine.playbook import Playbook
from orchestrator.engine.records import IncidentRecord, replace
from orchestrator.engine.state import EngineState
from orchestrator.engine.values import resolve_path

EMPTY: tuple[Any, ...] = (None, "", {})
"""Values that set no detail."""


def keep_details(
    state: EngineState, playbook: Playbook, incident: IncidentRecord, ctx: dict[str, Any]
) -> IncidentRecord:
    """The incident with each detail the playbook names that it lacks and the event has."""
    known = dict(incident.details)
    for name, path in playbook.details:
        if name not in known:
            value = resolve_path(ctx, path)
            if value not in EMPTY:
                known[name] = value
    if len(known) == len(incident.details):
        return incident
    return state.put(replace(incident, details=tuple(known.items())))
