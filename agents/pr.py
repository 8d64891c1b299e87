"""The PR agent: a holding statement drafted from a template and the incident's facts."""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from agents.tables import PrTemplate
from orchestrator.engine import MINUTE_MS, format_time, parse_time
from schemas import Incident, Severity, TaskEvent

NEXT_UPDATE_MINUTES = {
    Severity.CRITICAL: 30,
    Severity.HIGH: 60,
    Severity.MEDIUM: 120,
    Severity.LOW: 240,
}
"""How soon the statement promises the next update, by severity."""


@dataclass(frozen=True)
class PrAgent:
    """Drafts a holding statement for PR tasks; a person approves and publishes it."""

    template: PrTemplate
    role: str = "pr"

    def advise(self, event: TaskEvent, incident: Incident) -> str:
        """The draft statement, filled with the incident's facts."""
        facts = statement_facts(incident, event.time)
        situation = self.template.situations.get(incident.playbook, self.template.default_situation)
        facts["situation"] = Template(situation).safe_substitute(facts)
        return Template(self.template.template).safe_substitute(facts).strip()


def statement_facts(incident: Incident, now: str) -> dict[str, str]:
    """The placeholders a template may use."""
    wait = NEXT_UPDATE_MINUTES[incident.severity] * MINUTE_MS
    return {
        "key": incident.key,
        "playbook": incident.playbook,
        "incident_id": incident.id,
        "severity": incident.severity.value,
        "since": incident.opened_at,
        "next_update": format_time(parse_time(now) + wait),
        "events": str(incident.events_total),
    }
