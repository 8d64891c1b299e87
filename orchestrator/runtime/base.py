"""What every runtime offers the API and the CLI."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from orchestrator.engine import Millis, Playbook, Role, TaskRecord
from schemas import Command, CommandResult, DeadLetter, Incident, Origin, Task

IntakeStatus = Literal["accepted", "rejected", "duplicate"]


def wall_clock() -> Millis:
    """Milliseconds since the epoch, from the system clock: the one wall clock of the runtimes
    (the engine is pure and is given `now`)."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What became of one submitted record."""

    status: IntakeStatus
    reason: str | None = None
    dead_letter_id: str | None = None


@dataclass(frozen=True, slots=True)
class Backlog:
    """How far behind a runtime's durable queue is: records waiting for their commit, and the
    seconds committing them should take at the recent rate."""

    records: int
    seconds: float


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One published output (task or incident event), in publication order."""

    seq: int
    id: str
    kind: str
    role: str | None
    incident_id: str | None
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's retry key, scoped to who sent it, with a fingerprint of what it asked for."""

    scope: str
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """A command and the engine's verdict; `replayed` when an earlier request answered it."""

    command: Command
    result: CommandResult
    replayed: bool = False


def roles_of(playbooks: Sequence[Playbook]) -> dict[str, Role]:
    """Every role `playbooks` know, by name (sorted)."""
    found: dict[str, Role] = {}
    for playbook in playbooks:
        found.update(playbook.roles)
    return dict(sorted(found.items()))


class Runtime(Protocol):
    """Takes events and commands in durably, and answers questions about incidents and tasks."""

    def now(self) -> Millis:
        """The runtime's clock: the time it stamps on commands."""
        ...

    def roles(self) -> Mapping[str, Role]:
        """Every role the loaded playbooks know, by name."""
        ...

    def loaded_playbooks(self) -> Sequence[Playbook]:
        """The playbooks this runtime runs (e.g. to give /metrics every label set at once)."""
        ...

    def submit(self, records: list[bytes], origin: Origin) -> list[IntakeResult]:
        """Persist and process raw records; each gets a result once it is durable."""
        ...

    def command(self, command: Command) -> CommandResult:
        """Persist and apply a responder command; the engine decides conflicts."""
        ...

    def command_once(self, command: Command, key: IdempotencyKey) -> CommandOutcome:
        """Like `command`, unless `key` was seen: then the first command and its verdict.

        The key is stored with the command, durably and atomically; a key seen before with a
        different fingerprint raises IdempotencyKeyReused.
        """
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

    def tasks(self, role: str | None = None, status: str | None = None) -> list[Task]:
        """Tasks of every incident, filtered by role and status."""
        ...

    def summary(self) -> dict[str, Any]:
        """The contract summary (as `replay --json`), with command counts."""
        ...

    def dead_letters(self, limit: int = 1000) -> list[DeadLetter]:
        """Dead-letter records, oldest first."""
        ...

    def outbox_after(self, seq: int, role: str | None = None, wait: float = 0.0) -> list[OutboxRow]:
        """Published outputs after `seq` (a role's task events, if given); waits up to `wait` s."""
        ...


@runtime_checkable
class AsyncWrites(Protocol):
    """A runtime that takes writes from an event loop without a thread per caller (the
    embedded one: its writers wait for a group commit's fsync, its readers need no lock)."""

    async def submit_async(self, records: list[bytes], origin: Origin) -> list[IntakeResult]:
        """`Runtime.submit`, awaited."""
        ...

    def peek_task(self, task_id: str) -> TaskRecord | None:
        """One task as the engine keeps it (immutable), or None, without blocking: its id,
        role and incident are exact (no contract model is built: a command needs only these)."""
        ...

    async def command_async(self, command: Command) -> CommandResult:
        """`Runtime.command`, awaited."""
        ...

    async def command_once_async(self, command: Command, key: IdempotencyKey) -> CommandOutcome:
        """`Runtime.command_once`, awaited."""
        ...

    def backlog(self) -> Backlog:
        """What waits for its commit now (intake refuses more when it is too much)."""
        ...
