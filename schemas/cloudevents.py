"""What the orchestrator emits, as CloudEvents 1.0 (JSON structured mode): task events on the
role topics and incident events on the incidents topic, each as the `data` of an envelope
(docs/cloudevents.md). The envelope's bytes are written by orchestrator.adapters.cloudevents_out;
these models are its contract, exported under schemas/json.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.incidents import IncidentEvent
from schemas.tasks import Notified, TaskEvent


class _Envelope(BaseModel):
    """The attributes every emitted CloudEvent carries."""

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"]
    id: str = Field(description="The output's own id (deterministic: a replay emits the same).")
    source: str = Field(description="/orchestrator/<namespace>, e.g. /orchestrator/orch.")
    type: str = Field(description="orchestrator.<kind>, e.g. orchestrator.task.assigned.")
    subject: str
    time: str = Field(description="RFC 3339: the output's event time.")
    datacontenttype: Literal["application/json"]


class TaskCloudEvent(_Envelope):
    """A task event as emitted on tasks.<role>: type orchestrator.task.<kind>, subject the task
    id, extension `role`; `data` is the TaskEvent unchanged."""

    type: str = Field(
        pattern=r"^orchestrator\.task\.[a-z_]+$",
        description="orchestrator.<kind>: orchestrator.task.assigned, ...acknowledged, "
        "...started, ...done, ...failed, ...cancelled, ...escalated, ...overdue, ...commented.",
    )
    subject: str = Field(description="The task id.")
    role: str = Field(description="Extension: the role this event is for (as in data.role).")
    data: TaskEvent


class IncidentCloudEvent(_Envelope):
    """An incident event as emitted on the incidents topic: type orchestrator.incident.<kind>,
    subject the incident id; `data` is the IncidentEvent unchanged."""

    type: str = Field(
        pattern=r"^orchestrator\.incident\.[a-z_]+$",
        description="orchestrator.<kind>: orchestrator.incident.opened, ...joined, "
        "...severity_changed, ...phase_changed, ...resolved, ...closed.",
    )
    subject: str = Field(description="The incident id.")
    data: IncidentEvent


class NotificationTask(BaseModel):
    """The task a notification is about, as much as a person needs to act."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    title: str
    instructions: str


class NotificationLinks(BaseModel):
    """The links a notification carries."""

    model_config = ConfigDict(extra="forbid")

    acknowledge: str = Field(description="Signed, expiring, single use: acknowledges the task.")
    console: str = Field(description="The task's incident in the console.")


class Notification(BaseModel):
    """What the generic webhook tells one responder about one task event (docs/oncall.md)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The idempotency key: <task event id>:<responder>:<channel>.")
    kind: str = Field(description="The task event's kind: task.assigned or task.escalated.")
    time: str
    responder: str
    role: str
    incident_id: str
    playbook: str
    severity: str
    task: NotificationTask
    escalation: int
    drill: bool
    notified: Notified | None
    links: NotificationLinks


class NotificationCloudEvent(_Envelope):
    """The generic webhook's body: type orchestrator.notification, id the idempotency key (the
    same on every retry), subject the task id, extension `role`; `data` a Notification."""

    type: Literal["orchestrator.notification"]
    subject: str = Field(description="The task id.")
    role: str = Field(description="Extension: the role the task event is for.")
    data: Notification
