"""The drill report's shape: the frozen data a Report is made of (built by model.py, read by
the Markdown and HTML renderers)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.drills.report.timeline import TimelineItem
from orchestrator.engine import Millis, format_duration


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Duration(_Frozen):
    """A span of event time, in milliseconds and as people read it ('1h30m')."""

    ms: int
    text: str

    @classmethod
    def of(cls, ms: Millis) -> Duration:
        """The duration of `ms` milliseconds."""
        return cls(ms=ms, text=format_duration(ms))


class Stats(_Frozen):
    """Mean, median (p50, the lower middle value) and maximum of some durations."""

    count: int = 0
    mean: Duration | None = None
    p50: Duration | None = None
    max: Duration | None = None


class Totals(_Frozen):
    """What the run read and what it opened."""

    events_read: int
    events_accepted: int
    events_rejected: int
    events_duplicate: int
    events_late: int
    commands: int
    commands_rejected: int
    incidents: int
    by_playbook: dict[str, int]
    by_severity: dict[str, int] = Field(description="In severity order, low..critical.")
    by_status: dict[str, int]


class SeverityChange(_Frozen):
    """The severity rose (it never falls by itself)."""

    at: str
    before: str
    after: str
    ref: str | None = None


class TaskReport(_Frozen):
    """One task: when it was handed out, taken, finished, and which deadlines it missed."""

    id: str
    name: str
    title: str
    role: str
    phase: str
    status: str
    assigned_at: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    finished_at: str | None
    finished_by: str | None
    ack_due_at: str | None
    complete_due_at: str | None
    time_to_ack: Duration | None = Field(description="acknowledged - assigned.")
    time_to_complete: Duration | None = Field(description="finished - assigned, for done tasks.")
    escalations: int
    escalated_at: list[str] = Field(description="When each escalation went out.")
    ack_breached: bool = Field(description="Acked after ack_due_at, or never acked past it.")
    complete_breached: bool = Field(description="The completion deadline passed (overdue).")
    left_open: bool = Field(description="Not done, failed or cancelled when the report was made.")
    outcome: str | None = None


class IncidentReport(_Frozen):
    """One incident: identity, severity history, lifecycle times, timeline and tasks."""

    id: str
    playbook: str
    playbook_version: str
    key: str
    mode: str
    trigger: str
    severity: str
    initial_severity: str
    severity_changes: list[SeverityChange]
    status: str
    phase: str
    opened_at: str
    resolved_at: str | None
    closed_at: str | None
    last_activity_at: str = Field(description="The latest time on the timeline or a task.")
    time_to_resolve: Duration | None
    time_to_close: Duration | None
    events_total: int
    events_unlisted: int = Field(description="Joined events the engine counted but did not list.")
    timeline: list[TimelineItem]
    tasks: list[TaskReport]


class RoleReport(_Frozen):
    """How one role did across the run: MTTA (time to acknowledge) and MTTR (to complete)."""

    role: str
    tasks: int = Field(description="Tasks handed to the role (assigned at some point).")
    acknowledged: int
    done: int
    left_open: int
    time_to_ack: Stats
    time_to_complete: Stats
    escalations: int
    ack_breaches: int
    complete_breaches: int


class FollowUp(_Frozen):
    """Something the review must act on, with an owner role and a due time."""

    kind: str = Field(description="ack_missed, completion_missed, review or open_task.")
    incident_id: str
    task_id: str
    task: str
    title: str
    role: str
    status: str
    due_at: str | None
    note: str


class Page(_Frozen):
    """One notification: when, for which task, to whom and why, and the ack that ended it."""

    at: str
    incident_id: str
    task_id: str
    kind: str
    escalation: int
    role: str
    responders: str
    via: str
    acknowledged_by: str | None
    time_to_ack: Duration | None
    """From this page to the task's acknowledgement (None: not acknowledged after it)."""


class AckFigure(_Frozen):
    """Pages sent to one responder (or role) and how fast those pages were acknowledged."""

    who: str
    pages: int
    acknowledged: int
    mean_time_to_ack: Duration | None


class Report(_Frozen):
    """The whole report: run totals, per-role figures, incidents in open order, follow-ups."""

    title: str
    generated_for: str | None
    generated_at: str = Field(description="The engine clock (event time), not the wall clock.")
    totals: Totals
    roles: list[RoleReport]
    incidents: list[IncidentReport]
    follow_ups: list[FollowUp]
    pages: list[Page] = Field(default_factory=list, description="With rosters: who was paged.")
    acks_by_responder: list[AckFigure] = Field(default_factory=list)
    acks_by_role: list[AckFigure] = Field(default_factory=list)
