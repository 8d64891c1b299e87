"""Details: what responders need from an incident's events, kept on the incident.

A playbook's `details` names fields of its events (`runbook_url: data.annotations.runbook_url`);
each joining or opening event that has one sets it on the incident's `details` unless an
earlier event did: the first value stays, so the links responders follow do not move.
"""

from __future__ import annotations

from typing import Any

from orchestrator.engine.playbook import Playbook
from orchestrator.engine.values import resolve_path
from schemas import Incident


def keep_details(playbook: Playbook, incident: Incident, ctx: dict[str, Any]) -> None:
    """Set each detail the playbook names that the incident lacks and the event has."""
    for name, path in playbook.details:
        if name in incident.details:
            continue
        value = resolve_path(ctx, path)
        if value is not None and value != "" and value != {}:
            incident.details[name] = value
