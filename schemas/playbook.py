"""The playbook format: what a YAML playbook file may say. Unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.tasks import TaskPhase

Duration = Annotated[
    str,
    Field(
        pattern=r"^\d+(\.\d+)?(s|m|h|d|w)$",
        description="A duration with its unit: s, m, h, d or w (e.g. 90s, 15m, 72h, 7d).",
        examples=["15m", "72h"],
    ),
]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
EventType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]
Expression = Annotated[str, Field(min_length=1, max_length=2000)]
FieldPath = Annotated[str, Field(pattern=r"^[a-z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)*$")]
CompareOp = Literal["<", "<=", ">", ">=", "==", "!="]
Mode = Literal["active", "monitor", "inactive"]


class Spec(BaseModel):
    """Base of every playbook model: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyPart(Spec):
    """One field path of a correlation key, with the value used when the field is absent."""

    path: FieldPath
    default: str | None = None


KeySpec = list[FieldPath | KeyPart]


class RoleSpec(Spec):
    """A role that receives tasks, and where its unacknowledged tasks escalate to."""

    title: str
    escalates_to: Identifier | None = None


class FieldTypeSpec(Spec):
    """A field of a user-declared event type."""

    type: Literal["string", "number", "integer", "boolean", "object", "array"]
    required: bool = True
    min: float | None = None
    max: float | None = None
    enum: list[str] | None = None


class EventTypeSpec(Spec):
    """An event type declared by a playbook, beyond the built-in catalogue."""

    description: str = ""
    fields: dict[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")], FieldTypeSpec]


class Threshold(Spec):
    """A comparison against a number."""

    op: CompareOp
    threshold: float


class CountWindow(Spec):
    """At least N matching events within a sliding event-time window."""

    kind: Literal["count"]
    at_least: int = Field(ge=1)
    within: Duration


class SamplesWindow(Spec):
    """At least N samples whose value passes a threshold within a sliding window."""

    kind: Literal["samples"]
    value: FieldPath
    op: CompareOp
    threshold: float
    at_least: int = Field(ge=1)
    within: Duration


class AggregateWindow(Spec):
    """sum, avg, min or max of a field over a sliding window, compared with a threshold."""

    kind: Literal["aggregate"]
    fn: Literal["sum", "avg", "min", "max"]
    value: FieldPath
    within: Duration
    op: CompareOp
    threshold: float
    min_samples: int = Field(default=1, ge=1)


class ConsecutiveWindow(Spec):
    """N consecutive daily periods whose relative change from the day before passes a test."""

    kind: Literal["consecutive"]
    period: FieldPath = Field(description="Field holding the day, YYYY-MM-DD.")
    value: FieldPath
    periods: int = Field(ge=1, le=366)
    change: Threshold = Field(description="Relative change (v - prev) / prev, e.g. < -0.05.")


class BaselineWindow(Spec):
    """The current value compared with a baseline (mean of earlier samples in a window)."""

    kind: Literal["baseline"]
    value: FieldPath
    over: Duration
    min_samples: int = Field(default=3, ge=1)
    ratio: Threshold = Field(description="value / baseline, e.g. >= 2.0")


WindowSpec = Annotated[
    CountWindow | SamplesWindow | AggregateWindow | ConsecutiveWindow | BaselineWindow,
    Field(discriminator="kind"),
]


class Selector(Spec):
    """Which events: a type, a condition on the event, and the correlation key."""

    on: EventType
    when: Expression | None = None
    key: KeySpec | None = None


class TriggerSpec(Selector):
    """A rule that opens an incident: a selector plus an optional window condition."""

    id: Identifier
    window: WindowSpec | None = None


Level = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
SeverityName = Literal["low", "medium", "high", "critical"]


class SeverityRule(Selector):
    """Raises likelihood, impact or a severity floor when a joining event matches."""

    window: WindowSpec | None = None
    likelihood: Level | None = None
    impact: Level | None = None
    at_least: SeverityName | None = None


class MatrixSpec(Spec):
    """Likelihood (rows) x impact (columns) -> severity; levels listed from least to most."""

    likelihood: list[Level] = Field(min_length=1)
    impact: list[Level] = Field(min_length=1)
    cells: list[list[SeverityName]]


class SeveritySpec(Spec):
    """How severity is assessed: the matrix, the starting cell, and the rules that raise it."""

    matrix: MatrixSpec | None = None
    initial: dict[Literal["likelihood", "impact"], Level] | None = None
    rules: list[SeverityRule] = Field(default_factory=list)


class DeadlineSpec(Spec):
    """A deadline relative to the task's assignment or to the incident's opening."""

    within: Duration
    since: Literal["assigned", "opened"] = "assigned"


class DependsSpec(Spec):
    """Dependencies with their join: all of them done, or any one of them."""

    all: list[Identifier] | None = None
    any: list[Identifier] | None = None


class EscalationStep(Spec):
    """Escalate to a role `after` the ack deadline (or the previous step), `repeat` times."""

    after: Duration
    to: Identifier
    repeat: int = Field(default=1, ge=1, le=100)


class TaskSpec(Spec):
    """A task the playbook gives a role, with its dependencies, deadlines and escalation ladder."""

    name: Identifier
    role: Identifier
    title: str = Field(min_length=1)
    instructions: str = ""
    phase: TaskPhase = "respond"
    when: Expression | None = Field(
        default=None,
        description="Attach condition on the incident, e.g. incident.severity >= 'high'",
    )
    depends_on: list[Identifier] | DependsSpec = Field(default_factory=list)
    ack_within: Duration | DeadlineSpec | None = None
    complete_within: Duration | DeadlineSpec | None = None
    escalation: list[EscalationStep] | None = None
    automatic: bool = False


class SignalsSpec(Spec):
    """Signals tracked per incident; the incident resolves when every opened one is closed."""

    on: EventType
    id: FieldPath | list[FieldPath] = Field(
        description="Field naming the signal, e.g. data.fingerprint; or a list of fields, the "
        "first one present (an object, e.g. a label set, names it by its sorted key=value pairs)"
    )
    open_when: Expression
    close_when: Expression


class ResolutionSpec(Spec):
    """When an incident resolves by itself; any one condition that holds resolves it."""

    signals: list[SignalsSpec] = Field(default_factory=list)
    quiet_for: Duration | None = None
    tasks_done: bool = False
    reopen_within: Duration = Field(
        default="15m",
        description="A resolved incident that fires again within this is reopened (a flap), "
        "not followed by a new one; 0m turns it off",
    )


class PlaybookSpec(Spec):
    """One playbook: triggers, correlation, severity, tasks and resolution for one crisis type."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"title": "Incident response playbook"}
    )

    id: Identifier
    version: Annotated[str, Field(min_length=1)] | int
    title: str = Field(min_length=1)
    description: str = ""
    crisis_type: str | None = None
    mode: Mode = "active"
    roles: dict[Identifier, RoleSpec] = Field(default_factory=dict)
    event_types: dict[EventType, EventTypeSpec] = Field(default_factory=dict)
    key: KeySpec | None = Field(default=None, description="Default correlation key for triggers.")
    triggers: list[TriggerSpec] = Field(min_length=1)
    join: list[Selector] = Field(default_factory=list)
    gather_within: Duration = Field(
        default="1m",
        description="Events that would join, seen while no incident was open, join the "
        "incident their key opens if their times are at most this far apart from the opening "
        "event's (a notification or batch whose opening alert is not first); 0m turns it off",
    )
    severity: SeveritySpec = Field(default_factory=SeveritySpec)
    tasks: list[TaskSpec] = Field(min_length=1)
    resolution: ResolutionSpec = Field(default_factory=ResolutionSpec)
    review: TaskSpec | None = Field(default=None, description="Task attached at resolution.")
    details: dict[Identifier, FieldPath] = Field(
        default_factory=dict,
        description="Event fields kept on the incident for responders, by name (the first "
        "value seen), e.g. runbook_url: data.annotations.runbook_url",
    )
