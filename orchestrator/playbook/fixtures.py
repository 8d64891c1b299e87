"""The fixture format: test cases for a playbook, written as YAML.

A fixture file tests one playbook. Each case feeds events (and responder commands) through the
real engine, over every playbook of the directory, then compares what it expects with what the
fixture's playbook did::

    playbook: tech_outage
    cases:
      - name: a critical firing alert opens an incident at high
        events:
          - type: ops.alert
            time: "2026-11-20T10:00:00Z"
            data: {alertname: CheckoutDown, service: checkout, status: firing, severity: critical}
          - {command: ack, time: "2026-11-20T10:02:00Z", key: checkout, task: triage}
        until: "2026-11-20T11:00:00Z"          # optional: advance event time, firing timers
        expect:
          incidents:                            # every incident of the playbook, in open order
            - key: checkout
              severity: high
              status: open
              tasks:
                triage: {status: acknowledged, escalations: 0}
                status_page: {status: pending, role: pr}
                some_task: absent
          escalations: 0                        # optional: task.escalated events of the playbook
          dead_letters: 0                       # optional: rejected input records
          task_events:                          # optional: task events that must appear
            - {kind: task.assigned, task: triage, role: ops}
          commands_rejected: 0                  # optional; without it any rejected command fails

Rules:
- Times are RFC 3339 strings with an offset, quoted (unquoted, YAML reads them as dates).
- An event is `{type, time, data}` with optional `id` and `source`; its id defaults to
  `<case-slug>-<n>` (n counts the case's events and commands from 1) and its source to
  `fixture`. A command is `{command, time, key, task?, actor?, note?, id?}` addressed to the
  newest incident of the file's playbook for `key`; task commands need `task`.
- Only the fields an expectation names are compared; `due_at: null` expects no deadline.
- A command the engine rejects is a mismatch unless `commands_rejected` is given.

A malformed file is refused with a FixtureError whose problems carry file and line
(fixtureload.py reads a file, fixturerun.py runs its cases, fixturecompare.py checks them).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from orchestrator.engine import parse_time
from schemas import TASK_COMMANDS, CommandKind, TaskEventKind

ABSENT = "absent"
"""What a task expectation says of a task that must not be attached."""


def _rfc3339(text: str) -> str:
    parse_time(text)  # raises ValueError, which pydantic reports with the field's line
    return text


def _task_event_kind(value: Any) -> Any:
    if isinstance(value, str) and not value.startswith("task."):
        return "task." + value
    return value


Time = Annotated[str, AfterValidator(_rfc3339)]
Name = Annotated[str, Field(min_length=1)]
SeverityName = Literal["low", "medium", "high", "critical"]
IncidentStatusName = Literal["open", "resolved", "closed"]
PhaseName = Literal["detect", "assess", "respond", "recover", "review"]
TaskStatusName = Literal["pending", "assigned", "acknowledged", "done", "failed", "cancelled"]
TaskEventKindName = Annotated[TaskEventKind, BeforeValidator(_task_event_kind)]
"""A task event kind; the `task.` prefix may be left out (`escalated`)."""


class Spec(BaseModel):
    """Base of every fixture model: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventStep(Spec):
    """An input event: a CloudEvents envelope built from type, time and data."""

    type: Name
    time: Time
    data: dict[str, Any]
    id: Name | None = None
    source: Name | None = None


class CommandStep(Spec):
    """A responder command for the file's playbook, addressed by correlation key (and task)."""

    command: CommandKind
    time: Time
    key: str
    task: Name | None = None
    actor: Name | None = None
    note: str | None = None
    id: Name | None = None

    @model_validator(mode="after")
    def _task_commands_name_a_task(self) -> CommandStep:
        if self.command in TASK_COMMANDS and self.task is None:
            raise ValueError(f"the {self.command} command needs `task` (the task's name)")
        return self


def step_tag(value: Any) -> str:
    """The member of Step a value is: a command if it names one, else an event."""
    return "command" if isinstance(value, dict) and "command" in value else "event"


def task_tag(value: Any) -> str:
    """The member of TaskExpectation a value is: `absent` for a string, else a task."""
    return ABSENT if isinstance(value, str) else "task"


Step = Annotated[
    Annotated[EventStep, Tag("event")] | Annotated[CommandStep, Tag("command")],
    Discriminator(step_tag),
]


class TaskExpect(Spec):
    """Expected fields of one task; only the fields given are compared."""

    status: TaskStatusName | None = None
    role: Name | None = None
    escalations: int | None = Field(default=None, ge=0)
    due_at: Time | None = None
    overdue: bool | None = None


TaskExpectation = Annotated[
    Annotated[Literal["absent"], Tag(ABSENT)] | Annotated[TaskExpect, Tag("task")],
    Discriminator(task_tag),
]


class IncidentExpect(Spec):
    """Expected fields of one incident; only the fields given are compared."""

    key: str | None = None
    severity: SeverityName | None = None
    status: IncidentStatusName | None = None
    phase: PhaseName | None = None
    trigger: Name | None = None
    tasks: dict[str, TaskExpectation] = Field(default_factory=dict)


class TaskEventExpect(Spec):
    """A task event that must have been emitted (to `role`, if given)."""

    kind: TaskEventKindName
    task: Name
    role: Name | None = None


class Expect(Spec):
    """What a case must end with."""

    incidents: list[IncidentExpect]
    dead_letters: int | None = Field(default=None, ge=0)
    escalations: int | None = Field(default=None, ge=0)
    task_events: list[TaskEventExpect] = Field(default_factory=list)
    commands_rejected: int | None = Field(default=None, ge=0)


class Case(Spec):
    """One test case: inputs in order, an optional final clock, and the expectations."""

    name: Name
    events: list[Step] = Field(min_length=1)
    until: Time | None = None
    expect: Expect


class FixtureSpec(Spec):
    """A fixture file: the playbook under test and its cases."""

    playbook: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    cases: list[Case] = Field(min_length=1)
