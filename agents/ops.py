"""The ops agent: the alert context of the incident and the runbooks that apply."""

from __future__ import annotations

from dataclasses import dataclass

from agents.tables import Runbook, RunbookTable
from schemas import Incident, TaskEvent, TimelineEntry

RECENT_EVENTS = 5
"""How many of the incident's newest events the comment lists."""


@dataclass(frozen=True)
class OpsAgent:
    """Attaches alert context (what fired, what still fires, recent events) and runbook links."""

    runbooks: RunbookTable
    role: str = "ops"

    def advise(self, event: TaskEvent, incident: Incident) -> str:
        """Alert context and runbooks for the event's task."""
        lines = [f"Alert context for {event.task.title!r}:", *context(incident)]
        links = runbooks_for(self.runbooks, incident)
        if links:
            lines += ["Runbooks:", *(f"- {r.title}: {r.url}" for r in links)]
        return "\n".join(lines)


def context(incident: Incident) -> list[str]:
    """The incident's facts an operator needs first."""
    by_type = ", ".join(f"{t} x{n}" for t, n in sorted(incident.events_by_type.items()))
    firing = ", ".join(incident.open_signals) or "none"
    lines = [
        f"- {incident.playbook} for {incident.key}: severity {incident.severity.value}, "
        f"{incident.status.value}, opened {incident.opened_at} by {incident.opened_by} "
        f"(trigger {incident.trigger})",
        f"- events so far: {incident.events_total} ({by_type or 'none'}); "
        f"last at {incident.last_event_at}",
        f"- still firing: {firing}",
    ]
    recent = recent_events(incident)
    if recent:
        lines.append(
            "- recent events: "
            + "; ".join(f"{e.at} {e.detail.get('type')} {e.ref}" for e in recent)
        )
    return lines


def recent_events(incident: Incident, limit: int = RECENT_EVENTS) -> list[TimelineEntry]:
    """The newest `limit` events that joined the incident, oldest first."""
    return [e for e in incident.timeline if e.kind == "event"][-limit:]


def runbooks_for(table: RunbookTable, incident: Incident) -> list[Runbook]:
    """Runbooks for the incident's key, then its playbook, then the defaults; no repeats."""
    found: list[Runbook] = []
    for group in (
        table.keys.get(incident.key, []),
        table.playbooks.get(incident.playbook, []),
        table.default,
    ):
        found += [r for r in group if r not in found]
    return found
