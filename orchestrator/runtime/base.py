"""What every runtime offers the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from schemas.commands import Command, CommandResult
from schemas.deadletter import Origin
from schemas.incidents import Incident
from schemas.tasks import Task

IntakeStatus = Literal["accepted", "rejected", "duplicate"]


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What became of one submitted record."""

    status: IntakeStatus
    reason: str | None = None
    dead_letter_id: str | None = None


class Runtime(Protocol):
    """Takes events and commands in durably, and answers questions about incidents and tasks."""

    def submit(self, records: list[bytes], origin: Origin) -> list[IntakeResult]:
        """Persist and process raw records; each gets a result once it is durable."""
        ...

    def command(self, command: Command) -> CommandResult:
        """Persist and apply a responder command; the engine decides conflicts."""
        ...

    def incidents(self) -> list[Incident]:
        """Every incident, in the order they opened."""
        ...

    def incident(self, incident_id: str) -> Incident | None:
        """One incident, or None."""
        ...

    def task(self, task_id: str) -> Task | None:
        """One task, or None."""
        ...
