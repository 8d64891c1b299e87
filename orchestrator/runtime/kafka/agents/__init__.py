"""The Kafka workers' agents, one job each, in data-path order.

IntakeAgent       events.raw -> incidents.keyed: validate, dedupe, route (agents/intake.py)
IncidentAgent     incidents.keyed + commands -> shards -> task events, incidents (incidents.py)
EscalationTimer   wall-clock ticks for due shards, onto commands (timer.py)
Publisher         what they share: producing, the error policy, filling gaps (publisher.py)
"""

from orchestrator.runtime.kafka.agents.incidents import IncidentAgent
from orchestrator.runtime.kafka.agents.intake import IntakeAgent
from orchestrator.runtime.kafka.agents.publisher import (
    ErrorPolicy,
    Publisher,
    dead_letter_on_error,
)
from orchestrator.runtime.kafka.agents.timer import EscalationTimer

__all__ = [
    "ErrorPolicy",
    "EscalationTimer",
    "IncidentAgent",
    "IntakeAgent",
    "Publisher",
    "dead_letter_on_error",
]
