"""Compiling tasks: deadlines, escalation ladders and the dependency graph between them."""

from __future__ import annotations

from collections.abc import Mapping
from graphlib import CycleError, TopologicalSorter

from orchestrator.engine import INCIDENT_ROOTS, Deadline, Millis, Role, TaskDef
from orchestrator.playbook.checker import MAX_ESCALATIONS, Checker
from orchestrator.playbook.typos import INCIDENT, did_you_mean
from orchestrator.playbook.yamlsource import Path as DocPath
from schemas import playbook as spec

DEFAULT_ESCALATION_REPEATS = 3
DEFAULT_REVIEW = spec.TaskSpec(
    name="post_incident_review",
    role="incident_commander",
    title="Post-incident review",
    instructions="Timeline, causes, what worked, what did not; assign fixes with owners and dates.",
    phase="review",
    complete_within="5d",
)
"""The review task attached at resolution when a playbook names none."""
FALLBACK_ESCALATION_TARGET = "incident_commander"


def _deadline(
    checker: Checker, raw: str | spec.DeadlineSpec | None, path: DocPath
) -> Deadline | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return Deadline(checker.duration(raw, path), "assigned")
    return Deadline(checker.duration(raw.within, (*path, "within")), raw.since)


def compile_task(
    checker: Checker, raw: spec.TaskSpec, roles: Mapping[str, Role], path: DocPath
) -> TaskDef:
    """The compiled task at `path`; its role and escalation targets must be among `roles`."""
    if raw.role not in roles:
        checker.add(
            (*path, "role"),
            f"unknown role {raw.role!r}{did_you_mean(raw.role, roles) or ';'} known roles: "
            f"{', '.join(sorted(roles))} (declare new ones under roles)",
        )
    ack = _deadline(checker, raw.ack_within, (*path, "ack_within"))
    complete = _deadline(checker, raw.complete_within, (*path, "complete_within"))
    if isinstance(raw.depends_on, list):
        depends, join = tuple(raw.depends_on), "all"
    elif raw.depends_on.all is not None and raw.depends_on.any is None:
        depends, join = tuple(raw.depends_on.all), "all"
    elif raw.depends_on.any is not None and raw.depends_on.all is None:
        depends, join = tuple(raw.depends_on.any), "any"
    else:
        checker.add((*path, "depends_on"), "give exactly one of `all` or `any`")
        depends, join = (), "all"
    return TaskDef(
        name=raw.name,
        role=raw.role,
        title=raw.title,
        instructions=raw.instructions,
        phase=raw.phase,
        when=checker.expression(raw.when, (*path, "when"), INCIDENT_ROOTS, INCIDENT),
        depends_on=depends,
        join=join,
        ack=ack,
        complete=complete,
        ladder=_ladder(checker, raw, ack, roles, path),
        automatic=raw.automatic,
    )


def _ladder(
    checker: Checker,
    raw: spec.TaskSpec,
    ack: Deadline | None,
    roles: Mapping[str, Role],
    path: DocPath,
) -> tuple[tuple[Millis, str], ...]:
    if raw.escalation is None:
        if ack is None:
            return ()
        role = roles.get(raw.role)
        target = (role.escalates_to if role else None) or FALLBACK_ESCALATION_TARGET
        return ((0, target),) + ((ack.within, target),) * (DEFAULT_ESCALATION_REPEATS - 1)
    if ack is None:
        checker.add((*path, "escalation"), "an escalation ladder needs an ack_within deadline")
    steps: list[tuple[Millis, str]] = []
    for i, step in enumerate(raw.escalation):
        if step.to not in roles:
            checker.add(
                (*path, "escalation", i, "to"),
                f"unknown role {step.to!r} to escalate to{did_you_mean(step.to, roles)}",
            )
        after = checker.duration(step.after, (*path, "escalation", i, "after"))
        steps.extend([(after, step.to)] * step.repeat)
    if len(steps) > MAX_ESCALATIONS:
        checker.add(
            (*path, "escalation"),
            f"the ladder escalates {len(steps)} times (its repeat counts summed); the limit is "
            f"{MAX_ESCALATIONS}: use fewer steps or smaller repeat counts",
        )
    return tuple(steps)


def check_graph(checker: Checker, tasks: list[TaskDef], review: TaskDef | None) -> None:
    """Task names are unique; dependencies name known tasks and form no cycle."""
    names = [t.name for t in tasks] + ([review.name] if review else [])
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            checker.add(("tasks", i), f"duplicate task name {name!r}")
        seen.add(name)
    known: dict[str, TaskDef] = {}
    for task in tasks:
        known.setdefault(task.name, task)  # a duplicate name keeps its first task
    for i, task in enumerate(tasks):
        for dep in task.depends_on:
            if dep not in known:
                guess = did_you_mean(dep, names)
                checker.add(("tasks", i, "depends_on"), f"depends on unknown task {dep!r}{guess}")
    cycle = _find_cycle(known)
    if cycle:
        index = [t.name for t in tasks].index(cycle[0])
        checker.add(("tasks", index, "depends_on"), "dependency cycle: " + " -> ".join(cycle))


def _find_cycle(tasks: Mapping[str, TaskDef]) -> list[str] | None:
    """A dependency cycle as `a -> b -> ... -> a` (a depends on b), from its task listed first;
    graphlib walks the graph without recursion, so a chain of any length is fine."""
    graph = {name: [d for d in task.depends_on if d in tasks] for name, task in tasks.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as err:
        loop: list[str] = err.args[1][::-1]  # graphlib goes from a task to its dependents
        position = {name: i for i, name in enumerate(tasks)}
        start = min(range(len(loop) - 1), key=lambda i: position[loop[i]])
        return [*loop[start:-1], *loop[:start], loop[start]]
    return None
