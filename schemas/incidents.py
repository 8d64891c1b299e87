"""Incidents, their severity and their timeline."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.tasks import Task


class Severity(StrEnum):
    """How bad an incident is; ordered low < medium < high < critical."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order low..critical, from 0."""
        return SEVERITY_ORDER.index(self)


SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)


class IncidentStatus(StrEnum):
    """Where an incident is in its life: open, then resolved, then closed."""

    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Phase(StrEnum):
    """The lifecycle phase: detect -> assess -> respond -> recover -> review."""

    DETECT = "detect"
    ASSESS = "assess"
    RESPOND = "respond"
    RECOVER = "recover"
    REVIEW = "review"


class TimelineEntry(BaseModel):
    """One line of an incident's timeline: what happened, when, and who or what caused it."""

    model_config = ConfigDict(extra="forbid")

    at: str = Field(description="RFC 3339 time the entry refers to.")
    kind: str = Field(description="e.g. event, severity_changed, task.assigned, command.rejected")
    actor: str | None = Field(default=None, description="Responder or event source.")
    ref: str | None = Field(default=None, description="Event id, task id or command id.")
    detail: dict[str, Any] = Field(default_factory=dict)


class Incident(BaseModel):
    """One incident of one playbook for one correlation key, with its tasks and timeline."""

    model_config = ConfigDict(extra="forbid")

    id: str
    playbook: str
    playbook_version: str
    key: str
    mode: str = Field(description="active or monitor (monitor: tasks are never emitted).")
    drill: bool = Field(default=False, description="Opened by a drill, never by live signals.")
    status: IncidentStatus = IncidentStatus.OPEN
    phase: Phase = Phase.ASSESS
    severity: Severity
    likelihood: str
    impact: str
    trigger: str = Field(description="Id of the trigger that opened the incident.")
    opened_at: str
    opened_by: str = Field(description="source/id of the opening event.")
    resolved_at: str | None = None
    closed_at: str | None = None
    last_event_at: str
    events_total: int = 0
    events_by_type: dict[str, int] = Field(default_factory=dict)
    open_signals: list[str] = Field(default_factory=list)
    open_signals_untracked: int = Field(
        default=0,
        description="Signals open beyond the engine's cap on those listed (counted, not listed): "
        "a closing event for a signal not listed takes one off.",
    )
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="What responders need from its events (the playbook's `details`: runbook "
        "URL, description, the alert's and Alertmanager's links), the first value of each.",
    )
    flap_count: int = Field(
        default=0, description="Times it fired again within the reopen window after resolving."
    )
    tasks: list[Task] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    timeline_events_dropped: int = Field(
        default=0, description="Joined events beyond the timeline cap (counted, not listed)."
    )


class IncidentEvent(BaseModel):
    """A change of an incident, published on the incidents topic for read models and reports."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Deterministic id of this incident event.")
    kind: str = Field(
        description="incident.opened, joined, severity_changed, phase_changed, resolved or closed"
    )
    time: str
    incident_id: str
    playbook: str
    key: str
    severity: Severity
    status: IncidentStatus
    mode: str
    ref: str | None = Field(default=None, description="The event or command that caused it.")
    detail: dict[str, Any] = Field(default_factory=dict)
