"""The exception tree. Each message says where (file:line, field, event, incident) and what to do.

OrchestratorError
├── PlaybookError            a playbook (or a directory of them) cannot be loaded
│     carries .problems: list[Problem], one per mistake, each with file, line and field path
├── ExpressionError          a condition does not parse or names something unknown
├── EventRejected            an input record is not a valid event (goes to the dead-letter store)
└── CommandRejected          a responder command cannot be applied (conflict, unknown task, ...)
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


class PlaybookError(OrchestratorError):
    """A playbook was refused at load; `problems` lists every mistake found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in playbooks; fix them and load again:\n"
            f"{lines}"
        )


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
