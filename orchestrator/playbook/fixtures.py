"""Playbook fixtures: test cases for a playbook written as YAML, and the runner that checks them.

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

A malformed file is refused with a FixtureError whose problems carry file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from orchestrator.engine.clock import parse_time
from orchestrator.engine.playbook import Playbook
from orchestrator.errors import OrchestratorError, Problem
from orchestrator.playbook.loader import load_directory
from orchestrator.playbook.yamlsource import Document, read_source, read_yaml, source_files
from orchestrator.playbook.yamlsource import Path as DocPath
from orchestrator.testing import Drill, command, event
from schemas.commands import TASK_COMMANDS, CommandKind, CommandResult
from schemas.incidents import Incident
from schemas.tasks import Task, TaskEvent, TaskEventKind

__all__ = [
    "CaseResult",
    "FixtureError",
    "FixtureFile",
    "fixture_files",
    "load_fixture_file",
    "run_case",
    "run_directory",
    "run_fixture_file",
]

DEFAULT_SOURCE = "fixture"
"""The `source` of fixture events that name none."""
DEFAULT_ACTOR = "responder"
"""The `actor` of fixture commands that name none."""
FIXTURE_SUFFIXES = frozenset({".yaml", ".yml"})
DEFAULT_FIXTURE_FOLDER = "tests"
"""Where run_directory looks for fixtures when given none: `<playbook_dir>/tests`."""
ABSENT = "absent"


class FixtureError(OrchestratorError):
    """A fixture file cannot be used; `problems` lists every mistake with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in playbook fixtures; "
            f"fix them and run again:\n{lines}"
        )


# -- the format ---------------------------------------------------------------------------------


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


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventStep(_Spec):
    """An input event: a CloudEvents envelope built from type, time and data."""

    type: Name
    time: Time
    data: dict[str, Any]
    id: Name | None = None
    source: Name | None = None


class CommandStep(_Spec):
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


def _step_tag(value: Any) -> str:
    return "command" if isinstance(value, dict) and "command" in value else "event"


def _task_tag(value: Any) -> str:
    return ABSENT if isinstance(value, str) else "task"


Step = Annotated[
    Annotated[EventStep, Tag("event")] | Annotated[CommandStep, Tag("command")],
    Discriminator(_step_tag),
]


class TaskExpect(_Spec):
    """Expected fields of one task; only the fields given are compared."""

    status: TaskStatusName | None = None
    role: Name | None = None
    escalations: int | None = Field(default=None, ge=0)
    due_at: Time | None = None
    overdue: bool | None = None


TaskExpectation = Annotated[
    Annotated[Literal["absent"], Tag(ABSENT)] | Annotated[TaskExpect, Tag("task")],
    Discriminator(_task_tag),
]


class IncidentExpect(_Spec):
    """Expected fields of one incident; only the fields given are compared."""

    key: str | None = None
    severity: SeverityName | None = None
    status: IncidentStatusName | None = None
    phase: PhaseName | None = None
    trigger: Name | None = None
    tasks: dict[str, TaskExpectation] = Field(default_factory=dict)


class TaskEventExpect(_Spec):
    """A task event that must have been emitted (to `role`, if given)."""

    kind: TaskEventKindName
    task: Name
    role: Name | None = None


class Expect(_Spec):
    """What a case must end with."""

    incidents: list[IncidentExpect]
    dead_letters: int | None = Field(default=None, ge=0)
    escalations: int | None = Field(default=None, ge=0)
    task_events: list[TaskEventExpect] = Field(default_factory=list)
    commands_rejected: int | None = Field(default=None, ge=0)


class Case(_Spec):
    """One test case: inputs in order, an optional final clock, and the expectations."""

    name: Name
    events: list[Step] = Field(min_length=1)
    until: Time | None = None
    expect: Expect


class FixtureSpec(_Spec):
    """A fixture file: the playbook under test and its cases."""

    playbook: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    cases: list[Case] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class FixtureFile:
    """A parsed fixture file, with the line of every field for error messages."""

    path: str
    spec: FixtureSpec
    document: Document

    @property
    def playbook(self) -> str:
        """The id of the playbook under test."""
        return self.spec.playbook

    @property
    def cases(self) -> list[Case]:
        """The cases, in file order."""
        return self.spec.cases

    def problem(self, path: DocPath, message: str) -> Problem:
        """A problem pointing at `path` in this file."""
        return Problem(self.path, self.document.line_of(path), _dotted(path), message)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case: passed, or the mismatches that made it fail."""

    file: str
    name: str
    passed: bool
    mismatches: tuple[str, ...] = ()

    @property
    def messages(self) -> tuple[str, ...]:
        """The mismatches (an alias for report writers)."""
        return self.mismatches

    def describe(self) -> str:
        """`PASS name`, or `FAIL name` followed by one indented line per mismatch."""
        head = f"{'PASS' if self.passed else 'FAIL'} {self.file}: {self.name}"
        return "\n".join([head, *(f"  - {m}" for m in self.mismatches)])


# -- loading ------------------------------------------------------------------------------------


def _dotted(path: Iterable[str | int]) -> str:
    """A field path as the playbook loader writes it: cases[0].events[2].time."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _document_path(doc: Document, loc: tuple[str | int, ...]) -> DocPath:
    """The longest path of the document along `loc`, skipping model and union tag names."""
    path: DocPath = ()
    for part in loc:
        if (*path, part) in doc.lines:
            path = (*path, part)
    return path


def _describe_error(detail: ErrorDetails) -> str:
    if detail["type"] == "missing":
        return f"required field {detail['loc'][-1]!r} is missing"
    if detail["type"] == "extra_forbidden":
        return "unknown field; check its spelling against orchestrator/playbook/fixtures.py"
    message = str(detail["msg"]).removeprefix("Value error, ")
    got = detail.get("input")
    return message if isinstance(got, dict | list) else f"{message}; got {got!r}"


def _validation_problems(doc: Document, err: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for detail in err.errors():
        path = _document_path(doc, detail["loc"])
        message = _describe_error(detail)
        if (_dotted(path), message) not in seen:
            seen.add((_dotted(path), message))
            problems.append(Problem(doc.file, doc.line_of(path), _dotted(path), message))
    return problems


def _hint(problem: Problem) -> Problem:
    if "timestamp" not in problem.message:
        return problem
    return Problem(
        problem.file,
        problem.line,
        problem.path,
        'times are quoted RFC 3339 strings, e.g. "2026-11-20T10:00:00Z"',
    )


def load_fixture_file(path: str | Path) -> FixtureFile:
    """Read and validate one fixture file; raises FixtureError listing every problem."""
    file = Path(path)
    try:
        text = read_source(file)
    except OSError as err:
        raise FixtureError([Problem(str(file), None, "", f"cannot read: {err.strerror}")]) from None
    doc, problems = read_yaml(text, str(file))
    if doc is None or problems:
        raise FixtureError([_hint(p) for p in problems])
    if not isinstance(doc.data, dict):
        raise FixtureError(
            [Problem(str(file), 1, "", "a fixture file is a mapping with `playbook` and `cases`")]
        )
    try:
        spec = FixtureSpec.model_validate(doc.data)
    except ValidationError as err:
        raise FixtureError(_validation_problems(doc, err)) from None
    fixture = FixtureFile(str(file), spec, doc)
    _refuse_duplicate_names(fixture)
    return fixture


def _refuse_duplicate_names(fixture: FixtureFile) -> None:
    problems = []
    names: set[str] = set()
    for i, case in enumerate(fixture.cases):
        if case.name in names:
            problems.append(fixture.problem(("cases", i, "name"), f"duplicate case {case.name!r}"))
        names.add(case.name)
    if problems:
        raise FixtureError(problems)


def fixture_files(directory: str | Path) -> list[Path]:
    """The fixture files directly in `directory`, sorted by name; FixtureError naming each
    entry that is not a regular file inside it (a link out of it, a FIFO, a directory)."""
    files, problems = source_files(Path(directory), FIXTURE_SUFFIXES)
    if problems:
        raise FixtureError(problems)
    return files


# -- checking a fixture against the loaded playbooks ---------------------------------------------


def _playbook_of(fixture: FixtureFile, playbooks: Sequence[Playbook]) -> Playbook:
    for playbook in playbooks:
        if playbook.id == fixture.playbook:
            return playbook
    known = ", ".join(sorted(p.id for p in playbooks)) or "none"
    raise FixtureError(
        [
            fixture.problem(
                ("playbook",), f"no playbook {fixture.playbook!r} is loaded (loaded: {known})"
            )
        ]
    )


def _task_names(playbook: Playbook) -> set[str]:
    names = {t.name for t in playbook.tasks}
    return names | ({playbook.review.name} if playbook.review is not None else set())


def _case_problems(fixture: FixtureFile, playbook: Playbook, index: int) -> list[Problem]:
    """Task names the playbook does not define (a typo would otherwise pass as `absent`)."""
    names = _task_names(playbook)
    case = fixture.cases[index]
    problems = []

    def check(name: str | None, path: DocPath) -> None:
        if name is not None and name not in names:
            problems.append(
                fixture.problem(
                    path,
                    f"{playbook.id} has no task {name!r} (its tasks: {', '.join(sorted(names))})",
                )
            )

    for i, step in enumerate(case.events):
        if isinstance(step, CommandStep):
            check(step.task, ("cases", index, "events", i, "task"))
    for i, incident in enumerate(case.expect.incidents):
        for name in incident.tasks:
            check(name, ("cases", index, "expect", "incidents", i, "tasks", name))
    for i, expected in enumerate(case.expect.task_events):
        check(expected.task, ("cases", index, "expect", "task_events", i, "task"))
    return problems


# -- running ------------------------------------------------------------------------------------


def slug(name: str) -> str:
    """A case name as an id prefix: lower case, runs of other characters as one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "case"


def _record(playbook: str, step: EventStep | CommandStep, default_id: str) -> dict[str, Any]:
    if isinstance(step, EventStep):
        record = event(
            step.type, step.time, source=step.source or DEFAULT_SOURCE, id=step.id or default_id
        )
        record["data"] = dict(step.data)
        return record
    fields = {"task": step.task, "note": step.note}
    given = {k: v for k, v in fields.items() if v is not None}
    return command(
        step.command,
        step.time,
        actor=step.actor or DEFAULT_ACTOR,
        id=step.id or default_id,
        playbook=playbook,
        key=step.key,
        **given,
    )


def _records(playbook: str, case: Case) -> list[dict[str, Any]]:
    prefix = slug(case.name)
    return [_record(playbook, step, f"{prefix}-{n}") for n, step in enumerate(case.events, 1)]


def run_case(playbooks: Sequence[Playbook], fixture: FixtureFile, index: int) -> CaseResult:
    """Run case number `index` of `fixture` on a fresh drill over all `playbooks`."""
    playbook = _playbook_of(fixture, playbooks)
    problems = _case_problems(fixture, playbook, index)
    if problems:
        raise FixtureError(problems)
    case = fixture.cases[index]
    drill = Drill.of(playbooks).feed(*_records(playbook.id, case))
    if case.until is not None:
        drill.until(case.until)
    mismatches = _compare(drill, playbook.id, case.expect)
    return CaseResult(fixture.path, case.name, not mismatches, tuple(mismatches))


def run_fixture_file(playbooks: Sequence[Playbook], path: str | Path) -> list[CaseResult]:
    """Run every case of the fixture file at `path`; FixtureError if the file is unusable."""
    fixture = load_fixture_file(path)
    playbook = _playbook_of(fixture, playbooks)
    problems = [p for i in range(len(fixture.cases)) for p in _case_problems(fixture, playbook, i)]
    if problems:
        raise FixtureError(problems)
    return [run_case(playbooks, fixture, i) for i in range(len(fixture.cases))]


def run_directory(
    playbook_dir: str | Path, fixture_dir: str | Path | None = None
) -> list[CaseResult]:
    """Load the playbooks of `playbook_dir` and run every fixture file of `fixture_dir`.

    `fixture_dir` defaults to `<playbook_dir>/tests`. Problems of all fixture files are
    gathered into one FixtureError; a playbook that does not load raises PlaybookError.
    """
    playbooks = load_directory(playbook_dir)
    folder = Path(fixture_dir) if fixture_dir is not None else Path(playbook_dir) / "tests"
    results: list[CaseResult] = []
    files, problems = source_files(folder, FIXTURE_SUFFIXES)
    for file in files:
        try:
            results.extend(run_fixture_file(playbooks, file))
        except FixtureError as err:
            problems.extend(err.problems)
    if problems:
        raise FixtureError(problems)
    return results


# -- comparing ----------------------------------------------------------------------------------


def _compare(drill: Drill, playbook: str, expect: Expect) -> list[str]:
    task_events = [e for e in drill.task_events() if e.playbook == playbook]
    mismatches = _compare_incidents(drill.incidents(playbook), expect.incidents)
    mismatches += _compare_counts(drill, task_events, expect)
    mismatches += _compare_task_events(task_events, expect.task_events)
    mismatches += _compare_commands(drill, expect.commands_rejected)
    return mismatches


def _label(incident: Incident) -> str:
    return f"{incident.key} {incident.severity.value} {incident.status.value}"


def _compare_incidents(actual: list[Incident], expected: list[IncidentExpect]) -> list[str]:
    if len(actual) != len(expected):
        seen = "; ".join(_label(i) for i in actual) or "none"
        return [f"expected {len(expected)} incident(s), got {len(actual)}: {seen}"]
    mismatches: list[str] = []
    for number, (incident, want) in enumerate(zip(actual, expected, strict=True), 1):
        where = f"incident {number} ({incident.key})"
        mismatches += _compare_fields(where, _incident_fields(incident), want)
        for name, task_want in want.tasks.items():
            mismatches += _compare_task(where, incident, name, task_want)
    return mismatches


def _incident_fields(incident: Incident) -> dict[str, Any]:
    return {
        "key": incident.key,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "phase": incident.phase.value,
        "trigger": incident.trigger,
    }


def _task_fields(task: Task) -> dict[str, Any]:
    return {
        "status": task.status.value,
        "role": task.role,
        "escalations": task.escalations,
        "due_at": task.due_at,
        "overdue": task.overdue,
    }


def _compare_fields(where: str, actual: dict[str, Any], want: _Spec) -> list[str]:
    mismatches = []
    for name in sorted(want.model_fields_set & set(actual)):
        expected, got = getattr(want, name), actual[name]
        if not _same(name, got, expected):
            mismatches.append(f"{where}: {name} is {got!r}, expected {expected!r}")
    return mismatches


def _same(name: str, got: Any, expected: Any) -> bool:
    if name == "due_at" and got is not None and expected is not None:
        return bool(parse_time(got) == parse_time(expected))
    return bool(got == expected)


def _compare_task(
    where: str, incident: Incident, name: str, want: TaskExpect | Literal["absent"]
) -> list[str]:
    task = next((t for t in incident.tasks if t.name == name), None)
    if isinstance(want, str):
        if task is None:
            return []
        return [f"{where}: task {name} is attached ({task.status.value}), expected absent"]
    if task is None:
        attached = ", ".join(t.name for t in incident.tasks) or "none"
        return [f"{where}: task {name} is absent (attached: {attached})"]
    return _compare_fields(f"{where}: task {name}", _task_fields(task), want)


def _compare_counts(drill: Drill, task_events: list[TaskEvent], expect: Expect) -> list[str]:
    counts = {
        "dead_letters": (len(drill.dead_letters()), expect.dead_letters),
        "escalations": (sum(e.kind == "task.escalated" for e in task_events), expect.escalations),
    }
    return [
        f"{name}: got {got}, expected {want}"
        for name, (got, want) in counts.items()
        if want is not None and got != want
    ]


def _compare_task_events(actual: list[TaskEvent], expected: list[TaskEventExpect]) -> list[str]:
    mismatches = []
    for want in expected:
        if any(_matches(e, want) for e in actual):
            continue
        to = f" to {want.role}" if want.role else ""
        seen = (
            ", ".join(
                f"{e.kind.removeprefix('task.')}->{e.role}"
                for e in actual
                if e.task.name == want.task
            )
            or "none"
        )
        mismatches.append(f"no {want.kind} event for task {want.task}{to} (its events: {seen})")
    return mismatches


def _matches(actual: TaskEvent, want: TaskEventExpect) -> bool:
    return (
        actual.kind == want.kind
        and actual.task.name == want.task
        and want.role in (None, actual.role)
    )


def _compare_commands(drill: Drill, expected_rejections: int | None) -> list[str]:
    rejected = [o for o in drill.outputs if isinstance(o, CommandResult) and not o.accepted]
    if expected_rejections is not None:
        if len(rejected) == expected_rejections:
            return []
        return [f"commands_rejected: got {len(rejected)}, expected {expected_rejections}"]
    return [f"command {r.command_id} was rejected: {r.reason}" for r in rejected]
