"""Request and response bodies of the agent API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from schemas import CommandKind, IncidentStatus, Severity, Task, TimelineEntry

MAX_NOTE_CHARS = 10_000
"""The longest note (an outcome, a failure reason, a comment or a resolution reason)."""

Text = Annotated[str, Field(min_length=1, max_length=MAX_NOTE_CHARS, pattern=r"\S")]
"""Free text that is not blank."""


class NoteBody(BaseModel):
    """The one body of a command: `{"note": "..."}`. Complete (the outcome), resolve and close
    (why) take it optionally; fail (the reason) and comment (the text) need it (RequiredNote)."""

    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(
        default=None, description="Free text kept with the command on the incident timeline."
    )


class RequiredNoteBody(BaseModel):
    """The body of fail (why the task cannot be done) and comment (the comment): `note` needed."""

    model_config = ConfigDict(extra="forbid")

    note: Text = Field(description="Free text kept with the command on the incident timeline.")


class EmptyBody(BaseModel):
    """The body of ack and start, if any: no fields. Something to say goes in a comment."""

    model_config = ConfigDict(extra="forbid")


class CommandReceipt(BaseModel):
    """202: the command was recorded and the engine accepted it."""

    model_config = ConfigDict(extra="forbid")

    command_id: str
    kind: CommandKind
    actor: str = Field(description="The responder the command was recorded for.")
    time: str = Field(description="When the runtime received it (RFC 3339).")
    accepted: bool = Field(description="Always true in a 202; a rejected command answers 409.")
    task_id: str | None = None
    incident_id: str | None = None


class TaskView(Task):
    """A task with its incident's context and its history (accepted and rejected commands)."""

    playbook: str
    incident_key: str
    severity: Severity
    incident_status: IncidentStatus
    history: list[TimelineEntry] = Field(
        description="Timeline entries about this task, oldest first, rejected commands included."
    )


class RoleView(BaseModel):
    """A role that receives tasks, and where its unacknowledged tasks escalate."""

    name: str
    title: str
    escalates_to: str | None


class Problem(BaseModel):
    """An RFC 9457 problem+json body; more members may appear (e.g. command_id, errors)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, as problem+json."""
    described = {
        400: "The body cannot be read as JSON",
        401: "No valid bearer token",
        403: "The responder's roles do not allow this",
        404: "No such task, incident or role",
        409: "The engine rejected the command (the detail says why)",
        410: "The acknowledgement link has expired or was used already",
        413: "The request body is too large",
        422: "The request is invalid",
        429: "Over the sender's budget, or the intake queue is behind (see Retry-After)",
        503: "Alertmanager webhook only: over budget or behind, retry (see Retry-After)",
    }
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {
            "description": described[status],
            "content": {"application/problem+json": {"schema": schema}},
        }
        for status in statuses
    }
