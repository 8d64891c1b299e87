"""What the console's pages show, taken from the runtime: a responder's board, the incident
list with its filters, and one incident. Plain data for the templates; no HTML here (the
templates escape every string)."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.auth import Responder
from orchestrator.engine import INCIDENT_COMMANDER, format_time
from orchestrator.runtime import Runtime
from schemas import (
    IN_HAND_STATUSES,
    Incident,
    IncidentStatus,
    Severity,
    Task,
    TaskStatus,
    TimelineEntry,
)

ACTIONABLE = IN_HAND_STATUSES
"""The tasks a board shows: waiting for an ack, or owned and in progress."""
SEVERITY_KINDS = frozenset({"incident.opened", "incident.severity_changed"})
"""Timeline entries that set the severity (opening, then each rise)."""
JOINED_EVENT = "event"


@dataclass(frozen=True, slots=True)
class Card:
    """One task on a board, with its incident's context."""

    task: Task
    incident: Incident

    @property
    def due_at(self) -> str | None:
        """The deadline the task is held to now."""
        return self.task.due_at


@dataclass(frozen=True, slots=True)
class Board:
    """A responder's board: their roles' open tasks, live ones apart from drill ones."""

    who: Responder
    roles: tuple[str, ...]
    now: str
    live: list[Card] = field(default_factory=list)
    drill: list[Card] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        """Live tasks nobody acknowledged yet (the tab's title badge)."""
        return sum(1 for c in self.live if c.task.status == TaskStatus.ASSIGNED)


@dataclass(frozen=True, slots=True)
class Filters:
    """The incident list's filters; None means any."""

    status: IncidentStatus | None = None
    playbook: str | None = None
    severity: Severity | None = None
    drill: bool = False

    def keep(self, incident: Incident) -> bool:
        """True when `incident` passes every filter (drills are listed only when asked for)."""
        return (
            incident.drill == self.drill
            and (self.status is None or incident.status == self.status)
            and (self.playbook is None or incident.playbook == self.playbook)
            and (self.severity is None or incident.severity == self.severity)
        )


def board_roles(runtime: Runtime, who: Responder) -> tuple[str, ...]:
    """The roles whose tasks `who` sees on their board: their own, every role for a commander."""
    known = runtime.roles()
    if who.commander:
        return tuple(sorted(known))
    return tuple(sorted(r for r in who.roles if r in known and r != INCIDENT_COMMANDER))


def board(runtime: Runtime, who: Responder) -> Board:
    """The open tasks of `who`'s roles, soonest deadline first."""
    roles = board_roles(runtime, who)
    shown = Board(who, roles, format_time(runtime.now()))
    incidents: dict[str, Incident | None] = {}
    tasks = [t for role in roles for t in runtime.tasks(role) if t.status in ACTIONABLE]
    for task in sorted(tasks, key=lambda t: (t.due_at or "~", t.id)):
        if task.incident_id not in incidents:
            incidents[task.incident_id] = runtime.incident(task.incident_id)
        incident = incidents[task.incident_id]
        if incident is not None:
            (shown.drill if incident.drill else shown.live).append(Card(task, incident))
    return shown


def incident_list(runtime: Runtime, filters: Filters) -> list[Incident]:
    """The incidents that pass `filters`, newest first."""
    kept = [i for i in runtime.incidents() if filters.keep(i)]
    return sorted(kept, key=lambda i: (i.opened_at, i.id), reverse=True)


def playbooks_of(runtime: Runtime) -> list[str]:
    """The playbooks that have incidents, for the list's filter."""
    return sorted({i.playbook for i in runtime.incidents()})


def severity_history(incident: Incident) -> list[TimelineEntry]:
    """The severity it opened with and each rise, oldest first."""
    return [e for e in incident.timeline if e.kind in SEVERITY_KINDS]


def joined_events(incident: Incident) -> list[TimelineEntry]:
    """The events listed on the timeline (joined or opening), oldest first."""
    return [e for e in incident.timeline if e.kind == JOINED_EVENT]


def holders(incident: Incident) -> dict[str, str]:
    """Who holds each task (acknowledged or finished it), by task id."""
    held = {}
    for task in incident.tasks:
        person = task.finished_by or task.acknowledged_by
        if person:
            held[task.id] = person
    return held
