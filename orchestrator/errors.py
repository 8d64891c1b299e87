"""The exception tree. Each message says where (file:line, field, event, incident) and what to do.

OrchestratorError
├── PlaybookError            a playbook (or a directory of them) cannot be loaded
│     carries .problems: list[Problem], one per mistake, each with file, line and field path
├── FixtureError             a playbook fixture file (or a directory of them) cannot be used
│     carries .problems like PlaybookError
├── RostersError             a rosters file cannot be used; carries .problems like PlaybookError
├── ExpressionError          a condition does not parse or names something unknown
├── EventRejected            an input record is not a valid event (goes to the dead-letter store)
├── CommandRejected          a responder command cannot be applied (conflict, unknown task, ...)
├── AlertmanagerPayloadError a webhook body is no Alertmanager v4 payload (also a ValueError)
├── AuthConfigError          the responders / senders configuration cannot be used
├── RuntimeUnavailable       the runtime could not answer in time; retry with the same key
├── TopicLayoutError         existing Kafka topics have other partition counts than the settings
└── IdempotencyKeyReused     an Idempotency-Key came back with a different request

Beside the tree: the agents package's ApiError (agents/client.py) and TableError
(agents/tables.py) subclass OrchestratorError; the API's ProblemError and BodyTooLarge are
HTTP answers (FastAPI HTTPException), not errors of the orchestrator.
"""

from __future__ import annotations

from dataclasses import dataclass


class OrchestratorError(Exception):
    """Root of every error this package raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a playbook file: where it is and what was expected."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


def _listing(problems: list[Problem], where: str, verb: str) -> str:
    """`N problems in <where>; fix them and <verb> again:` and one indented line a problem."""
    count = len(problems)
    lines = "\n".join(f"  {p}" for p in problems)
    plural = "s" if count != 1 else ""
    return f"{count} problem{plural} in {where}; fix them and {verb} again:\n{lines}"


class PlaybookError(OrchestratorError):
    """A playbook was refused at load; `problems` lists every mistake found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(_listing(problems, "playbooks", "load"))


class FixtureError(OrchestratorError):
    """A fixture file cannot be used; `problems` lists every mistake with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(_listing(problems, "playbook fixtures", "run"))


class RostersError(OrchestratorError):
    """A rosters file cannot be used; `problems` lists every mistake with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(_listing(problems, "the rosters file", "load"))


class ExpressionError(OrchestratorError):
    """A condition expression is invalid; `column` is 1-based within the expression."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        where = f" (column {column})" if column is not None else ""
        super().__init__(f"{message}{where}")


class EventRejected(OrchestratorError):
    """An input record is not a valid event; the reason goes with it to the dead-letter store."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class CommandRejected(OrchestratorError):
    """A command cannot be applied; the reason says why (e.g. already acknowledged by X)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TopicLayoutError(OrchestratorError):
    """Kafka topics that exist already have other partition counts than this process's
    settings give them (another process created them first, or by hand): records would be routed
    to partitions that do not exist, or shards split differently across processes."""


class RuntimeUnavailable(OrchestratorError):
    """The runtime could not answer in time (e.g. no worker gave a verdict): retry the request,
    with the same Idempotency-Key, so it is not applied twice."""


class IdempotencyKeyReused(OrchestratorError):
    """An Idempotency-Key came back with a different request; the client must use a new key."""

    def __init__(self, scope: str, key: str) -> None:
        self.scope = scope
        self.key = key
        super().__init__(
            f"Idempotency-Key {key!r} of {scope} was first used for a different request; "
            "send a new key for a new request"
        )


class AuthConfigError(OrchestratorError):
    """The responders configuration cannot be used; the message says where and what to fix."""


class AlertmanagerPayloadError(OrchestratorError, ValueError):
    """The webhook body is not an Alertmanager v4 payload."""
