"""What the orchestrator emits, as CloudEvents 1.0 (JSON structured mode): task events on the
role topics and incident events on the incidents topic, each as the `data` of an envelope
(docs/cloudevents.md). The envelope's bytes are written by orchestrator.adapters.cloudevents_out;
these models are its contract, exported under schemas/json.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.incidents import IncidentEvent
from schemas.tasks import TaskEvent


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
