"""The Kafka runtime's own record formats: what incidents.keyed, commands and a control record
on events.raw hold (the other topics hold the contracts' models themselves: Event, TaskEvent,
Incident, IncidentEvent, CommandResult, DeadLetter).

Keys are not JSON: events.raw is keyed by `source` + U+001F + `id`, incidents.keyed and commands
by the shard, `playbook` + U+001F + correlation key (deploy/README.md, "Topics").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.commands import Command
from schemas.events import Event


class EventRecord(BaseModel):
    """An accepted event, on incidents.keyed under the shard it matters to."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["event"]
    event: Event


class CommandRecord(BaseModel):
    """A responder's command, on commands (or incidents.keyed) under its incident's shard."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["command"]
    command: Command


class TickRecord(BaseModel):
    """Time passing for a shard (`all`: for every shard of the partition, key `*`)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["tick"]
    now: str = Field(description="RFC 3339 time the shard's timers run to.")
    all: bool = False


ShardRecord = Annotated[EventRecord | CommandRecord | TickRecord, Field(discriminator="kind")]
"""A record of incidents.keyed or commands."""


class ControlTick(BaseModel):
    """A control record on events.raw (header orch-control: tick): tick every shard at `now`
    (a drill's --until)."""

    model_config = ConfigDict(extra="forbid")

    now: str = Field(description="RFC 3339 time.")
