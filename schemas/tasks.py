"""Tasks given to role-based agents, and the task events that carry them."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TaskStatus(StrEnum):
    """pending (waiting on dependencies) -> assigned -> acknowledged -> done, failed, cancelled."""

    PENDING = "pending"
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset({TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELLED})
IN_HAND_STATUSES = frozenset({TaskStatus.ASSIGNED, TaskStatus.ACKNOWLEDGED})
"""A task someone is to act on: waiting for an ack, or owned and in progress."""


TaskPhase = Literal["assess", "respond", "recover", "review"]
"""The lifecycle phase a task belongs to (an incident's Phase, detection aside)."""


class Task(BaseModel):
    """One unit of response work for one role within one incident."""

    model_config = ConfigDict(extra="forbid")

    id: str
    incident_id: str
    name: str
    role: str
    title: str
    instructions: str = ""
    phase: TaskPhase
    status: TaskStatus = TaskStatus.PENDING
    automatic: bool = False
    depends_on: list[str] = Field(default_factory=list)
    join: Literal["all", "any"] = "all"
    attached_at: str
    assigned_at: str | None = None
    ack_due_at: str | None = None
    complete_due_at: str | None = None
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    finished_by: str | None = None
    outcome: str | None = Field(default=None, description="Completion notes or failure reason.")
    escalations: int = Field(
        default=0,
        description="How often the task escalated: each one is an acknowledgement deadline "
        "(ack_within, then the ladder's steps) that passed while the task was still assigned.",
    )
    overdue: bool = Field(
        default=False,
        description="The completion deadline (complete_within) passed before the task finished. "
        "A missed acknowledgement deadline does not make a task overdue; it escalates "
        "(see escalations). A task without complete_within is never overdue.",
    )

    @property
    def due_at(self) -> str | None:
        """The next deadline the task is held to: ack while assigned, then completion."""
        if self.status == TaskStatus.ASSIGNED and self.ack_due_at is not None:
            return self.ack_due_at
        if self.status in TERMINAL_STATUSES:
            return None
        return self.complete_due_at


TaskEventKind = Literal[
    "task.assigned",
    "task.acknowledged",
    "task.started",
    "task.done",
    "task.failed",
    "task.cancelled",
    "task.escalated",
    "task.overdue",
    "task.commented",
]


Via = Literal["override", "layer", "fallback", "nobody"]
"""Why a responder is on call: an override, a rotation layer, the fallback, or nobody is."""


class Notified(BaseModel):
    """Who a task event is addressed to, and why (on the task event and the timeline)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    responders: list[str] = Field(description="The role's on-call responders at the time.")
    via: Via
    source: str = Field(description="The layer's name, `overrides[i]`, `role` or `rosters`.")


class TaskEvent(BaseModel):
    """A message to a role's agents about a task (published on `tasks.<role>`)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Deterministic id of this task event.")
    kind: TaskEventKind
    role: str = Field(description="The role this event is for (the escalation target on escalate).")
    time: str
    incident_id: str
    playbook: str
    severity: str
    task: Task
    escalation: int = Field(default=0, description="Escalation number, for task.escalated.")
    drill: bool = Field(default=False, description="Part of a drill: practise, not a real crisis.")
    note: str | None = None
    notified: Notified | None = Field(
        default=None,
        description="For task.assigned and task.escalated with rosters: the on-call responders "
        "of `role` at `time` it is addressed to, and why (override, layer, fallback, nobody).",
    )
