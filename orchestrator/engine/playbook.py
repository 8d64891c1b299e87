"""A playbook compiled for the engine: expressions parsed, durations in ms, triggers indexed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.engine.clock import Millis
from orchestrator.engine.expr import Expression
from orchestrator.engine.exprgen import generate_key
from orchestrator.engine.severity import Matrix
from orchestrator.engine.values import Context, resolve_path
from orchestrator.engine.windows import Window
from schemas import EventTypeSpec, Severity

KEY_SEPARATOR = "|"
EVENT_ROOTS = frozenset({"data", "type", "source", "subject", "id", "time"})
"""Names an event condition may start with."""
INCIDENT_ROOTS = frozenset({"incident"})
"""Names a task attach condition may start with."""


@dataclass(frozen=True, slots=True)
class KeyFn:
    """A correlation key: field paths (with defaults) joined by '|'. Calling it runs a function
    generated for its parts (exprgen.generate_key), which computes what `general` does."""

    parts: tuple[tuple[tuple[str, ...], str | None], ...]
    compute: Callable[[Context], str | None] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compute", generate_key(self.parts, KEY_SEPARATOR))

    def __call__(self, ctx: Context) -> str | None:
        return self.compute(ctx)

    def general(self, ctx: Context) -> str | None:
        """The key, computed part by part (the reference the generated function follows)."""
        values: list[str] = []
        for path, default in self.parts:
            value = resolve_path(ctx, path)
            if type(value) is str:
                values.append(value)
                continue
            if value is None or isinstance(value, Mapping | list):
                if default is None:
                    return None
                value = default
            values.append(str(value))
        return KEY_SEPARATOR.join(values)


@dataclass(frozen=True, slots=True)
class Selector:
    """Events of one type that pass a condition, with the key they correlate on."""

    on: str
    when: Expression | None
    key: KeyFn

    def matches(self, ctx: Context) -> bool:
        """True when the event passes the condition (the type is checked by the index)."""
        return self.when is None or self.when.test(ctx)


@dataclass(frozen=True, slots=True)
class Trigger:
    """Opens an incident when its selector matches and its window condition (if any) holds."""

    id: str
    selector: Selector
    window: Window | None


@dataclass(frozen=True, slots=True)
class SeverityRule:
    """Raises likelihood, impact or a floor when a matching event joins an incident."""

    id: str
    selector: Selector
    window: Window | None
    likelihood: str | None
    impact: str | None
    at_least: Severity | None


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline `within` ms after the task's assignment or the incident's opening."""

    within: Millis
    since: str


@dataclass(frozen=True, slots=True)
class TaskDef:
    """A task template: who, what, when it attaches, what it waits for, its clock and ladder."""

    name: str
    role: str
    title: str
    instructions: str
    phase: str
    when: Expression | None
    depends_on: tuple[str, ...]
    join: str
    ack: Deadline | None
    complete: Deadline | None
    ladder: tuple[tuple[Millis, str], ...]
    automatic: bool


@dataclass(frozen=True, slots=True)
class Signals:
    """Signals (e.g. alerts) opened and closed by events; all closed resolves the incident."""

    on: str
    id_paths: tuple[tuple[str, ...], ...]
    """Fields naming the signal, the first one present wins."""
    open_when: Expression
    close_when: Expression


@dataclass(frozen=True, slots=True)
class Resolution:
    """Conditions under which an incident resolves by itself."""

    signals: tuple[Signals, ...] = ()
    quiet_for: Millis | None = None
    tasks_done: bool = False
    reopen_within: Millis = 0
    """A resolved incident firing again within this is reopened (flaps.py); 0: never."""


INCIDENT_COMMANDER = "incident_commander"
"""The role that leads the response: every escalation ends there; it may act on every task
and resolve or close incidents."""


@dataclass(frozen=True, slots=True)
class Role:
    """A role that receives tasks, and the role its unacknowledged tasks escalate to."""

    name: str
    title: str
    escalates_to: str | None


@dataclass(frozen=True, slots=True)
class Playbook:
    """A compiled playbook; build one with orchestrator.playbook.load_playbook."""

    id: str
    version: str
    title: str
    description: str
    mode: str
    source: str
    triggers: tuple[Trigger, ...]
    joins: tuple[Selector, ...]
    matrix: Matrix
    initial: tuple[str, str]
    rules: tuple[SeverityRule, ...]
    tasks: tuple[TaskDef, ...]
    review: TaskDef | None
    resolution: Resolution
    roles: Mapping[str, Role]
    event_types: Mapping[str, EventTypeSpec] = field(default_factory=dict)
    gather_within: Millis = 0
    """Held joiners at most this far from an opening event join what it opens (gather.py)."""
    details: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Event fields kept on the incident (details.py): (name, field path)."""
    task_names: frozenset[str] = field(init=False, repr=False, compare=False)
    """The names of `tasks` (the review task aside)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "task_names", frozenset(t.name for t in self.tasks))

    def task(self, name: str) -> TaskDef:
        """The task template named `name` (the review task included)."""
        for task in self.tasks:
            if task.name == name:
                return task
        if self.review is not None and self.review.name == name:
            return self.review
        raise KeyError(name)

    def consumes(self) -> frozenset[str]:
        """Every event type this playbook looks at."""
        types = {t.selector.on for t in self.triggers}
        types |= {j.on for j in self.joins} | {r.selector.on for r in self.rules}
        types |= {s.on for s in self.resolution.signals}
        return frozenset(types)

    def reads(self, root: str) -> bool:
        """True when a condition, key, window or signal of this playbook may read the event
        field `root` (e.g. "time"); True as well when that cannot be told."""
        selectors = (
            *(t.selector for t in self.triggers),
            *self.joins,
            *(r.selector for r in self.rules),
        )
        windows = (*(t.window for t in self.triggers), *(r.window for r in self.rules))
        expressions = [s.when for s in selectors] + [
            e for s in self.resolution.signals for e in (s.open_when, s.close_when)
        ]
        paths = [p for s in selectors for p, _ in s.key.parts]
        paths += [p for s in self.resolution.signals for p in s.id_paths]
        return (
            any(e is not None and root in e.roots for e in expressions)
            or any(p[:1] == (root,) for p in paths)
            or any(w is not None and _window_reads(w, root) for w in windows)
        )


def _window_reads(window: Window, root: str) -> bool:
    if not dataclasses.is_dataclass(window):
        return True
    values = [getattr(window, f.name) for f in dataclasses.fields(window)]
    paths = [v for v in values if isinstance(v, tuple) and all(isinstance(p, str) for p in v)]
    return any(p[:1] == (root,) for p in paths)


def event_context(event: Any, with_time: bool = True) -> dict[str, Any]:
    """The names an event condition sees: data, type, source, subject, id, time.

    `with_time=False` leaves `time` out, for engines whose playbooks never read it (turning
    the timestamp into text is the one costly part).
    """
    ctx = {
        "data": event.data,
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "id": event.id,
    }
    if with_time:
        ctx["time"] = event.time.isoformat()
    return ctx
