"""Comparing what a drill did with what a fixture case expects: one message a difference.

Only the fields an expectation names are compared; `due_at` compares as a time.
"""

from __future__ import annotations

from typing import Any, Literal

from orchestrator.engine import parse_time
from orchestrator.playbook.fixtures import Expect, IncidentExpect, Spec, TaskEventExpect, TaskExpect
from orchestrator.testing import Drill
from schemas import CommandResult, Incident, Task, TaskEvent


def compare(drill: Drill, playbook: str, expect: Expect) -> list[str]:
    """What `drill` did for `playbook` that `expect` does not say, one line a difference."""
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


def _compare_fields(where: str, actual: dict[str, Any], want: Spec) -> list[str]:
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
