"""The legal agent: the regulatory clock and what the notification must contain."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.engine import HOUR_MS, Millis, format_duration, format_time, parse_time
from schemas import Incident, TaskEvent

NOTICE_HOURS = 72
"""Hours from becoming aware of a personal-data breach to notifying the regulator."""
NOTIFICATION_CONTENTS = (
    "the nature of the breach, with the categories and approximate number of people and of "
    "records concerned",
    "the name and contact details of the data protection officer or another contact point",
    "the likely consequences of the breach",
    "the measures taken or proposed to address the breach and to mitigate its possible effects",
)
"""What a breach notification to the supervisory authority must describe (GDPR Art. 33(3))."""


@dataclass(frozen=True)
class LegalAgent:
    """States the notice deadline from the incident's opening, and the notification's contents."""

    role: str = "legal"
    notice_hours: int = NOTICE_HOURS

    def advise(self, event: TaskEvent, incident: Incident) -> str:
        """The regulatory clock as of the event's time, and the checklist."""
        deadline = notice_deadline(incident, self.notice_hours)
        lines = [
            f"Regulatory clock ({self.notice_hours}-hour notice to the supervisory authority):",
            f"- became aware (incident opened): {incident.opened_at}",
            f"- notify by: {format_time(deadline)} ({remaining(deadline, event.time)})",
            "The notification must contain:",
            *(f"{n}. {item}" for n, item in enumerate(NOTIFICATION_CONTENTS, start=1)),
            "What is not yet known may follow in phases without undue delay; a late notice must "
            "give the reasons for the delay. Record the breach, its effects and the remedy "
            "either way.",
            f"Facts: {incident.playbook} for {incident.key}, severity {incident.severity.value}, "
            f"incident {incident.id}.",
        ]
        return "\n".join(lines)


def notice_deadline(incident: Incident, hours: int = NOTICE_HOURS) -> Millis:
    """When the regulator must have been notified: `hours` after the incident opened."""
    return parse_time(incident.opened_at) + hours * HOUR_MS


def remaining(deadline: Millis, now: str) -> str:
    """'71h30m left as of ...', or 'OVERDUE by ...' once the deadline has passed."""
    left = deadline - parse_time(now)
    if left < 0:
        return f"OVERDUE by {format_duration(-left)} as of {now}: notify now"
    return f"{format_duration(left)} left as of {now}"
