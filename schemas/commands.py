"""Responder commands: what people (and automatic agents) do to tasks and incidents."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CommandKind = Literal["ack", "start", "complete", "fail", "cancel", "comment", "resolve", "close"]
TASK_COMMANDS: frozenset[str] = frozenset({"ack", "start", "complete", "fail", "cancel", "comment"})


class Command(BaseModel):
    """One responder action; `id` makes it idempotent (a replayed command changes nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    kind: CommandKind
    actor: str = Field(min_length=1, description="Who acted (responder name or agent id).")
    time: AwareDatetime
    task_id: str | None = Field(default=None, description="The task, for task commands.")
    incident_id: str | None = Field(
        default=None, description="The incident, for resolve and close."
    )
    playbook: str | None = Field(default=None, description="With key: the incident by playbook...")
    key: str | None = Field(
        default=None, description="...and correlation key (its newest incident)."
    )
    task: str | None = Field(default=None, description="With playbook and key: the task by name.")
    note: str | None = Field(default=None, description="Outcome notes, failure reason or comment.")


class CommandResult(BaseModel):
    """The engine's verdict on a command: accepted, or rejected with the reason."""

    model_config = ConfigDict(extra="forbid")

    command_id: str
    accepted: bool
    reason: str | None = None
    task_id: str | None = None
    incident_id: str | None = None


COMMAND_EVENT_TYPE = "orchestrator.command"
"""Event type of a command recorded in an event log (drills replay responders' actions)."""


class CommandData(BaseModel):
    """`data` of an `orchestrator.command` event: a Command without id and time (the envelope's)."""

    model_config = ConfigDict(extra="forbid")

    kind: CommandKind
    actor: str = Field(min_length=1)
    task_id: str | None = None
    incident_id: str | None = None
    playbook: str | None = None
    key: str | None = None
    task: str | None = None
    note: str | None = None
